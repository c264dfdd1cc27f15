/*
 * The whole life of actions through the C API: propose, decide, execute,
 * undo, bulk, queries, the audit trail, the sweeps, policies, SQLite.
 */
#define _POSIX_C_SOURCE 200809L

#include <unistd.h>

#include "harness.h"

static char db_dir[256];

/* Removes a SQLite database and its WAL files. */
static void remove_db(const char *path) {
    char side[600];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static void version_matches_the_header(void) {
    CHECK(strcmp(ac_version(), AC_VERSION) == 0);
    CHECK(AC_VERSION_MAJOR >= 0 && AC_VERSION_MINOR >= 0 && AC_VERSION_PATCH >= 0);
}

/* Ids made in the same millisecond share 12 hex digits: each short id is
 * as long as it must be to name its action alone. */
static void short_ids_are_unique_prefixes(void) {
    fixture f;
    char json[512], ids[3][64];
    char *action = NULL, *short_id = NULL, *resolved = NULL;
    CHECK(fx_clock(&f));
    for (int i = 0; i < 3; i++) {
        char device[16];
        snprintf(device, sizeof device, "dev-%d", i);
        CHECK_OK(ac_center_propose(f.center, f.air, h_isolate(json, sizeof json, device, "inv-1"),
                                   &action));
        fx_keep(&f, action);
        CHECK(h_id(action, ids[i]));
    }
    for (int i = 0; i < 3; i++) {
        CHECK_OK(ac_center_short_id(f.center, ids[i], &short_id));
        fx_keep(&f, short_id);
        size_t n = strlen(short_id);
        CHECK(n > 14 && n < 36);
        CHECK(strncmp(short_id, ids[i], n) == 0);
        CHECK_OK(ac_center_resolve_id(f.center, short_id, &resolved));
        fx_keep(&f, resolved);
        CHECK(strcmp(resolved, ids[i]) == 0);
    }
    CHECK_ERROR(AC_STATUS_NOT_FOUND, "action 01890000-0000-7000-8000-000000000000 not found",
                ac_center_short_id(f.center, "01890000-0000-7000-8000-000000000000", &short_id));
    CHECK(short_id == NULL);
    fx_close(&f);
}

static void pending_action_is_approved_claimed_and_completed(void) {
    fixture f;
    char json[512], id[64], claimed_id[64], token[128];
    char *action = NULL, *claimed = NULL;
    CHECK(fx_memory(&f));

    CHECK_OK(ac_center_propose(f.center, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"),
                               &action));
    fx_keep(&f, action);
    CHECK(h_id(action, id));
    CHECK(mj_eq(mj_get(action, "status"), "pending"));
    CHECK(mj_eq(mj_get(action, "kind"), "isolate_device"));
    CHECK(mj_eq(mj_get(action, "category"), "device"));
    CHECK(mj_eq(mj_get(action, "created_by"), "air"));
    CHECK(mj_eq(mj_get(action, "investigation_id"), "inv-1"));
    CHECK(mj_int(mj_get(action, "version")) == 1);
    CHECK(!mj_is(mj_get(action, "expires_at"), "null"));

    CHECK_OK(ac_center_approve(f.center, f.alice, id, "looks right", 1, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    CHECK(mj_int(mj_get(action, "version")) == 2);
    CHECK(mj_len(mj_get(action, "decisions")) == 1);
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "by"), "alice"));
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "comment"), "looks right"));

    CHECK_OK(ac_center_claim(f.center, f.agent, 10, 300, NULL, &claimed));
    fx_keep(&f, claimed);
    CHECK(mj_len(claimed) == 1);
    CHECK(h_id(mj_at(claimed, 0), claimed_id));
    CHECK(strcmp(claimed_id, id) == 0);
    CHECK(mj_eq(mj_get(mj_at(claimed, 0), "status"), "running"));
    /* The claim's lease token is its last attempt's. */
    CHECK(h_token(mj_at(claimed, 0), token));
    CHECK(strlen(token) >= 16);

    CHECK_OK(ac_center_complete(f.center, f.agent, id, token, "{\"isolated\":true}", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "completed"));
    {
        const char *attempt = mj_at(mj_get(action, "attempts"), 0);
        const char *outcome = mj_get(attempt, "outcome");
        CHECK(mj_eq(mj_get(attempt, "executor"), "agent-1"));
        CHECK(mj_eq(mj_get(outcome, "type"), "completed"));
        CHECK(mj_is(mj_get(mj_get(outcome, "result"), "isolated"), "true"));
    }

    /* Nothing more to claim. */
    CHECK_OK(ac_center_claim(f.center, f.agent, 10, 300, NULL, &claimed));
    fx_keep(&f, claimed);
    CHECK(strcmp(claimed, "[]") == 0);
    fx_close(&f);
}

static void manual_response_is_approved_at_once(void) {
    fixture f;
    char id[64];
    const char *json = "{\"kind\":\"disable_user\",\"entity\":{\"type\":\"user\",\"user_id\":\"u-9\"},"
                       "\"source\":{\"type\":\"manual_response\",\"person\":\"alice\"}}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.alice, json, id));
    CHECK(h_status_is(&f, id, "approved"));
    fx_close(&f);
}

static void rejection_records_the_comment(void) {
    fixture f;
    char json[512], id[64];
    char *action = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_reject(f.center, f.bob, id, "false positive", 0, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "rejected"));
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "verdict"), "reject"));
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "comment"), "false positive"));
    fx_close(&f);
}

static void proposer_cancels_pending_and_analyst_cancels_approved(void) {
    fixture f;
    char json[512], first[64], second[64];
    char *action = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), first));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), second));
    /* The automation role has no Cancel grant, but a proposer may cancel. */
    CHECK_OK(ac_center_cancel(f.center, f.air, first, "duplicate", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "cancelled"));
    CHECK(mj_eq(mj_get(mj_get(action, "cancellation"), "by"), "air"));
    CHECK_OK(ac_center_approve(f.center, f.alice, second, NULL, 0, NULL));
    CHECK_OK(ac_center_cancel(f.center, f.bob, second, "maintenance window", NULL));
    CHECK(h_status_is(&f, second, "cancelled"));
    fx_close(&f);
}

