"""The pages other than decisions: investigation, export, keyboard, safety, and how each page looks."""

import csv
import io
import json
import os
import pwd
import re

from playwright.sync_api import Page, expect

from conftest import NARROW, Server, actionctl, proposal, row, session_call, shot


def visible_table(page: Page) -> tuple[list[str], list[list[str]]]:
    """The column titles and the cells of the main table, as shown (the selection column left out)."""
    table = page.locator("table.actions")
    header = [t.strip().rstrip("▲▼").strip() for t in table.locator("thead th:not(.select)").all_inner_texts()]
    rows = []
    for tr in table.locator("tbody tr.action-row").all():
        rows.append([td.strip() for td in tr.locator("td:not(.select)").all_text_contents()])
    return header, rows


def test_investigation_page_shows_its_actions_and_pending_history(carol: Page, server: Server) -> None:
    actions = server.actions(investigation_id="inv-2041")
    pending = {a["id"] for a in actions if a["status"] == "pending"}
    assert pending and len(actions) > len(pending)
    carol.goto("/#/investigations/inv-2041")
    expect(carol.get_by_role("heading", name="Investigation inv-2041", level=1)).to_be_visible()
    expect(carol.get_by_role("tab", name="Investigation inv-2041")).to_have_attribute("aria-selected", "true")
    everything = carol.locator("section[aria-labelledby='inv-all'] tr.action-row")
    expect(everything).to_have_count(len(actions))
    assert {everything.nth(i).get_attribute("data-id") for i in range(len(actions))} == {a["id"] for a in actions}
    waiting = carol.locator("section[aria-labelledby='inv-pending'] tr.action-row")
    expect(waiting).to_have_count(len(pending))
    assert {waiting.nth(i).get_attribute("data-id") for i in range(len(pending))} == pending

    history = carol.locator("section[aria-labelledby='inv-history']")
    titles = history.locator("thead th").all_inner_texts()
    assert titles == ["Action type", "Wait time", "Entity", "Status", "Handled by", "Time of decision"]
    driver = next(a for a in actions if a["kind"] == "disable_driver")
    line = history.locator(f'tr[data-id="{driver["id"]}"]')
    expect(line).to_contain_text("Rejected")
    expect(line).to_contain_text("bob")
    expect(line).to_contain_text("Driver rtkio64 on FIN-LT-042")
    for action_id in pending:
        expect(history.locator(f'tr[data-id="{action_id}"]')).to_contain_text("Pending")
    shot(carol, "investigation")

    # A row opens the flyout over the investigation.
    history.locator(f'tr[data-id="{driver["id"]}"]').click()
    expect(carol.locator("#flyout")).to_contain_text("signed Realtek driver, not malicious")
    assert carol.url.endswith(f"#/actions/{driver['id']}")


def test_the_flyout_names_the_administrator_who_proposed_and_decided_as_someone(
    carol: Page, server: Server
) -> None:
    # actionctl runs as the operating-system account, the demo's administrator.
    me = pwd.getpwuid(os.geteuid()).pw_name
    made = json.loads(actionctl(server.db, "--json", "--as", "alice", "propose", "isolate_device",
                                "--device-id", "dev-acted-as"))["action"]
    carol.goto(f"/#/actions/{made['id']}")
    panel = carol.locator("#flyout")
    created_by = panel.locator("dt", has_text="Created by").locator("xpath=following-sibling::dd[1]")
    expect(created_by).to_have_text(f"alice (via {me})")
    expect(panel.locator("ul.timeline li").first).to_contain_text(f"Approved by alice (via {me})")


