/*
 * executor.c: an executor agent written in C.
 *
 *   executor DB [AGENT_ID]
 *
 * Opens the SQLite file that playbooks, analysts and other agents share,
 * claims approved actions (and undos waiting for their inverse action),
 * carries each out - here it prints what it would do - and reports
 * completion or failure with the lease token of its claim. It stops when
 * nothing is left to claim; a real agent would poll, or follow
 * ac_center_events_since.
 *
 * Build (see the README's C section):
 *   cc -std=c11 -Iinclude -Iexamples/c examples/c/executor.c \
 *      target/debug/libactioncenter.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o executor
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actioncenter.h"
#include "minijson.h"

#define LEASE_SECONDS 120
#define BATCH 10

/* What the agent knows how to do, by kind. */
typedef void (*handler)(const char *action);

static char text[8][256]; /* scratch space for the descriptions */

static const char *field(int slot, const char *object, const char *key) {
    if (!mj_string(mj_get(object, key), text[slot], sizeof text[slot])) strcpy(text[slot], "?");
    return text[slot];
}

static void isolate(const char *a) {
    printf("    would isolate device %s from the network\n", field(0, mj_get(a, "entity"), "device_id"));
}
static void release(const char *a) {
    printf("    would release device %s from isolation\n", field(0, mj_get(a, "entity"), "device_id"));
}
static void quarantine(const char *a) {
    const char *e = mj_get(a, "entity");
    printf("    would quarantine %s on %s\n", field(0, e, "path"), field(1, e, "device_id"));
}
static void restore(const char *a) {
    const char *e = mj_get(a, "entity");
    printf("    would restore %s on %s\n", field(0, e, "path"), field(1, e, "device_id"));
}
static void stop_service(const char *a) {
    const char *e = mj_get(a, "entity");
    printf("    would stop service %s on %s\n", field(0, e, "name"), field(1, e, "device_id"));
}
static void block_url(const char *a) {
    printf("    would block %s at the proxy\n", field(0, mj_get(a, "entity"), "url"));
}

static const struct {
    const char *kind;
    handler run;
} HANDLERS[] = {
    {"isolate_device", isolate}, {"release_device", release},   {"quarantine_file", quarantine},
    {"restore_file", restore},   {"stop_service", stop_service}, {"block_url", block_url},
};

static handler find(const char *kind) {
    for (size_t i = 0; i < sizeof HANDLERS / sizeof HANDLERS[0]; i++) {
        if (strcmp(HANDLERS[i].kind, kind) == 0) return HANDLERS[i].run;
    }
    return NULL;
}

static void report(const char *what, ac_status status) {
    fprintf(stderr, "executor: %s: %s (%s)\n", what, ac_last_error_message(),
            ac_status_name((int)status));
}

int main(int argc, char **argv) {
    const char *roles[] = {"executor"};
    const char *agent_id = argc > 2 ? argv[2] : "c-agent-1";
    ac_center *center = NULL;
    ac_principal *agent = NULL;
    ac_status status;
    int completed = 0, failed = 0, errors = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DB [AGENT_ID]\n", argv[0]);
        return 2;
    }
    if ((status = ac_center_open_sqlite(argv[1], &center)) != AC_STATUS_OK) {
        report("open", status);
        return 1;
    }
    if ((status = ac_principal_new(agent_id, roles, 1, &agent)) != AC_STATUS_OK) {
        report("principal", status);
        ac_center_close(center);
        return 1;
    }
    printf("%s (libactioncenter %s) on %s\n", agent_id, ac_version(), argv[1]);

    for (;;) {
        char *batch = NULL;
        size_t n;
        status = ac_center_claim(center, agent, BATCH, LEASE_SECONDS, NULL, &batch);
        if (status != AC_STATUS_OK) {
            report("claim", status);
            errors++;
            break;
        }
        n = mj_len(batch);
        if (n == 0) {
            ac_string_free(batch);
            break;
        }
        printf("claimed %zu action(s)\n", n);
        for (size_t i = 0; i < n; i++) {
            const char *action = mj_at(batch, i);
            /* The attempt this claim added: its lease token fences the
             * claim, and it says whether the claim runs an undo. */
            const char *attempt = mj_last(mj_get(action, "attempts"));
            char id[64], kind[128], token[128], message[256];
            int undo = mj_is(mj_get(attempt, "undo"), "true");
            handler run;
            if (!mj_string(mj_get(action, "id"), id, sizeof id) ||
                !mj_string(mj_get(attempt, "lease_token"), token, sizeof token)) {
                fprintf(stderr, "executor: a claimed action without an id or a lease token\n");
                errors++;
                continue;
            }
            /* An undo runs the inverse action. */
            if (undo) {
                mj_string(mj_get(mj_get(action, "undo"), "inverse"), kind, sizeof kind);
            } else {
                mj_string(mj_get(action, "kind"), kind, sizeof kind);
            }
            printf("  %s %s%s\n", id, kind, undo ? " (undo)" : "");

            /* Renew the lease before a step that may take long. */
            status = ac_center_heartbeat(center, agent, id, token, LEASE_SECONDS, NULL);
            if (status != AC_STATUS_OK) {
                report("heartbeat", status);
                errors++;
                continue;
            }
            run = find(kind);
            if (run) {
                char result[256];
                run(action);
                snprintf(result, sizeof result, "{\"executor\":\"%s\",\"simulated\":true}", agent_id);
                status = ac_center_complete(center, agent, id, token, result, NULL);
                if (status == AC_STATUS_OK) completed++;
            } else {
                snprintf(message, sizeof message, "%s has no handler for %s", agent_id, kind);
                printf("    cannot: %s\n", message);
                status = ac_center_fail(center, agent, id, token, message, NULL);
                if (status == AC_STATUS_OK) failed++;
            }
            if (status != AC_STATUS_OK) {
                report("report", status);
                errors++;
            }
        }
        ac_string_free(batch);
    }

    printf("completed %d, failed %d\n", completed, failed);
    ac_principal_free(agent);
    ac_center_close(center);
    return errors ? 1 : 0;
}