static void failed_action_is_retried_and_completed(void) {
    fixture f;
    char json[512], id[64], claimed[64], first[128], second[128];
    char *action = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK(h_claim_one(&f, claimed, first) == 1);
    CHECK_OK(ac_center_fail(f.center, f.agent, id, first, "device offline", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "failed"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(mj_get(action, "attempts"), 0), "outcome"), "error"),
                "device offline"));
    CHECK_OK(ac_center_retry(f.center, f.alice, id, "device is back", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    /* Every claim gets a token of its own. */
    CHECK(h_claim_one(&f, claimed, second) == 1);
    CHECK(strcmp(first, second) != 0);
    CHECK_OK(ac_center_complete(f.center, f.agent, id, second, NULL, NULL));
    CHECK(h_status_is(&f, id, "completed"));
    fx_close(&f);
}

static void heartbeat_keeps_the_lease_alive(void) {
    fixture f;
    char json[512], id[64], token[128];
    char *claimed = NULL, *action = NULL;
    CHECK(fx_clock(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(ac_center_claim(f.center, f.agent, 1, 60, NULL, &claimed));
    fx_keep(&f, claimed);
    CHECK(mj_eq(mj_get(mj_at(mj_get(mj_at(claimed, 0), "attempts"), 0), "lease_until"),
                "2026-01-01T00:01:00Z"));
    CHECK(h_token(mj_at(claimed, 0), token));
    CHECK_OK(ac_center_advance_clock(f.center, 50));
    CHECK_OK(ac_center_heartbeat(f.center, f.agent, id, token, 60, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "attempts"), 0), "lease_until"),
                "2026-01-01T00:01:50Z"));
    /* A renewal keeps the token, and is no new version. */
    CHECK(mj_int(mj_get(action, "version")) == 3);
    CHECK_OK(ac_center_advance_clock(f.center, 50));
    CHECK_OK(ac_center_complete(f.center, f.agent, id, token, "{}", NULL));
    CHECK(h_status_is(&f, id, "completed"));
    fx_close(&f);
}

/* Builds the instances JSON of an undo request from the actions
 * ac_center_undo_instances showed: each id with the version shown. */
static const char *instances_of(const char *preview, char *buf, size_t cap) {
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (size_t i = 0; i < mj_len(preview) && used < cap; i++) {
        char id[64];
        const char *item = mj_at(preview, i);
        if (!h_id(item, id)) return NULL;
        used += (size_t)snprintf(buf + used, cap - used, "%s{\"id\":\"%s\",\"version\":%lld}",
                                 i ? "," : "", id, mj_int(mj_get(item, "version")));
    }
    if (used + 2 > cap) return NULL;
    strcat(buf, "]");
    return buf;
}

/* Three completed quarantines of one file; undoing one with the two other
 * instances it showed undoes those too, and the executor runs the inverse
 * of each. */
static void undo_fans_out_to_the_confirmed_instances_of_the_file(void) {
    fixture f;
    char json[512], ids[3][64], claimed[64], instances[1024], request[1536];
    char *preview = NULL, *report = NULL, *undo_claims = NULL, *action = NULL;
    const char *devices[3] = {"dev-1", "dev-2", "dev-3"};
    CHECK(fx_memory(&f));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, devices[i]), ids[i]));
        CHECK_OK(ac_center_approve(f.center, f.alice, ids[i], NULL, 0, NULL));
        CHECK_OK(h_run_one(&f, claimed, "{\"quarantined\":true}"));
    }
    CHECK_OK(ac_center_undo_instances(f.center, f.alice, ids[0], &preview));
    fx_keep(&f, preview);
    CHECK(mj_len(preview) == 2);

    CHECK(instances_of(preview, instances, sizeof instances));
    snprintf(request, sizeof request,
             "{\"comment\":\"false positive, restore everywhere\",\"expected_version\":%lld,"
             "\"instances\":%s}",
             h_version(&f, ids[0]), instances);
    CHECK_OK(ac_center_undo(f.center, f.alice, ids[0], request, &report));
    fx_keep(&f, report);
    CHECK(mj_eq(mj_get(mj_get(report, "action"), "status"), "undoing"));
    CHECK(mj_eq(mj_get(mj_get(mj_get(report, "action"), "undo"), "inverse"), "restore_file"));
    CHECK(mj_len(mj_get(report, "instances")) == 2);
    for (size_t i = 0; i < 2; i++) {
        const char *item = mj_at(mj_get(report, "instances"), i);
        CHECK(mj_is(mj_get(item, "ok"), "true"));
        CHECK(mj_eq(mj_get(mj_get(mj_get(item, "action"), "undo"), "fanned_out_from"), ids[0]));
    }

    CHECK_OK(ac_center_claim(f.center, f.agent, 10, 300, NULL, &undo_claims));
    fx_keep(&f, undo_claims);
    CHECK(mj_len(undo_claims) == 3);
    for (size_t i = 0; i < 3; i++) {
        char id[64], token[128];
        const char *claim = mj_at(undo_claims, i);
        CHECK(h_id(claim, id));
        CHECK(h_token(claim, token));
        /* A leased undo is UndoRunning; its attempt runs the inverse. */
        CHECK(mj_eq(mj_get(claim, "status"), "undo_running"));
        CHECK(mj_is(mj_get(mj_last(mj_get(claim, "attempts")), "undo"), "true"));
        CHECK_OK(ac_center_complete(f.center, f.agent, id, token, "{\"restored\":true}", &action));
        fx_keep(&f, action);
        CHECK(mj_eq(mj_get(action, "status"), "undone"));
    }
    fx_close(&f);
}

