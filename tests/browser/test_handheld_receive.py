"""Receiving on the handheld: GS1 scans, plain EANs, closing short, over-receipts and bad scans."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from tests.browser.conftest import Handheld, Ledger, MoveRow, Seed, World

GS = "\x1d"
LOT = "L2405A"
EXPIRY = date(2030, 6, 30)


def gs1(gtin: str, *, lot: str, expiry: date, count: int) -> str:
    """A GS1-128 element string as a scanner sends it: (01)(10)<GS>(17)(30)."""
    return f"01{gtin}10{lot}{GS}17{expiry:%y%m%d}30{count}"


def test_handheld_login_and_receive(hh: Handheld, world: World, seed: Seed, ledger: Ledger) -> None:
    code = seed.receipt("SHA", world.supplier, {world.lot_sku: 24, world.plain_sku: 12})
    assert ledger.level("SHA", world.plain_sku)["incoming"] == 12

    hh.sign_in(world.operator)
    hh.shot("01-warehouses")
    hh.choose_warehouse("SHA")
    expect(hh.page.get_by_test_id("user-name")).to_have_text(world.operator.display_name)
    hh.shot("02-menu")

    hh.press("start", "receive", status="info", screen="receive.receipt")
    expect(hh.button("open", code)).to_be_visible()  # the expected receipt is offered
    hh.scan(code, status="ok", screen="receive.product")
    expect(hh.screen).to_contain_text(f"Receive {code}")
    hh.shot("03-receipt-open")

    # GS1-128: GTIN, lot, <GS>, expiry and count; the count is offered as the quantity.
    hh.scan(
        gs1(world.lot_gtin, lot=LOT, expiry=EXPIRY, count=24),
        status="info",
        screen="receive.quantity",
    )
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Quantity — Enter for 24")
    expect(hh.screen.locator(".context")).to_contain_text(LOT)
    expect(hh.screen.locator(".context")).to_contain_text(EXPIRY.isoformat())
    hh.shot("04-gs1-quantity")
    assert ledger.moves() == []  # nothing is booked before the quantity is confirmed
    hh.scan("", status="ok", screen="receive.product")  # Enter alone takes the offered 24
    expect(hh.result).to_contain_text(f"Received 24 x {world.lot_sku} lot {LOT} into RECV")
    expect(hh.page.get_by_test_id("ok-box")).to_contain_text("24/24")

    # The plain product by its EAN-13, with a typed quantity short of the 12 expected.
    hh.scan(world.plain_ean, status="info", screen="receive.quantity")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Enter the quantity")
    hh.scan("10", status="ok", screen="receive.product")
    expect(hh.result).to_contain_text(f"Received 10 x {world.plain_sku} into RECV: 10/12")
    hh.shot("05-received")
    assert ledger.level("SHA", world.plain_sku)["incoming"] == 2
    assert ledger.level("SHA", world.lot_sku)["incoming"] == 0

    hh.press("close", status="info", screen="receive.confirm_close")
    hh.shot("06-confirm-close")
    hh.press("confirm_close", status="ok", screen="receive.closed")
    expect(hh.result).to_have_text(f"Receipt {code} closed: 1 short, 0 over")
    expect(hh.screen.locator(".context")).to_contain_text(f"{world.plain_sku} -2")
    hh.shot("07-closed")

    assert ledger.moves() == [
        MoveRow(world.lot_sku, LOT, "SUPPLIER", "SHA/RECV", 24, "receipt", code, "operator"),
        MoveRow(world.plain_sku, None, "SUPPLIER", "SHA/RECV", 10, "receipt", code, "operator"),
    ]
    assert ledger.lot_expiry(world.lot_sku, LOT) == EXPIRY
    assert ledger.quant("SHA/RECV", world.lot_sku, LOT) == 24
    assert ledger.quant("SHA/RECV", world.plain_sku) == 10
    assert ledger.level("SHA", world.lot_sku) == {"on_hand": 24, "incoming": 0, "available": 24}
    assert ledger.level("SHA", world.plain_sku) == {"on_hand": 10, "incoming": 0, "available": 10}
    assert ledger.scalar("SELECT status FROM receipts WHERE code = :c", c=code) == "closed"
    ledger.assert_consistent()


def test_handheld_over_receipt_needs_supervisor(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger
) -> None:
    code = seed.receipt("SHA", world.supplier, {world.plain_sku: 10}, tolerance_pct=10)
    hh.sign_in_with_badge(world.operator)
    hh.choose_warehouse("SHA")
    hh.scan(code, status="ok", screen="receive.product")  # a receipt scanned on the menu opens it
    hh.scan(world.plain_ean, status="info", screen="receive.quantity")

    hh.scan("15", status="error", screen="receive.supervisor")  # 10 expected, at most 11
    hh.expect_error(
        scanned="15",
        expected="at most 11 more",
        next_step="A supervisor scans their badge to approve, or press Cancel",
    )
    expect(hh.error_box).to_contain_text("Over tolerance")
    expect(hh.page.get_by_test_id("prompt")).to_have_text("Supervisor: scan your badge to approve")
    hh.shot("01-over-tolerance")
    assert ledger.moves() == []

    # The operator's own badge does not approve anything.
    hh.scan(world.operator.badge, status="error", screen="receive.supervisor")
    hh.expect_error(
        scanned="(a badge; not shown)",
        expected="a supervisor's badge",
        next_step="Call a supervisor to scan their badge, or press Cancel",
    )
    expect(hh.error_box).to_contain_text(f"{world.operator.display_name} is not a supervisor")
    hh.shot("02-wrong-badge")
    # A badge is a credential: neither shown back nor kept in the stored answer.
    assert world.operator.badge not in hh.page.locator("body").inner_text()
    stored = ledger.scalar(
        "SELECT string_agg(CAST(response AS text), ' ') FROM idempotency_records"
    )
    assert "not a supervisor" in stored
    assert world.operator.badge not in stored
    assert ledger.moves() == []
    assert ledger.level("SHA", world.plain_sku)["incoming"] == 10

    hh.scan(world.supervisor.badge, status="ok", screen="receive.product")
    expect(hh.result).to_have_text(
        f"Received 15 x {world.plain_sku} into RECV (approved by supervisor): 15/10"
    )
    expect(hh.screen.locator("table.lines tr.over")).to_contain_text("15")
    hh.shot("03-approved")

    assert ledger.moves() == [
        MoveRow(world.plain_sku, None, "SUPPLIER", "SHA/RECV", 15, "receipt", code, "operator")
    ]
    assert ledger.level("SHA", world.plain_sku) == {"on_hand": 15, "incoming": 0, "available": 15}
    assert (
        ledger.scalar("SELECT over_approved_by FROM receipt_lines WHERE received_quantity = 15")
        == "supervisor"
    )
    ledger.assert_consistent()


def test_handheld_bad_scans_change_nothing(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger
) -> None:
    code = seed.receipt("SHA", world.supplier, {world.lot_sku: 24})
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.press("start", "receive", status="info", screen="receive.receipt")

    hh.scan("RC-NOPE-1", status="error", screen="receive.receipt")
    hh.expect_error(
        scanned="RC-NOPE-1",
        expected="an open receipt of SHA",
        next_step="Scan the receipt's barcode, or tap it in the list",
    )
    expect(hh.error_box).to_contain_text("RC-NOPE-1: no receipt has this barcode")
    hh.shot("01-unknown-receipt")

    hh.scan(code, status="ok", screen="receive.product")
    hh.scan("NO-SUCH-THING", status="error", screen="receive.product")
    hh.expect_error(
        scanned="NO-SUCH-THING",
        expected=f"a product on {code}: {world.lot_sku}",
        next_step="Scan a product from the list",
    )
    expect(hh.error_box).to_contain_text("no product has this barcode")
    hh.shot("02-unknown-barcode")

    hh.scan(world.plain_ean, status="error", screen="receive.product")
    hh.expect_error(
        scanned=world.plain_ean,
        expected=f"a product on {code}: {world.lot_sku}",
        next_step="set aside goods that are not on it",
    )
    expect(hh.error_box).to_contain_text(
        f"Scanned {world.plain_sku} (Ceramic mug 350 ml): not on receipt {code}; "
        f"expected {world.lot_sku}"
    )
    hh.shot("03-not-on-receipt")

    # A GS1 string with a lot for a product that has no lots (GS sent as the character itself).
    with_lot = f"01{world.plain_gtin}10X1{GS}305"
    hh.scan(with_lot, status="error", screen="receive.product", gs="insert")
    hh.expect_error(
        scanned=with_lot.replace(GS, "<GS>"),
        expected=f"a product on {code}: {world.lot_sku}",
        next_step="Scan a product from the list",
    )
    expect(hh.error_box).to_contain_text(
        f"{world.plain_sku} is not lot-tracked, but the barcode carries a lot"
    )

    # A lot-tracked product by its plain EAN: not an error, the handheld asks for the lot.
    hh.scan(world.lot_ean, status="info", screen="receive.lot")
    expect(hh.result).to_have_text(f"{world.lot_sku} is lot-tracked: scan or type the lot")
    hh.scan("LOT-B", status="info", screen="receive.expiry")  # a new lot of a dated product
    hh.scan("2030-02-31", status="error", screen="receive.expiry")
    hh.expect_error(
        scanned="2030-02-31",
        expected="Enter the expiry date",
        next_step="Type it again and press Enter",
    )
    hh.scan("300215", status="info", screen="receive.quantity")
    expect(hh.screen.locator(".context")).to_contain_text("2030-02-15")

    hh.scan("abc", status="error", screen="receive.quantity")
    hh.expect_error(
        scanned="abc", expected="Enter the quantity", next_step="Type it again and press Enter"
    )
    expect(hh.error_box).to_contain_text("Entered abc: a quantity is a whole number")
    hh.shot("04-bad-quantity")
    hh.scan("0", status="error", screen="receive.quantity")
    expect(hh.error_box).to_contain_text("the quantity must be more than 0")
    # Enter alone with no quantity offered is refused too.
    hh.scan("", status="error", screen="receive.quantity")
    hh.expect_error(
        scanned="(empty)", expected="Enter the quantity", next_step="Type it again and press Enter"
    )
    expect(hh.error_box).to_contain_text("Entered nothing: type the quantity")

    hh.press("cancel_line", status="info", screen="receive.product")
    hh.shot("05-line-cancelled")

    assert ledger.moves() == []
    assert ledger.scalar("SELECT count(*) FROM lots") == 0
    assert ledger.scalar("SELECT status FROM receipts WHERE code = :c", c=code) == "open"
    assert ledger.scalar("SELECT received_quantity FROM receipt_lines") == 0
    assert ledger.level("SHA", world.lot_sku) == {"on_hand": 0, "incoming": 24, "available": 0}
    assert ledger.scalar("SELECT count(*) FROM quants") == 0
    ledger.assert_consistent()
