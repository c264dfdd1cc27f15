/*
 * One handle, many threads: approvers racing on the same actions,
 * executors racing for the same queue, and a close racing with readers.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "harness.h"

#define THREADS 8
#define ACTIONS 40

static char db_dir[256];

/* ---- approvers ---------------------------------------------------------- */

typedef struct {
    const ac_center *center;
    const ac_principal *approver;
    char (*ids)[64];
    int index;
    pthread_barrier_t *start;
    ac_status results[ACTIONS];
    int wrong_last_error; /* a conflict whose thread-local error said otherwise */
} approver;

static void *approve_all(void *arg) {
    approver *a = arg;
    pthread_barrier_wait(a->start);
    for (int k = 0; k < ACTIONS; k++) {
        /* Each thread goes through the actions in its own order. */
        int i = (k + a->index * (ACTIONS / THREADS)) % ACTIONS;
        a->results[i] = ac_center_approve(a->center, a->approver, a->ids[i], NULL, 1, NULL);
        if (a->results[i] == AC_STATUS_CONFLICT &&
            !mj_eq(mj_get(ac_last_error_json(), "kind"), "conflict")) {
            a->wrong_last_error++;
        }
    }
    return NULL;
}

/* Eight approvers race to approve the same actions, each at version 1:
 * every action gets exactly one decision, and the seven others get
 * AC_STATUS_CONFLICT. */
static void race_to_approve(fixture *f) {
    static char ids[ACTIONS][64];
    approver approvers[THREADS];
    ac_principal *people[THREADS];
    pthread_t threads[THREADS];
    pthread_barrier_t start;
    char json[512], device[32], name[32];
    char *counts = NULL, *feed = NULL;

    for (int i = 0; i < ACTIONS; i++) {
        snprintf(device, sizeof device, "dev-%d", i);
        CHECK_OK(h_propose(f, f->air, h_isolate(json, sizeof json, device, "inv-race"), ids[i]));
    }
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (int t = 0; t < THREADS; t++) {
        snprintf(name, sizeof name, "approver-%d", t);
        people[t] = h_principal(name, "analyst");
        CHECK(people[t] != NULL);
        approvers[t] = (approver){.center = f->center, .approver = people[t], .ids = ids,
                                  .index = t, .start = &start};
        CHECK(pthread_create(&threads[t], NULL, approve_all, &approvers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    pthread_barrier_destroy(&start);

    for (int i = 0; i < ACTIONS; i++) {
        int ok = 0, conflicts = 0, winner = -1;
        char *action = NULL;
        for (int t = 0; t < THREADS; t++) {
            if (approvers[t].results[i] == AC_STATUS_OK) {
                ok++;
                winner = t;
            } else if (approvers[t].results[i] == AC_STATUS_CONFLICT) {
                conflicts++;
            }
        }
        CHECK(ok == 1);
        CHECK(conflicts == THREADS - 1);
        CHECK_OK(ac_center_get(f->center, f->viewer, ids[i], &action));
        fx_keep(f, action);
        snprintf(name, sizeof name, "approver-%d", winner);
        CHECK(mj_eq(mj_get(action, "status"), "approved"));
        CHECK(mj_len(mj_get(action, "decisions")) == 1);
        CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "by"), name));
        CHECK(mj_int(mj_get(action, "version")) == 2);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(approvers[t].wrong_last_error == 0);
        CHECK_OK(ac_principal_free(people[t]));
    }
    CHECK_OK(ac_center_counts(f->center, f->viewer, "{\"investigation_id\":\"inv-race\"}", &counts));
    fx_keep(f, counts);
    CHECK(mj_int(mj_get(counts, "approved")) == ACTIONS);
    CHECK(mj_int(mj_get(counts, "pending")) == 0);
    /* The bootstrap policy, then one proposal and one approval per action. */
    CHECK_OK(ac_center_events_since(f->center, f->viewer, 0, 1000, &feed));
    fx_keep(f, feed);
    CHECK(mj_len(feed) == 1 + 2 * ACTIONS);
}

static void eight_threads_race_to_approve_in_memory(void) {
    fixture f;
    CHECK(fx_memory(&f));
    race_to_approve(&f);
    fx_close(&f);
}

static void eight_threads_race_to_approve_on_sqlite(void) {
    fixture f;
    ac_center *center = NULL;
    char path[512];
    bool intact = false;
    snprintf(path, sizeof path, "%s/race.db", db_dir);
    CHECK_OK(ac_center_open_sqlite(path, &center));
    CHECK(fx_init(&f, center));
    race_to_approve(&f);
    CHECK_OK(ac_center_verify_audit(f.center, &intact, NULL));
    CHECK(intact);
    fx_close(&f);
}

/* ---- executors ---------------------------------------------------------- */

typedef struct {
    const ac_center *center;
    const ac_principal *executor;
    char claimed[ACTIONS][64];
    int n_claimed;
    int errors;
} executor;

