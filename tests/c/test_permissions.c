/*
 * test_permissions.c: each verb of the C API, allowed and denied, against
 * the stored (default) policy. An allowed call returns AC_STATUS_OK and
 * moves the action; a denied one returns AC_STATUS_PERMISSION_DENIED and
 * changes nothing: the action's version and status, the number of audit
 * events, the policy version.
 */
#include "harness.h"

static int cells, allowed_cells, denied_cells;

/* A fresh isolation in `status` ("pending", "approved", "running",
 * "failed", "completed"); the lease token of a running one in `token`. */
static ac_status set_up(fixture *f, const char *status, char id[64], char token[128]) {
    char json[512], claimed[64];
    ac_status s = h_propose(f, f->air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id);
    if (s != AC_STATUS_OK || !strcmp(status, "pending")) return s;
    s = ac_center_approve(f->center, f->alice, id, NULL, 0, NULL);
    if (s != AC_STATUS_OK || !strcmp(status, "approved")) return s;
    if (h_claim_one(f, claimed, token) != 1 || strcmp(claimed, id)) return AC_STATUS_INTERNAL;
    if (!strcmp(status, "running")) return s;
    if (!strcmp(status, "failed"))
        return ac_center_fail(f->center, f->agent, id, token, "boom", NULL);
    return ac_center_complete(f->center, f->agent, id, token, "{}", NULL);
}

static long long policy_version(fixture *f) {
    char *p = NULL;
    long long v;
    if (ac_center_policy(f->center, &p) != AC_STATUS_OK) return -1;
    v = mj_int(mj_get(p, "version"));
    ac_string_free(p);
    return v;
}

typedef enum { PROPOSE, APPROVE, REJECT, CANCEL, RETRY, CLAIM, HEARTBEAT, COMPLETE, FAIL, UNDO,
               GET, SET_POLICY, N_VERBS } verb;

static const char *verb_names[N_VERBS] = {"propose", "approve", "reject", "cancel", "retry",
                                          "claim", "heartbeat", "complete", "fail", "undo",
                                          "get", "set_policy"};
static const char *from[N_VERBS] = {"pending", "pending", "pending", "pending", "failed",
                                    "approved", "running", "running", "running", "completed",
                                    "pending", "pending"};

static ac_status call(fixture *f, verb v, const ac_principal *by, const char *id,
                      const char *token) {
    char json[512], *out = NULL, *policy = NULL;
    ac_status s = AC_STATUS_INTERNAL;
    switch (v) {
    case PROPOSE:
        s = ac_center_propose(f->center, by, h_isolate(json, sizeof json, "dev-2", "inv-2"), &out);
        break;
    case APPROVE: s = ac_center_approve(f->center, by, id, NULL, 0, &out); break;
    case REJECT: s = ac_center_reject(f->center, by, id, "no", 0, &out); break;
    case CANCEL: s = ac_center_cancel(f->center, by, id, "stop", &out); break;
    case RETRY: s = ac_center_retry(f->center, by, id, NULL, &out); break;
    case CLAIM:
        s = ac_center_claim(f->center, by, 1, 60, NULL, &out);
        if (s == AC_STATUS_OK && mj_len(out) != 1) s = AC_STATUS_INTERNAL;
        break;
    case HEARTBEAT: s = ac_center_heartbeat(f->center, by, id, token, 60, &out); break;
    case COMPLETE: s = ac_center_complete(f->center, by, id, token, "{\"ok\":true}", &out); break;
    case FAIL: s = ac_center_fail(f->center, by, id, token, "failed", &out); break;
    case UNDO: s = ac_center_undo(f->center, by, id, "{\"comment\":\"undo it\"}", &out); break;
    case GET: s = ac_center_get(f->center, by, id, &out); break;
    case SET_POLICY:
        if (ac_center_policy(f->center, &policy) == AC_STATUS_OK) {
            /* The policy in force, stored again unchanged. */
            const char *start = mj_get(policy, "policy");
            const char *end = start ? mj_skip(start) : NULL;
            if (start && end && end > start) {
                size_t n = (size_t)(end - start);
                char *inner = malloc(n + 1);
                if (inner) {
                    memcpy(inner, start, n);
                    inner[n] = 0;
                    s = ac_center_set_policy(f->center, by, inner, 0, "same", &out);
                    free(inner);
                }
            }
        }
        break;
    default: break;
    }
    ac_string_free(out);
    ac_string_free(policy);
    return s;
}