/* What was not confirmed is not undone: an instance completed after the
 * preview stays completed, and one that changed since is refused alone. */
static void undo_acts_only_on_the_instances_confirmed(void) {
    fixture f;
    char json[512], ids[3][64], claimed[64], request[1024];
    char *report = NULL;
    CHECK(fx_memory(&f));
    for (int i = 0; i < 3; i++) {
        char device[16];
        snprintf(device, sizeof device, "dev-%d", i);
        CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, device), ids[i]));
        CHECK_OK(ac_center_approve(f.center, f.alice, ids[i], NULL, 0, NULL));
        CHECK_OK(h_run_one(&f, claimed, NULL));
    }
    /* ids[1] was shown at a version it is no longer at. */
    snprintf(request, sizeof request,
             "{\"comment\":\"restore\",\"instances\":[{\"id\":\"%s\",\"version\":1}]}", ids[1]);
    CHECK_OK(ac_center_undo(f.center, f.alice, ids[0], request, &report));
    fx_keep(&f, report);
    CHECK(mj_len(mj_get(report, "instances")) == 1);
    CHECK(mj_is(mj_get(mj_at(mj_get(report, "instances"), 0), "ok"), "false"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(mj_get(report, "instances"), 0), "error"), "kind"), "conflict"));
    CHECK(h_status_is(&f, ids[0], "undoing"));
    CHECK(h_status_is(&f, ids[1], "completed"));
    CHECK(h_status_is(&f, ids[2], "completed"));
    fx_close(&f);
}

static void undo_without_fan_out_touches_one_action(void) {
    fixture f;
    char json[512], ids[2][64], claimed[64];
    char *report = NULL;
    CHECK(fx_memory(&f));
    for (int i = 0; i < 2; i++) {
        CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, i ? "dev-2" : "dev-1"),
                           ids[i]));
        CHECK_OK(ac_center_approve(f.center, f.alice, ids[i], NULL, 0, NULL));
        CHECK_OK(h_run_one(&f, claimed, NULL));
    }
    CHECK_OK(ac_center_undo(f.center, f.alice, ids[0], "{\"comment\":\"restore this one\"}", &report));
    fx_keep(&f, report);
    CHECK(mj_len(mj_get(report, "instances")) == 0);
    CHECK(h_status_is(&f, ids[0], "undoing"));
    CHECK(h_status_is(&f, ids[1], "completed"));
    fx_close(&f);
}

static void failed_undo_can_be_undone_again(void) {
    fixture f;
    char json[512], id[64], claimed[64], token[128];
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(h_run_one(&f, claimed, NULL));
    CHECK_OK(ac_center_undo(f.center, f.alice, id, "{\"comment\":\"release\"}", NULL));
    CHECK(h_claim_one(&f, claimed, token) == 1);
    CHECK(h_status_is(&f, id, "undo_running"));
    CHECK_OK(ac_center_fail(f.center, f.agent, id, token, "device unreachable", NULL));
    CHECK(h_status_is(&f, id, "undo_failed"));
    CHECK_OK(ac_center_undo(f.center, f.alice, id, "{\"comment\":\"try the release again\"}", NULL));
    CHECK(h_status_is(&f, id, "undoing"));
    fx_close(&f);
}

static void bulk_by_ids_reports_each_item(void) {
    fixture f;
    char json[512], a[64], b[64], sel[512];
    char *results = NULL;
    const char *unknown = "01890000-0000-7000-8000-000000000000";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), a));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), b));
    CHECK_OK(ac_center_approve(f.center, f.alice, b, NULL, 0, NULL));
    /* Each id with the version the caller saw. */
    snprintf(sel, sizeof sel,
             "{\"ids\":[{\"id\":\"%s\",\"version\":1},{\"id\":\"%s\",\"version\":2},"
             "{\"id\":\"%s\",\"version\":1}]}",
             a, b, unknown);
    CHECK_OK(ac_center_bulk(f.center, f.bob, "{\"op\":\"approve\",\"comment\":\"batch\"}", sel,
                            &results));
    fx_keep(&f, results);
    CHECK(mj_len(results) == 3);
    CHECK(mj_is(mj_get(mj_at(results, 0), "ok"), "true"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(results, 0), "action"), "status"), "approved"));
    CHECK(mj_is(mj_get(mj_at(results, 1), "ok"), "false"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(results, 1), "error"), "kind"), "invalid_transition"));
    CHECK(mj_int(mj_get(mj_get(mj_at(results, 1), "error"), "code")) == AC_STATUS_INVALID_TRANSITION);
    CHECK(mj_eq(mj_get(mj_get(mj_at(results, 2), "error"), "kind"), "not_found"));
    CHECK(mj_int(mj_get(mj_get(mj_at(results, 2), "error"), "code")) == AC_STATUS_NOT_FOUND);
    CHECK(h_status_is(&f, a, "approved"));
    fx_close(&f);
}

static void bulk_item_seen_at_an_old_version_is_a_conflict(void) {
    fixture f;
    char json[512], a[64], b[64], sel[512];
    char *results = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), a));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), b));
    /* a is not at the version the caller names; b is as seen. */
    snprintf(sel, sizeof sel,
             "{\"ids\":[{\"id\":\"%s\",\"version\":7},{\"id\":\"%s\",\"version\":1}]}", a, b);
    CHECK_OK(ac_center_bulk(f.center, f.alice, "{\"op\":\"reject\",\"comment\":\"benign\"}", sel,
                            &results));
    fx_keep(&f, results);
    CHECK(mj_eq(mj_get(mj_get(mj_at(results, 0), "error"), "kind"), "conflict"));
    CHECK(mj_int(mj_get(mj_get(mj_at(results, 0), "error"), "actual")) == 1);
    CHECK(mj_is(mj_get(mj_at(results, 1), "ok"), "true"));
    CHECK(h_status_is(&f, a, "pending"));
    CHECK(h_status_is(&f, b, "rejected"));
    fx_close(&f);
}

