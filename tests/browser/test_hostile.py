"""Hostile text in the console: markup in an entity's name and in a
comment shows as text in the Pending table and the flyout, no element is
injected, no script runs, no dialog opens; ANSI escapes never reach the
page, since the API refuses control characters in names and comments."""

from playwright.sync_api import Page, expect

from conftest import ApiError, Server, proposal, row, session_call

MARKUP = '<img src=x onerror="window.__pwned=1;alert(1)">'
ANSI = "\x1b[31mred\x1b[0m \x1b]0;title\x07"


def watch_dialogs(page: Page) -> list[str]:
    opened: list[str] = []

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


def assert_inert(page: Page, opened: list[str]) -> None:
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("() => window.__pwned === undefined")
    assert opened == []


def test_markup_in_an_entity_name_and_a_comment_is_shown_as_text(carol: Page, server: Server) -> None:
    opened = watch_dialogs(carol)
    pending = server.propose(proposal("isolate_device", {"type": "device", "device_id": "XSS-LT-1", "name": MARKUP}))
    rejected = server.propose(proposal("isolate_device", {"type": "device", "device_id": "XSS-LT-2", "name": MARKUP}))
    carol.reload()
    line = row(carol, pending["id"])
    expect(line).to_be_visible()
    expect(line).to_contain_text(MARKUP)
    assert_inert(carol, opened)

    line.click()
    panel = carol.locator("#flyout")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text(MARKUP)
    assert_inert(carol, opened)

    # A comment with markup, written from the flyout itself: shown as text.
    carol.keyboard.press("Escape")
    row(carol, rejected["id"]).click()
    panel.get_by_label("Comment").fill(MARKUP)
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Rejected")
    assert server.action(rejected["id"])["decisions"][-1]["comment"] == MARKUP
    carol.goto(f"/#/actions/{rejected['id']}")
    expect(carol.locator("#flyout")).to_contain_text(MARKUP)
    assert_inert(carol, opened)


def test_ansi_escapes_are_refused_before_they_reach_the_console(carol: Page, server: Server) -> None:
    opened = watch_dialogs(carol)
    before = len(server.actions())
    try:
        server.propose(proposal("isolate_device", {"type": "device", "device_id": "ANSI-LT-1", "name": ANSI}))
        raise AssertionError("a name with escape sequences was stored")
    except ApiError as e:
        assert e.status == 400 and e.body["error"]["kind"] == "validation", e.body
    target = server.propose(proposal("isolate_device", {"type": "device", "device_id": "ANSI-LT-2"}))
    status, body = session_call(carol, "POST", f"/api/v1/actions/{target['id']}/reject", {"comment": ANSI})
    assert status == 400 and body["error"]["kind"] == "validation", body
    assert len(server.actions()) == before + 1
    assert server.action(target["id"])["status"] == "pending"
    carol.reload()
    expect(row(carol, target["id"])).to_be_visible()
    assert "\x1b" not in carol.locator("body").inner_text()
    assert_inert(carol, opened)
