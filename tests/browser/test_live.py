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


def test_pages_of_25_go_forward_and_back_by_cursor(carol: Page, server: Server) -> None:
    for i in range(30):
        server.propose(proposal("block_url", {"type": "url", "url": f"http://paging-{i:02d}.example/"}, "paging"))
    total = len(server.actions(tab="pending"))
    assert total > 25
    carol.reload()
    carol.get_by_role("combobox", name="Page size").select_option("25")
    rows = carol.locator("tr.action-row")
    expect(rows).to_have_count(25)
    first_page = [rows.nth(i).get_attribute("data-id") for i in range(25)]
    pager = carol.get_by_role("navigation", name="Pending actions pages")
    expect(pager.get_by_role("button", name="Previous page")).to_be_disabled()
    with carol.expect_request(lambda r: "/api/v1/actions?" in r.url and "cursor=" in r.url) as sent:
        pager.get_by_role("button", name="Next page").click()
    assert "limit=25" in sent.value.url
    expect(rows).to_have_count(total - 25)
    second_page = {rows.nth(i).get_attribute("data-id") for i in range(total - 25)}
    assert not second_page & set(first_page)
    expect(pager).to_contain_text(f"26–{total}")
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()
    pager.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(25)
    assert [rows.nth(i).get_attribute("data-id") for i in range(25)] == first_page


def test_a_header_sorts_its_column_and_says_so(carol: Page) -> None:
    header = carol.locator("table.actions thead th", has=carol.get_by_role("button", name="Action type"))
    created = carol.locator("table.actions thead th", has=carol.get_by_role("button", name="Created"))
    expect(created).to_have_attribute("aria-sort", "descending")
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(created).not_to_have_attribute("aria-sort", "descending")
    kinds = carol.locator("tr.action-row td:nth-child(4)").all_text_contents()
    assert kinds == sorted(kinds, key=str.lower)
    header.get_by_role("button").click()
    expect(header).to_have_attribute("aria-sort", "descending")
    kinds = carol.locator("tr.action-row td:nth-child(4)").all_text_contents()
    assert kinds == sorted(kinds, key=str.lower, reverse=True)
