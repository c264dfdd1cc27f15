/*
 * Every status code the C API returns, how each one is reached, and the
 * per-thread last error that explains it.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <unistd.h>

#include "harness.h"

static const char *UNKNOWN_ID = "01890000-0000-7000-8000-000000000000";

/* A pending isolation proposed by air. */
static ac_status pending(fixture *f, char id[64]) {
    char json[512];
    return h_propose(f, f->air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id);
}

/* A running isolation of another device, claimed by the agent with the
 * lease token `token`. */
static ac_status running(fixture *f, char id[64], char token[128]) {
    char json[512], claimed[64];
    ac_status s = h_propose(f, f->air, h_isolate(json, sizeof json, "dev-2", "inv-1"), id);
    if (s == AC_STATUS_OK) s = ac_center_approve(f->center, f->alice, id, NULL, 0, NULL);
    if (s == AC_STATUS_OK && h_claim_one(f, claimed, token) != 1) s = AC_STATUS_INTERNAL;
    return s;
}

static void status_numbers_are_the_documented_ones(void) {
    CHECK(AC_STATUS_OK == 0);
    CHECK(AC_STATUS_NOT_FOUND == 1);
    CHECK(AC_STATUS_INVALID_TRANSITION == 2);
    CHECK(AC_STATUS_PERMISSION_DENIED == 3);
    CHECK(AC_STATUS_SELF_APPROVAL == 4);
    CHECK(AC_STATUS_CONFLICT == 5);
    CHECK(AC_STATUS_VALIDATION == 6);
    CHECK(AC_STATUS_EXPIRED == 7);
    CHECK(AC_STATUS_STORAGE == 8);
    CHECK(AC_STATUS_DUPLICATE == 9);
    CHECK(AC_STATUS_UNAUTHENTICATED == 10);
    CHECK(AC_STATUS_RATE_LIMITED == 11);
    CHECK(AC_STATUS_NULL_ARGUMENT == 100);
    CHECK(AC_STATUS_INVALID_UTF8 == 101);
    CHECK(AC_STATUS_INVALID_HANDLE == 102);
    CHECK(AC_STATUS_PANIC == 103);
    CHECK(AC_STATUS_INTERNAL == 104);
}

static void status_names_match_the_error_kinds(void) {
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {0, "ok"},           {1, "not_found"},       {2, "invalid_transition"},
        {3, "permission_denied"}, {4, "self_approval"}, {5, "conflict"},
        {6, "validation"},   {7, "expired"},         {8, "storage"},
        {9, "duplicate"},    {10, "unauthenticated"}, {11, "rate_limited"},
        {100, "null_argument"}, {101, "invalid_utf8"},
        {102, "invalid_handle"}, {103, "panic"},     {104, "internal"},
        {12, "unknown"},
        {-1, "unknown"},     {99, "unknown"},        {105, "unknown"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK(strcmp(ac_status_name(names[i].code), names[i].name) == 0);
    }
}

static void ok_clears_the_last_error(void) {
    fixture f;
    char id[64];
    char *action = NULL;
    CHECK(fx_memory(&f));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_get(f.center, f.alice, UNKNOWN_ID, &action));
    CHECK(strlen(ac_last_error_message()) > 0);
    CHECK_OK(pending(&f, id));
    CHECK(strcmp(ac_last_error_message(), "") == 0);
    CHECK(strcmp(ac_last_error_json(), "") == 0);
    fx_close(&f);
}

static void not_found_names_the_id(void) {
    fixture f;
    char *out = (char *)"untouched";
    CHECK(fx_memory(&f));
    CHECK_ERROR(AC_STATUS_NOT_FOUND, UNKNOWN_ID, ac_center_get(f.center, f.alice, UNKNOWN_ID, &out));
    CHECK(out == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "not_found"));
    CHECK(mj_int(mj_get(ac_last_error_json(), "code")) == 1);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "id"), UNKNOWN_ID));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_approve(f.center, f.alice, UNKNOWN_ID, NULL, 0, NULL));
    CHECK_STATUS(AC_STATUS_NOT_FOUND, ac_center_resolve_id(f.center, "abcdef12", &out));
    fx_close(&f);
}

static void invalid_transition_names_status_and_event(void) {
    fixture f;
    char id[64];
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_OK(ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_ERROR(AC_STATUS_INVALID_TRANSITION, "cannot approve action",
                ac_center_approve(f.center, f.bob, id, NULL, 0, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "status"), "approved"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "event"), "approve"));
    fx_close(&f);
}

