"""The planner's quality pages in Chromium on a desktop screen: a planner signs in, opens a
supplier and reads the OC curves of the plans its lots face. Screenshots go to
``test-artifacts/planner/<test>-<step>.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import REPO, TIMEOUT_MS, Server, World
from tests.conftest import Database
from wms.auth.services import create_user
from wms.inventory import receipts
from wms.quality import inbound, inspections, specs, suppliers

ARTIFACTS = REPO / "test-artifacts" / "planner"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PLANNER = ("paula", "planner-pass-1")


@pytest.fixture
def inspected(pg: Database, world: World) -> str:
    """The world's supplier delivered 800 mugs under inspection, accepted; a planner exists.
    Returns the inspection's code."""
    today = date.today()  # noqa: DTZ011 - calendar days
    with pg.uow() as uow:
        create_user(
            uow,
            username=PLANNER[0],
            display_name="Paula Planner",
            role="planner",
            password=PLANNER[1],
        )
        specs.set_spec(
            uow, actor="qa", sku=world.plain_sku, supplier=world.supplier, major_aql="0.65"
        )
        suppliers.add_certificate(
            uow,
            supplier=world.supplier,
            type="ISO 9001",
            number="CN-9001-1",
            valid_until=today + timedelta(days=12),
            actor="qa",
        )
        receipt = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier=world.supplier,
            expected_date=today,
            lines=[receipts.ReceiptLineRequest(world.plain_sku, 800)],
            actor="qa",
        )
        uow.commit()
    with pg.uow() as uow:
        booking = inbound.receive_line(
            uow, receipt=receipt.code, sku=world.plain_sku, quantity=800, actor="qa"
        )
        uow.commit()
    assert booking.inspection is not None
    with pg.uow() as uow:
        inspections.decide(uow, inspection=booking.inspection, actor="qa")
        uow.commit()
    return booking.inspection


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


def test_a_planner_reads_the_oc_curves_of_a_suppliers_plans(
    desk: Page, world: World, inspected: str
) -> None:
    desk.goto("/planner/suppliers")
    expect(desk).to_have_url(re.compile(r"/planner/login\?next="))
    shot(desk, "oc-01-sign-in")
    desk.get_by_test_id("username").fill(PLANNER[0])
    desk.get_by_test_id("password").fill(PLANNER[1])
    desk.get_by_test_id("sign-in").click()

    expect(desk).to_have_url(re.compile(r"/planner/suppliers$"))
    expect(desk.get_by_test_id("user-name")).to_have_text("Paula Planner")
    row = desk.locator(f"tr[data-supplier='{world.supplier}']")
    expect(row.locator("[data-status]")).to_have_text("approved")
    expect(desk.get_by_test_id("expiring-banner")).to_contain_text("CN-9001-1")
    shot(desk, "oc-02-suppliers")

    row.get_by_role("link", name=world.supplier).click()
    chart = desk.locator("svg#oc-plans-in-use")
    expect(chart).to_be_visible()
    expect(chart.locator("path.series-line")).to_have_count(2)
    legend = chart.locator("g.legend-item")
    expect(legend).to_have_count(2)
    expect(legend.nth(0)).to_be_visible()
    expect(legend.nth(0)).to_contain_text(f"{world.plain_sku} major · AQL 0.65")
    expect(legend.nth(1)).to_contain_text(f"{world.plain_sku} minor · AQL 4.0")
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 700  # drawn across the page, not squeezed
    expect(desk.get_by_role("link", name=inspected)).to_be_visible()
    chart.scroll_into_view_if_needed()
    shot(desk, "oc-03-supplier")

    desk.get_by_test_id("nav-oc-curves").click()
    desk.locator("#oc-lot_size").fill("800")
    desk.locator("#oc-aql").fill("0.3")
    desk.get_by_role("button", name="Show the plan").click()
    expect(desk.get_by_test_id("oc-aql-error")).to_contain_text("AQL 0.3 is not in the")
    shot(desk, "oc-04-tool-error")
    desk.locator("#oc-aql").fill("0.65")
    desk.get_by_role("button", name="Show the plan").click()
    expect(desk.get_by_test_id("code-letter")).to_have_text("J")
    expect(desk.locator("svg#oc-tool path.series-line")).to_have_count(1)
    shot(desk, "oc-05-tool")


def sign_in(page: Page) -> None:
    page.goto("/planner/login")
    page.get_by_test_id("username").fill(PLANNER[0])
    page.get_by_test_id("password").fill(PLANNER[1])
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("user-name")).to_have_text("Paula Planner")


def test_a_planner_pulls_a_product_from_sale_and_relists_it(
    desk: Page, world: World, inspected: str
) -> None:
    sign_in(desk)
    desk.get_by_test_id("nav-delisting").click()
    form = desk.get_by_test_id("delist-form")
    form.locator("#delist-sku").fill(world.lot_sku)
    form.locator("#delist-reason").fill("Customers report sour milk from one batch")
    form.locator("#delist-action").fill("Supplier checks the cold chain of the batch")
    form.locator("#delist-owner").fill("paula")
    form.locator("#delist-due_date").fill("2001-01-01")
    form.get_by_role("button", name="Pull from sale").click()
    expect(desk.get_by_test_id("delist-due_date-error")).to_contain_text("in the past")
    expect(desk.locator("#delist-owner")).to_have_value("paula")  # what was typed stays
    shot(desk, "delist-01-error")

    due = date.today() + timedelta(days=7)  # noqa: DTZ011
    desk.locator("#delist-due_date").fill(due.isoformat())
    desk.get_by_role("button", name="Pull from sale").click()
    expect(desk.get_by_test_id("notice")).to_contain_text("pulled from sale")
    row = desk.locator(f"tr[data-sku='{world.lot_sku}']")
    expect(row).to_contain_text("sour milk")
    shot(desk, "delist-02-blocks")

    row.get_by_role("link", name=re.compile(r"NCR-")).click()
    expect(desk.get_by_test_id("ncr-status")).to_have_text("open")
    close = desk.locator("form[data-testid^='close-']")
    close.locator("textarea").fill("Cold chain fixed; a sample of the next lot tested fine")
    shot(desk, "delist-03-ncr")
    close.get_by_role("button", name="Close action").click()
    expect(desk.get_by_test_id("ncr-status")).to_have_text("closed")
    shot(desk, "delist-04-closed")
    desk.get_by_test_id("nav-delisting").click()
    expect(desk.locator(f"tr[data-sku='{world.lot_sku}']")).to_have_count(0)

    desk.get_by_test_id("nav-inspections").click()
    desk.get_by_role("link", name=inspected).click()
    expect(desk.get_by_test_id("verdict")).to_contain_text("accepted")
    shot(desk, "delist-05-inspection")
