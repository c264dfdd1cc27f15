/*
 * harness.h: a small test harness for the C tests of libactioncenter.
 *
 * A test case is a `static void name(void)`; RUN(name) runs it and prints
 * "ok - name" or "not ok - name"; h_done() prints "<suite>: N passed, N
 * failed" and gives the exit code. A failed CHECK prints where and why
 * and ends the case.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actioncenter.h"
#include "minijson.h"

static int h_passed, h_failed, h_case_failed;
static const char *h_case = "";

static inline void h_fail(const char *file, int line, const char *what) {
    fprintf(stderr, "%s:%d: in %s: %s\n", file, line, h_case, what);
    h_case_failed = 1;
}

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) {                                               \
            h_fail(__FILE__, __LINE__, "CHECK(" #cond ") failed");   \
            return;                                                  \
        }                                                            \
    } while (0)

/* The call returns `expected`. */
#define CHECK_STATUS(expected, call)                                               \
    do {                                                                           \
        ac_status s_ = (call);                                                     \
        if (s_ != (expected)) {                                                    \
            char m_[2048];                                                         \
            snprintf(m_, sizeof m_, "%s returned %s (%d), expected %s: %s", #call, \
                     ac_status_name((int)s_), (int)s_,                             \
                     ac_status_name((int)(expected)), ac_last_error_message());    \
            h_fail(__FILE__, __LINE__, m_);                                        \
            return;                                                                \
        }                                                                          \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(AC_STATUS_OK, call)

/* The call returns `expected` and the thread's last error message holds
 * `needle`. */
#define CHECK_ERROR(expected, needle, call)                                      \
    do {                                                                         \
        CHECK_STATUS(expected, call);                                            \
        if (!strstr(ac_last_error_message(), (needle))) {                        \
            char m_[2048];                                                       \
            snprintf(m_, sizeof m_, "%s: message \"%s\" lacks \"%s\"", #call,    \
                     ac_last_error_message(), (needle));                         \
            h_fail(__FILE__, __LINE__, m_);                                      \
            return;                                                              \
        }                                                                        \
    } while (0)

/* The call fails with AC_STATUS_NULL_ARGUMENT naming `argument`. */
#define CHECK_NULL_ARG(argument, call)                                           \
    do {                                                                         \
        CHECK_STATUS(AC_STATUS_NULL_ARGUMENT, call);                             \
        CHECK(mj_eq(mj_get(ac_last_error_json(), "argument"), (argument)));      \
    } while (0)

/* The call fails with AC_STATUS_INVALID_UTF8 naming `argument`. */
#define CHECK_BAD_UTF8(argument, call)                                           \
    do {                                                                         \
        CHECK_STATUS(AC_STATUS_INVALID_UTF8, call);                              \
        CHECK(mj_eq(mj_get(ac_last_error_json(), "argument"), (argument)));      \
    } while (0)

/* The call fails with AC_STATUS_VALIDATION naming `field`. */
#define CHECK_INVALID(field, call)                                               \
    do {                                                                         \
        CHECK_STATUS(AC_STATUS_VALIDATION, call);                                \
        if (!mj_eq(mj_get(ac_last_error_json(), "field"), (field))) {            \
            char m_[2048];                                                       \
            snprintf(m_, sizeof m_, "%s: expected field %s in %s", #call,        \
                     (field), ac_last_error_json());                             \
            h_fail(__FILE__, __LINE__, m_);                                      \
            return;                                                              \
        }                                                                        \
    } while (0)

typedef void (*h_test)(void);

static inline void h_run(const char *name, h_test test) {
    h_case = name;
    h_case_failed = 0;
    test();
    if (h_case_failed) {
        h_failed++;
        printf("not ok - %s\n", name);
    } else {
        h_passed++;
        printf("ok - %s\n", name);
    }
    fflush(stdout);
}

#define RUN(test) h_run(#test, test)

static inline int h_done(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, h_passed, h_failed);
    return h_failed ? 1 : 0;
}

/* ---- fixtures ---------------------------------------------------------- */

/* A center and the principals of the default policy's roles. */
typedef struct {
    ac_center *center;
    ac_principal *root;   /* admin: sets the policy, signs checkpoints */
    ac_principal *air;    /* automation: proposes */
    ac_principal *alice;  /* analyst: approves, undoes */
    ac_principal *bob;    /* analyst */
    ac_principal *agent;  /* executor */
    ac_principal *viewer; /* viewer: reads only */
    char *kept[256];      /* strings to free at the end */
    size_t n_kept;
} fixture;

static inline ac_principal *h_principal(const char *id, const char *role) {
    const char *roles[1];
    ac_principal *p = NULL;
    roles[0] = role;
    if (ac_principal_new(id, roles, 1, &p) != AC_STATUS_OK) return NULL;
    return p;
}

/* Opens the principals on `center`; 1 on success. */
static inline int fx_init(fixture *f, ac_center *center) {
    memset(f, 0, sizeof *f);
    f->center = center;
    f->root = h_principal("root", "admin");
    f->air = h_principal("air", "automation");
    f->alice = h_principal("alice", "analyst");
    f->bob = h_principal("bob", "analyst");
    f->agent = h_principal("agent-1", "executor");
    f->viewer = h_principal("vera", "viewer");
    return center && f->root && f->air && f->alice && f->bob && f->agent && f->viewer;
}

static inline int fx_memory(fixture *f) {
    ac_center *center = NULL;
    ac_center_open_memory(&center);
    return fx_init(f, center);
}