static void bulk_by_filter_rejects_an_investigation(void) {
    fixture f;
    char json[512], a[64], b[64], other[64], snapshot[256], sel[512];
    char *results = NULL, *preview = NULL;
    const char *op = "{\"op\":\"reject\",\"comment\":\"benign\"}";
    const char *filter = "{\"investigation_id\":\"inv-7\"}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-7"), a));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-7"), b));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-3", "inv-8"), other));
    CHECK_OK(ac_center_preview_bulk(f.center, f.alice, op, filter, &preview));
    fx_keep(&f, preview);
    CHECK(mj_int(mj_get(preview, "count")) == 2);
    CHECK(mj_len(mj_get(preview, "items")) == 2);
    CHECK(mj_int(mj_get(mj_at(mj_get(preview, "items"), 0), "version")) == 1);
    CHECK(mj_string(mj_get(preview, "snapshot"), snapshot, sizeof snapshot));
    snprintf(sel, sizeof sel, "{\"filter\":{\"filter\":%s,\"snapshot\":\"%s\"}}", filter, snapshot);
    CHECK_OK(ac_center_bulk(f.center, f.alice, op, sel, &results));
    fx_keep(&f, results);
    CHECK(mj_len(results) == 2);
    CHECK(h_status_is(&f, a, "rejected"));
    CHECK(h_status_is(&f, b, "rejected"));
    CHECK(h_status_is(&f, other, "pending"));
    fx_close(&f);
}

/* A proposal that arrived after the preview is not acted on unseen: the
 * bulk call refuses, with the counts, and changes nothing. */
static void bulk_by_filter_refuses_a_selection_that_changed(void) {
    fixture f;
    char json[512], a[64], late[64], snapshot[256], sel[512];
    char *preview = NULL, *results = (char *)"stale";
    const char *op = "{\"op\":\"approve\"}";
    const char *filter = "{\"investigation_id\":\"inv-7\"}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-7"), a));
    CHECK_OK(ac_center_preview_bulk(f.center, f.alice, op, filter, &preview));
    fx_keep(&f, preview);
    CHECK(mj_string(mj_get(preview, "snapshot"), snapshot, sizeof snapshot));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-7"), late));
    snprintf(sel, sizeof sel, "{\"filter\":{\"filter\":%s,\"snapshot\":\"%s\"}}", filter, snapshot);
    CHECK_ERROR(AC_STATUS_CONFLICT, "the selection changed", ac_center_bulk(f.center, f.alice, op, sel, &results));
    CHECK(results == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "selection"));
    CHECK(mj_int(mj_get(ac_last_error_json(), "previewed")) == 1);
    CHECK(mj_int(mj_get(ac_last_error_json(), "now")) == 2);
    CHECK(h_status_is(&f, a, "pending"));
    CHECK(h_status_is(&f, late, "pending"));
    fx_close(&f);
}

static void claim_takes_only_the_kinds_asked_for(void) {
    fixture f;
    char json[512], iso[64], quar[64];
    char *claimed = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), iso));
    CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, "dev-1"), quar));
    CHECK_OK(ac_center_approve(f.center, f.alice, iso, NULL, 0, NULL));
    CHECK_OK(ac_center_approve(f.center, f.alice, quar, NULL, 0, NULL));
    CHECK_OK(ac_center_claim(f.center, f.agent, 10, 300, "[\"quarantine_file\"]", &claimed));
    fx_keep(&f, claimed);
    CHECK(mj_len(claimed) == 1);
    CHECK(mj_eq(mj_get(mj_at(claimed, 0), "id"), quar));
    CHECK(h_status_is(&f, iso, "approved"));
    fx_close(&f);
}

static void list_pages_newest_first_with_a_cursor(void) {
    fixture f;
    char json[512], ids[5][64], device[16], cursor[64];
    char *page = NULL;
    CHECK(fx_memory(&f));
    for (int i = 0; i < 5; i++) {
        snprintf(device, sizeof device, "dev-%d", i);
        CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, device, "inv-1"), ids[i]));
    }
    CHECK_OK(ac_center_list(f.center, f.viewer, NULL, NULL, 2, &page));
    fx_keep(&f, page);
    CHECK(mj_len(mj_get(page, "items")) == 2);
    CHECK(mj_eq(mj_get(mj_at(mj_get(page, "items"), 0), "id"), ids[4]));
    CHECK(mj_eq(mj_get(mj_at(mj_get(page, "items"), 1), "id"), ids[3]));
    CHECK(mj_string(mj_get(page, "next_cursor"), cursor, sizeof cursor));

    CHECK_OK(ac_center_list(f.center, f.viewer, NULL, cursor, 2, &page));
    fx_keep(&f, page);
    CHECK(mj_eq(mj_get(mj_at(mj_get(page, "items"), 0), "id"), ids[2]));
    CHECK(mj_string(mj_get(page, "next_cursor"), cursor, sizeof cursor));

    CHECK_OK(ac_center_list(f.center, f.viewer, NULL, cursor, 2, &page));
    fx_keep(&f, page);
    CHECK(mj_len(mj_get(page, "items")) == 1);
    CHECK(mj_eq(mj_get(mj_at(mj_get(page, "items"), 0), "id"), ids[0]));
    CHECK(mj_is(mj_get(page, "next_cursor"), "null"));
    fx_close(&f);
}

