"""The planner's procurement pages in Chromium on a desktop screen: a planner runs a replenishment
plan, watches it finish, reads a SKU's projected stock, edits and approves lines, orders them,
approves the purchase order and sees its expected receipt. Screenshots go to
``test-artifacts/planner/<name>.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import REPO, TIMEOUT_MS, Server, World
from tests.conftest import Database
from wms.auth.services import create_user
from wms.inventory import stock
from wms.procurement.suppliers import set_supplier_product

ARTIFACTS = REPO / "test-artifacts" / "planner"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PLANNER = ("paula", "planner-pass-1")
PLAN_TIMEOUT_MS = 180_000
HISTORY_WEEKS = 12


def _weeks_ago(weeks: int, today: date) -> datetime:
    """Wednesday noon (UTC) of the ISO week ``weeks`` before this one."""
    monday = today - timedelta(days=today.weekday())
    return datetime.combine(monday - timedelta(weeks=weeks, days=-2), time(12), tzinfo=UTC)


@pytest.fixture
def selling(pg: Database, world: World) -> str:
    """The world's supplier sells its mug (MOQ 24 in packs of 12, 14 days, cheaper from 100 and
    500); SHA sold about 30 mugs a week for 12 weeks and has 40 left; a planner exists.
    Returns the mug's SKU."""
    today = datetime.now(UTC).date()
    sku = world.plain_sku
    with pg.uow() as uow:
        create_user(
            uow,
            username=PLANNER[0],
            display_name="Paula Planner",
            role="planner",
            password=PLANNER[1],
        )
        set_supplier_product(
            uow,
            supplier=world.supplier,
            sku=sku,
            currency="CNY",
            moq=24,
            pack_multiple=12,
            lead_time_days=14,
            price_breaks=[(1, Decimal("12.50")), (100, Decimal("11.80")), (500, Decimal("11.00"))],
        )
        stock.receive(
            uow,
            sku=sku,
            quantity=30 * HISTORY_WEEKS + 40,
            warehouse="SHA",
            location="B01",
            actor="seed",
            occurred_at=_weeks_ago(HISTORY_WEEKS + 1, today),
        )
        for week in range(HISTORY_WEEKS, 0, -1):
            stock.deliver(
                uow,
                warehouse="SHA",
                lines=[stock.PickedLine(sku, 30 + 6 * (-1) ** week, "B01")],
                reference=f"SO-{week}",
                actor="seed",
                occurred_at=_weeks_ago(week, today),
            )
        uow.commit()
    return sku


