/*
 * test_hostile.c: hostile input through the C API that test_bad_input.c
 * leaves out: strings of 1 MB, and SQL-injection strings, which a SQLite
 * file stores verbatim and harmlessly.
 */
#include <unistd.h>

#include "harness.h"

static const char *INJECTIONS[] = {
    "'; DROP TABLE actions; --",
    "1' OR '1'='1",
    "x'); DELETE FROM events; --",
    "%' UNION SELECT * FROM credentials --",
};

static int open_sqlite(fixture *f, char path[256]) {
    ac_center *c = NULL;
    const char *tmp = getenv("TMPDIR");
    snprintf(path, 256, "%s/hostile-%ld.db", tmp ? tmp : ".", (long)getpid());
    unlink(path);
    if (ac_center_open_sqlite(path, &c) != AC_STATUS_OK) return 0;
    return fx_init(f, c);
}

static void injection_strings_round_trip_verbatim(void) {
    fixture f;
    char path[256], json[1024], id[64], got[256];
    char *a = NULL;
    long long first;
    CHECK(open_sqlite(&f, path));
    first = h_events(&f, f.root);
    for (size_t i = 0; i < sizeof INJECTIONS / sizeof INJECTIONS[0]; i++) {
        CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, INJECTIONS[i], INJECTIONS[i]), id));
        CHECK_OK(ac_center_approve(f.center, f.alice, id, INJECTIONS[i], 0, NULL));
        CHECK_OK(ac_center_get(f.center, f.alice, id, &a));
        fx_keep(&f, a);
        CHECK(mj_string(mj_get(mj_get(a, "entity"), "device_id"), got, sizeof got));
        CHECK(strcmp(got, INJECTIONS[i]) == 0);
        CHECK(mj_eq(mj_get(a, "status"), "approved"));
    }
    /* Every table is still there and the chain verifies. */
    CHECK(h_events(&f, f.root) == first + 8);
    {
        char *report = NULL;
        bool intact = false;
        CHECK_OK(ac_center_verify_audit(f.center, &intact, &report));
        fx_keep(&f, report);
        CHECK(intact);
    }
    fx_close(&f);
    unlink(path);
}

static void one_megabyte_strings_are_refused_and_change_nothing(void) {
    fixture f;
    char path[256], json[512], id[64];
    size_t big = 1024 * 1024;
    char *comment = malloc(big + 1), *proposal = malloc(big + 512);
    long long version, events;
    CHECK(comment && proposal);
    memset(comment, 'c', big);
    comment[big] = 0;
    CHECK(open_sqlite(&f, path));
    CHECK_OK(h_propose(&f, f.air, h_isolate(json, sizeof json, "dev-1", "inv-1"), id));
    version = h_version(&f, id);
    events = h_events(&f, f.root);
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_approve(f.center, f.alice, id, comment, 0, NULL));
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_reject(f.center, f.alice, id, comment, 0, NULL));
    {
        int n = snprintf(proposal, 512,
                         "{\"kind\":\"isolate_device\",\"entity\":{\"type\":\"device\","
                         "\"device_id\":\"");
        memset(proposal + n, 'd', big);
        strcpy(proposal + n + big, "\"},\"source\":{\"type\":\"playbook\",\"name\":\"p\"}}");
    }
    CHECK_STATUS(AC_STATUS_VALIDATION, ac_center_propose(f.center, f.air, proposal, NULL));
    CHECK(h_version(&f, id) == version);
    CHECK(h_events(&f, f.root) == events);
    CHECK(h_status_is(&f, id, "pending"));
    free(comment);
    free(proposal);
    fx_close(&f);
    unlink(path);
}

int main(void) {
    RUN(injection_strings_round_trip_verbatim);
    RUN(one_megabyte_strings_are_refused_and_change_nothing);
    return h_done("test_hostile");
}
