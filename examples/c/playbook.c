/*
 * playbook.c: a phishing-response playbook that proposes remediation
 * actions into a shared SQLite file, and an analyst who decides on them,
 * so that the executor example (executor.c) finds work waiting.
 *
 *   playbook DB          propose, and decide as the analyst
 *   playbook DB undo     the analyst previews the completed quarantines
 *                        and undoes exactly those (a false positive): the
 *                        executor then restores
 *
 * In production the analyst would approve from `actionctl` or a console;
 * here the same program plays both parts so the example runs unattended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actioncenter.h"
#include "minijson.h"

#define SOURCE "\"source\":{\"type\":\"playbook\",\"name\":\"phishing-response\"}"

static const char *const PROPOSALS[] = {
    "{\"kind\":\"isolate_device\",\"entity\":{\"type\":\"device\",\"device_id\":\"dev-ws-101\","
    "\"name\":\"WS-101\"}," SOURCE ",\"parameters\":{\"isolation\":\"full\"}}",

    "{\"kind\":\"quarantine_file\",\"entity\":{\"type\":\"file\",\"sha256\":"
    "\"5f2b9c7e1d0a4c3b8e6f7a9d0c1b2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d\","
    "\"path\":\"C:\\\\Users\\\\jdoe\\\\Downloads\\\\invoice.pdf.exe\",\"device_id\":\"dev-ws-101\"},"
    SOURCE "}",

    "{\"kind\":\"stop_service\",\"entity\":{\"type\":\"service\",\"device_id\":\"dev-ws-102\","
    "\"name\":\"UpdaterSvc\"}," SOURCE "}",

    "{\"kind\":\"block_url\",\"entity\":{\"type\":\"url\",\"url\":\"http://login-contoso.example/\"},"
    SOURCE "}",

    "{\"kind\":\"custom:reimage_device\",\"entity\":{\"type\":\"device\",\"device_id\":\"dev-ws-103\"},"
    SOURCE "}",

    "{\"kind\":\"remove_scheduled_task\",\"entity\":{\"type\":\"scheduled_task\","
    "\"device_id\":\"dev-ws-102\",\"name\":\"NightlyBackup\"}," SOURCE "}",
};
#define N_PROPOSALS (sizeof PROPOSALS / sizeof PROPOSALS[0])

static int fail(const char *what, ac_status status) {
    fprintf(stderr, "playbook: %s: %s (%s)\n", what, ac_last_error_message(),
            ac_status_name((int)status));
    return 1;
}

/* A bulk undo by filter acts only on what the analyst previewed: the
 * preview's snapshot token goes with the filter, and the call refuses
 * (AC_STATUS_CONFLICT) if the filter selects anything else by then. Each
 * item gets its own result. */
static int undo_quarantines(ac_center *center, ac_principal *analyst) {
    static const char *const OP = "{\"op\":\"undo\",\"comment\":\"false positive: a signed installer\"}";
    static const char *const FILTER = "{\"kinds\":[\"quarantine_file\"]}";
    char *preview = NULL, *results = NULL, snapshot[256], selection[512];
    ac_status status = ac_center_preview_bulk(center, analyst, OP, FILTER, &preview);
    if (status != AC_STATUS_OK) return fail("preview", status);
    printf("undo %lld quarantine(s)\n", mj_int(mj_get(preview, "count")));
    if (!mj_string(mj_get(preview, "snapshot"), snapshot, sizeof snapshot)) {
        ac_string_free(preview);
        fprintf(stderr, "playbook: the preview has no snapshot\n");
        return 1;
    }
    ac_string_free(preview);
    snprintf(selection, sizeof selection, "{\"filter\":{\"filter\":%s,\"snapshot\":\"%s\"}}", FILTER,
             snapshot);
    status = ac_center_bulk(center, analyst, OP, selection, &results);
    if (status != AC_STATUS_OK) return fail("undo", status);
    for (size_t i = 0; i < mj_len(results); i++) {
        const char *item = mj_at(results, i);
        char id[64];
        mj_string(mj_get(item, "id"), id, sizeof id);
        printf("undo %s: %s\n", id, mj_is(mj_get(item, "ok"), "true") ? "requested" : "refused");
    }
    ac_string_free(results);
    return 0;
}

int main(int argc, char **argv) {
    const char *playbook_roles[] = {"automation"};
    const char *analyst_roles[] = {"analyst"};
    ac_center *center = NULL;
    ac_principal *playbook = NULL, *analyst = NULL;
    ac_status status;
    int rc = 0;

    if (argc != 2 && !(argc == 3 && strcmp(argv[2], "undo") == 0)) {
        fprintf(stderr, "usage: %s DB [undo]\n", argv[0]);
        return 2;
    }
    if ((status = ac_center_open_sqlite(argv[1], &center)) != AC_STATUS_OK) {
        return fail("open", status);
    }
    if ((status = ac_principal_new("playbook:phishing-response", playbook_roles, 1, &playbook)) ||
        (status = ac_principal_new("alice", analyst_roles, 1, &analyst))) {
        rc = fail("principal", status);
        goto out;
    }

    if (argc == 3) {
        rc = undo_quarantines(center, analyst);
        goto out;
    }

    for (size_t i = 0; i < N_PROPOSALS && rc == 0; i++) {
        char *action = NULL, id[64], kind[64];
        status = ac_center_propose(center, playbook, PROPOSALS[i], &action);
        if (status != AC_STATUS_OK) {
            rc = fail("propose", status);
            break;
        }
        mj_string(mj_get(action, "id"), id, sizeof id);
        mj_string(mj_get(action, "kind"), kind, sizeof kind);
        ac_string_free(action);

        /* The analyst's decision: everything but the backup task. */
        if (strcmp(kind, "remove_scheduled_task") == 0) {
            status = ac_center_reject(center, analyst, id, "NightlyBackup is a legitimate job", 1,
                                      &action);
        } else {
            status = ac_center_approve(center, analyst, id, "confirmed by the playbook's findings", 1,
                                       &action);
        }
        if (status != AC_STATUS_OK) {
            rc = fail("decide", status);
            break;
        }
        {
            char state[32];
            mj_string(mj_get(action, "status"), state, sizeof state);
            printf("proposed %-22s %s -> %s\n", kind, id, state);
        }
        ac_string_free(action);
    }

out:
    ac_principal_free(analyst);
    ac_principal_free(playbook);
    ac_center_close(center);
    return rc;
}
