"""Deciding on one action in the flyout: approve, reject, self-approval."""

import json

from playwright.sync_api import BrowserContext, Page, Playwright, Route, expect

from conftest import Server, proposal, row, session_call, shot, sign_in, signed_in_request


def pending_of_kind(server: Server, kind: str) -> dict:
    found = [a for a in server.actions(tab="pending") if a["kind"] == kind]
    assert found, f"the demo has no pending {kind}"
    return found[0]


def test_approve_from_pending_moves_the_action_to_history_decided_by_carol(carol: Page, server: Server) -> None:
    action = pending_of_kind(server, "stop_service")
    row(carol, action["id"]).click()
    panel = carol.locator("#flyout")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Stop service")
    panel.get_by_label("Comment").fill("confirmed: UpdaterSvc is the implant")
    panel.get_by_role("button", name="Approve", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Approved.")
    # It leaves Pending at once, without a reload.
    expect(row(carol, action["id"])).to_have_count(0)
    stored = server.action(action["id"])
    assert stored["status"] == "approved"
    assert [d["by"] for d in stored["decisions"]] == ["carol"]

    # An executor carries it out; it lands in History, decided by carol.
    server.execute(action["id"])
    carol.keyboard.press("Escape")
    carol.get_by_role("tab", name="History").click()
    done = row(carol, action["id"])
    expect(done).to_be_visible()
    expect(done).to_contain_text("carol")
    expect(done).to_contain_text("Completed")
    expect(done).to_contain_text("confirmed: UpdaterSvc is the implant")


def test_reject_without_a_comment_is_refused_and_with_one_is_done(carol: Page, server: Server) -> None:
    action = pending_of_kind(server, "remove_scheduled_task")
    row(carol, action["id"]).click()
    panel = carol.locator("#flyout")
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("A comment is required to reject this action")
    expect(panel.get_by_label("Comment")).to_be_focused()
    assert server.action(action["id"])["status"] == "pending"

    # The server refuses it as well, whoever asks.
    status, body = session_call(carol, "POST", f"/api/v1/actions/{action['id']}/reject", {})
    assert status == 400, body
    assert body["error"]["kind"] == "validation"
    assert server.action(action["id"])["status"] == "pending"

    panel.get_by_label("Comment").fill("scheduled task belongs to the backup agent")
    panel.get_by_role("button", name="Reject", exact=True).click()
    expect(panel.get_by_role("alert")).to_contain_text("Rejected.")
    expect(row(carol, action["id"])).to_have_count(0)
    stored = server.action(action["id"])
    assert stored["status"] == "rejected"
    assert stored["decisions"][-1]["by"] == "carol"
    assert stored["decisions"][-1]["comment"] == "scheduled task belongs to the backup agent"


def test_self_approval_shows_its_error_and_changes_nothing(carol: Page, server: Server) -> None:
    status, mine = session_call(carol, "POST", "/api/v1/actions",
                                proposal("isolate_device", {"type": "device", "device_id": "SELF-TEST-01"}))
    assert status == 201, mine
    assert mine["created_by"] == "carol" and mine["status"] == "pending"
    # It reaches Pending on its own (live update), then carol opens it.
    expect(row(carol, mine["id"])).to_be_visible()
    row(carol, mine["id"]).click()
    panel = carol.locator("#flyout")
    panel.get_by_role("button", name="Approve", exact=True).click()
    alert = panel.get_by_role("alert")
    expect(alert).to_contain_text("You proposed this action, so someone else must approve it.")
    expect(alert).to_contain_text("carol")
    assert server.action(mine["id"])["status"] == "pending"
    expect(row(carol, mine["id"])).to_be_visible()


def test_a_decision_on_a_version_someone_changed_is_a_conflict_and_reloads(
        context: BrowserContext, page: Page, server: Server, playwright_instance: Playwright) -> None:
    # No live feed in this page, so it still shows the version it loaded
    # when alice approves elsewhere.
    context.route("**/api/v1/events/stream", lambda route: route.abort())
    sign_in(page, "carol")
    action = pending_of_kind(server, "quarantine_file")
    row(page, action["id"]).click()
    panel = page.locator("#flyout")
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_be_visible()

    alice, csrf = signed_in_request(playwright_instance, server, "alice")
    done = alice.post(f"/api/v1/actions/{action['id']}/approve", data=json.dumps({"comment": "alice was first"}),
                      headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"})
    assert done.ok, done.text()
    alice.dispose()

    with page.expect_request(f"**/api/v1/actions/{action['id']}/approve") as sent:
        panel.get_by_role("button", name="Approve", exact=True).click()
    assert sent.value.headers["if-match"] == f'"{action["version"]}"'
    assert sent.value.headers["x-csrf-token"]
    expect(panel.get_by_role("alert")).to_contain_text("Someone else changed this action first; it has been reloaded.")
    # Reloaded: alice's approval is shown, and there is nothing left to approve.
    expect(panel).to_contain_text("alice was first")
    expect(panel.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    stored = server.action(action["id"])
    assert [d["by"] for d in stored["decisions"]] == ["alice"]


def test_an_approval_sent_without_the_session_token_says_to_reload_and_changes_nothing(
    carol: Page, server: Server
) -> None:
    action = server.propose(proposal("isolate_device", {"type": "device", "device_id": "CSRF-LOST-01"}))

    def strip_token(route: Route) -> None:
        headers = {k: v for k, v in route.request.headers.items() if k.lower() != "x-csrf-token"}
        route.continue_(headers=headers)

    carol.route(f"**/api/v1/actions/{action['id']}/approve", strip_token)
    expect(row(carol, action["id"])).to_be_visible()
    row(carol, action["id"]).click()
    panel = carol.locator("#flyout")
    panel.get_by_role("button", name="Approve", exact=True).click()
    alert = panel.get_by_role("alert")
    # The request lacked the token; the analyst's permissions are not at fault.
    expect(alert).to_contain_text("reload it and try again")
    expect(alert).not_to_contain_text("permission")
    shot(carol, "flyout-session-token-lost")
    assert server.action(action["id"])["status"] == "pending"
