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
    char json[512], id[64], claimed_id[64];
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

    CHECK_OK(ac_center_complete(f.center, f.agent, id, "{\"isolated\":true}", &action));
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
    char json[512], id[64], claimed[64];
    char *action = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK(h_claim_one(&f, claimed) == 1);
    CHECK_OK(ac_center_fail(f.center, f.agent, id, "device offline", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "failed"));
    CHECK(mj_eq(mj_get(mj_get(mj_at(mj_get(action, "attempts"), 0), "outcome"), "error"),
                "device offline"));
    CHECK_OK(ac_center_retry(f.center, f.alice, id, "device is back", &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(action, "status"), "approved"));
    CHECK(h_claim_one(&f, claimed) == 1);
    CHECK_OK(ac_center_complete(f.center, f.agent, id, NULL, NULL));
    CHECK(h_status_is(&f, id, "completed"));
    fx_close(&f);
}

static void heartbeat_keeps_the_lease_alive(void) {
    fixture f;
    char json[512], id[64];
    char *claimed = NULL, *action = NULL;
    CHECK(fx_clock(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_OK(ac_center_claim(f.center, f.agent, 1, 60, NULL, &claimed));
    fx_keep(&f, claimed);
    CHECK(mj_eq(mj_get(mj_at(mj_get(mj_at(claimed, 0), "attempts"), 0), "lease_until"),
                "2026-01-01T00:01:00Z"));
    CHECK_OK(ac_center_advance_clock(f.center, 50));
    CHECK_OK(ac_center_heartbeat(f.center, f.agent, id, 60, &action));
    fx_keep(&f, action);
    CHECK(mj_eq(mj_get(mj_at(mj_get(action, "attempts"), 0), "lease_until"),
                "2026-01-01T00:01:50Z"));
    CHECK_OK(ac_center_advance_clock(f.center, 50));
    CHECK_OK(ac_center_complete(f.center, f.agent, id, "{}", NULL));
    CHECK(h_status_is(&f, id, "completed"));
    fx_close(&f);
}

/* Three completed quarantines of one file; undoing one with all_instances
 * undoes the other two, and the executor runs the inverse of each. */
static void undo_fans_out_to_every_instance_of_the_file(void) {
    fixture f;
    char json[512], ids[3][64], claimed[64];
    char *preview = NULL, *report = NULL, *undo_claims = NULL, *action = NULL;
    const char *devices[3] = {"dev-1", "dev-2", "dev-3"};
    CHECK(fx_memory(&f));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(h_propose(&f, f.air, h_quarantine(json, sizeof json, SHA_A, devices[i]), ids[i]));
        CHECK_OK(ac_center_approve(f.center, f.alice, ids[i], NULL, 0, NULL));
        CHECK(h_claim_one(&f, claimed) == 1);
        CHECK_OK(ac_center_complete(f.center, f.agent, claimed, "{\"quarantined\":true}", NULL));
    }
    CHECK_OK(ac_center_undo_instances(f.center, f.alice, ids[0], &preview));
    fx_keep(&f, preview);
    CHECK(mj_len(preview) == 2);

    CHECK_OK(ac_center_undo(f.center, f.alice, ids[0], "false positive, restore everywhere", true,
                            &report));
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
        char id[64];
        CHECK(h_id(mj_at(undo_claims, i), id));
        CHECK(mj_is(mj_get(mj_at(mj_get(mj_at(undo_claims, i), "attempts"), 1), "undo"), "true"));
        CHECK_OK(ac_center_complete(f.center, f.agent, id, "{\"restored\":true}", &action));
        fx_keep(&f, action);
        CHECK(mj_eq(mj_get(action, "status"), "undone"));
    }
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
        CHECK(h_claim_one(&f, claimed) == 1);
        CHECK_OK(ac_center_complete(f.center, f.agent, claimed, NULL, NULL));
    }
    CHECK_OK(ac_center_undo(f.center, f.alice, ids[0], "restore this one", false, &report));
    fx_keep(&f, report);
    CHECK(mj_len(mj_get(report, "instances")) == 0);
    CHECK(h_status_is(&f, ids[0], "undoing"));
    CHECK(h_status_is(&f, ids[1], "completed"));
    fx_close(&f);
}