static void permission_denied_names_the_permission(void) {
    fixture f;
    char id[64];
    char *claimed = NULL;
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_ERROR(AC_STATUS_PERMISSION_DENIED, "vera may not approve device actions",
                ac_center_approve(f.center, f.viewer, id, NULL, 0, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "operation"), "approve"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "category"), "device"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "principal"), "vera"));
    CHECK_STATUS(AC_STATUS_PERMISSION_DENIED, ac_center_claim(f.center, f.viewer, 1, 60, NULL, &claimed));
    CHECK(claimed == NULL);
    fx_close(&f);
}

static void self_approval_is_refused(void) {
    fixture f;
    char id[64];
    const char *playbook = "{\"kind\":\"block_url\",\"entity\":{\"type\":\"url\",\"url\":\"http://bad.example\"},"
                           "\"source\":{\"type\":\"playbook\",\"name\":\"phish-response\"}}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.alice, playbook, id));
    CHECK_ERROR(AC_STATUS_SELF_APPROVAL, "alice proposed action",
                ac_center_approve(f.center, f.alice, id, NULL, 0, NULL));
    CHECK(h_status_is(&f, id, "pending"));
    fx_close(&f);
}

static void conflict_reports_both_versions(void) {
    fixture f;
    char id[64];
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_ERROR(AC_STATUS_CONFLICT, "changed concurrently",
                ac_center_approve(f.center, f.alice, id, NULL, 7, NULL));
    CHECK(mj_int(mj_get(ac_last_error_json(), "expected")) == 7);
    CHECK(mj_int(mj_get(ac_last_error_json(), "actual")) == 1);
    CHECK(h_status_is(&f, id, "pending"));
    fx_close(&f);
}

static void validation_names_the_field(void) {
    fixture f;
    char id[64];
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_INVALID("comment", ac_center_reject(f.center, f.alice, id, NULL, 0, NULL));
    CHECK_INVALID("comment", ac_center_reject(f.center, f.alice, id, "", 0, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "validation"));
    CHECK(h_status_is(&f, id, "pending"));
    fx_close(&f);
}

static void expired_approval_window_and_lease(void) {
    fixture f;
    char old[64], leased[64], token[128];
    CHECK(fx_clock(&f));
    CHECK_OK(pending(&f, old));
    CHECK_OK(running(&f, leased, token));
    CHECK_OK(ac_center_advance_clock(f.center, 8 * 24 * 3600));
    CHECK_ERROR(AC_STATUS_EXPIRED, "approval window expired",
                ac_center_approve(f.center, f.alice, old, NULL, 0, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "approval window"));
    CHECK_ERROR(AC_STATUS_EXPIRED, "lease expired",
                ac_center_complete(f.center, f.agent, leased, token, NULL, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "lease"));
    CHECK(h_status_is(&f, leased, "running"));
    fx_close(&f);
}

/* The executor's lease ran out, the sweep took the action back and it was
 * claimed again: the first claim's token completes nothing, fails nothing
 * and renews nothing, and the action stays as the second claim has it. */
static void stale_lease_token_is_refused_and_changes_nothing(void) {
    fixture f;
    char id[64], stale[128], fresh[128], claimed[64];
    char *before = NULL, *after = NULL, *out = (char *)"stale";
    long long events;
    size_t moved = 0;
    CHECK(fx_clock(&f));
    CHECK_OK(running(&f, id, stale));
    CHECK_OK(ac_center_advance_clock(f.center, 301));
    CHECK_OK(ac_center_recover_leases(f.center, &moved, NULL));
    CHECK(moved == 1);
    CHECK(h_claim_one(&f, claimed, fresh) == 1);
    CHECK(strcmp(claimed, id) == 0);
    CHECK(strcmp(stale, fresh) != 0);
    CHECK_OK(ac_center_get(f.center, f.alice, id, &before));
    fx_keep(&f, before);
    events = h_events(&f, f.viewer);

    CHECK_ERROR(AC_STATUS_EXPIRED, "is not the current lease",
                ac_center_complete(f.center, f.agent, id, stale, "{\"done\":true}", &out));
    CHECK(out == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "expired"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "what"), "lease_token"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "id"), id));
    CHECK_STATUS(AC_STATUS_EXPIRED, ac_center_fail(f.center, f.agent, id, stale, "late", NULL));
    CHECK_STATUS(AC_STATUS_EXPIRED, ac_center_heartbeat(f.center, f.agent, id, stale, 60, NULL));

    CHECK_OK(ac_center_get(f.center, f.alice, id, &after));
    fx_keep(&f, after);
    CHECK(strcmp(before, after) == 0);
    CHECK(h_events(&f, f.viewer) == events);
    CHECK_OK(ac_center_complete(f.center, f.agent, id, fresh, NULL, NULL));
    CHECK(h_status_is(&f, id, "completed"));
    fx_close(&f);
}

