"""The planner's delivery route pages over the ASGI app on PostgreSQL: a day planned through the
form and followed until solved, the route view (an SVG map with one polyline per vehicle used,
numbered stops, dropped stops crossed out, a scale bar) beside the timetable, dispatching with
the ETAs shown, the printable route sheet, and the fleet with its forms."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.fulfillment.delivery_support import (
    CUSTOMERS,
    DAY,
    FAST,
    HEAVY,
    delivery_day,
    eta_events,
    place_order,
    routes_picture,
)
from wms.api.app import create_app
from wms.auth.services import create_user
from wms.config import Settings
from wms.fulfillment import delivery_routes
from wms.fulfillment.delivery_views import RoutePlanView, route_plan_view

SVG = "{http://www.w3.org/2000/svg}"
PASSWORD = "route-pass-1"


@pytest.fixture
def day(pg: Database) -> list[str]:
    ids = delivery_day(pg)
    with pg.uow() as uow:
        create_user(uow, username="pat", display_name="Pat", role="planner", password=PASSWORD)
        uow.commit()
    return ids


@pytest.fixture
def planner(pg: Database, day: list[str]) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret", _env_file=None))
    with TestClient(app, raise_server_exceptions=False) as client:
        signed_in = client.post(
            "/planner/login",
            data={"username": "pat", "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        yield client


def planned(pg: Database) -> str:
    with pg.uow() as uow:
        summary = delivery_routes.plan_routes(
            uow, warehouse="SHA", on=DAY, time_limit_seconds=1, seed=3, actor="pat", parameters=FAST
        )
        uow.commit()
    return summary.id


def view(pg: Database, plan: str) -> RoutePlanView:
    with pg.uow() as uow:
        return route_plan_view(uow.session, plan)


def location_of(response: Response) -> str:
    assert response.status_code == 303, response.text[:2000]
    return response.headers["location"]


def svg_of(html: str) -> ET.Element:
    found = re.search(r'<svg[^>]*id="route-map".*?</svg>', html, re.S)
    assert found, "no route map on the page"
    return ET.fromstring(found.group(0))


def field_error(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found, f"no {testid} on the page"
    return found.group(1)


def test_route_pages_send_a_visitor_without_a_session_to_sign_in(
    pg: Database, day: list[str]
) -> None:
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret", _env_file=None))
    with TestClient(app) as client:
        for path in ("/planner/routes", "/planner/routes/RP-SHA-1", "/planner/fleet"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/planner/login?next=")


def test_a_day_planned_through_the_form_shows_its_routes_beside_the_timetable(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    listing = planner.get("/planner/routes").text
    assert 'data-testid="nav-routes"' in listing
    assert 'data-testid="route-form"' in listing
    posted = planner.post(
        "/planner/routes",
        data={"warehouse": "SHA", "date": DAY.isoformat(), "time_limit_seconds": "1"},
        follow_redirects=False,
    )
    target = location_of(posted)
    assert target == "/planner/routes/RP-SHA-20300506-1?done=routes-queued"

    deadline = time.monotonic() + 60
    html = planner.get(target).text
    while 'data-testid="progress"' in html and time.monotonic() < deadline:
        time.sleep(0.3)
        html = planner.get("/planner/routes/RP-SHA-20300506-1").text
    assert 'data-route="planned"' in html
    plan = view(pg, "RP-SHA-20300506-1")
    svg = svg_of(html)
    lines = svg.findall(f".//{SVG}polyline[@class='route-line']")
    assert sorted(p.get("data-vehicle", "") for p in lines) == sorted(t.vehicle for t in plan.trips)
    stops = svg.findall(f".//{SVG}g[@class='route-stop']")
    assert sorted(s.get("data-stop", "") for s in stops) == sorted(day)
    assert svg.find(f".//{SVG}g[@class='depot']") is not None
    assert svg.find(f".//{SVG}g[@class='scale-bar']") is not None
    for trip in plan.trips:
        # A route starts and ends at the depot and visits its stops in order in between.
        points = next(p for p in lines if p.get("data-vehicle") == trip.vehicle).get("points", "")
        assert len(points.split()) == len(trip.stops) + 2
        assert points.split()[0] == points.split()[-1]
        rows = re.findall(rf'data-testid="timetable-{trip.vehicle}".*?</table>', html, re.S)[0]
        assert re.findall(r'<tr data-stop="([^"]+)"', rows) == [
            s.fulfillment_id for s in trip.stops
        ]
    assert 'data-testid="dispatch"' in html


def test_dispatching_from_the_plan_page_shows_each_eta_and_a_second_dispatch_is_refused(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    plan = planned(pg)
    answer = planner.post(f"/planner/routes/{plan}/dispatch", follow_redirects=False)
    assert location_of(answer) == f"/planner/routes/{plan}?done=routes-dispatched"

    html = planner.get(location_of(answer)).text
    assert "Routes dispatched" in html
    shown = view(pg, plan)
    for trip in shown.trips:
        for stop in trip.stops:
            assert stop.eta is not None
            eta = field_error(html, f"eta-{stop.fulfillment_id}")
            assert eta == shown.clock(stop.eta)
    assert 'data-testid="dispatch"' not in html
    assert len(eta_events(pg)) == len(day)

    again = planner.post(f"/planner/routes/{plan}/dispatch", follow_redirects=False)
    assert again.status_code == 409
    assert "cannot go from dispatched to dispatched" in field_error(again.text, "page-error")
    assert len(eta_events(pg)) == len(day)


def test_a_dropped_stop_is_crossed_out_on_the_map_and_listed_with_its_reason(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    heavy = place_order(pg, "SHOP-HEAVY", CUSTOMERS[2], sku=HEAVY, quantity=1)
    plan = planned(pg)

    html = planner.get(f"/planner/routes/{plan}").text

    marks = svg_of(html).findall(f".//{SVG}g[@class='dropped-stop']")
    assert [m.get("data-stop") for m in marks] == [heavy]
    assert f'data-dropped="{heavy}"' in html
    assert "exceeds every vehicle" in html


def test_bad_plan_requests_are_shown_next_to_their_fields_and_nothing_is_queued(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    before = routes_picture(pg)
    bad_date = planner.post(
        "/planner/routes", data={"warehouse": "SHA", "date": "someday", "time_limit_seconds": "1"}
    )
    assert bad_date.status_code == 422
    assert "not a date" in field_error(bad_date.text, "route-date-error")
    no_time = planner.post(
        "/planner/routes",
        data={"warehouse": "SHA", "date": DAY.isoformat(), "time_limit_seconds": "0"},
    )
    assert no_time.status_code == 422
    assert "must be more than 0" in field_error(no_time.text, "route-time_limit_seconds-error")
    for code in ("VAN-1", "VAN-2"):
        planner.post(
            f"/planner/fleet/SHA/{code}",
            data={
                "name": "off",
                "capacity_weight_kg": "40",
                "shift_start": "08:00",
                "shift_end": "18:00",
                "cost_per_km": "1",
                "fixed_cost": "0",
            },
        )
    before = routes_picture(pg)
    no_fleet = planner.post(
        "/planner/routes",
        data={"warehouse": "SHA", "date": DAY.isoformat(), "time_limit_seconds": "1"},
    )
    assert no_fleet.status_code == 422
    assert "no active vehicle" in field_error(no_fleet.text, "route-warehouse-error")
    assert routes_picture(pg) == before
    assert planner.get("/planner/routes/RP-NOPE-1").status_code == 404


def test_the_printable_route_sheet_has_a_section_per_vehicle_with_its_stops(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    plan = planned(pg)
    shown = view(pg, plan)

    sheet = planner.get(f"/planner/routes/{plan}/sheet")

    assert sheet.status_code == 200
    assert 'data-testid="route-sheet-page"' in sheet.text
    for trip in shown.trips:
        section = re.findall(
            rf'<section class="vehicle" data-vehicle="{trip.vehicle}">.*?</section>',
            sheet.text,
            re.S,
        )
        assert len(section) == 1
        assert re.findall(r'<tr data-stop="([^"]+)"', section[0]) == [
            s.fulfillment_id for s in trip.stops
        ]
    pdf = planner.get(f"/planner/routes/{plan}/sheet.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_fleet_page_adds_and_edits_vehicles_and_shows_errors_by_their_fields(
    planner: TestClient, pg: Database, day: list[str]
) -> None:
    html = planner.get("/planner/fleet?warehouse=SHA").text
    assert 'data-vehicle="SHA/VAN-1"' in html
    assert 'data-testid="nav-fleet"' in html
    van = {
        "warehouse": "SHA",
        "code": "VAN-3",
        "name": "Small van",
        "capacity_weight_kg": "250",
        "capacity_volume_l": "1800",
        "shift_start": "07:00",
        "shift_end": "15:30",
        "cost_per_km": "1.80",
        "fixed_cost": "40",
    }
    empty = planner.post("/planner/fleet", data={**van, "capacity_weight_kg": "0"})
    assert empty.status_code == 422
    assert "more than 0" in field_error(empty.text, "vehicle-capacity_weight_kg-error")
    assert 'value="VAN-3"' in empty.text  # what was typed stays
    garbled = planner.post("/planner/fleet", data={**van, "capacity_volume_l": "lots"})
    assert garbled.status_code == 422
    assert "must be a number" in field_error(garbled.text, "vehicle-capacity_volume_l-error")
    late = planner.post("/planner/fleet", data={**van, "shift_end": "06:00"})
    assert late.status_code == 422
    assert "must end after it starts" in field_error(late.text, "vehicle-shift_end-error")
    assert pg.count("vehicles") == 2

    added = planner.post("/planner/fleet", data=van, follow_redirects=False)
    assert location_of(added) == "/planner/fleet?warehouse=SHA&done=vehicle-added"
    assert pg.scalar("SELECT capacity_volume_cm3 FROM vehicles WHERE code = 'VAN-3'") == 1_800_000
    edit = planner.get("/planner/fleet/SHA/VAN-3").text
    assert 'value="1800"' in edit
    saved = planner.post(
        "/planner/fleet/SHA/VAN-3",
        data={**van, "capacity_volume_l": "", "active": "on"},
        follow_redirects=False,
    )
    assert location_of(saved) == "/planner/fleet?warehouse=SHA&done=vehicle-saved"
    assert pg.scalar("SELECT capacity_volume_cm3 FROM vehicles WHERE code = 'VAN-3'") is None
    assert planner.get("/planner/fleet/SHA/NOPE").status_code == 404
