/*
 * Bad input never crashes and never changes anything: NULL for every
 * pointer argument, invalid UTF-8, malformed JSON, JSON of the wrong
 * shape, oversized values, unknown and malformed ids, wrong states,
 * missing permissions, closed and foreign handles.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "harness.h"

static const char *UNKNOWN_ID = "01890000-0000-7000-8000-000000000000";
static const char *BAD = "caf\xc3"; /* a truncated UTF-8 sequence */

/* A fixture with one pending action (`pending`) and one running action
 * claimed by the agent (`running`). */
typedef struct {
    fixture f;
    char pending[64];
    char running[64];
    char token[128]; /* the lease token of the running action's claim */
} scene;

static int scene_open(scene *s, int manual_clock) {
    char json[512], claimed[64];
    if (!(manual_clock ? fx_clock(&s->f) : fx_memory(&s->f))) return 0;
    if (h_propose(&s->f, s->f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), s->pending)) return 0;
    if (h_propose(&s->f, s->f.air, h_isolate(json, sizeof json, "dev-2", "inv-1"), s->running)) return 0;
    if (ac_center_approve(s->f.center, s->f.alice, s->running, NULL, 0, NULL)) return 0;
    return h_claim_one(&s->f, claimed, s->token) == 1;
}

/* The number of audit events so far: every change appends one. The scene
 * has 5: the bootstrap policy, two proposals, an approval and a claim. */
static long long events(scene *s) {
    return h_events(&s->f, s->f.viewer);
}