static void list_and_counts_follow_the_filter(void) {
    fixture f;
    char json[512], a[64], b[64], c[64];
    char *page = NULL, *counts = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), a));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), b));
    CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, "dev-2"), c));
    CHECK_OK(ac_center_approve(f.center, f.alice, a, NULL, 0, NULL));

    CHECK_OK(ac_center_list(f.center, f.viewer, "{\"statuses\":[\"pending\"]}", NULL, 50, &page));
    fx_keep(&f, page);
    CHECK(mj_len(mj_get(page, "items")) == 2);
    CHECK_OK(ac_center_list(f.center, f.viewer, "{\"entity\":\"dev-2\",\"kinds\":[\"quarantine_file\"]}",
                            NULL, 50, &page));
    fx_keep(&f, page);
    CHECK(mj_len(mj_get(page, "items")) == 1);
    CHECK(mj_eq(mj_get(mj_at(mj_get(page, "items"), 0), "id"), c));

    CHECK_OK(ac_center_counts(f.center, f.viewer, NULL, &counts));
    fx_keep(&f, counts);
    CHECK(mj_int(mj_get(counts, "pending")) == 2);
    CHECK(mj_int(mj_get(counts, "approved")) == 1);
    CHECK(mj_int(mj_get(counts, "undo_failed")) == 0);
    CHECK_OK(ac_center_counts(f.center, f.viewer, "{\"categories\":[\"file\"]}", &counts));
    fx_keep(&f, counts);
    CHECK(mj_int(mj_get(counts, "pending")) == 1);
    CHECK(mj_int(mj_get(counts, "approved")) == 0);
    fx_close(&f);
}

static void history_and_feed_record_every_step(void) {
    fixture f;
    char json[512], id[64], claimed[64];
    char *history = NULL, *feed = NULL, *report = NULL;
    bool intact = false;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(h_run_one(&f, claimed, NULL));

    CHECK_OK(ac_center_history(f.center, f.viewer, id, &history));
    fx_keep(&f, history);
    CHECK(mj_len(history) == 4);
    CHECK(mj_eq(mj_get(mj_at(history, 0), "event"), "propose"));
    CHECK(mj_eq(mj_get(mj_at(history, 1), "event"), "approve"));
    CHECK(mj_eq(mj_get(mj_at(history, 1), "actor"), "alice"));
    CHECK(mj_eq(mj_get(mj_at(history, 2), "event"), "claim"));
    CHECK(mj_eq(mj_get(mj_at(history, 3), "event"), "complete"));
    CHECK(mj_eq(mj_get(mj_at(history, 3), "to"), "completed"));
    /* Each event records the action's version and the policy in force. */
    CHECK(mj_int(mj_get(mj_at(history, 3), "version")) == 4);
    CHECK(mj_int(mj_get(mj_at(history, 1), "policy_version")) == 1);
    CHECK(!mj_is(mj_get(mj_at(history, 3), "digest"), "null"));

    /* The feed starts with the bootstrap policy's event. */
    CHECK_OK(ac_center_events_since(f.center, f.viewer, 0, 1000, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 5);
    CHECK(mj_eq(mj_get(mj_at(feed, 0), "event"), "set_policy"));
    CHECK(mj_is(mj_get(mj_at(feed, 0), "action_id"), "null"));
    CHECK(mj_int(mj_get(mj_at(feed, 4), "seq")) == 5);
    CHECK_OK(ac_center_events_since(f.center, f.viewer, 2, 1, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 1);
    CHECK(mj_int(mj_get(mj_at(feed, 0), "seq")) == 3);
    CHECK_OK(ac_center_events_since(f.center, f.viewer, 5, 1000, &feed));
    fx_keep(&f, feed);
    CHECK(strcmp(feed, "[]") == 0);

    CHECK_OK(ac_center_verify_audit(f.center, &intact, &report));
    fx_keep(&f, report);
    CHECK(intact);
    CHECK(mj_is(mj_get(report, "intact"), "true"));
    CHECK(mj_is(mj_get(report, "problem"), "null"));
    CHECK(mj_int(mj_get(report, "events_checked")) == 5);
    CHECK(mj_int(mj_get(report, "actions_checked")) == 1);
    CHECK(mj_is(mj_get(report, "first_bad"), "null"));
    CHECK(mj_is(mj_get(report, "first_bad_action"), "null"));
    fx_close(&f);
}

static void expiry_sweep_closes_old_approval_windows(void) {
    fixture f;
    char json[512], old[64], fresh[64];
    char *moved = NULL;
    size_t count = 99;
    CHECK(fx_clock(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), old));
    CHECK_OK(ac_center_advance_clock(f.center, 6 * 24 * 3600));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), fresh));
    CHECK_OK(ac_center_expire_due(f.center, &count, NULL));
    CHECK(count == 0);
    CHECK_OK(ac_center_advance_clock(f.center, 2 * 24 * 3600));
    CHECK_OK(ac_center_expire_due(f.center, &count, &moved));
    fx_keep(&f, moved);
    CHECK(count == 1);
    CHECK(mj_eq(mj_get(mj_at(moved, 0), "id"), old));
    CHECK(h_status_is(&f, old, "expired"));
    CHECK(h_status_is(&f, fresh, "pending"));
    fx_close(&f);
}

static void lease_sweep_returns_abandoned_actions_to_the_queue(void) {
    fixture f;
    char json[512], id[64], claimed[64];
    char *moved = NULL, *action = NULL;
    size_t count = 99;
    CHECK(fx_clock(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK(h_claim_one(&f, claimed, NULL) == 1);
    CHECK_OK(ac_center_recover_leases(f.center, &count, NULL));
    CHECK(count == 0);
    CHECK_OK(ac_center_advance_clock(f.center, 301));
    CHECK_OK(ac_center_recover_leases(f.center, &count, &moved));
    fx_keep(&f, moved);
    CHECK(count == 1);
    CHECK_OK(ac_center_get(f.center, f.alice, id, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(mj_get(action, "attempts"), 0), "outcome"), "type"),
                "lease_expired"));
    CHECK(h_claim_one(&f, claimed, NULL) == 1);
    fx_close(&f);
}

