"""A transfer between warehouses on the handheld: shipped at SHA, received at CAN."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Handheld, Ledger, MoveRow, Seed, World


def test_handheld_transfer_between_warehouses(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger
) -> None:
    seed.stock("SHA", "B01", world.plain_sku, 30)
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")

    hh.press("start", "transfer_out", status="info", screen="transfer_out.destination")
    expect(hh.button("pick", "SHA")).to_have_count(0)  # not to itself
    hh.press("pick", "CAN", status="ok", screen="transfer_out.from")
    hh.scan("SHA-B01", status="ok", screen="transfer_out.item")
    hh.scan(world.plain_ean, status="info", screen="transfer_out.quantity")
    hh.scan("8", status="ok", screen="transfer_out.from")
    expect(hh.result).to_have_text(f"Added 8 x {world.plain_sku}; scan the next bin or press Ship")
    expect(hh.button("ship")).to_have_text("Ship 1 line(s)")
    hh.shot("01-lines")
    assert ledger.moves() == []

    hh.press("ship", status="ok", screen="transfer_out.shipped")
    prompt = hh.page.get_by_test_id("prompt")
    expect(prompt).to_have_text(re.compile(r"^Shipped TR-\d{8}-[0-9A-F]{6}$"))
    reference = (prompt.text_content() or "").removeprefix("Shipped ")
    expect(hh.result).to_have_text(f"Transfer {reference} shipped to CAN: in transit")
    hh.shot("02-shipped")

    assert ledger.moves() == [
        MoveRow(
            world.plain_sku, None, "SHA/B01", "TRANSIT", 8, "transfer_out", reference, "operator"
        )
    ]
    assert ledger.quant("TRANSIT", world.plain_sku) == 8
    assert ledger.level("CAN", world.plain_sku)["incoming"] == 8
    assert ledger.level("SHA", world.plain_sku)["on_hand"] == 22
    ledger.assert_consistent()

    # At CAN: the same operator changes warehouse and receives the transfer.
    hh.page.goto("/handheld/switch-warehouse")
    expect(hh.page.locator("section.screen")).to_have_attribute("data-screen", "warehouse")
    hh.choose_warehouse("CAN")
    hh.press("start", "transfer_in", status="info", screen="transfer_in.transfer")
    expect(hh.button("open", reference)).to_contain_text("from SHA")
    hh.press("open", reference, status="ok", screen="transfer_in.confirm")
    expect(hh.screen.locator("table.lines tbody tr td")).to_have_text(
        [world.plain_sku, "", "8", "0"]
    )
    hh.scan(world.plain_ean, status="ok", screen="transfer_in.confirm")  # a check, not a booking
    expect(hh.result).to_have_text(f"{world.plain_sku} is on this transfer")
    hh.shot("03-confirm")
    assert len(ledger.moves()) == 1

    hh.press("receive", status="ok", screen="transfer_in.transfer")
    expect(hh.result).to_have_text(
        f"Transfer {reference} received into receiving: put it away next"
    )
    expect(hh.screen).to_contain_text("No transfers are on their way")
    hh.shot("04-received")

    assert ledger.moves() == [
        MoveRow(
            world.plain_sku, None, "SHA/B01", "TRANSIT", 8, "transfer_out", reference, "operator"
        ),
        MoveRow(
            world.plain_sku, None, "TRANSIT", "CAN/RECV", 8, "transfer_in", reference, "operator"
        ),
    ]
    assert ledger.quant("CAN/RECV", world.plain_sku) == 8
    assert ledger.quant("TRANSIT", world.plain_sku) == 0
    assert ledger.level("CAN", world.plain_sku) == {"on_hand": 8, "incoming": 0, "available": 8}
    assert ledger.scalar("SELECT status FROM transfers") == "received"
    ledger.assert_consistent()