static void null_center_is_refused_everywhere(void) {
    scene s;
    char *out = NULL;
    ac_principal *p = NULL;
    bool intact;
    const ac_center *c = NULL;
    const ac_principal *by;
    CHECK(scene_open(&s, 0));
    by = s.f.alice;
    CHECK_NULL_ARG("center", ac_center_advance_clock(c, 1));
    CHECK_NULL_ARG("center", ac_center_set_policy(c, s.f.root, "{}", 0, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_policy(c, &out));
    CHECK_NULL_ARG("center", ac_center_policy_history(c, by, &out));
    CHECK_NULL_ARG("center", ac_center_principal(c, "alice", &p));
    CHECK_NULL_ARG("center", ac_center_impersonate(c, s.f.root, "alice", &p));
    CHECK_NULL_ARG("center", ac_center_propose(c, by, "{}", &out));
    CHECK_NULL_ARG("center", ac_center_approve(c, by, s.pending, NULL, 0, &out));
    CHECK_NULL_ARG("center", ac_center_reject(c, by, s.pending, "no", 0, &out));
    CHECK_NULL_ARG("center", ac_center_cancel(c, by, s.pending, "no", &out));
    CHECK_NULL_ARG("center", ac_center_retry(c, by, s.pending, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_claim(c, by, 1, 60, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_heartbeat(c, by, s.running, s.token, 60, &out));
    CHECK_NULL_ARG("center", ac_center_complete(c, by, s.running, s.token, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_fail(c, by, s.running, s.token, "x", &out));
    CHECK_NULL_ARG("center", ac_center_undo(c, by, s.pending, "{\"comment\":\"x\"}", &out));
    CHECK_NULL_ARG("center", ac_center_undo_instances(c, by, s.pending, &out));
    CHECK_NULL_ARG("center", ac_center_preview_bulk(c, by, "{\"op\":\"retry\"}", NULL, &out));
    CHECK_NULL_ARG("center", ac_center_bulk(c, by, "{\"op\":\"retry\"}", "{\"ids\":[]}", &out));
    CHECK_NULL_ARG("center", ac_center_get(c, by, s.pending, &out));
    CHECK_NULL_ARG("center", ac_center_resolve_id(c, s.pending, &out));
    CHECK_NULL_ARG("center", ac_center_short_id(c, s.pending, &out));
    CHECK_NULL_ARG("center", ac_center_list(c, by, NULL, NULL, 10, &out));
    CHECK_NULL_ARG("center", ac_center_counts(c, by, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_history(c, by, s.pending, &out));
    CHECK_NULL_ARG("center", ac_center_events_since(c, by, 0, 10, &out));
    CHECK_NULL_ARG("center", ac_center_verify_audit(c, &intact, &out));
    CHECK_NULL_ARG("center", ac_center_verify_audit_with(c, "pem", NULL, &intact, &out));
    CHECK_NULL_ARG("center", ac_center_checkpoint(c, s.f.root, "pem", &out));
    CHECK_NULL_ARG("center", ac_center_checkpoints(c, by, &out));
    CHECK_NULL_ARG("center", ac_center_expire_due(c, NULL, &out));
    CHECK_NULL_ARG("center", ac_center_recover_leases(c, NULL, &out));
    CHECK(out == NULL && p == NULL);
    fx_close(&s.f);
}

static void null_principal_is_refused_everywhere(void) {
    scene s;
    char *out = NULL;
    ac_principal *p = NULL;
    const ac_center *c;
    const ac_principal *by = NULL;
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_NULL_ARG("by", ac_center_propose(c, by, "{}", &out));
    CHECK_NULL_ARG("by", ac_center_approve(c, by, s.pending, NULL, 0, &out));
    CHECK_NULL_ARG("by", ac_center_reject(c, by, s.pending, "no", 0, &out));
    CHECK_NULL_ARG("by", ac_center_cancel(c, by, s.pending, "no", &out));
    CHECK_NULL_ARG("by", ac_center_retry(c, by, s.pending, NULL, &out));
    CHECK_NULL_ARG("by", ac_center_claim(c, by, 1, 60, NULL, &out));
    CHECK_NULL_ARG("by", ac_center_heartbeat(c, by, s.running, s.token, 60, &out));
    CHECK_NULL_ARG("by", ac_center_complete(c, by, s.running, s.token, NULL, &out));
    CHECK_NULL_ARG("by", ac_center_fail(c, by, s.running, s.token, "x", &out));
    CHECK_NULL_ARG("by", ac_center_undo(c, by, s.pending, "{\"comment\":\"x\"}", &out));
    CHECK_NULL_ARG("by", ac_center_undo_instances(c, by, s.pending, &out));
    CHECK_NULL_ARG("by", ac_center_preview_bulk(c, by, "{\"op\":\"retry\"}", NULL, &out));
    CHECK_NULL_ARG("by", ac_center_bulk(c, by, "{\"op\":\"retry\"}", "{\"ids\":[]}", &out));
    CHECK_NULL_ARG("by", ac_center_get(c, by, s.pending, &out));
    CHECK_NULL_ARG("by", ac_center_list(c, by, NULL, NULL, 10, &out));
    CHECK_NULL_ARG("by", ac_center_counts(c, by, NULL, &out));
    CHECK_NULL_ARG("by", ac_center_history(c, by, s.pending, &out));
    CHECK_NULL_ARG("by", ac_center_events_since(c, by, 0, 10, &out));
    CHECK_NULL_ARG("by", ac_center_set_policy(c, by, "{}", 0, NULL, &out));
    CHECK_NULL_ARG("by", ac_center_policy_history(c, by, &out));
    CHECK_NULL_ARG("by", ac_center_checkpoint(c, by, "pem", &out));
    CHECK_NULL_ARG("by", ac_center_checkpoints(c, by, &out));
    CHECK_NULL_ARG("real", ac_center_impersonate(c, by, "alice", &p));
    CHECK_NULL_ARG("principal", ac_principal_to_json(by, &out));
    CHECK(out == NULL && p == NULL);
    fx_close(&s.f);
}

static void null_id_is_refused_everywhere(void) {
    scene s;
    char *out = NULL;
    const ac_center *c;
    const ac_principal *a;
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    a = s.f.alice;
    CHECK_NULL_ARG("id", ac_center_approve(c, a, NULL, NULL, 0, &out));
    CHECK_NULL_ARG("id", ac_center_reject(c, a, NULL, "no", 0, &out));
    CHECK_NULL_ARG("id", ac_center_cancel(c, a, NULL, "no", &out));
    CHECK_NULL_ARG("id", ac_center_retry(c, a, NULL, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_heartbeat(c, s.f.agent, NULL, s.token, 60, &out));
    CHECK_NULL_ARG("id", ac_center_complete(c, s.f.agent, NULL, s.token, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_fail(c, s.f.agent, NULL, s.token, "x", &out));
    CHECK_NULL_ARG("id", ac_center_undo(c, a, NULL, "{\"comment\":\"x\"}", &out));
    CHECK_NULL_ARG("id", ac_center_undo_instances(c, a, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_get(c, a, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_history(c, a, NULL, &out));
    CHECK(out == NULL);
    fx_close(&s.f);
}

static void null_text_and_json_arguments_are_refused(void) {
    scene s;
    char *out = NULL;
    ac_center *center = NULL;
    ac_principal *p = NULL;
    const char *two_roles[2] = {"analyst", NULL};
    CHECK(scene_open(&s, 0));
    CHECK_NULL_ARG("path", ac_center_open_sqlite(NULL, &center));
    CHECK_NULL_ARG("url", ac_center_open_postgres(NULL, &center));
    CHECK_NULL_ARG("policy_json", ac_center_set_policy(s.f.center, s.f.root, NULL, 0, NULL, &out));
    CHECK_NULL_ARG("lease_token", ac_center_heartbeat(s.f.center, s.f.agent, s.running, NULL, 60, &out));
    CHECK_NULL_ARG("lease_token", ac_center_complete(s.f.center, s.f.agent, s.running, NULL, NULL, &out));
    CHECK_NULL_ARG("lease_token", ac_center_fail(s.f.center, s.f.agent, s.running, NULL, "x", &out));
    CHECK_NULL_ARG("request_json", ac_center_undo(s.f.center, s.f.alice, s.pending, NULL, &out));
    CHECK_NULL_ARG("op_json", ac_center_preview_bulk(s.f.center, s.f.alice, NULL, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_principal(s.f.center, NULL, &p));
    CHECK_NULL_ARG("as_id", ac_center_impersonate(s.f.center, s.f.root, NULL, &p));
    CHECK_NULL_ARG("public_key_pem", ac_center_verify_audit_with(s.f.center, NULL, NULL, &(bool){true}, &out));
    CHECK_NULL_ARG("signing_key_pem", ac_center_checkpoint(s.f.center, s.f.root, NULL, &out));
    CHECK_NULL_ARG("proposal_json", ac_center_propose(s.f.center, s.f.air, NULL, &out));
    CHECK_NULL_ARG("op_json", ac_center_bulk(s.f.center, s.f.alice, NULL, "{\"ids\":[]}", &out));
    CHECK_NULL_ARG("selection_json",
                   ac_center_bulk(s.f.center, s.f.alice, "{\"op\":\"retry\"}", NULL, &out));
    CHECK_NULL_ARG("prefix", ac_center_resolve_id(s.f.center, NULL, &out));
    CHECK_NULL_ARG("id", ac_center_short_id(s.f.center, NULL, &out));
    CHECK_NULL_ARG("principal_json", ac_principal_from_json(NULL, &p));
    CHECK_NULL_ARG("id", ac_principal_new(NULL, two_roles, 1, &p));
    CHECK_NULL_ARG("roles", ac_principal_new("alice", NULL, 1, &p));
    CHECK_NULL_ARG("roles[1]", ac_principal_new("alice", two_roles, 2, &p));
    // A negative length cast to size_t: refused before the array is read.
    CHECK(ac_principal_new("alice", two_roles, (size_t)-1, &p) == AC_STATUS_VALIDATION);
    CHECK(strstr(ac_last_error_message(), "roles_len") != NULL && p == NULL);
    CHECK(ac_principal_new("alice", two_roles, SIZE_MAX / 2, &p) == AC_STATUS_VALIDATION);
    CHECK(out == NULL && center == NULL && p == NULL);
    fx_close(&s.f);
}

static void null_required_out_parameters_are_refused(void) {
    scene s;
    const char *roles[1] = {"analyst"};
    CHECK(scene_open(&s, 0));
    CHECK_NULL_ARG("out_center", ac_center_open_memory(NULL));
    CHECK_NULL_ARG("out_center", ac_center_open_memory_at(0, NULL));
    CHECK_NULL_ARG("out_center", ac_center_open_sqlite("never-created.db", NULL));
    CHECK_NULL_ARG("out_center", ac_center_open_postgres("postgres://localhost/never", NULL));
    CHECK_NULL_ARG("out_stored_policy_json", ac_center_policy(s.f.center, NULL));
    CHECK_NULL_ARG("out_json", ac_center_policy_history(s.f.center, s.f.alice, NULL));
    CHECK_NULL_ARG("out_principal", ac_center_principal(s.f.center, "alice", NULL));
    CHECK_NULL_ARG("out_principal", ac_center_impersonate(s.f.center, s.f.root, "alice", NULL));
    CHECK_NULL_ARG("out_principal_json", ac_principal_to_json(s.f.alice, NULL));
    CHECK_NULL_ARG("out_preview_json", ac_center_preview_bulk(s.f.center, s.f.alice, "{\"op\":\"retry\"}", NULL, NULL));
    CHECK_NULL_ARG("out_json", ac_center_checkpoints(s.f.center, s.f.alice, NULL));
    CHECK_NULL_ARG("out_intact", ac_center_verify_audit_with(s.f.center, "pem", NULL, NULL, NULL));
    {
        char *key = (char *)"stale";
        CHECK_NULL_ARG("out_private_pem", ac_key_generate(NULL, &key));
        CHECK(key == NULL);
        CHECK_NULL_ARG("out_public_pem", ac_key_generate(&key, NULL));
        CHECK(key == NULL);
    }
    CHECK_NULL_ARG("out_principal", ac_principal_new("x", roles, 1, NULL));
    CHECK_NULL_ARG("out_principal", ac_principal_from_json("{\"id\":\"x\",\"roles\":[]}", NULL));
    CHECK_NULL_ARG("out_actions_json", ac_center_claim(s.f.center, s.f.agent, 1, 60, NULL, NULL));
    CHECK_NULL_ARG("out_actions_json", ac_center_undo_instances(s.f.center, s.f.alice, s.pending, NULL));
    CHECK_NULL_ARG("out_results_json", ac_center_bulk(s.f.center, s.f.alice, "{\"op\":\"approve\"}",
                                                      "{\"ids\":[]}", NULL));
    CHECK_NULL_ARG("out_action_json", ac_center_get(s.f.center, s.f.alice, s.pending, NULL));
    CHECK_NULL_ARG("out_id", ac_center_resolve_id(s.f.center, s.pending, NULL));
    CHECK_NULL_ARG("out_short_id", ac_center_short_id(s.f.center, s.pending, NULL));
    CHECK_NULL_ARG("out_page_json", ac_center_list(s.f.center, s.f.alice, NULL, NULL, 10, NULL));
    CHECK_NULL_ARG("out_counts_json", ac_center_counts(s.f.center, s.f.alice, NULL, NULL));
    CHECK_NULL_ARG("out_events_json", ac_center_history(s.f.center, s.f.alice, s.pending, NULL));
    CHECK_NULL_ARG("out_events_json", ac_center_events_since(s.f.center, s.f.alice, 0, 10, NULL));
    CHECK_NULL_ARG("out_intact", ac_center_verify_audit(s.f.center, NULL, NULL));
    /* None of those changed anything: a claim with a NULL out claims nothing. */
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    fx_close(&s.f);
}

/* Where the header allows NULL, NULL does what it says. */
static void null_where_allowed_is_accepted(void) {
    scene s;
    char json[512], id[64], token[128];
    char *out = NULL;
    ac_principal *nobody = NULL;
    size_t count = 7;
    CHECK(scene_open(&s, 0));
    CHECK_OK(ac_center_propose(s.f.center, s.f.air, h_isolate(json, sizeof json, "dev-9", "i"), NULL));
    CHECK_OK(ac_center_approve(s.f.center, s.f.alice, s.pending, NULL, 0, NULL));
    CHECK_OK(ac_center_heartbeat(s.f.center, s.f.agent, s.running, s.token, 60, NULL));
    CHECK_OK(ac_center_complete(s.f.center, s.f.agent, s.running, s.token, NULL, &out));
    fx_keep(&s.f, out);
    CHECK(mj_is(mj_get(mj_get(mj_at(mj_get(out, "attempts"), 0), "outcome"), "result"), "null"));
    CHECK_OK(ac_center_claim(s.f.center, s.f.agent, 1, 60, NULL, &out));
    fx_keep(&s.f, out);
    CHECK(h_id(mj_at(out, 0), id));
    CHECK(h_token(mj_at(out, 0), token));
    CHECK_OK(ac_center_fail(s.f.center, s.f.agent, id, token, "broken", NULL));
    CHECK_OK(ac_center_retry(s.f.center, s.f.alice, id, NULL, NULL));
    CHECK_OK(ac_center_list(s.f.center, s.f.viewer, NULL, NULL, 10, &out));
    fx_keep(&s.f, out);
    CHECK(mj_len(mj_get(out, "items")) == 3);
    CHECK_OK(ac_center_counts(s.f.center, s.f.viewer, NULL, &out));
    fx_keep(&s.f, out);
    CHECK_OK(ac_center_verify_audit(s.f.center, &(bool){false}, NULL));
    CHECK_OK(ac_center_expire_due(s.f.center, NULL, NULL));
    CHECK_OK(ac_center_recover_leases(s.f.center, &count, NULL));
    CHECK(count == 0);
    CHECK_OK(ac_principal_new("nobody", NULL, 0, &nobody));
    CHECK_OK(ac_principal_free(nobody));
    CHECK_OK(ac_principal_free(NULL));
    CHECK_OK(ac_center_close(NULL));
    ac_string_free(NULL);
    fx_close(&s.f);
}

/* A NULL comment is no comment: where the engine requires one, it says so. */
static void null_comment_where_one_is_required_is_a_validation_error(void) {
    scene s;
    char claimed[64];
    CHECK(scene_open(&s, 0));
    CHECK_INVALID("comment", ac_center_reject(s.f.center, s.f.alice, s.pending, NULL, 0, NULL));
    CHECK_INVALID("comment", ac_center_cancel(s.f.center, s.f.alice, s.pending, NULL, NULL));
    CHECK_INVALID("error", ac_center_fail(s.f.center, s.f.agent, s.running, s.token, NULL, NULL));
    CHECK_OK(ac_center_complete(s.f.center, s.f.agent, s.running, s.token, NULL, NULL));
    CHECK_INVALID("comment", ac_center_undo(s.f.center, s.f.alice, s.running, "{}", NULL));
    /* An empty list of kinds names none: refused, not read as "any kind". */
    char *claimed_none = NULL;
    CHECK_INVALID("kinds", ac_center_claim(s.f.center, s.f.agent, 10, 60, "[]", &claimed_none));
    CHECK(claimed_none == NULL);
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    CHECK(h_status_is(&s.f, s.running, "completed"));
    CHECK(h_claim_one(&s.f, claimed, NULL) == 0);
    fx_close(&s.f);
}

static void invalid_utf8_is_refused_in_every_string_argument(void) {
    scene s;
    char *out = NULL;
    ac_center *center = NULL;
    ac_principal *p = NULL;
    const char *bad_roles[2] = {"analyst", BAD};
    const ac_center *c;
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_BAD_UTF8("path", ac_center_open_sqlite(BAD, &center));
    CHECK_BAD_UTF8("url", ac_center_open_postgres(BAD, &center));
    CHECK_BAD_UTF8("policy_json", ac_center_set_policy(c, s.f.root, BAD, 0, NULL, &out));
    CHECK_BAD_UTF8("comment", ac_center_set_policy(c, s.f.root, "{\"roles\":{}}", 0, BAD, &out));
    CHECK_BAD_UTF8("lease_token", ac_center_heartbeat(c, s.f.agent, s.running, BAD, 60, &out));
    CHECK_BAD_UTF8("lease_token", ac_center_complete(c, s.f.agent, s.running, BAD, NULL, &out));
    CHECK_BAD_UTF8("lease_token", ac_center_fail(c, s.f.agent, s.running, BAD, "x", &out));
    CHECK_BAD_UTF8("op_json", ac_center_preview_bulk(c, s.f.alice, BAD, NULL, &out));
    CHECK_BAD_UTF8("filter_json", ac_center_preview_bulk(c, s.f.alice, "{\"op\":\"retry\"}", BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_principal(c, BAD, &p));
    CHECK_BAD_UTF8("as_id", ac_center_impersonate(c, s.f.root, BAD, &p));
    CHECK_BAD_UTF8("public_key_pem", ac_center_verify_audit_with(c, BAD, NULL, &(bool){true}, &out));
    CHECK_BAD_UTF8("checkpoint_json", ac_center_verify_audit_with(c, "pem", BAD, &(bool){true}, &out));
    CHECK_BAD_UTF8("signing_key_pem", ac_center_checkpoint(c, s.f.root, BAD, &out));
    CHECK_BAD_UTF8("id", ac_principal_new(BAD, NULL, 0, &p));
    CHECK_BAD_UTF8("roles[1]", ac_principal_new("x", bad_roles, 2, &p));
    CHECK_BAD_UTF8("principal_json", ac_principal_from_json(BAD, &p));
    CHECK_BAD_UTF8("proposal_json", ac_center_propose(c, s.f.air, BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_approve(c, s.f.alice, BAD, NULL, 0, &out));
    CHECK_BAD_UTF8("comment", ac_center_approve(c, s.f.alice, s.pending, BAD, 0, &out));
    CHECK_BAD_UTF8("comment", ac_center_reject(c, s.f.alice, s.pending, BAD, 0, &out));
    CHECK_BAD_UTF8("comment", ac_center_cancel(c, s.f.alice, s.pending, BAD, &out));
    CHECK_BAD_UTF8("comment", ac_center_retry(c, s.f.alice, s.pending, BAD, &out));
    CHECK_BAD_UTF8("kinds_json", ac_center_claim(c, s.f.agent, 1, 60, BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_heartbeat(c, s.f.agent, BAD, s.token, 60, &out));
    CHECK_BAD_UTF8("result_json", ac_center_complete(c, s.f.agent, s.running, s.token, BAD, &out));
    CHECK_BAD_UTF8("error", ac_center_fail(c, s.f.agent, s.running, s.token, BAD, &out));
    CHECK_BAD_UTF8("request_json", ac_center_undo(c, s.f.alice, s.pending, BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_undo_instances(c, s.f.alice, BAD, &out));
    CHECK_BAD_UTF8("op_json", ac_center_bulk(c, s.f.alice, BAD, "{\"ids\":[]}", &out));
    CHECK_BAD_UTF8("selection_json", ac_center_bulk(c, s.f.alice, "{\"op\":\"retry\"}", BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_get(c, s.f.alice, BAD, &out));
    CHECK_BAD_UTF8("prefix", ac_center_resolve_id(c, BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_short_id(c, BAD, &out));
    CHECK_BAD_UTF8("filter_json", ac_center_list(c, s.f.alice, BAD, NULL, 10, &out));
    CHECK_BAD_UTF8("cursor", ac_center_list(c, s.f.alice, NULL, BAD, 10, &out));
    CHECK_BAD_UTF8("filter_json", ac_center_counts(c, s.f.alice, BAD, &out));
    CHECK_BAD_UTF8("id", ac_center_history(c, s.f.alice, BAD, &out));
    CHECK(out == NULL && center == NULL && p == NULL);
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    CHECK(h_status_is(&s.f, s.running, "running"));
    fx_close(&s.f);
}

static void malformed_json_is_a_validation_error_naming_the_document(void) {
    scene s;
    char *out = NULL;
    ac_principal *p = NULL;
    const ac_center *c;
    const char *broken = "not json";
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_INVALID("policy", ac_center_set_policy(c, s.f.root, broken, 0, NULL, NULL));
    CHECK_INVALID("request", ac_center_undo(c, s.f.alice, s.pending, broken, &out));
    CHECK_INVALID("principal", ac_principal_from_json(broken, &p));
    CHECK_INVALID("proposal", ac_center_propose(c, s.f.air, broken, &out));
    CHECK_INVALID("kinds", ac_center_claim(c, s.f.agent, 1, 60, "[\"quarantine_file\"", &out));
    CHECK_INVALID("result", ac_center_complete(c, s.f.agent, s.running, s.token, broken, &out));
    CHECK_INVALID("op", ac_center_bulk(c, s.f.alice, broken, "{\"ids\":[]}", &out));
    CHECK_INVALID("selection.ids", ac_center_bulk(c, s.f.alice, "{\"op\":\"retry\"}", "{\"ids\":[", &out));
    CHECK_INVALID("filter.statuses", ac_center_list(c, s.f.alice, "{\"statuses\":", NULL, 10, &out));
    CHECK_INVALID("filter", ac_center_counts(c, s.f.alice, "not json", &out));
    CHECK_INVALID("result", ac_center_complete(c, s.f.agent, s.running, s.token, "", &out));
    /* Truncated documents too. */
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_set_policy(c, s.f.root, "{", 0, NULL, NULL));
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_propose(c, s.f.air, "{\"kind\":", &out));
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_principal_from_json("{\"id\":\"x\",", &p));
    CHECK(out == NULL && p == NULL);
    CHECK(h_status_is(&s.f, s.running, "running"));
    fx_close(&s.f);
}

static void json_of_the_wrong_shape_names_the_bad_field(void) {
    scene s;
    char *out = NULL;
    ac_principal *p = NULL;
    const ac_center *c;
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_INVALID("proposal", ac_center_propose(c, s.f.air, "42", &out));
    CHECK_INVALID("proposal.kind",
                  ac_center_propose(c, s.f.air,
                                    "{\"kind\":\"explode_device\",\"entity\":{\"type\":\"device\",\"device_id\":\"d\"},"
                                    "\"source\":{\"type\":\"antivirus\"}}",
                                    &out));
    CHECK_INVALID("proposal",
                  ac_center_propose(c, s.f.air, "{\"kind\":\"isolate_device\",\"source\":{\"type\":\"antivirus\"}}", &out));
    CHECK_INVALID("entity",
                  ac_center_propose(c, s.f.air,
                                    "{\"kind\":\"isolate_device\",\"entity\":{\"type\":\"user\",\"user_id\":\"u\"},"
                                    "\"source\":{\"type\":\"antivirus\"}}",
                                    &out));
    CHECK_INVALID("entity.sha256",
                  ac_center_propose(c, s.f.air,
                                    "{\"kind\":\"quarantine_file\",\"entity\":{\"type\":\"file\",\"sha256\":\"XYZ\","
                                    "\"path\":\"p\",\"device_id\":\"d\"},\"source\":{\"type\":\"antivirus\"}}",
                                    &out));
    CHECK_INVALID("proposal.entity",
                  ac_center_propose(c, s.f.air,
                                    "{\"kind\":\"isolate_device\",\"entity\":{\"type\":\"device\",\"device_id\":42},"
                                    "\"source\":{\"type\":\"antivirus\"}}",
                                    &out));
    CHECK_INVALID("policy.roles.analyst.approve",
                  h_set_policy(&s.f, "{\"roles\":{\"analyst\":{\"approve\":[\"planets\"]}}}"));
    CHECK_INVALID("policy.kinds.isolate_device.quorum",
                  h_set_policy(&s.f, "{\"roles\":{},\"kinds\":{\"isolate_device\":{\"quorum\":0}}}"));
    CHECK_INVALID("principal", ac_principal_from_json("{\"id\":\"x\"}", &p));
    CHECK_INVALID("principal.roles", ac_principal_from_json("{\"id\":\"x\",\"roles\":\"analyst\"}", &p));
    CHECK_INVALID("kinds", ac_center_claim(c, s.f.agent, 1, 60, "{\"kind\":\"x\"}", &out));
    CHECK_INVALID("op.op", ac_center_bulk(c, s.f.alice, "{\"op\":\"explode\"}", "{\"ids\":[]}", &out));
    CHECK_INVALID("selection.ids[0]",
                  ac_center_bulk(c, s.f.alice, "{\"op\":\"retry\"}", "{\"ids\":[\"nope\"]}", &out));
    CHECK_INVALID("filter.statuses[0]",
                  ac_center_list(c, s.f.alice, "{\"statuses\":[\"sleeping\"]}", NULL, 10, &out));
    CHECK_INVALID("filter.colour", ac_center_counts(c, s.f.alice, "{\"colour\":\"red\"}", &out));
    /* An array is not an object, though serde would read one by position. */
    CHECK_INVALID("filter", ac_center_list(c, s.f.alice, "[]", NULL, 10, &out));
    CHECK_INVALID("op", ac_center_bulk(c, s.f.alice, "[\"retry\"]", "{\"ids\":[]}", &out));
    CHECK_INVALID("selection", ac_center_bulk(c, s.f.alice, "{\"op\":\"retry\"}", "[]", &out));
    CHECK_INVALID("request", ac_center_undo(c, s.f.alice, s.pending, "[\"x\"]", &out));
    CHECK_INVALID("principal", ac_principal_from_json("[\"x\", [\"analyst\"]]", &p));
    CHECK(out == NULL && p == NULL);
    CHECK(events(&s) == 5);
    fx_close(&s.f);
}

static void oversized_values_are_refused(void) {
    scene s;
    size_t big = 70 * 1024;
    char *proposal = malloc(big + 512), *result = malloc(big + 64), *comment = malloc(5000);
    char *out = NULL;
    CHECK(proposal && result && comment);
    CHECK(scene_open(&s, 0));
    {
        const char *head = "{\"kind\":\"isolate_device\",\"entity\":{\"type\":\"device\",\"device_id\":\"d\"},"
                           "\"source\":{\"type\":\"antivirus\"},\"parameters\":{\"blob\":\"";
        size_t n = strlen(head);
        memcpy(proposal, head, n);
        memset(proposal + n, 'x', big);
        strcpy(proposal + n + big, "\"}}");
    }
    CHECK_INVALID("parameters", ac_center_propose(s.f.center, s.f.air, proposal, &out));

    result[0] = '"';
    memset(result + 1, 'y', big);
    strcpy(result + 1 + big, "\"");
    CHECK_INVALID("result", ac_center_complete(s.f.center, s.f.agent, s.running, s.token, result, &out));
    CHECK(h_status_is(&s.f, s.running, "running"));

    memset(comment, 'z', 4097);
    comment[4097] = '\0';
    CHECK_INVALID("comment", ac_center_approve(s.f.center, s.f.alice, s.pending, comment, 0, &out));
    CHECK_INVALID("error", ac_center_fail(s.f.center, s.f.agent, s.running, s.token, comment, &out));
    CHECK(out == NULL);
    CHECK(events(&s) == 5);
    free(proposal);
    free(result);
    free(comment);
    fx_close(&s.f);
}

static void malformed_and_unknown_ids(void) {
    scene s;
    char *out = NULL;
    CHECK(scene_open(&s, 0));
    CHECK_INVALID("id", ac_center_get(s.f.center, s.f.alice, "not-a-uuid", &out));
    CHECK_INVALID("id", ac_center_approve(s.f.center, s.f.alice, "", 0, 0, &out));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_get(s.f.center, s.f.alice, UNKNOWN_ID, &out));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_cancel(s.f.center, s.f.alice, UNKNOWN_ID, "x", &out));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_history(s.f.center, s.f.alice, UNKNOWN_ID, &out));
    CHECK_INVALID("cursor", ac_center_list(s.f.center, s.f.alice, NULL, "page-two", 10, &out));
    CHECK_INVALID("id", ac_center_resolve_id(s.f.center, "ab", &out));
    CHECK_INVALID("id", ac_center_short_id(s.f.center, "0190a6b2", &out));
    CHECK(out == NULL);
    fx_close(&s.f);
}

static void wrong_states_are_invalid_transitions(void) {
    scene s;
    char json[512], scan[64], claimed[64];
    CHECK(scene_open(&s, 0));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_complete(s.f.center, s.f.agent, s.pending, s.token, NULL, NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_heartbeat(s.f.center, s.f.agent, s.pending, s.token, 60, NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_retry(s.f.center, s.f.alice, s.running, NULL, NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_undo(s.f.center, s.f.alice, s.pending, "{\"comment\":\"x\"}", NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_reject(s.f.center, s.f.alice, s.running, "x", 0, NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_cancel(s.f.center, s.f.alice, s.running, "x", NULL));
    CHECK_OK(ac_center_complete(s.f.center, s.f.agent, s.running, s.token, NULL, NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_fail(s.f.center, s.f.agent, s.running, s.token, "late", NULL));
    CHECK_STATUS(AC_STATUS_INVALID_TRANSITION, ac_center_approve(s.f.center, s.f.alice, s.running, NULL, 0, NULL));
    /* A scan has no inverse: the engine refuses to undo it. */
    snprintf(json, sizeof json, "{\"kind\":\"run_antivirus_scan\",\"entity\":{\"type\":\"device\",\"device_id\":\"d\"},"
                                "\"source\":{\"type\":\"manual_response\",\"person\":\"alice\"}}");
    CHECK_OK(h_propose(&s.f, s.f.alice, json, scan));
    CHECK_OK(h_run_one(&s.f, claimed, NULL));
    CHECK(strcmp(claimed, scan) == 0);
    CHECK_INVALID("kind", ac_center_undo(s.f.center, s.f.alice, scan, "{\"comment\":\"restore\"}", NULL));
    CHECK(h_status_is(&s.f, scan, "completed"));
    fx_close(&s.f);
}

static void missing_permissions_are_refused_and_named(void) {
    scene s;
    char json[512], id[64];
    char *out = NULL, *results = NULL;
    ac_principal *rival = h_principal("agent-2", "executor");
    const ac_center *c;
    CHECK(rival != NULL);
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not propose",
                h_propose(&s.f, s.f.viewer, h_isolate(json, sizeof json, "d", "i"), id));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not approve", ac_center_approve(c, s.f.agent, s.pending, NULL, 0, NULL));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not approve", ac_center_reject(c, s.f.viewer, s.pending, "no", 0, NULL));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not cancel", ac_center_cancel(c, s.f.viewer, s.pending, "no", NULL));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not execute", ac_center_claim(c, s.f.alice, 1, 60, NULL, &out));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "held by agent-1", ac_center_complete(c, rival, s.running, s.token, NULL, NULL));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "held by agent-1", ac_center_heartbeat(c, rival, s.running, s.token, 60, NULL));
    CHECK_OK(ac_center_complete(c, s.f.agent, s.running, s.token, NULL, NULL));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not undo", ac_center_undo(c, s.f.viewer, s.running, "{\"comment\":\"x\"}", NULL));
    /* In bulk, each item says what was missing; the call itself succeeds. */
    CHECK_OK(ac_center_bulk(c, s.f.viewer, "{\"op\":\"approve\"}", "{\"ids\":[]}", &results));
    fx_keep(&s.f, results);
    CHECK(strcmp(results, "[]") == 0);
    {
        char sel[128];
        snprintf(sel, sizeof sel, "{\"ids\":[{\"id\":\"%s\",\"version\":1}]}", s.pending);
        CHECK_OK(ac_center_bulk(c, s.f.viewer, "{\"op\":\"approve\"}", sel, &results));
        fx_keep(&s.f, results);
        CHECK(mj_eq(mj_get(mj_get(mj_at(results, 0), "error"), "kind"), "permission_denied"));
    }
    /* The feed spans every category: viewing one is not enough. */
    CHECK_OK(h_set_policy(&s.f, "{\"roles\":{\"automation\":{\"view\":[\"*\"]},\"analyst\":{\"view\":[\"*\"]},"
                                     "\"executor\":{},\"viewer\":{\"view\":[\"device\"]},"
                                     "\"admin\":{\"administer\":[\"*\"]}}}"));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "may not view", ac_center_events_since(c, s.f.viewer, 0, 10, &out));
    CHECK(out == NULL);
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    ac_principal_free(rival);
    fx_close(&s.f);
}

static void bad_principals_are_validation_errors(void) {
    scene s;
    ac_principal *wizard = h_principal("merlin", "wizard");
    ac_principal *empty = h_principal("", "analyst");
    char *out = NULL;
    CHECK(wizard && empty);
    CHECK(scene_open(&s, 0));
    CHECK_INVALID("principal.roles", ac_center_approve(s.f.center, wizard, s.pending, NULL, 0, NULL));
    CHECK_INVALID("principal.id", ac_center_list(s.f.center, empty, NULL, NULL, 10, &out));
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    ac_principal_free(wizard);
    ac_principal_free(empty);
    fx_close(&s.f);
}

static void closed_freed_and_foreign_handles_are_invalid(void) {
    ac_center *center = NULL, *other = NULL;
    ac_principal *alice = NULL;
    const char *roles[1] = {"analyst"};
    char *out = NULL;
    int local = 0;
    CHECK_OK(ac_center_open_memory(&center));
    CHECK_OK(ac_center_open_memory(&other));
    CHECK_OK(ac_principal_new("alice", roles, 1, &alice));
    CHECK(center != other);
    CHECK_OK(ac_center_close(center));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_close(center));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_list(center, alice, NULL, NULL, 10, &out));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_verify_audit(center, &(bool){true}, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "argument"), "center"));
    /* A principal is no center, a center no principal. */
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_list((const ac_center *)alice, alice, NULL, NULL, 10, &out));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_list(other, (const ac_principal *)other, NULL, NULL, 10, &out));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "argument"), "by"));
    /* A pointer that never came from the library is not dereferenced. */
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_list((const ac_center *)&local, alice, NULL, NULL, 10, &out));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_principal_free((ac_principal *)&local));
    CHECK_OK(ac_principal_free(alice));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_principal_free(alice));
    CHECK_STATUS(AC_STATUS_INVALID_HANDLE, ac_center_list(other, alice, NULL, NULL, 10, &out));
    CHECK(out == NULL);
    CHECK_OK(ac_center_close(other));
}