static void policy_quorum_needs_two_distinct_approvers(void) {
    fixture f;
    char json[512], id[64];
    char *action = NULL, *policy = NULL;
    const char *quorum =
        "{\"roles\":{\"automation\":{\"view\":[\"*\"],\"propose\":[\"*\"]},"
        "\"analyst\":{\"view\":[\"*\"],\"approve\":[\"*\"]},"
        "\"viewer\":{\"view\":[\"*\"]},\"executor\":{\"view\":[\"*\"],\"execute\":[\"*\"]},"
        "\"admin\":{\"administer\":[\"*\"]}},"
        "\"kinds\":{\"isolate_device\":{\"quorum\":2}}}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_set_policy(&f, quorum));
    CHECK_OK(ac_center_policy(f.center, &policy));
    fx_keep(&f, policy);
    CHECK(mj_int(mj_get(policy, "version")) == 2);
    CHECK(mj_int(mj_get(mj_get(mj_get(mj_get(policy, "policy"), "kinds"), "isolate_device"), "quorum")) == 2);

    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "pending"));
    CHECK_INVALID("principal", ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(ac_center_approve(f.center, f.bob, id, NULL, 0, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    CHECK(mj_len(mj_get(action, "decisions")) == 2);
    fx_close(&f);
}

static void policy_full_automation_approves_at_once(void) {
    fixture f;
    char json[512], id[64];
    const char *full = "{\"roles\":{\"automation\":{\"view\":[\"*\"],\"propose\":[\"*\"]},"
                       "\"analyst\":{\"view\":[\"*\"]},\"viewer\":{\"view\":[\"*\"]},"
                       "\"executor\":{\"execute\":[\"*\"]},\"admin\":{\"administer\":[\"*\"]}},"
                       "\"automation\":{\"default\":\"full\"}}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_set_policy(&f, full));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK(h_status_is(&f, id, "approved"));
    fx_close(&f);
}

static void short_id_prefix_resolves_to_the_full_id(void) {
    fixture f;
    char json[512], id[64], prefix[16];
    char *full = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    memcpy(prefix, id, 13); /* "xxxxxxxx-xxxx" */
    prefix[13] = '\0';
    CHECK_OK(ac_center_resolve_id(f.center, prefix, &full));
    fx_keep(&f, full);
    CHECK(strcmp(full, id) == 0);
    fx_close(&f);
}

static void a_prefix_for_a_caller_finds_only_what_it_may_view(void) {
    fixture f;
    char json[512], id[64], prefix[16];
    char *full = NULL;
    ac_principal *nobody = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(ac_principal_new("nobody", NULL, 0, &nobody));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    memcpy(prefix, id, 13);
    prefix[13] = '\0';
    CHECK_OK(ac_center_resolve_id_for(f.center, f.alice, prefix, &full));
    fx_keep(&f, full);
    CHECK(strcmp(full, id) == 0);
    /* Nobody may view it: not found, and the message does not name it. */
    full = NULL;
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_resolve_id_for(f.center, nobody, prefix, &full));
    CHECK(full == NULL && strstr(ac_last_error_message(), id) == NULL);
    CHECK_STATUS(AC_STATUS_NULL_ARGUMENT, ac_center_resolve_id_for(f.center, NULL, prefix, &full));
    CHECK_OK(ac_principal_free(nobody));
    fx_close(&f);
}

static void principal_from_json_acts_like_one_from_parts(void) {
    fixture f;
    ac_principal *json_alice = NULL;
    char json[512], id[64];
    CHECK(fx_memory(&f));
    CHECK_OK(ac_principal_from_json("{\"id\":\"carol\",\"roles\":[\"analyst\",\"viewer\"]}",
                                    &json_alice));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, json_alice, id, NULL, 0, NULL));
    CHECK(h_status_is(&f, id, "approved"));
    CHECK_OK(ac_principal_free(json_alice));
    fx_close(&f);
}