@pytest.fixture
def desk(browser: Browser, server: Server) -> Iterator[Page]:
    """A desktop browser tab on the server; a JavaScript error on it fails the test."""
    context = browser.new_context(base_url=server.base_url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_planner_runs_a_plan_approves_its_lines_and_orders_them(
    desk: Page, world: World, selling: str
) -> None:
    desk.goto("/planner/plans")
    expect(desk).to_have_url(re.compile(r"/planner/login\?next="))
    desk.get_by_test_id("username").fill(PLANNER[0])
    desk.get_by_test_id("password").fill(PLANNER[1])
    desk.get_by_test_id("sign-in").click()
    expect(desk).to_have_url(re.compile(r"/planner/plans$"))

    form = desk.get_by_test_id("run-form")
    form.locator("#run-warehouse").select_option("SHA")
    form.locator("#run-horizon_weeks").fill("8")
    form.locator("#run-time_limit_seconds").fill("10")
    shot(desk, "plan-01-run-form")
    desk.get_by_test_id("run-plan").click()
    expect(desk).to_have_url(re.compile(r"/planner/plans/\d+\?done=plan-queued"))
    expect(desk.get_by_test_id("notice")).to_contain_text("queued")
    if desk.get_by_test_id("progress").count():
        shot(desk, "plan-02-progress")
    # htmx polls the progress and reloads the page when the run has finished.
    expect(desk.locator("[data-testid='run-status'] [data-run]")).to_have_text(
        "succeeded", timeout=PLAN_TIMEOUT_MS
    )
    expect(desk.get_by_test_id("progress")).to_have_count(0)
    expect(desk.locator("[data-testid='run-status'] [data-result]")).to_have_text(
        re.compile("optimal|feasible")
    )
    expect(desk.get_by_test_id("objective")).not_to_have_text("—")
    group = desk.locator(f"section.supplier-group[data-supplier='{world.supplier}']")
    expect(group).to_be_visible()
    line = group.locator(f"tr[data-sku='{selling}']").first
    expect(line).to_be_visible()
    shot(desk, "plan-03-finished")

    # A quantity off the packs is refused on its own line, keeping what was typed.
    line_id = line.get_attribute("data-line")
    quantity = desk.locator(f"#qty-{line_id}-quantity")
    proposed = quantity.input_value()
    quantity.fill("13")
    desk.get_by_test_id(f"qty-form-{line_id}").get_by_role("button", name="Save").click()
    expect(desk.get_by_test_id(f"qty-{line_id}-quantity-error")).to_contain_text("packs of 12")
    expect(desk.locator(f"#qty-{line_id}-quantity")).to_have_value("13")
    desk.locator(f"#p-{line_id}").scroll_into_view_if_needed()
    shot(desk, "plan-04-quantity-refused")

    desk.get_by_test_id(f"chart-{line_id}").click()
    chart = desk.locator("svg#series-chart")
    expect(chart).to_be_visible()
    for label in (
        "Projected stock with the plan",
        "Projected stock without the plan",
        "Safety stock",
    ):
        expect(chart.locator(f"path.series-line[data-series='{label}']")).to_have_count(1)
    expect(chart.locator("rect.series-bar").first).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 700
    shot(desk, "plan-05-sku-chart")
    desk.locator(".crumbs").get_by_role("link", name=re.compile(r"^Plan run")).click()

    expect(desk.locator(f"#qty-{line_id}-quantity")).to_have_value(proposed)
    desk.get_by_test_id(f"select-{line_id}").check()
    desk.get_by_test_id("approve-selected").click()
    expect(desk.get_by_test_id("notice")).to_have_text("Lines approved.")
    expect(desk.locator(f"#p-{line_id} [data-proposal]")).to_have_text("approved")
    shot(desk, "plan-06-approved")

    desk.get_by_test_id("order-approved").click()
    expect(desk).to_have_url(re.compile(r"/planner/purchase-orders\?run=\d+&code=PO-"))
    rows = desk.locator("[data-testid='purchase-orders'] tbody tr[data-order]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-po]")).to_have_text("draft")
    shot(desk, "plan-07-orders")

    rows.first.get_by_role("link", name=re.compile(r"^PO-")).click()
    expect(desk.get_by_test_id("po-status")).to_have_text("draft")
    expect(desk.get_by_test_id("po-lines")).to_contain_text(selling)
    desk.get_by_test_id("po-approve").click()
    expect(desk.get_by_test_id("notice")).to_contain_text("approved")
    expect(desk.get_by_test_id("po-status")).to_have_text("approved")
    receipt = desk.locator("[data-testid='po-receipts'] tr[data-receipt-code]")
    expect(receipt).to_have_count(1)
    expect(receipt).to_contain_text(re.compile(r"RC-[A-Z0-9-]+"))
    expect(receipt.locator("[data-receipt]")).to_have_text("open")
    shot(desk, "plan-08-po-approved")

    desk.get_by_test_id("nav-suppliers").click()
    desk.get_by_test_id("supplier-tabs").get_by_role("link", name="Lead times").click()
    expect(desk.locator(f"tr[data-supplier='{world.supplier}']")).to_contain_text("14.0 d")
    shot(desk, "plan-09-lead-times")
    desk.locator(f"tr[data-supplier='{world.supplier}']").get_by_role(
        "link", name=world.supplier
    ).click()
    expect(desk.get_by_test_id("supplier-products")).to_contain_text("100+: 11.80")
    desk.locator("#products").scroll_into_view_if_needed()
    shot(desk, "plan-10-supplier-products")

    desk.get_by_test_id("nav-plans").click()
    run = desk.locator("[data-testid='plan-runs'] tbody tr[data-run-id]")
    expect(run).to_have_count(1)
    expect(run.locator("[data-run]")).to_have_text("succeeded")
    expect(run).to_contain_text("1 ordered")
    shot(desk, "plan-11-plans")


def test_an_order_by_hand_names_its_bad_line_and_a_suspended_supplier_is_refused(
    desk: Page, world: World, selling: str
) -> None:
    desk.goto("/planner/purchase-orders/new")
    desk.get_by_test_id("username").fill(PLANNER[0])
    desk.get_by_test_id("password").fill(PLANNER[1])
    desk.get_by_test_id("sign-in").click()
    form = desk.get_by_test_id("new-po-form")
    form.locator("#new-po-supplier").select_option(world.supplier)
    form.locator("#new-po-warehouse").select_option("SHA")
    form.locator("#new-po-sku-0").fill(selling)
    form.locator("#new-po-quantity-0").fill("120")
    form.locator("#new-po-sku-1").fill("NO-SUCH-SKU")
    form.locator("#new-po-quantity-1").fill("5")
    desk.get_by_test_id("create-po").click()
    expect(desk.get_by_test_id("new-po-sku-1-error")).to_contain_text("NO-SUCH-SKU")
    expect(desk.locator("#new-po-quantity-0")).to_have_value("120")
    shot(desk, "po-01-bad-line")
    desk.locator("#new-po-sku-1").fill("")
    desk.locator("#new-po-quantity-1").fill("")
    desk.get_by_test_id("create-po").click()
    expect(desk.get_by_test_id("po-status")).to_have_text("draft")
    expect(desk.get_by_test_id("po-lines")).to_contain_text("11.80")

    with_status = desk.url
    suspend = desk.context.new_page()
    suspend.goto(f"/planner/suppliers/{world.supplier}")
    suspend.locator("#status-status").select_option("suspended")
    suspend.locator("#status-reason").fill("Failed the hygiene audit")
    suspend.get_by_role("button", name="Change status").click()
    expect(suspend.get_by_test_id("supplier-status")).to_contain_text("suspended")
    suspend.close()

    desk.goto(with_status)
    desk.get_by_test_id("po-approve").click()
    expect(desk.get_by_test_id("action-error")).to_contain_text("suspended")
    expect(desk.get_by_test_id("action-error")).to_contain_text("Failed the hygiene audit")
    expect(desk.get_by_test_id("po-status")).to_have_text("draft")
    expect(desk.locator("[data-testid='po-receipts'] tr[data-receipt-code]")).to_have_count(0)
    shot(desk, "po-02-suspended-refused")