static void numbers_out_of_range_are_validation_errors(void) {
    scene s;
    char *out = NULL;
    ac_center *center = NULL;
    CHECK(scene_open(&s, 0));
    CHECK_INVALID("limit", ac_center_list(s.f.center, s.f.alice, NULL, NULL, 0, &out));
    CHECK_INVALID("limit", ac_center_list(s.f.center, s.f.alice, NULL, NULL, 1001, &out));
    CHECK_INVALID("limit", ac_center_claim(s.f.center, s.f.agent, 0, 60, NULL, &out));
    CHECK_INVALID("limit", ac_center_claim(s.f.center, s.f.agent, SIZE_MAX, 60, NULL, &out));
    CHECK_INVALID("lease_seconds", ac_center_claim(s.f.center, s.f.agent, 1, 0, NULL, &out));
    CHECK_INVALID("lease_seconds", ac_center_claim(s.f.center, s.f.agent, 1, 86401, NULL, &out));
    CHECK_INVALID("lease_seconds", ac_center_heartbeat(s.f.center, s.f.agent, s.running, s.token, -5, NULL));
    CHECK_INVALID("lease_seconds", ac_center_heartbeat(s.f.center, s.f.agent, s.running, s.token, INT64_MAX, NULL));
    CHECK_INVALID("limit", ac_center_events_since(s.f.center, s.f.alice, 0, 0, &out));
    CHECK_INVALID("unix_seconds", ac_center_open_memory_at(INT64_MAX, &center));
    CHECK_INVALID("center", ac_center_advance_clock(s.f.center, 1));
    CHECK(out == NULL && center == NULL);
    CHECK(events(&s) == 5);
    fx_close(&s.f);

    CHECK(scene_open(&s, 1));
    CHECK_INVALID("seconds", ac_center_advance_clock(s.f.center, INT64_MAX));
    fx_close(&s.f);
}

