"""The scan queue: scans made offline wait on the device, then replay in order and book once."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import BrowserContext, Route, expect

from tests.browser.conftest import Handheld, Ledger, MoveRow, Seed, World


def applied_keys(ledger: Ledger, ids: list[str]) -> list[str]:
    """The scan ids the server has answered, in the order it answered them."""
    rows = ledger.rows(
        "SELECT key FROM idempotency_records WHERE key = ANY(:ids) ORDER BY id", ids=ids
    )
    return [row[0] for row in rows]


def test_handheld_offline_queue_replays_in_order_once(
    hh: Handheld, context: BrowserContext, world: World, seed: Seed, ledger: Ledger
) -> None:
    seed.stock("SHA", "B01", world.plain_sku, 30)
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    hh.press("start", "move", status="info", screen="move.from")
    page = hh.page

    context.set_offline(True)
    scans = ["SHA-B01", world.plain_ean, "5", "SHA-B03", "SHA-B01"]
    for value in scans:
        hh.type_scan(value)
        page.keyboard.press("Enter")
    expect(hh.waiting).to_be_visible()
    expect(hh.waiting).to_have_text("5 waiting")
    expect(hh.waiting).to_have_attribute("data-count", "5")
    expect(hh.body).to_have_attribute("data-online", "false")
    expect(page.get_by_test_id("online")).to_have_text("Offline")
    pending: list[dict[str, Any]] = page.evaluate("() => window.wmsHandheld.pending()")
    assert [entry["value"] for entry in pending] == scans
    ids = [entry["id"] for entry in pending]
    assert len(set(ids)) == 5
    hh.expect_screen("move.from")  # no answer has come back
    hh.shot("01-offline-5-waiting")
    assert ledger.moves() == []
    assert applied_keys(ledger, ids) == []

    context.set_offline(False)  # the 'online' event sends the queue at once
    expect(hh.waiting).to_be_hidden()
    page.wait_for_function("() => window.wmsHandheld.queueLength() === 0")
    expect(hh.body).to_have_attribute("data-last-scan-id", ids[-1])
    expect(hh.body).to_have_attribute("data-online", "true")
    # The fifth scan, the next source bin, was applied after the move the first four booked.
    hh.expect_outcome("ok", "move.item")
    expect(hh.result).to_have_text("From SHA-B01: scan the product")
    hh.shot("02-replayed")
    assert applied_keys(ledger, ids) == ids  # each once, in the order scanned
    assert ledger.moves() == [
        MoveRow(world.plain_sku, None, "SHA/B01", "SHA/B03", 5, "move", "", "operator")
    ]

    # An answer lost on the way back: the server booked the scan, the device never heard, so it
    # sends the same scan (same id) again and the server answers it as a duplicate.
    hh.scan(world.plain_ean, status="info", screen="move.quantity")
    hh.scan("3", status="info", screen="move.to")
    cut: list[int] = []

    def lose_first_answer(route: Route) -> None:
        if cut:
            route.continue_()
            return
        response = route.fetch()  # the server processes the scan...
        cut.append(response.status)
        route.abort("connectionreset")  # ...and its answer is lost

    page.route("**/handheld/scan", lose_first_answer)
    previous = hh.last_scan_id()
    hh.type_scan("SHA-B04")
    page.keyboard.press("Enter")
    expect(hh.body).to_have_attribute("data-online", "false")
    expect(hh.waiting).to_have_text("1 waiting")
    assert cut == [200]
    hh.expect_screen("move.to")  # still waiting for the answer
    expect(hh.body).to_have_attribute("data-last-scan-id", previous)
    booked = MoveRow(world.plain_sku, None, "SHA/B01", "SHA/B04", 3, "move", "", "operator")
    assert ledger.moves()[-1] == booked  # booked by the first, lost attempt
    (retried,) = page.evaluate("() => window.wmsHandheld.pending()")
    hh.shot("03-answer-lost")

    page.unroute("**/handheld/scan")
    assert page.evaluate("() => window.wmsHandheld.flush()") == 0  # the retry
    hh.wait_answered(previous)
    expect(hh.body).to_have_attribute("data-last-scan-id", retried["id"])
    expect(hh.result).to_have_attribute("data-duplicate", "true")
    hh.expect_outcome("ok", "move.from")
    expect(hh.result).to_have_text(f"Moved 3 x {world.plain_sku} SHA-B01 → SHA-B04")
    hh.shot("04-retried-once")

    assert ledger.moves() == [
        MoveRow(world.plain_sku, None, "SHA/B01", "SHA/B03", 5, "move", "", "operator"),
        booked,
    ]
    assert applied_keys(ledger, [retried["id"]]) == [retried["id"]]
    assert ledger.quant("SHA/B01", world.plain_sku) == 22
    assert ledger.quant("SHA/B04", world.plain_sku) == 3
    ledger.assert_consistent()
