"""Delivery routes in Chromium on a desktop screen: a planner plans a warehouse's day, watches it
solve, reads the route view (an SVG map with one polyline per vehicle used, beside the
timetable), dispatches it and sees the ETAs, then opens the printable route sheet. Screenshots
go to ``test-artifacts/planner/routes-<step>.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.browser.conftest import REPO, TIMEOUT_MS, Server, World
from tests.conftest import Database
from tests.integration.fulfillment.delivery_support import DAY, delivery_day, eta_events
from wms.auth.services import create_user
from wms.fulfillment.delivery_views import route_plan_view

ARTIFACTS = REPO / "test-artifacts" / "planner"
DESKTOP: ViewportSize = {"width": 1440, "height": 960}
PLANNER = ("rosa", "routes-pass-1")
SOLVE_TIMEOUT_MS = 60_000


@pytest.fixture
def day(pg: Database, world: World) -> list[str]:
    """The world's SHA with ten parcels to deliver around Shanghai and two vans; a planner."""
    ids = delivery_day(pg, new_warehouse=False)
    with pg.uow() as uow:
        create_user(
            uow,
            username=PLANNER[0],
            display_name="Rosa Router",
            role="planner",
            password=PLANNER[1],
        )
        uow.commit()
    return ids


@pytest.fixture
def desk(browser: Browser, server: Server) -> Iterator[Page]:
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
    path = ARTIFACTS / f"routes-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_a_planner_routes_a_day_dispatches_it_and_sees_the_etas(
    desk: Page, pg: Database, day: list[str]
) -> None:
    desk.goto("/planner/routes")
    expect(desk).to_have_url(re.compile(r"/planner/login\?next="))
    desk.get_by_test_id("username").fill(PLANNER[0])
    desk.get_by_test_id("password").fill(PLANNER[1])
    desk.get_by_test_id("sign-in").click()
    expect(desk).to_have_url(re.compile(r"/planner/routes$"))

    form = desk.get_by_test_id("route-form")
    form.locator("#route-warehouse").select_option("SHA")
    form.locator("#route-date").fill(DAY.isoformat())
    form.locator("#route-time_limit_seconds").fill("1")
    shot(desk, "01-form")
    desk.get_by_test_id("plan-routes").click()
    expect(desk).to_have_url(re.compile(r"/planner/routes/RP-SHA-20300506-1\?done=routes-queued"))
    # htmx polls the progress and reloads the page once the plan is solved.
    expect(desk.locator("[data-testid='plan-status'] [data-route]")).to_have_text(
        "planned", timeout=SOLVE_TIMEOUT_MS
    )
    with pg.uow() as uow:
        plan = route_plan_view(uow.session, "RP-SHA-20300506-1")
    assert plan.trips

    route_map = desk.locator("svg#route-map")
    expect(route_map).to_be_visible()
    expect(route_map.locator("polyline.route-line")).to_have_count(len(plan.trips))
    for trip in plan.trips:
        expect(
            route_map.locator(f"polyline.route-line[data-vehicle='{trip.vehicle}']")
        ).to_have_count(1)
        table = desk.get_by_test_id(f"timetable-{trip.vehicle}")
        expect(table).to_be_visible()
        expect(table.locator("tbody tr")).to_have_count(len(trip.stops))
    expect(route_map.locator("g.route-stop")).to_have_count(len(day))
    expect(route_map.locator("g.scale-bar")).to_be_visible()
    box = route_map.bounding_box()
    timetable = desk.get_by_test_id("timetable").bounding_box()
    assert box is not None
    assert timetable is not None
    assert box["width"] > 400
    assert timetable["x"] >= box["x"] + box["width"] - 1  # beside the map, not under it
    first = plan.trips[0].stops[0]
    expect(desk.get_by_test_id(f"eta-{first.fulfillment_id}")).to_have_text("—")
    shot(desk, "02-planned")

    desk.get_by_test_id("dispatch").click()
    expect(desk.get_by_test_id("notice")).to_contain_text("Routes dispatched")
    expect(desk.locator("[data-testid='plan-status'] [data-route]")).to_have_text("dispatched")
    for trip in plan.trips:
        for stop in trip.stops:
            expect(desk.get_by_test_id(f"eta-{stop.fulfillment_id}")).to_have_text(
                plan.clock(stop.service_start_at)
            )
    expect(desk.get_by_test_id("dispatch")).to_have_count(0)
    assert len(eta_events(pg)) == len(day)
    shot(desk, "03-dispatched")

    with desk.context.expect_page() as opened:
        desk.get_by_test_id("route-sheet").click()
    sheet = opened.value
    expect(sheet.get_by_test_id("route-sheet-page")).to_be_visible()
    expect(sheet.locator("section.vehicle")).to_have_count(len(plan.trips))
    expect(sheet.locator("tr[data-stop]")).to_have_count(len(day))
    sheet.screenshot(path=str(ARTIFACTS / "routes-04-sheet.png"), full_page=True)