static void failed_calls_change_nothing(void) {
    scene s;
    char *before = NULL, *after = NULL;
    long long version;
    CHECK(scene_open(&s, 0));
    version = h_version(&s.f, s.running);
    CHECK_OK(ac_center_policy(s.f.center, &before));
    fx_keep(&s.f, before);
    CHECK_INVALID("policy.principals.alice",
                  h_set_policy(&s.f, "{\"roles\":{},\"principals\":{\"alice\":[\"ghost\"]}}"));
    CHECK_OK(ac_center_policy(s.f.center, &after));
    fx_keep(&s.f, after);
    CHECK(strcmp(before, after) == 0);
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_complete(s.f.center, s.f.agent, s.running, s.token, "{", NULL));
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_heartbeat(s.f.center, s.f.agent, s.running, s.token, 0, NULL));
    CHECK_STATUS(AC_STATUS_CONFLICT, ac_center_reject(s.f.center, s.f.alice, s.pending, "no", 9, NULL));
    CHECK(h_version(&s.f, s.running) == version);
    CHECK(h_version(&s.f, s.pending) == 1);
    CHECK(events(&s) == 5);
    fx_close(&s.f);
}

/* Bad input to the calls of the stored policy, principals, leases,
 * undo requests, bulk selections and checkpoints: each a status and a
 * message naming what was wrong, and nothing written. */