static void failed_undo_can_be_undone_again(void) {
    fixture f;
    char json[512], id[64], claimed[64];
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK(h_claim_one(&f, claimed) == 1);
    CHECK_OK(ac_center_complete(f.center, f.agent, id, NULL, NULL));
    CHECK_OK(ac_center_undo(f.center, f.alice, id, "release", false, NULL));
    CHECK(h_claim_one(&f, claimed) == 1);
    CHECK_OK(ac_center_fail(f.center, f.agent, id, "device unreachable", NULL));
    CHECK(h_status_is(&f, id, "undo_failed"));
    CHECK_OK(ac_center_undo(f.center, f.alice, id, "try the release again", false, NULL));
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
    snprintf(sel, sizeof sel, "{\"ids\":[\"%s\",\"%s\",\"%s\"]}", a, b, unknown);
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

static void bulk_by_filter_rejects_an_investigation(void) {
    fixture f;
    char json[512], a[64], b[64], other[64];
    char *results = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-7"), a));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-2", "inv-7"), b));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-3", "inv-8"), other));
    CHECK_OK(ac_center_bulk(f.center, f.alice, "{\"op\":\"reject\",\"comment\":\"benign\"}",
                            "{\"filter\":{\"investigation_id\":\"inv-7\"}}", &results));
    fx_keep(&f, results);
    CHECK(mj_len(results) == 2);
    CHECK(h_status_is(&f, a, "rejected"));
    CHECK(h_status_is(&f, b, "rejected"));
    CHECK(h_status_is(&f, other, "pending"));
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
    CHECK(h_claim_one(&f, claimed) == 1);
    CHECK_OK(ac_center_complete(f.center, f.agent, id, NULL, NULL));

    CHECK_OK(ac_center_history(f.center, f.viewer, id, &history));
    fx_keep(&f, history);
    CHECK(mj_len(history) == 4);
    CHECK(mj_eq(mj_get(mj_at(history, 0), "event"), "propose"));
    CHECK(mj_eq(mj_get(mj_at(history, 1), "event"), "approve"));
    CHECK(mj_eq(mj_get(mj_at(history, 1), "actor"), "alice"));
    CHECK(mj_eq(mj_get(mj_at(history, 2), "event"), "claim"));
    CHECK(mj_eq(mj_get(mj_at(history, 3), "event"), "complete"));
    CHECK(mj_eq(mj_get(mj_at(history, 3), "to"), "completed"));

    CHECK_OK(ac_center_events_since(f.center, f.viewer, 0, 1000, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 4);
    CHECK(mj_int(mj_get(mj_at(feed, 3), "seq")) == 4);
    CHECK_OK(ac_center_events_since(f.center, f.viewer, 2, 1, &feed));
    fx_keep(&f, feed);
    CHECK(mj_len(feed) == 1);
    CHECK(mj_int(mj_get(mj_at(feed, 0), "seq")) == 3);
    CHECK_OK(ac_center_events_since(f.center, f.viewer, 4, 1000, &feed));
    fx_keep(&f, feed);
    CHECK(strcmp(feed, "[]") == 0);

    CHECK_OK(ac_center_verify_audit(f.center, &intact, &report));
    fx_keep(&f, report);
    CHECK(intact);
    CHECK(mj_int(mj_get(report, "events_checked")) == 4);
    CHECK(mj_is(mj_get(report, "first_bad"), "null"));
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
    CHECK(h_claim_one(&f, claimed) == 1);
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
    CHECK(h_claim_one(&f, claimed) == 1);
    fx_close(&f);
}

static void policy_quorum_needs_two_distinct_approvers(void) {
    fixture f;
    char json[512], id[64];
    char *action = NULL, *policy = NULL;
    const char *quorum =
        "{\"roles\":{\"automation\":{\"view\":[\"*\"],\"propose\":[\"*\"]},"
        "\"analyst\":{\"view\":[\"*\"],\"approve\":[\"*\"]},"
        "\"viewer\":{\"view\":[\"*\"]},\"executor\":{\"view\":[\"*\"],\"execute\":[\"*\"]}},"
        "\"kinds\":{\"isolate_device\":{\"quorum\":2}}}";
    CHECK(fx_memory(&f));
    CHECK_OK(ac_center_set_policy(f.center, quorum));
    CHECK_OK(ac_center_get_policy(f.center, &policy));
    fx_keep(&f, policy);
    CHECK(mj_int(mj_get(mj_get(mj_get(policy, "kinds"), "isolate_device"), "quorum")) == 2);

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
                       "\"executor\":{\"execute\":[\"*\"]}},"
                       "\"automation\":{\"default\":\"full\"}}";
    CHECK(fx_memory(&f));
    CHECK_OK(ac_center_set_policy(f.center, full));
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
    CHECK(mj_len(feed) == 2);
    CHECK_OK(ac_center_verify_audit(again, &intact, NULL));
    CHECK(intact);
    fx_close(&f);
    remove_db(path);
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
    RUN(undo_fans_out_to_every_instance_of_the_file);
    RUN(undo_without_fan_out_touches_one_action);
    RUN(failed_undo_can_be_undone_again);
    RUN(bulk_by_ids_reports_each_item);
    RUN(bulk_by_filter_rejects_an_investigation);
    RUN(claim_takes_only_the_kinds_asked_for);
    RUN(list_pages_newest_first_with_a_cursor);
    RUN(list_and_counts_follow_the_filter);
    RUN(history_and_feed_record_every_step);
    RUN(expiry_sweep_closes_old_approval_windows);
    RUN(lease_sweep_returns_abandoned_actions_to_the_queue);
    RUN(policy_quorum_needs_two_distinct_approvers);
    RUN(policy_full_automation_approves_at_once);
    RUN(short_id_prefix_resolves_to_the_full_id);
    RUN(principal_from_json_acts_like_one_from_parts);
    RUN(two_handles_on_one_sqlite_file_share_everything);

    rmdir(db_dir);
    return h_done("lifecycle");
}
