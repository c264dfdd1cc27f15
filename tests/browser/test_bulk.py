"""Bulk decisions on Pending: one action type at a time, one result per row."""

from playwright.sync_api import Page, expect

from conftest import Server, proposal, row


def check(page: Page, action_id: str) -> None:
    row(page, action_id).get_by_role("checkbox").check()


def test_bulk_approve_of_one_action_type_shows_a_result_per_row(carol: Page, server: Server) -> None:
    urls = ["http://bulk-one.example/login", "http://bulk-two.example/pay"]
    made = [server.propose(proposal("block_url", {"type": "url", "url": u}, "phishing-response")) for u in urls]
    for a in made:
        expect(row(carol, a["id"])).to_be_visible()  # live, no reload
        check(carol, a["id"])
    bar = carol.get_by_role("group", name="Decide on the selected actions")
    expect(bar).to_contain_text("2 actions selected")
    approve = bar.get_by_role("button", name="Approve selected")
    expect(approve).to_be_enabled()
    bar.get_by_label("Comment").fill("phishing domains, confirmed")
    approve.click()
    results = carol.locator(".bulk-results li")
    expect(results).to_have_count(2)
    for a in made:
        line = carol.locator(f'.bulk-results li[data-id="{a["id"]}"]')
        expect(line).to_contain_text("Approved")
        expect(line).to_have_class("result-ok")
        expect(row(carol, a["id"])).to_have_count(0)
        stored = server.action(a["id"])
        assert stored["status"] == "approved"
        assert stored["decisions"][0]["by"] == "carol"
        assert stored["decisions"][0]["comment"] == "phishing domains, confirmed"


def test_bulk_refuses_actions_of_mixed_types(carol: Page, server: Server) -> None:
    pending = server.actions(tab="pending")
    quarantine = next(a for a in pending if a["kind"] == "quarantine_file")
    disable = next(a for a in pending if a["kind"] == "disable_user")
    check(carol, quarantine["id"])
    check(carol, disable["id"])
    bar = carol.get_by_role("group", name="Decide on the selected actions")
    expect(bar).to_contain_text("Select actions of one action type")
    expect(bar.get_by_role("button", name="Approve selected")).to_be_disabled()
    expect(bar.get_by_role("button", name="Reject selected")).to_be_disabled()
    # One type again: the buttons come back.
    row(carol, disable["id"]).get_by_role("checkbox").uncheck()
    expect(bar.get_by_role("button", name="Approve selected")).to_be_enabled()
    assert server.action(quarantine["id"])["status"] == "pending"
    assert server.action(disable["id"])["status"] == "pending"


def test_bulk_reject_needs_a_comment(carol: Page, server: Server) -> None:
    a = server.propose(proposal("block_url", {"type": "url", "url": "http://bulk-three.example/"}, "phishing-response"))
    expect(row(carol, a["id"])).to_be_visible()
    check(carol, a["id"])
    bar = carol.get_by_role("group", name="Decide on the selected actions")
    bar.get_by_role("button", name="Reject selected").click()
    expect(carol.locator(".bulk-alert")).to_contain_text("A comment is required to reject")
    assert server.action(a["id"])["status"] == "pending"
