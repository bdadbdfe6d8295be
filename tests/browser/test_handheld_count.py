"""Cycle counting on the handheld: blind counts, a recount, a supervisor's approval."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import Handheld, Ledger, MoveRow, Seed, World

SYSTEM_QUANTITY = 20


def assert_blind(hh: Handheld) -> None:
    """Nothing on a counter's screen gives away what the system expects in the bin."""
    text = hh.page.locator("body").inner_text()
    assert not re.search(rf"(?<![\d-]){SYSTEM_QUANTITY}(?!\d)", text), text
    assert "System" not in text, text


def test_handheld_blind_count_with_variance_needs_approval(
    hh: Handheld, world: World, seed: Seed, ledger: Ledger
) -> None:
    seed.stock("SHA", "B01", world.plain_sku, SYSTEM_QUANTITY)
    task = seed.count_task("SHA", "B01")
    hh.sign_in(world.operator)
    hh.choose_warehouse("SHA")
    expect(hh.button("start", "count")).to_be_visible()
    expect(hh.button("start", "approvals")).to_have_count(0)  # for supervisors only
    hh.press("start", "count", status="info", screen="count.task")
    expect(hh.button("open", task)).to_contain_text("SHA-B01")
    assert_blind(hh)
    hh.shot("01-tasks")

    hh.scan("SHA-B01", status="ok", screen="count.count")  # the bin's barcode opens its task
    assert_blind(hh)
    hh.scan(world.plain_ean, status="info", screen="count.quantity")
    assert_blind(hh)
    hh.scan("12", status="ok", screen="count.count")
    expect(hh.screen.locator("table.lines")).to_contain_text("12")
    assert_blind(hh)
    hh.shot("02-counted")

    hh.press("done", status="error", screen="count.count")  # 8 short: count again, blind
    expect(hh.error_box).to_contain_text("Large difference in SHA-B01: count the bin again")
    expect(hh.screen.locator("table.lines")).to_have_count(0)  # the first count is not shown
    assert_blind(hh)
    hh.shot("03-recount")

    hh.scan(world.plain_ean, status="info", screen="count.quantity")
    hh.scan("12", status="ok", screen="count.count")
    assert_blind(hh)
    hh.press("done", status="info", screen="count.task")
    expect(hh.result).to_have_text(f"Count {task} sent to a supervisor for approval")
    assert_blind(hh)
    hh.shot("04-sent-for-approval")

    assert ledger.moves() == []  # nothing is posted before a supervisor decides
    assert ledger.quant("SHA/B01", world.plain_sku) == SYSTEM_QUANTITY
    assert ledger.scalar("SELECT status FROM count_tasks") == "pending_approval"

    hh.sign_out()
    hh.sign_in_with_badge(world.supervisor)
    hh.choose_warehouse("SHA")
    hh.press("start", "approvals", status="info", screen="approvals.list")
    expect(hh.button("open", task)).to_contain_text("counted by operator")
    hh.press("open", task, status="info", screen="approvals.review")
    row = hh.screen.locator("table.lines tbody tr")
    expect(row).to_have_count(1)
    expect(hh.screen.locator("table.lines thead")).to_contain_text("System")
    expect(row.locator("td")).to_have_text([world.plain_sku, "", "20", "12", "-8"])
    hh.shot("05-review")
    hh.press("approve", status="ok", screen="approvals.list")
    expect(hh.result).to_have_text(f"Count {task} approved and posted")
    expect(hh.screen).to_contain_text("Nothing is waiting")
    hh.shot("06-approved")

    assert ledger.moves() == [
        MoveRow(
            world.plain_sku, None, "SHA/B01", "ADJUSTMENT", 8, "cycle_count", task, "supervisor"
        )
    ]
    assert ledger.quant("SHA/B01", world.plain_sku) == 12
    assert ledger.level("SHA", world.plain_sku)["on_hand"] == 12
    assert ledger.scalar("SELECT status FROM count_tasks") == "posted"
    ledger.assert_consistent()
