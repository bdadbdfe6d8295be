"""Delivery routes over HTTP on PostgreSQL: vehicles, a day planned in the background and read
back with its routes, dispatched so that every ETA reaches the storefront's event feed, the route
sheet; every bad input a problem+json naming the field, with nothing written."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.events.horizon import settle
from tests.integration.fulfillment.delivery_support import (
    CUSTOMERS,
    DAY,
    PARCEL,
    delivery_day,
    routes_picture,
)

VAN = {
    "warehouse": "SHA",
    "code": "VAN-9",
    "name": "Spare van",
    "capacity_weight_kg": 300,
    "capacity_volume_cm3": 2_000_000,
    "shift_start": "07:30",
    "shift_end": "16:00",
    "cost_per_km": "2.20",
    "fixed_cost": 80,
}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Response:
    response: Response = client.post(f"/api/v1{path}", json=body, headers={**headers, **key()})
    return response


def finished(client: TestClient, plan_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        plan: dict[str, Any] = client.get(f"/api/v1/route-plans/{plan_id}", headers=headers).json()
        if plan["finished"]:
            return plan
        time.sleep(0.2)
    raise AssertionError(f"route plan {plan_id} did not finish")


def test_a_day_is_planned_in_the_background_dispatched_and_its_etas_reach_the_feed(
    pg: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    day = delivery_day(pg)
    queued = post(
        client,
        "/route-plans",
        admin,
        {"warehouse": "SHA", "date": DAY.isoformat(), "time_limit_seconds": 1},
    )
    assert queued.status_code == 202, queued.text
    plan_id = queued.json()["id"]
    assert queued.json() == {
        "id": "RP-SHA-20300506-1",
        "status": "queued",
        "href": "/api/v1/route-plans/RP-SHA-20300506-1",
    }

    plan = finished(client, plan_id, reader)
    assert plan["status"] == "planned", plan["error"]
    routed = [s["fulfillment_id"] for trip in plan["trips"] for s in trip["stops"]]
    assert sorted(routed) == sorted(day)
    assert plan["dropped"] == []
    trip = plan["trips"][0]
    assert [s["seq"] for s in trip["stops"]] == list(range(1, len(trip["stops"]) + 1))
    first = trip["stops"][0]
    assert {"arrival_at", "service_start_at", "load_weight_kg", "distance_km", "window"} <= set(
        first
    )
    assert trip["load_weight_kg"] <= trip["capacity_weight_kg"]
    listed = client.get(
        "/api/v1/route-plans", params={"warehouse": "SHA", "date": DAY.isoformat()}, headers=reader
    )
    assert [(p["id"], p["stops_routed"]) for p in listed.json()] == [(plan_id, len(day))]

    dispatched = post(client, f"/route-plans/{plan_id}/dispatch", admin)
    assert dispatched.status_code == 200, dispatched.text
    etas = {e["fulfillment_id"]: e["eta"] for e in dispatched.json()["etas"]}
    assert sorted(etas) == sorted(day)
    settle(pg)
    feed = client.get(
        "/api/v1/events", params={"types": "fulfillment.eta_updated", "limit": 100}, headers=reader
    )
    assert feed.status_code == 200, feed.text
    events = feed.json()["data"]
    assert len(events) == len(day)
    for event in events:
        assert event["type"] == "fulfillment.eta_updated"
        data = event["data"]
        assert datetime.fromisoformat(data["eta"]) == datetime.fromisoformat(
            etas[data["fulfillment_id"]]
        )
    fulfilment = client.get(f"/api/v1/fulfillments/{day[0]}", headers=reader).json()
    assert datetime.fromisoformat(fulfilment["eta"]) == datetime.fromisoformat(etas[day[0]])

    again = post(client, f"/route-plans/{plan_id}/dispatch", admin)
    assert_problem(again, 409, "invalid_transition")
    sheet = client.get(f"/api/v1/route-plans/{plan_id}/sheet", headers=reader)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/plain")
    assert all(f in sheet.text for f in day)
    pdf = client.get(f"/api/v1/route-plans/{plan_id}/sheet.pdf", headers=reader)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_vehicles_are_added_read_changed_and_listed(
    pg: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    delivery_day(pg)
    made = post(client, "/vehicles", admin, VAN)
    assert made.status_code == 201, made.text
    assert made.json()["shift_start"] == "07:30"
    changed = client.patch(
        "/api/v1/vehicles/SHA/VAN-9",
        json={"capacity_volume_cm3": None, "shift_end": "17:30", "active": False},
        headers={**admin, **key()},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["capacity_volume_cm3"], body["shift_end"], body["active"]) == (
        None,
        "17:30",
        False,
    )
    assert body["capacity_weight_kg"] == 300
    listed = client.get("/api/v1/vehicles", params={"warehouse": "SHA"}, headers=reader).json()
    assert [v["code"] for v in listed] == ["VAN-1", "VAN-2", "VAN-9"]
    assert client.get("/api/v1/vehicles/SHA/VAN-1", headers=reader).json()["name"] == "Van 1"


def test_bad_vehicles_and_plans_are_problems_naming_the_field_and_write_nothing(
    pg: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    delivery_day(pg)
    before = routes_picture(pg)

    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "capacity_weight_kg": 0}),
        422,
        "validation_failed",
        field="capacity_weight_kg",
    )
    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "capacity_volume_cm3": 0}),
        422,
        "validation_failed",
        field="capacity_volume_cm3",
    )
    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "shift_start": "18:00", "shift_end": "08:00"}),
        422,
        "validation_failed",
        field="shift_end",
    )
    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "shift_start": "8 o'clock"}),
        422,
        "validation_failed",
        field="shift_start",
    )
    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "warehouse": "NOPE"}),
        422,
        "unknown_warehouse",
        field="warehouse",
    )
    assert_problem(
        post(client, "/vehicles", admin, {**VAN, "code": "VAN-1"}), 409, "duplicate_vehicle"
    )
    assert_problem(
        client.patch(
            "/api/v1/vehicles/SHA/VAN-1",
            json={"capacity_weight_kg": -5},
            headers={**admin, **key()},
        ),
        422,
        "validation_failed",
        field="capacity_weight_kg",
    )
    assert_problem(
        client.patch("/api/v1/vehicles/SHA/NOPE", json={"name": "x"}, headers={**admin, **key()}),
        404,
        "unknown_vehicle",
    )
    assert_problem(
        client.get("/api/v1/vehicles/NOPE/VAN-1", headers=reader), 404, "unknown_warehouse"
    )
    plan = {"warehouse": "SHA", "date": DAY.isoformat()}
    assert_problem(
        post(client, "/route-plans", admin, {**plan, "warehouse": "NOPE"}),
        422,
        "unknown_warehouse",
        field="warehouse",
    )
    assert_problem(
        post(client, "/route-plans", admin, {**plan, "time_limit_seconds": 0}),
        422,
        "validation_failed",
        field="time_limit_seconds",
    )
    assert_problem(
        post(client, "/route-plans", admin, {**plan, "date": "tomorrow"}),
        422,
        "validation_failed",
        field="date",
    )
    assert_problem(
        post(client, "/route-plans", admin, {**plan, "date": "1900-01-01"}),
        422,
        "validation_failed",
        field="date",
    )
    no_key = client.post("/api/v1/route-plans", json=plan, headers=admin)
    assert_problem(no_key, 400, "bad_request", field="Idempotency-Key")
    assert_problem(post(client, "/route-plans", reader, plan), 403, "forbidden")
    for path in ("/route-plans/RP-NOPE-1", "/route-plans/RP-NOPE-1/sheet"):
        assert_problem(client.get(f"/api/v1{path}", headers=reader), 404, "unknown_route_plan")
    assert_problem(
        post(client, "/route-plans/RP-NOPE-1/dispatch", admin), 404, "unknown_route_plan"
    )
    assert routes_picture(pg) == before


def test_a_warehouse_without_an_active_vehicle_is_refused_a_plan(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    delivery_day(pg)
    for code in ("VAN-1", "VAN-2"):
        client.patch(
            f"/api/v1/vehicles/SHA/{code}", json={"active": False}, headers={**admin, **key()}
        )
    before = routes_picture(pg)
    refused = post(client, "/route-plans", admin, {"warehouse": "SHA", "date": DAY.isoformat()})
    body = assert_problem(refused, 422, "validation_failed", field="warehouse")
    assert "no active vehicle" in body["detail"]
    assert routes_picture(pg) == before


def test_an_order_takes_a_delivery_window_and_a_bad_one_is_a_problem_naming_it(
    pg: Database, client: TestClient
) -> None:
    delivery_day(pg)
    shop = bearer(pg, "storefront", name="shop")
    name, lat, lon, _ = CUSTOMERS[0]
    order = {
        "external_ref": "WIN-1",
        "lines": [{"sku": PARCEL, "quantity": 1}],
        "ship_to": {
            "name": name,
            "address_lines": ["1 Test Road"],
            "city": "Shanghai",
            "country": "CN",
            "latitude": lat,
            "longitude": lon,
        },
    }
    before = pg.count("orders")
    backwards = post(
        client, "/orders", shop, {**order, "delivery_window": {"from": "15:00", "to": "09:00"}}
    )
    assert_problem(backwards, 422, "validation_failed", field="delivery_window")
    garbled = post(
        client, "/orders", shop, {**order, "delivery_window": {"from": "9am", "to": "12:00"}}
    )
    assert_problem(garbled, 422, "validation_failed", field="delivery_window.from")
    half = post(client, "/orders", shop, {**order, "delivery_window": {"from": "09:00"}})
    assert_problem(half, 422, "validation_failed", field="delivery_window.to")
    assert pg.count("orders") == before

    placed = post(
        client, "/orders", shop, {**order, "delivery_window": {"from": "09:00", "to": "12:30"}}
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["delivery_window"] == {"from": "09:00", "to": "12:30"}
    plain = post(client, "/orders", shop, {**order, "external_ref": "WIN-2"})
    assert plain.status_code == 201, plain.text
    assert plain.json()["delivery_window"] is None
    assert plain.json()["allocation"][0]["eta"] is None
