/*
 * The C API on PostgreSQL: two handles on one database stand for two
 * hosts sharing one queue. Needs a library built with the cargo feature
 * `postgres` and a server in ACTIONCENTER_PG_URL; without the URL it
 * says why and skips.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <unistd.h>

#include "harness.h"

#define THREADS 8
#define ACTIONS 12

static const char *url;

static void two_hosts_share_one_queue(void) {
    ac_center *host_a = NULL, *host_b = NULL;
    fixture f;
    char json[512], kinds[64], id[64], token[128];
    char *action = NULL, *claimed = NULL;
    bool intact = false;
    /* A kind of this run's own, so that the database may hold other runs. */
    long pid = (long)getpid();
    snprintf(json, sizeof json,
             "{\"kind\":\"custom:reimage-%ld\",\"entity\":{\"type\":\"device\",\"device_id\":\"dev-pg\"},"
             "\"source\":{\"type\":\"playbook\",\"name\":\"c-tests\"}}", pid);
    snprintf(kinds, sizeof kinds, "[\"custom:reimage-%ld\"]", pid);
    CHECK_OK(ac_center_open_postgres(url, &host_a));
    CHECK_OK(ac_center_open_postgres(url, &host_b));
    CHECK(fx_init(&f, host_a));
    CHECK_OK(h_propose(&f, f.air, json, id));
    CHECK_OK(ac_center_approve(host_b, f.alice, id, "from host b", 1, NULL));
    /* The executor runs on host b. */
    CHECK_OK(ac_center_claim(host_b, f.agent, 10, 60, kinds, &claimed));
    fx_keep(&f, claimed);
    CHECK(mj_len(claimed) == 1);
    CHECK(mj_eq(mj_get(mj_at(claimed, 0), "id"), id));
    CHECK(h_token(mj_at(claimed, 0), token));
    CHECK_OK(ac_center_complete(host_b, f.agent, id, token, "{\"isolated\":true}", NULL));
    CHECK_OK(ac_center_get(host_a, f.viewer, id, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "completed"));
    CHECK_OK(ac_center_verify_audit(host_a, &intact, NULL));
    CHECK(intact);
    CHECK_OK(ac_center_close(host_b));
    fx_close(&f);
}

typedef struct {
    const ac_center *center;
    const ac_principal *approver;
    char (*ids)[64];
    ac_status results[ACTIONS];
} racer;

static void *approve_all(void *arg) {
    racer *r = arg;
    for (int i = 0; i < ACTIONS; i++) {
        r->results[i] = ac_center_approve(r->center, r->approver, r->ids[i], NULL, 1, NULL);
    }
    return NULL;
}

/* Eight threads share one handle (and its connection pool). */
static void eight_threads_race_to_approve(void) {
    static char ids[ACTIONS][64];
    ac_principal *people[THREADS] = {0};
    racer racers[THREADS];
    pthread_t threads[THREADS];
    fixture f;
    ac_center *center = NULL;
    char json[512], device[64], name[32];
    CHECK_OK(ac_center_open_postgres(url, &center));
    CHECK(fx_init(&f, center));
    for (int i = 0; i < ACTIONS; i++) {
        /* Devices of this run's own: an earlier run's approved isolations
         * of the same devices would make these duplicates. */
        snprintf(device, sizeof device, "dev-race-%ld-%d", (long)getpid(), i);
        CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, device, "inv-pg-race"), ids[i]));
    }
    for (int t = 0; t < THREADS; t++) {
        snprintf(name, sizeof name, "pg-approver-%d", t);
        people[t] = h_principal(name, "analyst");
        CHECK(people[t] != NULL);
        racers[t] = (racer){.center = center, .approver = people[t], .ids = ids};
        CHECK(pthread_create(&threads[t], NULL, approve_all, &racers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) CHECK(pthread_join(threads[t], NULL) == 0);
    for (int i = 0; i < ACTIONS; i++) {
        int ok = 0, conflicts = 0;
        for (int t = 0; t < THREADS; t++) {
            ok += racers[t].results[i] == AC_STATUS_OK;
            conflicts += racers[t].results[i] == AC_STATUS_CONFLICT;
        }
        CHECK(ok == 1);
        CHECK(conflicts == THREADS - 1);
        CHECK(h_status_is(&f, ids[i], "approved"));
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK_OK(ac_principal_free(people[t]));
    }
    fx_close(&f);
}

int main(void) {
    url = getenv("ACTIONCENTER_PG_URL");
    if (!url || !*url) {
        printf("postgres: skipped: ACTIONCENTER_PG_URL is not set\n");
        return 0;
    }
    RUN(two_hosts_share_one_queue);
    RUN(eight_threads_race_to_approve);
    return h_done("postgres");
}
