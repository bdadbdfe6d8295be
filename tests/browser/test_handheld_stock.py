"""Put away and move on the handheld: suggested bins, the wrong-bin stop, overrides, lot choice."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Handheld, Ledger, MoveRow, Seed, World


def test_handheld_putaway_suggested_and_wrong_bin(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger
) -> None:
    seed.stock("SHA", "RECV", world.lot_sku, 24, lot="L1", expires_in_days=30)
    seed.stock("SHA", "RECV", world.plain_sku, 10)
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.press("start", "putaway", status="info", screen="putaway.item")
    expect(hh.screen.locator("table.lines")).to_contain_text(world.lot_sku)
    hh.shot("01-receiving")

    # The lot-tracked product by its EAN: its only lot in receiving is taken, all 24 offered.
    hh.scan(world.lot_ean, status="info", screen="putaway.quantity")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Quantity — Enter for 24")
    hh.scan("", status="info", screen="putaway.bin")
    # Nearest empty bin to the dock on the floor plan: B02 (3 m), not B01 (12 m).
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Take to SHA-B02")
    expect(hh.screen).to_contain_text("the nearest empty bin with room")
    hh.shot("02-suggested")

    hh.scan("SHA-B04", status="error", screen="putaway.bin")
    hh.expect_error(
        scanned="SHA-B04",
        expected="SHA-B02",
        next_step="Scan SHA-B02, or press Override to use SHA-B04",
    )
    expect(hh.error_box).to_contain_text("Wrong bin: scanned SHA-B04, expected SHA-B02")
    hh.shot("03-wrong-bin")
    assert ledger.moves() == []
    assert ledger.quant("SHA/RECV", world.lot_sku, "L1") == 24

    hh.scan("SHA-B02", status="ok", screen="putaway.item")
    expect(hh.result).to_have_text(f"Put 24 x {world.lot_sku} lot L1 in B02")
    hh.shot("04-put-away")
    assert ledger.moves() == [
        MoveRow(
            world.lot_sku, "L1", "SHA/RECV", "SHA/B02", 24, "putaway", "nearest_empty", "operator"
        )
    ]

    # The second product: B02 is taken now, so B03 is suggested; the operator overrides to B04.
    hh.scan(world.plain_ean, status="info", screen="putaway.quantity")
    hh.scan("", status="info", screen="putaway.bin")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Take to SHA-B03")
    expect(hh.button("override")).to_have_count(0)  # no override before a bin is scanned
    hh.scan("SHA-B04", status="error", screen="putaway.bin")
    expect(hh.button("override")).to_have_text("Override: use SHA-B04")
    hh.shot("05-override-offered")
    assert len(ledger.moves()) == 1
    hh.press("override", status="ok", screen="putaway.item")
    expect(hh.result).to_have_text(f"Put 10 x {world.plain_sku} in B04 (override)")
    expect(hh.screen).to_contain_text("Receiving is empty")
    hh.shot("06-overridden")

    assert ledger.moves() == [
        MoveRow(
            world.lot_sku, "L1", "SHA/RECV", "SHA/B02", 24, "putaway", "nearest_empty", "operator"
        ),
        MoveRow(
            world.plain_sku, None, "SHA/RECV", "SHA/B04", 10, "putaway", "override", "operator"
        ),
    ]
    assert ledger.quant("SHA/B02", world.lot_sku, "L1") == 24
    assert ledger.quant("SHA/B04", world.plain_sku) == 10
    assert ledger.quant("SHA/B03", world.plain_sku) == 0
    assert ledger.quant("SHA/RECV", world.plain_sku) == 0
    ledger.assert_consistent()


def test_handheld_move(hh: Handheld, world: World, seed: Seed, ledger: Ledger) -> None:
    seed.stock("SHA", "B01", world.plain_sku, 30)
    seed.stock("SHA", "B01", world.lot_sku, 5, lot="L1", expires_in_days=20)
    seed.stock("SHA", "B01", world.lot_sku, 7, lot="L2", expires_in_days=40)
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.press("start", "move", status="info", screen="move.from")

    hh.scan("SHA-B01", status="ok", screen="move.item")
    hh.scan(world.plain_ean, status="info", screen="move.quantity")
    expect(hh.screen.locator(".hint")).to_have_text("30 here")
    hh.scan("31", status="error", screen="move.quantity")  # more than the bin holds
    expect(hh.error_box).to_contain_text("Entered 31: only 30 in SHA-B01")
    hh.scan("12", status="info", screen="move.to")
    hh.shot("01-destination")
    assert ledger.moves() == []
    hh.scan("SHA-B03", status="ok", screen="move.from")
    expect(hh.result).to_have_text(f"Moved 12 x {world.plain_sku} SHA-B01 → SHA-B03")
    hh.shot("02-moved")

    # Two lots of the product in the bin: the handheld asks which one, by a tap.
    hh.scan("SHA-B01", status="ok", screen="move.item")
    hh.scan(world.lot_ean, status="info", screen="move.lot")
    expect(hh.button("lot", "L1")).to_contain_text("5 here")
    expect(hh.button("lot", "L2")).to_contain_text("7 here")
    hh.shot("03-choose-lot")
    hh.press("lot", "L2", status="info", screen="move.quantity")
    hh.scan("7", status="info", screen="move.to")
    hh.scan("SHA-B04", status="ok", screen="move.from")

    assert ledger.moves() == [
        MoveRow(world.plain_sku, None, "SHA/B01", "SHA/B03", 12, "move", "", "operator"),
        MoveRow(world.lot_sku, "L2", "SHA/B01", "SHA/B04", 7, "move", "", "operator"),
    ]
    assert ledger.quant("SHA/B01", world.plain_sku) == 18
    assert ledger.quant("SHA/B03", world.plain_sku) == 12
    assert ledger.quant("SHA/B01", world.lot_sku, "L1") == 5
    assert ledger.quant("SHA/B01", world.lot_sku, "L2") == 0
    assert ledger.quant("SHA/B04", world.lot_sku, "L2") == 7
    assert ledger.level("SHA", world.plain_sku)["on_hand"] == 30  # a move inside SHA
    ledger.assert_consistent()