static void *claim_until_empty(void *arg) {
    executor *e = arg;
    for (;;) {
        char *batch = NULL;
        size_t n;
        if (ac_center_claim(e->center, e->executor, 2, 300, NULL, &batch) != AC_STATUS_OK) {
            e->errors++;
            return NULL;
        }
        n = mj_len(batch);
        for (size_t i = 0; i < n && e->n_claimed < ACTIONS; i++) {
            char *id = e->claimed[e->n_claimed];
            char token[128];
            if (!h_id(mj_at(batch, i), id) || !h_token(mj_at(batch, i), token) ||
                ac_center_complete(e->center, e->executor, id, token, "{\"done\":true}", NULL) !=
                    AC_STATUS_OK) {
                e->errors++;
            }
            e->n_claimed++;
        }
        ac_string_free(batch);
        if (n == 0) return NULL;
    }
}

static void eight_executors_never_share_an_action(void) {
    fixture f;
    executor executors[THREADS];
    ac_principal *agents[THREADS];
    pthread_t threads[THREADS];
    char json[512], device[32], name[32], id[64];
    char *counts = NULL;
    int total = 0;
    CHECK(fx_memory(&f));
    for (int i = 0; i < ACTIONS; i++) {
        snprintf(device, sizeof device, "dev-%d", i);
        CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, device, "inv-q"), id));
        CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    }
    for (int t = 0; t < THREADS; t++) {
        snprintf(name, sizeof name, "agent-%d", t);
        agents[t] = h_principal(name, "executor");
        CHECK(agents[t] != NULL);
        memset(&executors[t], 0, sizeof executors[t]);
        executors[t].center = f.center;
        executors[t].executor = agents[t];
        CHECK(pthread_create(&threads[t], NULL, claim_until_empty, &executors[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    for (int t = 0; t < THREADS; t++) {
        CHECK(executors[t].errors == 0);
        total += executors[t].n_claimed;
        for (int i = 0; i < executors[t].n_claimed; i++) {
            for (int u = t; u < THREADS; u++) {
                for (int j = (u == t ? i + 1 : 0); j < executors[u].n_claimed; j++) {
                    CHECK(strcmp(executors[t].claimed[i], executors[u].claimed[j]) != 0);
                }
            }
        }
        CHECK_OK(ac_principal_free(agents[t]));
    }
    CHECK(total == ACTIONS);
    CHECK_OK(ac_center_counts(f.center, f.viewer, NULL, &counts));
    fx_keep(&f, counts);
    CHECK(mj_int(mj_get(counts, "completed")) == ACTIONS);
    fx_close(&f);
}

/* ---- close while in use ------------------------------------------------- */

typedef struct {
    const ac_center *center;
    const ac_principal *reader;
    atomic_int *calls;
    int other; /* statuses other than OK and INVALID_HANDLE */
} reader;

static void *read_until_closed(void *arg) {
    reader *r = arg;
    for (;;) {
        char *counts = NULL;
        ac_status s = ac_center_counts(r->center, r->reader, NULL, &counts);
        ac_string_free(counts);
        if (s == AC_STATUS_INVALID_HANDLE) return NULL;
        if (s != AC_STATUS_OK) r->other++;
        atomic_fetch_add(r->calls, 1);
    }
}

/* Readers on four threads while the main thread closes the handle: every
 * call either works or gets AC_STATUS_INVALID_HANDLE. */
static void closing_while_other_threads_read_is_safe(void) {
    fixture f;
    reader readers[4];
    pthread_t threads[4];
    atomic_int calls = 0;
    ac_center *center;
    CHECK(fx_memory(&f));
    for (int t = 0; t < 4; t++) {
        readers[t] = (reader){.center = f.center, .reader = f.viewer, .calls = &calls};
        CHECK(pthread_create(&threads[t], NULL, read_until_closed, &readers[t]) == 0);
    }
    while (atomic_load(&calls) < 40) sched_yield();
    center = f.center;
    CHECK_OK(ac_center_close(center));
    for (int t = 0; t < 4; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    for (int t = 0; t < 4; t++) CHECK(readers[t].other == 0);
    f.center = NULL; /* closed already */
    fx_close(&f);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(db_dir, sizeof db_dir, "%s/actioncenter-c-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(db_dir)) {
        perror("mkdtemp");
        return 2;
    }

    RUN(eight_threads_race_to_approve_in_memory);
    RUN(eight_threads_race_to_approve_on_sqlite);
    RUN(eight_executors_never_share_an_action);
    RUN(closing_while_other_threads_read_is_safe);

    {
        char path[600];
        const char *files[] = {"race.db", "race.db-wal", "race.db-shm"};
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof path, "%s/%s", db_dir, files[i]);
            unlink(path);
        }
        rmdir(db_dir);
    }
    return h_done("threads");
}
