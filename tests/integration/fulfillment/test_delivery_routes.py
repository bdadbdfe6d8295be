"""Delivery routes on PostgreSQL: a warehouse's day of fulfilments is routed on its own fleet
(every stop once or dropped with its reason, loads within capacity, service within the windows,
as an independent evaluator checks), dispatching writes each ETA and one event per fulfilment,
and refused requests write nothing."""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from datetime import datetime, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment.delivery_support import (
    CUSTOMERS,
    DAY,
    FAST,
    HEAVY,
    OWNER,
    add_vans,
    delivery_day,
    eta_events,
    place_order,
    routes_picture,
    rows,
    ship_to,
)
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.fulfillment import delivery_routes, fleet, orders
from wms.fulfillment.delivery_problem import RouteParameters, build_problem, load_day
from wms.fulfillment.delivery_runs import run_route_plan
from wms.fulfillment.delivery_views import RoutePlanView, route_plan_view
from wms.fulfillment.route_sheet import pdf_sheet, text_sheet
from wms.fulfillment.views import DeliveryWindow, LineRequest
from wms.inventory.catalog import get_warehouse
from wms.routing.vrp import evaluate, make_matrix, travel_table

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def day(pg: Database) -> list[str]:
    return delivery_day(pg)


def plan(db: Database) -> delivery_routes.RoutePlanSummary:
    with db.uow() as uow:
        summary = delivery_routes.plan_routes(
            uow,
            warehouse="SHA",
            on=DAY,
            time_limit_seconds=FAST.time_limit_seconds,
            seed=FAST.seed,
            actor="pat",
            parameters=FAST,
        )
        uow.commit()
    return summary


def view(db: Database, plan_id: str) -> RoutePlanView:
    with db.uow() as uow:
        return route_plan_view(uow.session, plan_id)


def minutes(when: datetime) -> float:
    local = when.astimezone(SHANGHAI)
    assert local.date() == DAY
    return local.hour * 60 + local.minute + local.second / 60


def test_a_days_fulfilments_are_routed_each_once_within_capacity_and_windows(
    pg: Database, day: list[str]
) -> None:
    summary = plan(pg)

    assert summary.id == "RP-SHA-20300506-1"
    assert summary.status == "planned"
    assert summary.stops_routed + summary.stops_dropped == len(day)
    assert summary.stops_dropped == 0  # two vans of 40 kg carry the day's 60 kg
    assert summary.vehicles_used == 2
    planned = view(pg, summary.id)
    routed = [s.fulfillment_id for t in planned.trips for s in t.stops]
    assert Counter(routed) == Counter(day)
    windows = {f: c[3] for f, c in zip(day, CUSTOMERS, strict=True)}
    for trip in planned.trips:
        assert sum(s.weight_kg for s in trip.stops) == pytest.approx(trip.load_weight_kg)
        assert trip.load_weight_kg <= trip.capacity_weight_kg
        assert [s.seq for s in trip.stops] == list(range(1, len(trip.stops) + 1))
        assert minutes(trip.departure_at) >= 8 * 60 - 1e-6
        assert minutes(trip.return_at) <= 18 * 60 + 1e-6
        for stop in trip.stops:
            assert stop.arrival_at <= stop.service_start_at
            start = minutes(stop.service_start_at)
            expected = windows[stop.fulfillment_id]
            assert stop.window == expected
            low, high = (
                (8 * 60, 18 * 60)
                if expected is None
                else (
                    _minutes(expected[0]),
                    _minutes(expected[1]),
                )
            )
            assert low - 1e-6 <= start <= high + 1e-6
        distances = [s.distance_km for s in trip.stops]
        assert distances == sorted(distances)
        assert trip.stops[-1].load_weight_kg == pytest.approx(0)
    assert planned.distance_km == pytest.approx(sum(t.distance_km for t in planned.trips))


def _minutes(clock: str) -> int:
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