static void two_handles_on_one_sqlite_file_share_everything(void) {
    char path[512], json[512], id[64];
    ac_center *writer = NULL, *reader = NULL, *again = NULL;
    fixture f;
    char *action = NULL, *feed = NULL;
    bool intact = false;
    snprintf(path, sizeof path, "%s/shared.db", db_dir);
    CHECK_OK(ac_center_open_sqlite(path, &writer));
    CHECK_OK(ac_center_open_sqlite(path, &reader));
    CHECK(fx_init(&f, writer));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(reader, f.alice, id, "from the other handle", 0, NULL));
    CHECK_OK(ac_center_get(writer, f.viewer, id, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    CHECK_OK(ac_center_close(reader));
    fx_close(&f); /* closes writer */

    CHECK_OK(ac_center_open_sqlite(path, &again));
    CHECK(fx_init(&f, again));
    CHECK_OK(ac_center_events_since(again, f.viewer, 0, 100, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 3); /* the bootstrap policy, the proposal, the approval */
    CHECK_OK(ac_center_verify_audit(again, &intact, NULL));
    CHECK(intact);
    fx_close(&f);
    remove_db(path);
}

/* The policy with a principals map (dana and the agent get their roles
 * from it) and an admin role, so root may change it again. */
static const char *NAMED_POLICY =
    "{\"roles\":{\"automation\":{\"view\":[\"*\"],\"propose\":[\"*\"]},"
    "\"analyst\":{\"view\":[\"*\"],\"approve\":[\"*\"],\"undo\":[\"*\"]},"
    "\"viewer\":{\"view\":[\"*\"]},\"executor\":{\"view\":[\"*\"],\"execute\":[\"*\"]},"
    "\"admin\":{\"administer\":[\"*\"]}},"
    "\"principals\":{\"dana\":[\"analyst\"],\"agent-9\":[\"executor\"]}}";

static void stored_policy_is_versioned_and_audited(void) {
    fixture f;
    char *stored = NULL, *history = NULL, *feed = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(ac_center_policy(f.center, &stored));
    fx_keep(&f, stored);
    CHECK(mj_int(mj_get(stored, "version")) == 1);
    CHECK(mj_eq(mj_get(stored, "set_by"), "system"));
    CHECK(mj_string(mj_get(stored, "digest"), (char[80]){0}, 80));
    CHECK(mj_get(mj_get(mj_get(stored, "policy"), "roles"), "analyst") != NULL);

    CHECK_OK(ac_center_set_policy(f.center, f.root, NAMED_POLICY, 1, "name the analysts", &stored));
    fx_keep(&f, stored);
    CHECK(mj_int(mj_get(stored, "version")) == 2);
    CHECK(mj_eq(mj_get(stored, "set_by"), "root"));
    /* A change made on version 1 after version 2 was stored is refused. */
    CHECK_ERROR(AC_STATUS_CONFLICT, "the policy changed",
                ac_center_set_policy(f.center, f.root, "{\"roles\":{}}", 1, NULL, &stored));
    CHECK(stored == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "policy"));
    CHECK(mj_int(mj_get(ac_last_error_json(), "actual")) == 2);

    CHECK_OK(ac_center_policy_history(f.center, f.viewer, &history));
    fx_keep(&f, history);
    CHECK(mj_len(history) == 2);
    CHECK(mj_int(mj_get(mj_at(history, 0), "version")) == 1);
    CHECK(mj_int(mj_get(mj_at(history, 1), "version")) == 2);

    CHECK_OK(ac_center_events_since(f.center, f.viewer, 0, 10, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 2);
    CHECK(mj_eq(mj_get(mj_at(feed, 1), "event"), "set_policy"));
    CHECK(mj_eq(mj_get(mj_at(feed, 1), "actor"), "root"));
    CHECK(mj_eq(mj_get(mj_at(feed, 1), "comment"), "name the analysts"));
    CHECK(mj_int(mj_get(mj_at(feed, 1), "version")) == 2);
    fx_close(&f);
}

/* One policy per database: what one handle stores, the other enforces. */
static void policy_stored_through_one_handle_binds_the_other(void) {
    char path[512], json[512], id[64];
    ac_center *other = NULL;
    fixture f;
    char *action = NULL;
    snprintf(path, sizeof path, "%s/policy.db", db_dir);
    {
        ac_center *center = NULL;
        CHECK_OK(ac_center_open_sqlite(path, &center));
        CHECK(fx_init(&f, center));
    }
    CHECK_OK(ac_center_open_sqlite(path, &other));
    CHECK_OK(h_set_policy(&f, "{\"roles\":{\"automation\":{\"view\":[\"*\"],\"propose\":[\"*\"]},"
                              "\"analyst\":{\"view\":[\"*\"],\"approve\":[\"*\"]},"
                              "\"viewer\":{\"view\":[\"*\"]},\"executor\":{\"execute\":[\"*\"]},"
                              "\"admin\":{\"administer\":[\"*\"]}},"
                              "\"kinds\":{\"isolate_device\":{\"quorum\":2}}}"));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(other, f.alice, id, NULL, 0, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "pending"));
    CHECK(mj_int(mj_get(mj_at(mj_get(action, "decisions"), 0), "policy_version")) == 2);
    CHECK_OK(ac_center_policy(other, &action));
    fx_keep(&f, action);
    CHECK(mj_int(mj_get(action, "version")) == 2);
    CHECK_OK(ac_center_close(other));
    fx_close(&f);
    remove_db(path);
}

static void principal_by_name_gets_the_roles_of_the_stored_policy(void) {
    fixture f;
    ac_principal *dana = NULL;
    char json[512], id[64];
    char *shown = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_set_policy(&f, NAMED_POLICY));
    CHECK_OK(ac_center_principal(f.center, "dana", &dana));
    CHECK_OK(ac_principal_to_json(dana, &shown));
    fx_keep(&f, shown);
    CHECK(mj_eq(mj_get(shown, "id"), "dana"));
    CHECK(mj_len(mj_get(shown, "roles")) == 1);
    CHECK(mj_eq(mj_at(mj_get(shown, "roles"), 0), "analyst"));
    CHECK(mj_get(shown, "via") == NULL);
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, dana, id, NULL, 1, NULL));
    CHECK(h_status_is(&f, id, "approved"));
    CHECK_OK(ac_principal_free(dana));
    fx_close(&f);
}

/* "root as dana": the decision and the event record both. */
static void administrator_acting_as_another_is_recorded_as_both(void) {
    fixture f;
    ac_principal *as_dana = NULL;
    char json[512], id[64];
    char *shown = NULL, *action = NULL, *history = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_set_policy(&f, NAMED_POLICY));
    CHECK_OK(ac_center_impersonate(f.center, f.root, "dana", &as_dana));
    CHECK_OK(ac_principal_to_json(as_dana, &shown));
    fx_keep(&f, shown);
    CHECK(mj_eq(mj_get(shown, "id"), "dana"));
    CHECK(mj_eq(mj_get(shown, "via"), "root"));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, as_dana, id, "on dana's behalf", 1, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "by"), "dana"));
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "decisions"), 0), "via"), "root"));
    CHECK_OK(ac_center_history(f.center, f.viewer, id, &history));
    fx_keep(&f, history);
    CHECK(mj_eq(mj_get(mj_at(history, 1), "actor"), "dana"));
    CHECK(mj_eq(mj_get(mj_at(history, 1), "via"), "root"));
    CHECK(mj_get(mj_at(history, 0), "via") == NULL);
    CHECK_OK(ac_principal_free(as_dana));
    fx_close(&f);
}