/* One cell: `by` calls verb `v` on a fresh action; `allowed` says what
 * the policy wants. */
static int cell(verb v, const char *who, int allowed) {
    fixture f;
    char id[64] = "", token[128] = "";
    long long version, events, pversion;
    char status_before[32] = "";
    char *a = NULL;
    const ac_principal *by;
    ac_principal *nobody = NULL;
    ac_status s;
    int ok = 1;
    if (ac_principal_new("nobody", NULL, 0, &nobody) != AC_STATUS_OK) return 0;
    if (!fx_memory(&f)) return 0;
    by = !strcmp(who, "root") ? f.root : !strcmp(who, "air") ? f.air
       : !strcmp(who, "alice") ? f.alice : !strcmp(who, "agent") ? f.agent
       : !strcmp(who, "viewer") ? f.viewer : nobody;
    if (set_up(&f, from[v], id, token) != AC_STATUS_OK) ok = 0;
    if (ok && ac_center_get(f.center, f.root, id, &a) == AC_STATUS_OK) {
        mj_string(mj_get(a, "status"), status_before, sizeof status_before);
        ac_string_free(a);
    }
    version = h_version(&f, id);
    events = h_events(&f, f.root);
    pversion = policy_version(&f);
    s = ok ? call(&f, v, by, id, token) : AC_STATUS_INTERNAL;
    cells++;
    if (allowed) {
        allowed_cells++;
        if (s != AC_STATUS_OK) {
            fprintf(stderr, "%s by %s: expected ok, got %s: %s\n", verb_names[v], who,
                    ac_status_name((int)s), ac_last_error_message());
            ok = 0;
        } else if (v != GET && v != HEARTBEAT && v != SET_POLICY && h_events(&f, f.root) <= events) {
            fprintf(stderr, "%s by %s: allowed but no audit event\n", verb_names[v], who);
            ok = 0;
        } else if (v == SET_POLICY && policy_version(&f) != pversion + 1) {
            fprintf(stderr, "%s by %s: the policy version did not move\n", verb_names[v], who);
            ok = 0;
        }
    } else {
        denied_cells++;
        if (s != AC_STATUS_PERMISSION_DENIED) {
            fprintf(stderr, "%s by %s: expected permission_denied, got %s\n", verb_names[v], who,
                    ac_status_name((int)s));
            ok = 0;
        } else if (h_version(&f, id) != version || h_events(&f, f.root) != events ||
                   policy_version(&f) != pversion || !h_status_is(&f, id, status_before)) {
            fprintf(stderr, "%s by %s: denied, but something changed\n", verb_names[v], who);
            ok = 0;
        }
    }
    ac_principal_free(nobody);
    fx_close(&f);
    return ok;
}

static void each_verb_allowed_and_denied(void) {
    static const struct { verb v; const char *allowed; const char *denied[2]; } m[] = {
        {PROPOSE, "air", {"viewer", "nobody"}},
        {APPROVE, "alice", {"viewer", "agent"}},
        {REJECT, "alice", {"viewer", "nobody"}},
        {CANCEL, "alice", {"viewer", "agent"}},
        {RETRY, "alice", {"viewer", "nobody"}},
        {CLAIM, "agent", {"viewer", "alice"}},
        {HEARTBEAT, "agent", {"viewer", "nobody"}},
        {COMPLETE, "agent", {"viewer", "alice"}},
        {FAIL, "agent", {"viewer", "nobody"}},
        {UNDO, "alice", {"viewer", "agent"}},
        {GET, "viewer", {"nobody", "nobody"}},
        {SET_POLICY, "root", {"alice", "viewer"}},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        CHECK(cell(m[i].v, m[i].allowed, 1));
        CHECK(cell(m[i].v, m[i].denied[0], 0));
        CHECK(cell(m[i].v, m[i].denied[1], 0));
    }
    printf("permission cells (c): %d (%d allowed, %d denied)\n", cells, allowed_cells,
           denied_cells);
}

int main(void) {
    RUN(each_verb_allowed_and_denied);
    return h_done("test_permissions");
}