def test_the_stored_routes_pass_the_independent_evaluator(pg: Database, day: list[str]) -> None:
    summary = plan(pg)
    planned = view(pg, summary.id)
    with pg.uow() as uow:
        inputs = load_day(uow.session, warehouse_id=get_warehouse(uow.session, "SHA").id, on=DAY)
    # The plan is stored, not dispatched: its fulfilments are still the day's candidates.
    problem, screened = build_problem(inputs, FAST)
    assert screened == []
    table = travel_table(problem, make_matrix(problem.metric))
    checked = evaluate(
        problem,
        {t.vehicle: [s.fulfillment_id for s in t.stops] for t in planned.trips},
        table=table,
        dropped=[d.fulfillment_id for d in planned.dropped],
    )
    assert checked.violations == ()
    assert checked.distance == pytest.approx(planned.distance_km, rel=1e-6)
    by_stop = {v.stop: v for r in checked.routes for v in r.visits}
    for trip in planned.trips:
        for stop in trip.stops:
            assert minutes(stop.arrival_at) == pytest.approx(
                by_stop[stop.fulfillment_id].arrival, abs=0.02
            )


def test_dispatch_writes_every_eta_and_one_event_per_routed_fulfilment(
    pg: Database, day: list[str]
) -> None:
    summary = plan(pg)
    with pg.uow() as uow:
        result = delivery_routes.dispatch(uow, plan=summary.id, actor="pat")
        uow.commit()

    planned = view(pg, summary.id)
    assert planned.status == "dispatched"
    assert planned.dispatched_by == "pat"
    starts = {s.fulfillment_id: s.service_start_at for t in planned.trips for s in t.stops}
    assert dict(result.etas) == starts
    assert result.skipped == result.dropped == []
    etas = {r.public_id: r.eta for r in rows(pg, "SELECT public_id, eta FROM fulfillment_orders")}
    assert etas == starts
    events = eta_events(pg)
    assert Counter(e["fulfillment_id"] for e in events) == Counter(day)
    for event in events:
        assert datetime.fromisoformat(event["eta"]) == starts[event["fulfillment_id"]]
        assert event["status"] == "released"
    with pg.uow() as uow:
        seen = orders.get_order(uow.session, owner=OWNER, order_id=events[0]["order_id"])
    assert seen.allocation[0].eta == starts[seen.allocation[0].fulfillment_id]


def test_dispatching_twice_is_refused_and_writes_nothing_more(pg: Database, day: list[str]) -> None:
    summary = plan(pg)
    with pg.uow() as uow:
        delivery_routes.dispatch(uow, plan=summary.id, actor="pat")
        uow.commit()
    before = routes_picture(pg)

    with pg.uow() as uow, pytest.raises(InvalidTransition, match="dispatched to dispatched"):
        delivery_routes.dispatch(uow, plan=summary.id, actor="pat")
    with pg.uow() as uow, pytest.raises(InvalidTransition):
        delivery_routes.cancel(uow, plan=summary.id, actor="pat")

    assert routes_picture(pg) == before
    assert len(eta_events(pg)) == len(day)


def test_a_dispatched_days_fulfilments_are_not_planned_again(pg: Database, day: list[str]) -> None:
    first = plan(pg)
    with pg.uow() as uow:
        delivery_routes.dispatch(uow, plan=first.id, actor="pat")
        uow.commit()
    late = place_order(pg, "SHOP-LATE", CUSTOMERS[3], quantity=1)

    second = plan(pg)

    assert second.id == "RP-SHA-20300506-2"
    assert (second.stops_routed, second.stops_dropped) == (1, 0)
    assert [s.fulfillment_id for t in view(pg, second.id).trips for s in t.stops] == [late]


def test_two_overlapping_plans_dispatched_at_once_dispatch_exactly_one(
    pg: Database, day: list[str]
) -> None:
    ids = [plan(pg).id, plan(pg).id]  # both take the same ten fulfilments

    outcomes = race(
        pg,
        2,
        lambda uow, i: delivery_routes.dispatch(uow, plan=ids[i], actor=f"p{i}"),
        refusals=(Conflict,),
    )

    assert outcomes == Counter({"ok": 1, "Conflict": 1})
    statuses = sorted(r.status for r in rows(pg, "SELECT status FROM route_plans"))
    assert statuses == ["dispatched", "planned"]
    assert Counter(e["fulfillment_id"] for e in eta_events(pg)) == Counter(day)