/* On a manual clock at 2026-01-01T00:00:00Z. */
static inline int fx_clock(fixture *f) {
    ac_center *center = NULL;
    ac_center_open_memory_at(1767225600, &center);
    return fx_init(f, center);
}

/* Keeps `s` to free at fx_close; returns it. */
static inline char *fx_keep(fixture *f, char *s) {
    if (s && f->n_kept < sizeof f->kept / sizeof f->kept[0]) f->kept[f->n_kept++] = s;
    return s;
}

static inline void fx_close(fixture *f) {
    for (size_t i = 0; i < f->n_kept; i++) ac_string_free(f->kept[i]);
    ac_principal_free(f->root);
    ac_principal_free(f->air);
    ac_principal_free(f->alice);
    ac_principal_free(f->bob);
    ac_principal_free(f->agent);
    ac_principal_free(f->viewer);
    ac_center_close(f->center);
    memset(f, 0, sizeof *f);
}

/* ---- proposals ---------------------------------------------------------- */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Isolate `device`, from investigation `inv`: Pending by default. */
static inline const char *h_isolate(char *buf, size_t cap, const char *device, const char *inv) {
    snprintf(buf, cap,
             "{\"kind\":\"isolate_device\","
             "\"entity\":{\"type\":\"device\",\"device_id\":\"%s\"},"
             "\"source\":{\"type\":\"automated_investigation\",\"investigation_id\":\"%s\"}}",
             device, inv);
    return buf;
}

/* Quarantine the file with hash `sha` on `device`, from antivirus. */
static inline const char *h_quarantine(char *buf, size_t cap, const char *sha, const char *device) {
    snprintf(buf, cap,
             "{\"kind\":\"quarantine_file\","
             "\"entity\":{\"type\":\"file\",\"sha256\":\"%s\","
             "\"path\":\"C:\\\\Users\\\\x\\\\evil.exe\",\"device_id\":\"%s\"},"
             "\"source\":{\"type\":\"antivirus\"}}",
             sha, device);
    return buf;
}

/* Copies the "id" of the action JSON into id (37 bytes); 1 on success. */
static inline int h_id(const char *action_json, char id[64]) {
    return mj_string(mj_get(action_json, "id"), id, 64) != NULL;
}

/* Proposes `json` as `by` and stores the new action's id; the status. */
static inline ac_status h_propose(fixture *f, const ac_principal *by, const char *json, char id[64]) {
    char *action = NULL;
    ac_status s = ac_center_propose(f->center, by, json, &action);
    if (s == AC_STATUS_OK && !h_id(action, id)) s = AC_STATUS_INTERNAL;
    ac_string_free(action);
    return s;
}

/* Whether action `id` is in `status`, as seen by alice. */
static inline int h_status_is(fixture *f, const char *id, const char *status) {
    char *action = NULL;
    int yes;
    if (ac_center_get(f->center, f->alice, id, &action) != AC_STATUS_OK) return 0;
    yes = mj_eq(mj_get(action, "status"), status);
    ac_string_free(action);
    return yes;
}

/* The version of action `id`, or -1. */
static inline long long h_version(fixture *f, const char *id) {
    char *action = NULL;
    long long v;
    if (ac_center_get(f->center, f->alice, id, &action) != AC_STATUS_OK) return -1;
    v = mj_int(mj_get(action, "version"));
    ac_string_free(action);
    return v;
}

/* Copies the lease token of an action's last attempt (attempts[-1], the
 * one its latest claim added) into token (128 bytes); 1 on success. */
static inline int h_token(const char *action_json, char token[128]) {
    return mj_string(mj_get(mj_last(mj_get(action_json, "attempts")), "lease_token"), token, 128) !=
           NULL;
}

/* Claims one action as the agent and returns its id in `id` and the lease
 * token of the claim in `token` (unless NULL); the number claimed (0 or
 * 1), or -1 on error. */
static inline int h_claim_one(fixture *f, char id[64], char token[128]) {
    char *claimed = NULL;
    int n;
    if (ac_center_claim(f->center, f->agent, 1, 300, NULL, &claimed) != AC_STATUS_OK) return -1;
    n = (int)mj_len(claimed);
    if (n == 1 && !h_id(mj_at(claimed, 0), id)) n = -1;
    if (n == 1 && token && !h_token(mj_at(claimed, 0), token)) n = -1;
    ac_string_free(claimed);
    return n;
}

/* Claims one action as the agent and completes it with `result_json`;
 * its id goes to `id`. The status. */
static inline ac_status h_run_one(fixture *f, char id[64], const char *result_json) {
    char token[128];
    if (h_claim_one(f, id, token) != 1) return AC_STATUS_INTERNAL;
    return ac_center_complete(f->center, f->agent, id, token, result_json, NULL);
}

/* Stores `policy_json` as the center's policy, as root. The status. */
static inline ac_status h_set_policy(fixture *f, const char *policy_json) {
    return ac_center_set_policy(f->center, f->root, policy_json, 0, NULL, NULL);
}

/* The number of audit events so far, seen by `by` (who may view every
 * category); -1 on error. */
static inline long long h_events(fixture *f, const ac_principal *by) {
    char *feed = NULL;
    long long n;
    if (ac_center_events_since(f->center, by, 0, 1000, &feed) != AC_STATUS_OK) return -1;
    n = (long long)mj_len(feed);
    ac_string_free(feed);
    return n;
}

#endif /* HARNESS_H */
