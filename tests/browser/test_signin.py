"""Signing in and out."""

from playwright.sync_api import Page, expect

from conftest import PASSWORD, Server, shot, sign_in


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
