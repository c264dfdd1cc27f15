"""Undo from History, with "apply to N more instances of this file"."""

from playwright.sync_api import Page, expect

from conftest import INVOICE_SHA256, Server, proposal, row, session_call, shot


def test_undo_applies_to_exactly_the_instances_the_dialog_listed(carol: Page, server: Server) -> None:
    quarantines = server.actions(kind="quarantine_file", status="completed", entity=INVOICE_SHA256)
    first = next(a for a in quarantines if a["entity"]["device_id"] == "FIN-LT-042")
    status, body = session_call(carol, "GET", f"/api/v1/actions/{first['id']}/undo")
    assert status == 200, body
    listed = body["instances"]
    others = {a["id"] for a in listed}
    assert len(others) == 3, listed

    carol.get_by_role("tab", name="History").click()
    carol.get_by_role("combobox", name="Action type").select_option("quarantine_file")
    row(carol, first["id"]).click()
    panel = carol.locator("#flyout")
    panel.get_by_role("button", name="Undo…").click()
    dialog = carol.get_by_role("dialog", name="Undo Quarantine file")
    expect(dialog).to_be_visible()
    apply = dialog.get_by_label("Apply to 3 more instances of this file")
    expect(apply).not_to_be_checked()
    items = dialog.locator(".instance-list li")
    expect(items).to_have_count(3)
    assert {items.nth(i).get_attribute("data-id") for i in range(3)} == others
    for a in listed:
        item = dialog.locator(f'.instance-list li[data-id="{a["id"]}"]')
        expect(item).to_contain_text(a["entity"]["device_id"])
        expect(item).to_contain_text("invoice.exe")
    shot(carol, "undo-dialog")

    # While the dialog is open, the same file is quarantined on a fifth
    # device: it was not listed, so the undo must leave it alone.
    late = server.propose(proposal("quarantine_file", {
        "type": "file", "sha256": INVOICE_SHA256, "path": "C:\\Users\\Public\\Downloads\\invoice.exe",
        "device_id": "LATE-LT-099"}))
    status, body = session_call(carol, "POST", f"/api/v1/actions/{late['id']}/approve", {})
    assert status == 200, body
    server.execute(late["id"])
    assert server.action(late["id"])["status"] == "completed"

    dialog.get_by_role("button", name="Undo", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("A comment is required to undo")
    apply.check()
    dialog.get_by_label("Comment (required)").fill("invoice.exe is the vendor's signed installer")
    dialog.get_by_role("button", name="Undo", exact=True).click()
    results = dialog.locator(".undo-results li")
    expect(results).to_have_count(4)
    for a in [first, *listed]:
        expect(dialog.locator(f'.undo-results li[data-id="{a["id"]}"]')).to_contain_text("Undoing")
        assert server.action(a["id"])["status"] == "undoing"
    assert server.action(late["id"])["status"] == "completed"
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    # The flyout shows the undo.
    expect(panel.locator(".flyout-summary")).to_contain_text("Undoing")


def test_undo_without_the_box_ticked_sends_no_instance(carol: Page, server: Server) -> None:
    # The demo's partner-portal block is being undone; the tracker's block is
    # not a file. Take a completed URL block: no other instances to offer.
    blocks = server.actions(kind="block_url", status="completed")
    target = blocks[0]
    carol.get_by_role("tab", name="History").click()
    carol.get_by_role("combobox", name="Action type").select_option("block_url")
    row(carol, target["id"]).click()
    carol.locator("#flyout").get_by_role("button", name="Undo…").click()
    dialog = carol.get_by_role("dialog", name="Undo Block URL")
    expect(dialog.get_by_role("checkbox")).to_have_count(0)
    dialog.get_by_label("Comment (required)").fill("domain cleared by threat intel")
    dialog.get_by_role("button", name="Undo", exact=True).click()
    expect(dialog.locator(".undo-results li")).to_have_count(1)
    assert server.action(target["id"])["status"] == "undoing"