def test_a_stop_heavier_than_every_vehicle_is_dropped_with_its_reason(
    pg: Database, day: list[str]
) -> None:
    heavy = place_order(pg, "SHOP-HEAVY", CUSTOMERS[1], sku=HEAVY, quantity=1)

    summary = plan(pg)

    planned = view(pg, summary.id)
    assert [d.fulfillment_id for d in planned.dropped] == [heavy]
    assert "exceeds every vehicle's capacity" in planned.dropped[0].reason
    assert summary.stops_routed == len(day)
    with pg.uow() as uow:
        result = delivery_routes.dispatch(uow, plan=summary.id, actor="pat")
        uow.commit()
    assert result.dropped == [(heavy, planned.dropped[0].reason)]
    assert heavy not in {e["fulfillment_id"] for e in eta_events(pg)}


def test_a_stop_whose_window_lies_outside_every_shift_is_dropped_with_its_reason(
    pg: Database, day: list[str]
) -> None:
    night = place_order(pg, "SHOP-NIGHT", ("Night Owl", 31.24, 121.49, ("20:00", "22:00")))

    summary = plan(pg)

    planned = view(pg, summary.id)
    assert [d.fulfillment_id for d in planned.dropped] == [night]
    assert planned.dropped[0].reason == (
        "its delivery window 20:00-22:00 lies outside every vehicle's shift (08:00-18:00)"
    )


def test_a_vehicle_with_no_capacity_is_refused_and_nothing_is_written(
    pg: Database, day: list[str]
) -> None:
    before = routes_picture(pg)
    with pg.uow() as uow, pytest.raises(ValidationFailed) as refused:
        fleet.add_vehicle(
            uow,
            warehouse="SHA",
            code="VAN-0",
            capacity_weight_kg=0,
            shift_start="08:00",
            shift_end="18:00",
            actor="pat",
        )
    assert refused.value.field == "capacity_weight_kg"
    with pg.uow() as uow, pytest.raises(ValidationFailed) as backwards:
        fleet.update_vehicle(uow, warehouse="SHA", code="VAN-1", shift_end="07:00", actor="pat")
    assert backwards.value.field == "shift_end"
    assert routes_picture(pg) == before


def test_a_warehouse_without_vehicles_is_refused_a_plan(pg: Database, day: list[str]) -> None:
    with pg.uow() as uow:
        for code in ("VAN-1", "VAN-2"):
            fleet.update_vehicle(uow, warehouse="SHA", code=code, active=False, actor="pat")
        uow.commit()
    before = routes_picture(pg)

    with pg.uow() as uow, pytest.raises(ValidationFailed, match="no active vehicle") as refused:
        delivery_routes.plan_routes(
            uow, warehouse="SHA", on=DAY, time_limit_seconds=1, seed=0, actor="pat"
        )

    assert refused.value.field == "warehouse"
    assert routes_picture(pg) == before


def test_a_queued_plan_runs_once_in_the_background_and_can_be_cancelled_only_before_dispatch(
    pg: Database, day: list[str]
) -> None:
    with pg.uow() as uow:
        queued = delivery_routes.queue_route_plan(
            uow, warehouse="SHA", on=DAY, actor="pat", parameters=FAST
        )
        uow.commit()
    plan_id = int(str(pg.scalar("SELECT id FROM route_plans WHERE public_id = :p", p=queued.id)))

    first = run_route_plan(pg.session_factory, plan_id=plan_id)
    again = run_route_plan(pg.session_factory, plan_id=plan_id)

    assert (first.status, again.status) == ("planned", "planned")
    assert pg.count("route_stops") == len(day)
    with pg.uow() as uow:
        cancelled = delivery_routes.cancel(uow, plan=queued.id, actor="pat")
        uow.commit()
    assert cancelled.status == "cancelled"
    with pg.uow() as uow, pytest.raises(InvalidTransition):
        delivery_routes.dispatch(uow, plan=queued.id, actor="pat")


def test_the_route_sheet_lists_every_stop_in_order_with_local_times(
    pg: Database, day: list[str]
) -> None:
    summary = plan(pg)
    planned = view(pg, summary.id)

    sheet = text_sheet(planned)

    assert sheet.startswith(f"Route plan {summary.id} · SHA")
    for trip in planned.trips:
        assert f"Vehicle {trip.vehicle} (Van {trip.vehicle[-1]})" in sheet
        positions = [sheet.index(s.fulfillment_id) for s in trip.stops]
        assert positions == sorted(positions)
        first = trip.stops[0]
        assert (
            f"{planned.clock(first.arrival_at):>6}  {planned.clock(first.service_start_at)}"
            in sheet
        )
    assert pdf_sheet(planned).startswith(b"%PDF")