def test_csv_export_equals_the_visible_cells(carol: Page, server: Server) -> None:
    # A comment a spreadsheet would run as a formula, with quotes and a comma.
    target = next(a for a in server.actions(tab="pending") if a["kind"] == "soft_delete_email")
    carol_says = '=HYPERLINK("http://evil.example","click"), really'
    status, body = session_call(carol, "POST", f"/api/v1/actions/{target['id']}/reject", {"comment": carol_says})
    assert status == 200, body

    carol.get_by_role("tab", name="History").click()
    expect(row(carol, target["id"])).to_be_visible()
    # Choose the columns: Source hidden (the choice is remembered).
    carol.get_by_role("button", name="Columns").click()
    carol.get_by_role("checkbox", name="Source").uncheck()
    carol.keyboard.press("Escape")
    expect(carol.locator("table.actions thead")).not_to_contain_text("Source")

    header, rows = visible_table(carol)
    assert "Source" not in header and len(rows) > 5
    with carol.expect_download() as info:
        carol.get_by_role("button", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename == "actioncenter-history.csv"
    text = open(download.path(), encoding="utf-8-sig", newline="").read()
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == header

    def neutral(cell: str) -> str:
        return "'" + cell if cell[:1] in ("=", "+", "-", "@") else cell

    assert parsed[1:] == [[neutral(c) for c in r] for r in rows]
    flat = [c for r in parsed[1:] for c in r]
    assert "'" + carol_says in flat
    assert '"=HYPERLINK' not in text  # the formula never starts a cell

    carol.reload()
    expect(carol.locator("table.actions thead")).not_to_contain_text("Source")


def test_keyboard_tab_to_a_row_enter_opens_the_flyout_escape_closes_it(carol: Page) -> None:
    carol.get_by_role("button", name="Export CSV").focus()
    for _ in range(40):
        carol.keyboard.press("Tab")
        if carol.evaluate("document.activeElement.matches('tr.action-row')"):
            break
    else:
        raise AssertionError("Tab never reached a row of the table")
    focused = carol.evaluate("document.activeElement.dataset.id")
    carol.keyboard.press("Enter")
    panel = carol.locator("#flyout")
    expect(panel).to_be_visible()
    assert carol.url.endswith(f"#/actions/{focused}")
    assert carol.evaluate("document.getElementById('flyout').contains(document.activeElement)")
    expect(panel).to_contain_text(focused)
    shot(carol, "flyout")
    carol.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert carol.evaluate("document.activeElement.dataset.id") == focused
    assert carol.url.endswith("#/pending")


def test_untrusted_text_is_shown_as_text(carol: Page, server: Server) -> None:
    hostile = '<img src=x id=injected onerror="window.pwned=1"><script>window.pwned=2</script>'
    # Names may not hold control characters (core refuses them); parameters may.
    made = server.propose(proposal("disable_user", {"type": "user", "user_id": "mallory"}, hostile,
                                   parameters={"note": "\x1b[31mred\x1b[0m <b>bold</b>"}))
    line = row(carol, made["id"])
    expect(line).to_contain_text("<img src=x id=injected")
    line.click()
    panel = carol.locator("#flyout")
    expect(panel).to_contain_text("<script>window.pwned=2</script>")
    expect(panel.locator("pre.json")).to_contain_text('"\\u001b[31mred\\u001b[0m <b>bold</b>"')
    assert carol.locator("#injected").count() == 0
    assert panel.locator("b").count() == 0
    assert carol.evaluate("window.pwned") is None


def test_every_page_looks_right_wide_and_narrow(carol: Page, server: Server) -> None:
    shot(carol, "pending")
    carol.get_by_role("tab", name="History").click()
    expect(carol.get_by_role("heading", name="History", level=1)).to_be_visible()
    expect(carol.locator("tr.action-row").first).to_be_visible()
    shot(carol, "history")

    carol.get_by_role("tab", name="Overview").click()
    expect(carol.get_by_role("img", name="Pending actions by age")).to_be_visible()
    for chart in ("Pending actions by action type", "Decisions per day", "Median time to decision per day"):
        expect(carol.get_by_role("img", name=chart)).to_be_visible()
    # Each bar says its value, and the figures are there as a table too.
    assert carol.locator("svg.chart rect.bar title").count() > 5
    assert carol.locator("details.chart-data table").count() == 4
    shot(carol, "overview", full_page=True)

    carol.get_by_role("tab", name="Audit").click()
    expect(carol.locator(".verdict")).to_contain_text("Intact")
    shot(carol, "audit")

    carol.get_by_role("tab", name="Policy").click()
    expect(carol.get_by_role("heading", name="Roles")).to_be_visible()
    roles = carol.get_by_role("table", name="What each role may do, per category")
    expect(roles.get_by_role("row", name="analyst")).to_contain_text("all")
    # Which sources a role may propose as (and borrow the automation of).
    automation = roles.get_by_role("row", name=re.compile(r"^automation "))
    expect(automation).to_contain_text("Antivirus, Playbook")
    expect(roles.get_by_role("row", name="analyst")).to_contain_text(
        "any source, without its automation"
    )
    # carol is no administrator: no editor.
    expect(carol.get_by_role("heading", name="Change the policy")).to_have_count(0)
    shot(carol, "policy")

    carol.set_viewport_size(NARROW)
    carol.get_by_role("tab", name="Pending").click()
    expect(carol.locator("tr.action-row").first).to_be_visible()
    # The table scrolls inside its frame; the page itself does not get wider.
    assert carol.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    wrap = carol.locator(".table-wrap").first
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth")
    shot(carol, "pending-narrow")
    carol.locator("tr.action-row").first.click()
    panel = carol.locator("#flyout")
    expect(panel).to_be_visible()
    assert abs(panel.bounding_box()["width"] - NARROW["width"]) < 2
    shot(carol, "flyout-narrow")