/* A second active isolation of the same device is a duplicate, with a
 * status of its own naming the action already there. */
static void duplicate_proposal_has_its_own_status(void) {
    fixture f;
    char first[64], json[512];
    char *out = (char *)"stale";
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, first));
    CHECK_ERROR(AC_STATUS_DUPLICATE, "already in progress",
                ac_center_propose(f.center, f.air, h_isolate(json, sizeof json, "dev-1", "inv-2"), &out));
    CHECK(out == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "duplicate"));
    CHECK(mj_int(mj_get(ac_last_error_json(), "code")) == 9);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "existing"), first));
    CHECK(mj_is(mj_get(ac_last_error_json(), "idempotency_key"), "null"));
    CHECK(h_events(&f, f.viewer) == 2);
    fx_close(&f);
}

static void idempotency_key_returns_the_first_action_and_refuses_another_body(void) {
    fixture f;
    char first[64], again[64];
    char *out = NULL;
    const char *proposal = "{\"kind\":\"block_url\",\"entity\":{\"type\":\"url\",\"url\":\"http://bad.example\"},"
                           "\"source\":{\"type\":\"antivirus\"},\"idempotency_key\":\"av-42\"}";
    const char *other = "{\"kind\":\"block_url\",\"entity\":{\"type\":\"url\",\"url\":\"http://other.example\"},"
                        "\"source\":{\"type\":\"antivirus\"},\"idempotency_key\":\"av-42\"}";
    CHECK(fx_memory(&f));
    CHECK_OK(h_propose(&f, f.air, proposal, first));
    CHECK_OK(h_propose(&f, f.air, proposal, again));
    CHECK(strcmp(first, again) == 0);
    CHECK_ERROR(AC_STATUS_DUPLICATE, "idempotency key", ac_center_propose(f.center, f.air, other, &out));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "idempotency_key"), "av-42"));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "existing"), first));
    CHECK(h_events(&f, f.viewer) == 2);
    fx_close(&f);
}

static void storage_error_for_a_file_that_is_no_database(void) {
    char dir[256], path[300];
    ac_center *center = (ac_center *)"stale";
    FILE *file;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/actioncenter-c-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    file = fopen(path, "w");
    CHECK(file != NULL);
    fputs("these are my notes, not a database, and they are long enough to be a header\n", file);
    fclose(file);
    CHECK_ERROR(AC_STATUS_STORAGE, "notes.txt", ac_center_open_sqlite(path, &center));
    CHECK(center == NULL);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "storage"));
    /* Trying again will not make it a database. */
    CHECK(mj_is(mj_get(ac_last_error_json(), "retryable"), "false"));
    /* A directory cannot be opened either. */
    CHECK_STATUS(AC_STATUS_STORAGE, ac_center_open_sqlite(dir, &center));
    CHECK(center == NULL);
    /* Nor a PostgreSQL server that is not there (or a library built
     * without PostgreSQL, which says so). */
    CHECK_STATUS(AC_STATUS_STORAGE, ac_center_open_postgres("postgres://nobody@127.0.0.1:1/none", &center));
    CHECK(center == NULL);
    unlink(path);
    rmdir(dir);
}

static void null_argument_names_the_argument(void) {
    fixture f;
    CHECK(fx_memory(&f));
    CHECK_ERROR(AC_STATUS_NULL_ARGUMENT, "argument policy_json is NULL",
                ac_center_set_policy(f.center, f.root, NULL, 0, NULL, NULL));
    CHECK(mj_eq(mj_get(ac_last_error_json(), "argument"), "policy_json"));
    CHECK(mj_int(mj_get(ac_last_error_json(), "code")) == 100);
    fx_close(&f);
}

static void invalid_utf8_names_the_argument_and_offset(void) {
    fixture f;
    CHECK(fx_memory(&f));
    CHECK_ERROR(AC_STATUS_INVALID_UTF8, "argument comment is not valid UTF-8",
                ac_center_approve(f.center, f.alice, UNKNOWN_ID, "ok\xff", 0, NULL));
    CHECK(mj_int(mj_get(ac_last_error_json(), "valid_up_to")) == 2);
    fx_close(&f);
}

static void invalid_handle_after_close(void) {
    ac_center *center = NULL;
    ac_principal *alice = h_principal("alice", "analyst");
    char *counts = NULL;
    CHECK(alice != NULL);
    CHECK_OK(ac_center_open_memory(&center));
    CHECK_OK(ac_center_close(center));
    CHECK_ERROR(AC_STATUS_INVALID_HANDLE, "argument center is not an open handle",
                ac_center_counts(center, alice, NULL, &counts));
    CHECK(counts == NULL);
    CHECK_OK(ac_principal_free(alice));
}

