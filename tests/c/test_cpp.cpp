// The header compiles as C++ (-std=c++11 -Wall -Wextra -Wpedantic -Werror)
// and the library links and runs from C++.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "actioncenter.h"

namespace {

struct CenterCloser {
    void operator()(ac_center *center) const { ac_center_close(center); }
};
struct PrincipalFreer {
    void operator()(ac_principal *principal) const { ac_principal_free(principal); }
};
struct StringFreer {
    void operator()(char *s) const { ac_string_free(s); }
};

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "FAILED: %s (%s)\n", what, ac_last_error_message());
        ++failures;
    }
}

}  // namespace

int main() {
    check(std::strcmp(ac_version(), AC_VERSION) == 0, "version");

    ac_center *raw_center = nullptr;
    check(ac_center_open_memory(&raw_center) == AC_STATUS_OK, "open");
    std::unique_ptr<ac_center, CenterCloser> center(raw_center);

    const char *roles[] = {"automation"};
    ac_principal *raw_air = nullptr;
    check(ac_principal_new("air", roles, 1, &raw_air) == AC_STATUS_OK, "principal");
    std::unique_ptr<ac_principal, PrincipalFreer> air(raw_air);

    char *raw_action = nullptr;
    ac_status status = ac_center_propose(
        center.get(), air.get(),
        R"({"kind":"block_url","entity":{"type":"url","url":"http://bad.example"},)"
        R"("source":{"type":"custom","name":"cpp"}})",
        &raw_action);
    std::unique_ptr<char, StringFreer> action(raw_action);
    check(status == AC_STATUS_OK, "propose");
    check(action && std::string(action.get()).find("\"status\":\"pending\"") != std::string::npos,
          "pending");

    check(ac_center_approve(center.get(), air.get(), nullptr, nullptr, 0, nullptr) ==
              AC_STATUS_NULL_ARGUMENT,
          "null id");
    check(ac_center_complete(center.get(), air.get(), "01890000-0000-7000-8000-000000000000", nullptr,
                             nullptr, nullptr) == AC_STATUS_NULL_ARGUMENT,
          "null lease token");

    char *raw_stored = nullptr;
    check(ac_center_policy(center.get(), &raw_stored) == AC_STATUS_OK, "stored policy");
    std::unique_ptr<char, StringFreer> stored(raw_stored);
    check(stored && std::string(stored.get()).find("\"version\":1") != std::string::npos,
          "bootstrap policy is version 1");
    check(ac_center_propose(center.get(), air.get(),
                            R"({"kind":"block_url","entity":{"type":"url","url":"http://bad.example"},)"
                            R"("source":{"type":"custom","name":"cpp"}})",
                            nullptr) == AC_STATUS_DUPLICATE,
          "duplicate");
    check(std::string(ac_status_name(AC_STATUS_NULL_ARGUMENT)) == "null_argument", "status name");

    std::printf("cpp: %d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