def test_an_order_window_that_ends_before_it_starts_is_refused_with_nothing_written(
    pg: Database, day: list[str]
) -> None:
    before = pg.count("orders")
    with pg.uow() as uow, pytest.raises(ValidationFailed) as refused:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref="SHOP-BACKWARDS",
            lines=[LineRequest("PARCEL-M", 1)],
            ship_to=ship_to("Li Na", 31.2, 121.5),
            delivery_window=DeliveryWindow(time(15), time(9)),
        )
    assert refused.value.field == "delivery_window"
    assert pg.count("orders") == before


def test_vehicles_are_listed_with_their_shifts_and_a_duplicate_code_is_refused(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        uow.commit()
    add_vans(pg)
    with pg.uow() as uow:
        listed = fleet.list_vehicles(uow.session, warehouse="SHA")
    assert [(v.code, v.shift_start, v.shift_end) for v in listed] == [
        ("VAN-1", "08:00", "18:00"),
        ("VAN-2", "08:00", "18:00"),
    ]
    with pg.uow() as uow, pytest.raises(fleet.DuplicateVehicle):
        fleet.add_vehicle(
            uow,
            warehouse="SHA",
            code="VAN-1",
            capacity_weight_kg=10,
            shift_start="06:00",
            shift_end="24:00",
            actor="pat",
        )


class _Osrm(BaseHTTPRequestHandler):
    """A routing engine speaking OSRM's /table/v1 protocol: straight lines at 30 km/h, times 1.5."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Osrm.calls.append(self.path)
        url = urlsplit(self.path)
        lonlat = [tuple(map(float, p.split(","))) for p in url.path.rsplit("/", 1)[1].split(";")]
        query = parse_qs(url.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        targets = [int(i) for i in query["destinations"][0].split(";")]
        metres = [[1.5 * _km(lonlat[a], lonlat[b]) * 1000 for b in targets] for a in sources]
        body = {
            "code": "Ok",
            "distances": metres,
            "durations": [[m / 1000 / 30 * 3600 for m in row] for row in metres],
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def _km(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    lat = math.radians((a[1] + b[1]) / 2)
    return 111.195 * math.hypot((a[0] - b[0]) * math.cos(lat), a[1] - b[1])


def test_an_osrm_routing_engine_plugs_in_by_configuration(pg: Database, day: list[str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osrm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Osrm.calls.clear()
    try:
        metric = f"osrm:http://127.0.0.1:{server.server_address[1]}"
        params = RouteParameters(**{**FAST.to_json(), "metric": metric})
        with pg.uow() as uow:
            summary = delivery_routes.plan_routes(
                uow, warehouse="SHA", on=DAY, time_limit_seconds=1, seed=3, actor="pat",
                parameters=params,
            )  # fmt: skip
            uow.commit()
    finally:
        server.shutdown()
    assert summary.stops_routed == len(day)
    assert len(_Osrm.calls) == 1  # one table for the solver and the stored distances
    assert _Osrm.calls[0].startswith("/table/v1/driving/")
    planned = view(pg, summary.id)
    for trip in planned.trips:
        first = trip.stops[0]
        depot = (121.47, 31.23)  # the factories' Shanghai
        expected = 1.5 * _km(depot, (first.longitude, first.latitude))
        assert first.distance_km == pytest.approx(expected, rel=1e-3)


def test_a_routing_engine_that_does_not_answer_fails_the_plan_with_a_clear_error(
    pg: Database, day: list[str]
) -> None:
    params = RouteParameters(**{**FAST.to_json(), "metric": "osrm:http://127.0.0.1:9"})
    with pg.uow() as uow:
        queued = delivery_routes.queue_route_plan(
            uow, warehouse="SHA", on=DAY, actor="pat", parameters=params
        )
        uow.commit()
    plan_id = int(str(pg.scalar("SELECT id FROM route_plans WHERE public_id = :p", p=queued.id)))

    outcome = run_route_plan(pg.session_factory, plan_id=plan_id)

    assert (outcome.status, outcome.invalid) == ("failed", True)
    assert outcome.error.startswith("cannot reach OSRM at http://127.0.0.1:9")
    assert pg.count("route_stops") == 0
    assert view(pg, queued.id).error == outcome.error


def test_an_unknown_distance_setting_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed) as refused:
        RouteParameters(metric="google-maps")
    assert refused.value.field == "metric"
