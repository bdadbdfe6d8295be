"""The purchasing and planning API over HTTP on PostgreSQL: suppliers with lead times, supplier
products, purchase orders through their states, plan runs launched in the background and their
proposals ordered; every bad input a problem+json naming the field, and nothing written."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.api.conftest import assert_problem
from tests.integration.procurement.support import (
    SUPPLIER,
    days_ago,
    picture,
    receive,
    setup_purchasing,
    stocked,
)
from wms.db.base import utcnow
from wms.procurement import purchase_orders as po

MUG = {
    "currency": "CNY",
    "moq": 24,
    "pack_multiple": 12,
    "lead_time_days": 14,
    "price_breaks": [
        {"min_quantity": 1, "unit_price": "12.50"},
        {"min_quantity": 100, "unit_price": 11.8},
    ],
}


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Response:
    response: Response = client.post(f"/api/v1{path}", json=body, headers={**headers, **key()})
    return response


def put(client: TestClient, path: str, headers: dict[str, str], body: Any) -> Response:
    response: Response = client.put(f"/api/v1{path}", json=body, headers={**headers, **key()})
    return response


def test_suppliers_are_created_listed_with_lead_times_and_their_products_set(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    made = post(
        client, "/suppliers", admin, {"code": "NB-NEW", "name": "Ningbo New", "country": "CN"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["quality_status"] == "approved"
    offer = put(client, "/suppliers/NB-NEW/products/MUG", admin, MUG)
    assert offer.status_code == 200, offer.text
    assert offer.json()["price_breaks"] == [
        {"min_quantity": 1, "unit_price": 12.5},
        {"min_quantity": 100, "unit_price": 11.8},
    ]
    listed = client.get("/api/v1/suppliers", headers=admin).json()
    assert [s["code"] for s in listed] == ["NB-NEW", SUPPLIER]
    assert listed[1]["lead_time"] == {
        "planned_mean_days": 10.5,
        "learned_samples": 0,
        "learned_mean_days": None,
        "learned_sd_days": None,
        "deliveries": 0,
        "on_time_rate": None,
    }
    shown = client.get("/api/v1/suppliers/NB-NEW", headers=admin).json()
    assert [(o["sku"], o["moq"], o["deliveries"]) for o in shown["offers"]] == [("MUG", 24, 0)]
    patched = client.patch(
        "/api/v1/suppliers/NB-NEW",
        json={"city": "Ningbo", "active": False},
        headers={**admin, **key()},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["city"], patched.json()["active"]) == ("Ningbo", False)
    assert_problem(client.get("/api/v1/suppliers/NOPE", headers=admin), 404, "unknown_supplier")


def test_bad_supplier_product_input_is_a_problem_naming_the_field(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    before = picture(pg)
    for changes, field in (
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"pack_multiple": 0}, "pack_multiple"),
        ({"moq": 0}, "moq"),
        ({"price_breaks": []}, "price_breaks"),
        ({"currency": "yuan"}, "currency"),
    ):
        response = put(client, f"/suppliers/{SUPPLIER}/products/MUG", admin, {**MUG, **changes})
        assert_problem(response, 422, "validation_failed", field=field)
    rising = {
        "price_breaks": [
            {"min_quantity": 10, "unit_price": 5},
            {"min_quantity": 5, "unit_price": 4},
        ]
    }
    response = put(client, f"/suppliers/{SUPPLIER}/products/MUG", admin, {**MUG, **rising})
    assert_problem(response, 422, "validation_failed", field="price_breaks[1].min_quantity")
    response = put(client, "/suppliers/NOPE/products/MUG", admin, MUG)
    assert_problem(response, 404, "unknown_supplier")
    response = put(client, f"/suppliers/{SUPPLIER}/products/NOPE", admin, MUG)
    assert_problem(response, 404, "unknown_sku")
    assert picture(pg) == before


def test_a_purchase_order_goes_from_draft_to_received_over_the_api(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    created = post(
        client,
        "/purchase-orders",
        admin,
        {"supplier": SUPPLIER, "warehouse": "SHA", "lines": [{"sku": "MUG", "quantity": 120}]},
    )
    assert created.status_code == 201, created.text
    order = created.json()
    assert (order["code"], order["status"], order["total"]) == ("PO-SHA-000001", "draft", 1416)
    code = order["code"]
    approved = post(client, f"/purchase-orders/{code}/approve", admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["receipts"] == ["RC-SHA-000001"]
    levels = client.get("/api/v1/inventory-levels", params={"sku": "MUG"}, headers=admin)
    assert levels.json()["data"][0]["incoming"] == 120
    assert post(client, f"/purchase-orders/{code}/send", admin).json()["status"] == "sent"
    receive(pg, code, "MUG", 120)
    shown = client.get(f"/api/v1/purchase-orders/{code}", headers=admin).json()
    assert shown["status"] == "received"
    assert shown["lines"][0]["received"] == 120
    listed = client.get("/api/v1/purchase-orders", params={"status": "received"}, headers=admin)
    assert [o["code"] for o in listed.json()] == [code]


def test_refused_order_requests_are_problems_and_write_nothing(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    with pg.uow() as uow:
        code = po.create_purchase_order(
            uow,
            supplier=SUPPLIER,
            warehouse="SHA",
            lines=[po.OrderLineRequest("MUG", 48)],
            actor="t",
        ).code
        uow.commit()
    before = picture(pg)
    assert_problem(post(client, f"/purchase-orders/{code}/close", admin), 409, "invalid_transition")
    assert_problem(post(client, f"/purchase-orders/{code}/send", admin), 409, "invalid_transition")
    assert_problem(
        post(client, "/purchase-orders/PO-NOPE/approve", admin), 404, "unknown_purchase_order"
    )
    bad = {"supplier": SUPPLIER, "warehouse": "SHA", "lines": [{"sku": "NOPE", "quantity": 1}]}
    assert_problem(
        post(client, "/purchase-orders", admin, bad), 422, "unknown_sku", field="lines[0].sku"
    )
    zero = {**bad, "lines": [{"sku": "MUG", "quantity": 0}]}
    assert_problem(
        post(client, "/purchase-orders", admin, zero),
        422,
        "validation_failed",
        field="lines[0].quantity",
    )
    past = {**bad, "lines": [{"sku": "MUG", "quantity": 5}], "expected_date": "2001-01-01"}
    assert_problem(
        post(client, "/purchase-orders", admin, past),
        422,
        "validation_failed",
        field="expected_date",
    )
    no_key = client.post(f"/api/v1/purchase-orders/{code}/approve", headers=admin)
    assert_problem(no_key, 400, "bad_request", field="Idempotency-Key")
    assert picture(pg) == before


def test_a_retried_approval_gets_the_same_answer_and_approves_once(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    with pg.uow() as uow:
        code = po.create_purchase_order(
            uow,
            supplier=SUPPLIER,
            warehouse="SHA",
            lines=[po.OrderLineRequest("MUG", 48)],
            actor="t",
        ).code
        uow.commit()
    headers = {**admin, **key()}
    first = client.post(f"/api/v1/purchase-orders/{code}/approve", headers=headers)
    again = client.post(f"/api/v1/purchase-orders/{code}/approve", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert pg.count("receipts") == 1


def _finished(client: TestClient, run_id: int, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/v1/plan-runs/{run_id}", headers=headers).json()
        if run["finished"]:
            return run
        time.sleep(0.2)
    raise AssertionError(f"plan run {run_id} did not finish: {run}")


def test_a_plan_run_is_launched_followed_and_its_proposals_ordered(
    pg: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    stocked(pg, utcnow().date())
    started = post(client, "/plan-runs", admin, {"horizon_weeks": 6, "time_limit_seconds": 5})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    assert started.json()["href"] == f"/api/v1/plan-runs/{run_id}"
    run = _finished(client, run_id, reader)
    assert (run["status"], run["result_status"]) in {
        ("succeeded", "optimal"),
        ("succeeded", "feasible"),
    }
    assert isinstance(run["objective"], float | int)
    assert run["progress_message"].startswith(run["result_status"])
    lines = client.get(f"/api/v1/plan-runs/{run_id}/proposals", headers=reader).json()
    assert lines
    assert all(line["reason"] for line in lines)
    mug = next(line for line in lines if line["sku"] == "MUG")
    projections = client.get(
        f"/api/v1/plan-runs/{run_id}/projections", params={"sku": "MUG"}, headers=reader
    ).json()
    assert [(p["sku"], len(p["with_plan"])) for p in projections] == [("MUG", 6)]
    odd = post(client, f"/plan-runs/{run_id}/proposals/{mug['id']}/edit", admin, {"quantity": 30})
    assert_problem(odd, 422, "validation_failed", field="quantity")
    edited = post(
        client, f"/plan-runs/{run_id}/proposals/{mug['id']}/edit", admin, {"quantity": 144}
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["quantity"], edited.json()["edited"]) == (144, True)
    approved = post(
        client, f"/plan-runs/{run_id}/proposals/approve", admin, {"proposal_ids": [mug["id"]]}
    )
    assert [p["status"] for p in approved.json()] == ["approved"]
    others = [line["id"] for line in lines if line["id"] != mug["id"]]
    assert others, "TEA is ordered too"
    rejected = post(
        client, f"/plan-runs/{run_id}/proposals/reject", admin, {"proposal_ids": others}
    )
    assert {p["status"] for p in rejected.json()} == {"rejected"}
    ordered = post(client, f"/plan-runs/{run_id}/order", admin, {})
    assert ordered.status_code == 201, ordered.text
    [code] = ordered.json()["purchase_orders"]
    order = client.get(f"/api/v1/purchase-orders/{code}", headers=reader).json()
    assert (order["status"], order["plan_run_id"]) == ("draft", run_id)
    assert [(ln["sku"], ln["quantity"]) for ln in order["lines"]] == [("MUG", 144)]
    runs = client.get("/api/v1/plan-runs", headers=reader).json()
    assert [(r["id"], r["proposals"]) for r in runs] == [
        (run_id, {"ordered": 1, "rejected": len(others)})
    ]


def test_bad_plan_runs_are_problems_naming_the_field(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    for body, code, field in (
        ({"horizon_weeks": 0}, "validation_failed", "horizon_weeks"),
        ({"time_limit_seconds": 0}, "validation_failed", "time_limit_seconds"),
        ({"budget_per_week": -1}, "validation_failed", "budget_per_week"),
        ({"warehouse": "NOPE"}, "unknown_warehouse", "warehouse"),
    ):
        assert_problem(post(client, "/plan-runs", admin, body), 422, code, field=field)
    assert pg.count("plan_runs") == 0
    assert_problem(client.get("/api/v1/plan-runs/99", headers=admin), 404, "unknown_plan_run")
    refused = post(client, "/plan-runs/99/proposals/approve", admin, {"proposal_ids": [1]})
    assert_problem(refused, 404, "unknown_plan_run")


def test_lead_times_learned_from_deliveries_show_in_the_supplier_list(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_purchasing(pg)
    with pg.uow() as uow:
        code = po.create_purchase_order(
            uow,
            supplier=SUPPLIER,
            warehouse="SHA",
            lines=[po.OrderLineRequest("MUG", 48)],
            actor="t",
        ).code
        po.approve_purchase_order(uow, code=code, actor="t", now=days_ago(11))
        uow.commit()
    receive(pg, code, "MUG", 48)
    [listed] = [
        s for s in client.get("/api/v1/suppliers", headers=admin).json() if s["code"] == SUPPLIER
    ]
    assert listed["lead_time"]["learned_samples"] == 1
    assert round(listed["lead_time"]["learned_mean_days"]) == 11
    assert listed["lead_time"]["on_time_rate"] == 1.0
