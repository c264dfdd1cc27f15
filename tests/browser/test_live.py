"""Live updates: what another door does shows up without a reload."""

from playwright.sync_api import Page, expect

from conftest import Server, proposal, row


def test_a_proposal_made_through_the_api_appears_on_pending_without_a_reload(carol: Page, server: Server) -> None:
    before = len(server.actions(tab="pending"))
    expect(carol.locator("#badge-pending")).to_have_text(str(before))
    carol.evaluate("window.__sameDocument = true")
    made = server.propose(proposal("isolate_device", {"type": "device", "device_id": "LIVE-WS-001"}, "live-feed"))
    assert made["status"] == "pending"
    expect(row(carol, made["id"])).to_be_visible()
    expect(row(carol, made["id"])).to_contain_text("LIVE-WS-001")
    expect(carol.locator("#announce")).to_have_text("1 new action")
    expect(carol.locator("#badge-pending")).to_have_text(str(before + 1))
    assert carol.evaluate("window.__sameDocument") is True  # no reload happened


def test_a_decision_made_elsewhere_takes_the_row_off_pending(carol: Page, server: Server) -> None:
    made = server.propose(proposal("block_url", {"type": "url", "url": "http://live-two.example/"}, "live-feed"))
    expect(row(carol, made["id"])).to_be_visible()
    server.api("POST", f"/api/v1/actions/{made['id']}/cancel", {"comment": "raised twice"})
    expect(row(carol, made["id"])).to_have_count(0)
    expect(carol.locator("#announce")).to_contain_text("change")