static void bad_input_to_the_trust_calls_changes_nothing(void) {
    scene s;
    char *out = NULL, *private_pem = NULL, *public_pem = NULL, *checkpoint = NULL;
    char *before = NULL, *after = NULL, *forged = NULL;
    ac_principal *p = NULL;
    bool intact = true;
    const ac_center *c;
    CHECK(scene_open(&s, 0));
    c = s.f.center;
    CHECK_OK(ac_key_generate(&private_pem, &public_pem));
    fx_keep(&s.f, private_pem);
    fx_keep(&s.f, public_pem);
    CHECK_OK(ac_center_get(c, s.f.alice, s.running, &before));
    fx_keep(&s.f, before);

    /* Malformed PEM, and each key where the other belongs. */
    CHECK_INVALID("signing_key", ac_center_checkpoint(c, s.f.root, "-----BEGIN PRIVATE KEY-----\nAAAA\n", &out));
    CHECK(strstr(ac_last_error_message(), "not an Ed25519 private key in PKCS#8 PEM") != NULL);
    CHECK_INVALID("signing_key", ac_center_checkpoint(c, s.f.root, public_pem, &out));
    CHECK_INVALID("public_key", ac_center_verify_audit_with(c, "not a key", NULL, &intact, &out));
    CHECK(strstr(ac_last_error_message(), "not an Ed25519 public key in PEM") != NULL);
    CHECK_INVALID("public_key", ac_center_verify_audit_with(c, private_pem, NULL, &intact, &out));
    CHECK(!intact);
    /* Signing needs Administer; the key is no permission. */
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "alice may not", ac_center_checkpoint(c, s.f.alice, private_pem, &out));

    /* Malformed checkpoint JSON, checked before anything is verified. */
    CHECK_OK(ac_center_checkpoint(c, s.f.root, private_pem, &checkpoint));
    fx_keep(&s.f, checkpoint);
    CHECK_INVALID("checkpoint", ac_center_verify_audit_with(c, public_pem, "not json", &intact, &out));
    CHECK_INVALID("checkpoint", ac_center_verify_audit_with(c, public_pem, "{\"format\":1}", &intact, &out));
    CHECK_INVALID("checkpoint", ac_center_verify_audit_with(c, public_pem, "{\"format\":1,\"seq\":1,\"seq\":2}", &intact, &out));
    {
        /* The exported checkpoint with its signature replaced. */
        const char *sig = strstr(checkpoint, "\"signature\"");
        size_t head;
        CHECK(sig != NULL);
        head = (size_t)(sig - checkpoint);
        forged = malloc(head + 64);
        CHECK(forged != NULL);
        memcpy(forged, checkpoint, head);
        strcpy(forged + head, "\"signature\": \"zz\"\n}");
        fx_keep(&s.f, forged);
        CHECK_INVALID("checkpoint.signature", ac_center_verify_audit_with(c, public_pem, forged, &intact, &out));
        CHECK(!intact);
    }
    {
        char *listed = NULL;
        CHECK_OK(ac_center_checkpoints(c, s.f.viewer, &listed));
        fx_keep(&s.f, listed);
        CHECK(mj_len(listed) == 1);
    }

    /* Unknown principals, and ids that only look like another. */
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "not among the principals of the stored policy",
                ac_center_principal(c, "mallory", &p));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "not among the principals",
                ac_center_impersonate(c, s.f.root, "mallory", &p));
    CHECK_INVALID("principal.id", ac_center_principal(c, "alice ", &p));
    CHECK_INVALID("principal.id", ac_center_principal(c, "al\xe2\x80\x8bice", &p));
    CHECK_INVALID("principal.id", ac_center_principal(c, "", &p));
    /* Acting as someone else needs Administer. */
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "acting as vera needs administer",
                ac_center_impersonate(c, s.f.alice, "vera", &p));
    CHECK(p == NULL);

    /* A lease token that is not the claim's. */
    CHECK_ERROR(AC_STATUS_EXPIRED, "is not the current lease",
                ac_center_complete(c, s.f.agent, s.running, "0123456789abcdef", NULL, &out));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "lease_token"));
    CHECK_STATUS(AC_STATUS_EXPIRED, ac_center_fail(c, s.f.agent, s.running, "", "x", &out));
    CHECK_STATUS(AC_STATUS_EXPIRED, ac_center_heartbeat(c, s.f.agent, s.running, "stale", 60, &out));

    /* The policy: only an administrator, only on the version named. */
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "alice may not administer",
                ac_center_set_policy(c, s.f.alice, "{\"roles\":{}}", 0, NULL, &out));
    CHECK_ERROR(AC_STATUS_CONFLICT, "expected version 7, found 1",
                ac_center_set_policy(c, s.f.root, "{\"roles\":{}}", 7, NULL, &out));
    CHECK_INVALID("policy", ac_center_set_policy(c, s.f.root, "{\"roles\":{},\"roles\":{}}", 0, NULL, &out));

    /* Undo requests and bulk selections of the wrong shape. */
    CHECK_INVALID("request.all_instances",
                  ac_center_undo(c, s.f.alice, s.pending, "{\"comment\":\"x\",\"all_instances\":true}", &out));
    CHECK_INVALID("request.instances[0]",
                  ac_center_undo(c, s.f.alice, s.pending, "{\"comment\":\"x\",\"instances\":[\"0190\"]}", &out));
    CHECK_INVALID("op.op", ac_center_preview_bulk(c, s.f.alice, "{\"op\":\"explode\"}", NULL, &out));
    CHECK_INVALID("filter.colour", ac_center_preview_bulk(c, s.f.alice, "{\"op\":\"retry\"}", "{\"colour\":1}", &out));
    CHECK_INVALID("selection.filter.statuses",
                  ac_center_bulk(c, s.f.alice, "{\"op\":\"approve\"}", "{\"filter\":{\"statuses\":[\"pending\"]}}", &out));
    /* A token no preview gave is malformed; one of the right shape that
       is not the selection's now, a changed selection. */
    CHECK_INVALID("snapshot",
                  ac_center_bulk(c, s.f.alice, "{\"op\":\"approve\"}",
                                 "{\"filter\":{\"filter\":{},\"snapshot\":\"made-up\"}}", &out));
    CHECK_ERROR(AC_STATUS_CONFLICT, "the selection changed",
                ac_center_bulk(c, s.f.alice, "{\"op\":\"approve\"}",
                               "{\"filter\":{\"filter\":{},\"snapshot\":"
                               "\"1-0123456789abcdef0123456789abcdef\"}}", &out));

    CHECK(out == NULL && p == NULL);
    CHECK_OK(ac_center_policy(c, &after));
    fx_keep(&s.f, after);
    CHECK(mj_int(mj_get(after, "version")) == 1);
    CHECK_OK(ac_center_get(c, s.f.alice, s.running, &after));
    fx_keep(&s.f, after);
    CHECK(strcmp(before, after) == 0);
    CHECK(h_status_is(&s.f, s.pending, "pending"));
    CHECK(events(&s) == 5);
    fx_close(&s.f);
}

int main(void) {
    RUN(null_center_is_refused_everywhere);
    RUN(null_principal_is_refused_everywhere);
    RUN(null_id_is_refused_everywhere);
    RUN(null_text_and_json_arguments_are_refused);
    RUN(null_required_out_parameters_are_refused);
    RUN(null_where_allowed_is_accepted);
    RUN(null_comment_where_one_is_required_is_a_validation_error);
    RUN(invalid_utf8_is_refused_in_every_string_argument);
    RUN(malformed_json_is_a_validation_error_naming_the_document);
    RUN(json_of_the_wrong_shape_names_the_bad_field);
    RUN(oversized_values_are_refused);
    RUN(malformed_and_unknown_ids);
    RUN(wrong_states_are_invalid_transitions);
    RUN(missing_permissions_are_refused_and_named);
    RUN(bad_principals_are_validation_errors);
    RUN(closed_freed_and_foreign_handles_are_invalid);
    RUN(numbers_out_of_range_are_validation_errors);
    RUN(failed_calls_change_nothing);
    RUN(bad_input_to_the_trust_calls_changes_nothing);
    return h_done("bad_input");
}