/* A library must not write to its host's standard error: the panic is
 * reported by the status and the last error alone. */
static void panic_writes_nothing_to_stderr(void) {
    FILE *capture = tmpfile();
    CHECK(capture != NULL);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    CHECK(saved >= 0);
    CHECK(dup2(fileno(capture), STDERR_FILENO) >= 0);
    ac_status status = ac_boundary_selftest();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fseek(capture, 0, SEEK_END);
    long written = ftell(capture);
    fclose(capture);
    CHECK(status == AC_STATUS_PANIC);
    CHECK(written == 0);
}

static void panic_becomes_a_status(void) {
    CHECK_ERROR(AC_STATUS_PANIC, "the library panicked: ac_boundary_selftest panics on purpose",
                ac_boundary_selftest());
    CHECK(mj_int(mj_get(ac_last_error_json(), "code")) == 103);
    /* The library works on after a panic. */
    CHECK(strcmp(ac_version(), AC_VERSION) == 0);
    {
        ac_center *center = NULL;
        CHECK_OK(ac_center_open_memory(&center));
        CHECK_OK(ac_center_close(center));
    }
}

/* AC_STATUS_INTERNAL stands for an engine error kind newer than the C
 * interface; with the library and engine of one build none exists, so the
 * C API cannot return it. Its number and name are still fixed. */
static void internal_is_reserved(void) {
    CHECK(strcmp(ac_status_name(AC_STATUS_INTERNAL), "internal") == 0);
}

static void *fail_on_another_thread(void *arg) {
    (void)arg;
    ac_center_set_policy(NULL, NULL, "{}", 0, NULL, NULL);
    return NULL;
}

static void last_error_belongs_to_its_thread(void) {
    pthread_t other;
    fixture f;
    char id[64];
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_STATUS(AC_STATUS_CONFLICT, ac_center_approve(f.center, f.alice, id, NULL, 9, NULL));
    CHECK(pthread_create(&other, NULL, fail_on_another_thread, NULL) == 0);
    CHECK(pthread_join(other, NULL) == 0);
    CHECK(mj_eq(mj_get(ac_last_error_json(), "kind"), "conflict"));
    fx_close(&f);
}

static void failed_calls_leave_out_parameters_null(void) {
    fixture f;
    char id[64];
    char *action = (char *)"stale", *page = (char *)"stale", *claimed = (char *)"stale";
    ac_principal *nobody = (ac_principal *)"stale";
    size_t count = 42;
    CHECK(fx_memory(&f));
    CHECK_OK(pending(&f, id));
    CHECK_STATUS(AC_STATUS_CONFLICT, ac_center_approve(f.center, f.alice, id, NULL, 5, &action));
    CHECK(action == NULL);
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_list(f.center, f.alice, NULL, NULL, 0, &page));
    CHECK(page == NULL);
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_claim(f.center, f.agent, 0, 60, NULL, &claimed));
    CHECK(claimed == NULL);
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_principal_from_json("[]", &nobody));
    CHECK(nobody == NULL);
    CHECK_STATUS(AC_STATUS_NULL_ARGUMENT, ac_center_expire_due(NULL, &count, NULL));
    CHECK(count == 0);
    fx_close(&f);
}

int main(void) {
    RUN(status_numbers_are_the_documented_ones);
    RUN(status_names_match_the_error_kinds);
    RUN(ok_clears_the_last_error);
    RUN(not_found_names_the_id);
    RUN(invalid_transition_names_status_and_event);
    RUN(permission_denied_names_the_permission);
    RUN(self_approval_is_refused);
    RUN(conflict_reports_both_versions);
    RUN(validation_names_the_field);
    RUN(expired_approval_window_and_lease);
    RUN(stale_lease_token_is_refused_and_changes_nothing);
    RUN(duplicate_proposal_has_its_own_status);
    RUN(idempotency_key_returns_the_first_action_and_refuses_another_body);
    RUN(storage_error_for_a_file_that_is_no_database);
    RUN(null_argument_names_the_argument);
    RUN(invalid_utf8_names_the_argument_and_offset);
    RUN(invalid_handle_after_close);
    RUN(panic_becomes_a_status);
    RUN(panic_writes_nothing_to_stderr);
    RUN(internal_is_reserved);
    RUN(last_error_belongs_to_its_thread);
    RUN(failed_calls_leave_out_parameters_null);
    return h_done("errors");
}