static void checkpoints_sign_the_chain_and_verify_with_the_public_key(void) {
    fixture f;
    char json[512], id[64];
    char *private_pem = NULL, *public_pem = NULL, *other_private = NULL, *other_public = NULL;
    char *checkpoint = NULL, *listed = NULL, *report = NULL;
    bool intact = false;
    CHECK(fx_memory(&f));
    CHECK_OK(ac_key_generate(&private_pem, &public_pem));
    fx_keep(&f, private_pem);
    fx_keep(&f, public_pem);
    CHECK(strstr(private_pem, "-----BEGIN PRIVATE KEY-----") == private_pem);
    CHECK(strstr(public_pem, "-----BEGIN PUBLIC KEY-----") == public_pem);
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));

    CHECK_OK(ac_center_checkpoint(f.center, f.root, private_pem, &checkpoint));
    fx_keep(&f, checkpoint);
    CHECK(mj_int(mj_get(checkpoint, "seq")) == 2);
    CHECK(mj_is(mj_get(checkpoint, "prev"), "null"));
    CHECK(mj_string(mj_get(checkpoint, "signature"), (char[160]){0}, 160));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(ac_center_checkpoint(f.center, f.root, private_pem, NULL));
    CHECK_OK(ac_center_checkpoints(f.center, f.viewer, &listed));
    fx_keep(&f, listed);
    CHECK(mj_len(listed) == 2);
    CHECK(mj_int(mj_get(mj_at(listed, 1), "seq")) == 3);

    /* With the public key and the exported checkpoint: intact. */
    CHECK_OK(ac_center_verify_audit_with(f.center, public_pem, checkpoint, &intact, &report));
    fx_keep(&f, report);
    CHECK(intact);
    CHECK(mj_is(mj_get(mj_get(report, "checkpoints"), "signatures_checked"), "true"));
    CHECK(mj_int(mj_get(mj_get(report, "checkpoints"), "checked")) == 3);
    CHECK(mj_int(mj_get(mj_get(mj_get(report, "checkpoints"), "latest"), "seq")) == 3);

    /* Another signer's public key: a finding, not a failure. */
    CHECK_OK(ac_key_generate(&other_private, &other_public));
    fx_keep(&f, other_private);
    fx_keep(&f, other_public);
    CHECK_OK(ac_center_verify_audit_with(f.center, other_public, NULL, &intact, &report));
    fx_keep(&f, report);
    CHECK(!intact);
    CHECK(mj_is(mj_get(report, "intact"), "false"));
    CHECK(strstr(mj_get(report, "problem"), "was signed by key") != NULL);
    CHECK(!mj_is(mj_get(mj_get(report, "checkpoints"), "problem"), "null"));
    fx_close(&f);
}

/* A checkpoint exported from another database is not this one's. */
static void exported_checkpoint_missing_from_the_database_is_a_finding(void) {
    fixture f, g;
    char *private_pem = NULL, *public_pem = NULL, *foreign = NULL, *report = NULL;
    bool intact = true;
    CHECK(fx_memory(&f));
    CHECK(fx_memory(&g));
    CHECK_OK(ac_key_generate(&private_pem, &public_pem));
    fx_keep(&f, private_pem);
    fx_keep(&f, public_pem);
    CHECK_OK(ac_center_checkpoint(g.center, g.root, private_pem, &foreign));
    fx_keep(&g, foreign);
    CHECK_OK(ac_center_verify_audit_with(f.center, public_pem, foreign, &intact, &report));
    fx_keep(&f, report);
    CHECK(!intact);
    CHECK(!mj_is(mj_get(report, "problem"), "null"));
    fx_close(&g);
    fx_close(&f);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(db_dir, sizeof db_dir, "%s/actioncenter-c-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(db_dir)) {
        perror("mkdtemp");
        return 2;
    }

    RUN(version_matches_the_header);
    RUN(short_ids_are_unique_prefixes);
    RUN(pending_action_is_approved_claimed_and_completed);
    RUN(manual_response_is_approved_at_once);
    RUN(rejection_records_the_comment);
    RUN(proposer_cancels_pending_and_analyst_cancels_approved);
    RUN(failed_action_is_retried_and_completed);
    RUN(heartbeat_keeps_the_lease_alive);
    RUN(undo_fans_out_to_the_confirmed_instances_of_the_file);
    RUN(undo_acts_only_on_the_instances_confirmed);
    RUN(undo_without_fan_out_touches_one_action);
    RUN(failed_undo_can_be_undone_again);
    RUN(bulk_by_ids_reports_each_item);
    RUN(bulk_item_seen_at_an_old_version_is_a_conflict);
    RUN(bulk_by_filter_rejects_an_investigation);
    RUN(bulk_by_filter_refuses_a_selection_that_changed);
    RUN(claim_takes_only_the_kinds_asked_for);
    RUN(list_pages_newest_first_with_a_cursor);
    RUN(list_and_counts_follow_the_filter);
    RUN(history_and_feed_record_every_step);
    RUN(expiry_sweep_closes_old_approval_windows);
    RUN(lease_sweep_returns_abandoned_actions_to_the_queue);
    RUN(policy_quorum_needs_two_distinct_approvers);
    RUN(policy_full_automation_approves_at_once);
    RUN(short_id_prefix_resolves_to_the_full_id);
    RUN(a_prefix_for_a_caller_finds_only_what_it_may_view);
    RUN(principal_from_json_acts_like_one_from_parts);
    RUN(two_handles_on_one_sqlite_file_share_everything);
    RUN(stored_policy_is_versioned_and_audited);
    RUN(policy_stored_through_one_handle_binds_the_other);
    RUN(principal_by_name_gets_the_roles_of_the_stored_policy);
    RUN(administrator_acting_as_another_is_recorded_as_both);
    RUN(checkpoints_sign_the_chain_and_verify_with_the_public_key);
    RUN(exported_checkpoint_missing_from_the_database_is_a_finding);

    rmdir(db_dir);
    return h_done("lifecycle");
}
