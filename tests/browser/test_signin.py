"""Signing in and out."""

import json

from playwright.sync_api import BrowserContext, Page, Playwright, Route, expect

from conftest import ADMIN, PASSWORD, Server, shot, sign_in, signed_in_request


def test_sign_in_shows_pending_with_its_count(page: Page, server: Server) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to the Action center")).to_be_visible()
    # The demo server has no OpenID Connect issuer: no single sign-on link.
    expect(page.get_by_role("link", name="Sign in with single sign-on")).to_have_count(0)
    shot(page, "sign-in")
    sign_in(page, "carol")
    pending = len(server.actions(tab="pending"))
    tab = page.get_by_role("tab", name=f"Pending, {pending} actions")
    expect(tab).to_have_attribute("aria-selected", "true")
    expect(page.locator("#badge-pending")).to_have_text(str(pending))
    expect(page.locator("tr.action-row")).to_have_count(pending)
    expect(page.locator("#whoami-name")).to_have_text("carol · analyst")


def test_wrong_password_is_refused_in_words(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Account").fill("carol")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="account or password is not right")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.get_by_role("tab", name="Pending")).to_be_hidden()


def test_sign_out_returns_to_sign_in_and_ends_the_session(page: Page) -> None:
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the Action center")).to_be_visible()
    assert page.request.get("/api/v1/session").status == 401
    page.reload()
    expect(page.get_by_role("heading", name="Sign in to the Action center")).to_be_visible()


def test_single_sign_on_is_offered_when_the_server_has_an_issuer(context: BrowserContext, page: Page) -> None:
    context.route("**/api/v1/config", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps({"oidc": True})))
    page.goto("/")
    link = page.get_by_role("link", name="Sign in with single sign-on")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "/auth/oidc/login"


def test_too_many_sign_ins_say_when_to_retry(context: BrowserContext, page: Page) -> None:
    def limited(route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        route.fulfill(status=429, content_type="application/json", headers={"Retry-After": "30"}, body=json.dumps(
            {"error": {"kind": "rate_limited", "code": 11, "message": "too many sign-in attempts for carol",
                       "retryable": True}}))
    context.route("**/api/v1/session", limited)
    page.goto("/")
    page.get_by_label("Account").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert").filter(has_text="Too many requests")).to_contain_text("try again in 30 seconds")


def test_an_ended_session_goes_back_to_sign_in(context: BrowserContext, page: Page) -> None:
    sign_in(page, "carol")
    context.clear_cookies()
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("heading", name="Sign in to the Action center")).to_be_visible()
    expect(page.get_by_role("alert").filter(has_text="session has ended")).to_be_visible()
    # Signing in again comes back to where the person was.
    page.get_by_label("Account").fill("carol")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("tab", name="History")).to_have_attribute("aria-selected", "true")


def test_an_administrator_changes_the_policy_in_the_editor(page: Page, server: Server) -> None:
    sign_in(page, ADMIN)
    page.get_by_role("tab", name="Policy").click()
    editor = page.get_by_label("Policy JSON")
    expect(editor).to_be_visible()
    policy = json.loads(editor.input_value())
    policy["principals"]["erin"] = ["viewer"]
    editor.fill(json.dumps(policy, indent=2))
    page.get_by_label("Comment").fill("erin joins as a viewer")
    page.get_by_role("button", name="Store a new version").click()
    expect(page.get_by_role("alert").filter(has_text="Policy version 2 stored.")).to_be_visible()
    expect(page.locator(".view-sub")).to_contain_text("Version 2")
    expect(page.get_by_role("table", name="Principals named by the policy")).to_contain_text("erin")
    stored = server.api("GET", "/api/v1/policy")
    assert stored["version"] == 2 and stored["policy"]["principals"]["erin"] == ["viewer"]

    # Broken JSON is refused in the page, and nothing is stored.
    page.get_by_label("Policy JSON").fill("{ not json")
    page.get_by_role("button", name="Store a new version").click()
    expect(page.get_by_role("alert").filter(has_text="not valid JSON")).to_be_visible()
    assert server.api("GET", "/api/v1/policy")["version"] == 2


def test_an_administrator_signs_a_checkpoint_and_the_audit_page_shows_it(page: Page, server: Server) -> None:
    sign_in(page, ADMIN)
    page.get_by_role("tab", name="Audit").click()
    expect(page.locator(".verdict")).to_contain_text("Intact")
    expect(page.get_by_text("No checkpoint has been signed yet")).to_be_visible()
    page.get_by_role("button", name="Sign a checkpoint now").click()
    expect(page.get_by_role("alert").filter(has_text="Checkpoint signed at event")).to_be_visible()
    latest = server.api("GET", "/api/v1/audit/checkpoints")[-1]
    panel = page.locator("section[aria-labelledby='audit-checkpoints']")
    expect(panel).to_contain_text(f"#{latest['seq']}")
    expect(panel).to_contain_text(latest["hash"])
    expect(panel).to_contain_text(latest["public_key"])
    shot(page, "audit-checkpoint")


def test_a_person_dropped_from_the_policy_can_still_sign_out(
    page: Page, server: Server, playwright_instance: Playwright
) -> None:
    sign_in(page, "dana")
    expect(page.locator("#whoami-name")).to_contain_text("dana")
    admin, csrf = signed_in_request(playwright_instance, server, ADMIN)
    stored = admin.get("/api/v1/policy").json()
    policy = stored["policy"]
    del policy["principals"]["dana"]
    put = admin.put("/api/v1/policy", headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
                    data=json.dumps({"policy": policy, "expected_version": stored["version"],
                                     "comment": "dana left"}))
    assert put.ok, put.text()
    try:
        # A reload knows no CSRF token and is refused its session: it says
        # why and offers to end it.
        page.reload()
        expect(page.get_by_role("alert").filter(has_text="not among the principals")).to_be_visible()
        shot(page, "dropped-from-the-policy")
        page.locator("#end-session").click()
        expect(page.get_by_role("heading", name="Sign in to the Action center")).to_be_visible()
        assert page.request.get("/api/v1/session").status == 401
    finally:
        now = admin.get("/api/v1/policy").json()
        admin.put("/api/v1/policy", headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
                  data=json.dumps({"policy": now["policy"] | {"principals": now["policy"]["principals"]
                                                              | {"dana": ["responder"]}},
                                   "expected_version": now["version"], "comment": "dana is back"}))
        admin.dispose()
