"""The fulfilment endpoints over HTTP on PostgreSQL: read, ship, deliver, labels, short picks."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.fulfillment import floor
from wms.fulfillment import packing, picking


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _packed(pg: Database) -> tuple[str, str]:
    """An order of 2 MUG at SHA, picked and packed in one package; its id and SSCC."""
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 10)
        fid = floor.order(uow, ("MUG", 2))
        stop = picking.pick_list(uow, fid, actor="op").stops[0]
        picking.confirm_pick(
            uow, stop.task_id, bin_barcode="SHA-B01", item="MUG", quantity=2, actor="op"
        )
        package = packing.open_package(uow, fid, actor="op")
        packing.pack_item(uow, package.sscc, item="MUG", quantity=2, actor="op")
        packing.close_package(uow, package.sscc, weight_g=700, actor="op")
        uow.commit()
    return fid, package.sscc


def test_fulfilments_are_listed_and_read_with_tasks_and_packages(
    client: TestClient, pg: Database, reader: dict[str, str]
) -> None:
    fid, sscc = _packed(pg)
    listed = client.get(
        "/api/v1/fulfillments", headers=reader, params={"warehouse": "SHA", "status": "packed"}
    )
    assert listed.status_code == 200, listed.text
    (summary,) = listed.json()["data"]
    assert (summary["fulfillment_id"], summary["units"], summary["lines"]) == (fid, 2, 1)
    assert client.get(
        "/api/v1/fulfillments", headers=reader, params={"status": "shipped"}
    ).json() == {"data": [], "next_cursor": None}

    detail = client.get(f"/api/v1/fulfillments/{fid}", headers=reader)
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["status"] == "packed"
    assert body["external_ref"] == "WEB-1"
    assert body["lines"] == [
        {
            "line_no": 1,
            "sku": "MUG",
            "quantity": 2,
            "picked": 2,
            "packed": 2,
            "cancelled": 0,
            "shipped": 0,
        }
    ]
    assert [(t["location"], t["quantity"], t["status"]) for t in body["tasks"]] == [
        ("B01", 2, "done")
    ]
    (package,) = body["packages"]
    assert (package["sscc"], package["weight_g"], package["status"]) == (sscc, 700, "closed")
    assert package["label_url"] == f"/api/v1/fulfillments/{fid}/packages/{sscc}/label.pdf"
    assert body["exceptions"] == []

    label = client.get(package["label_url"], headers=reader)
    assert label.status_code == 200
    assert label.headers["content-type"] == "application/pdf"
    assert label.content.startswith(b"%PDF-")

    assert_problem(
        client.get("/api/v1/fulfillments/ful_nope", headers=reader), 404, "unknown_fulfillment"
    )
    assert_problem(
        client.get(f"/api/v1/fulfillments/{fid}/packages/{'0' * 18}/label.pdf", headers=reader),
        404,
        "unknown_package",
    )
    assert_problem(
        client.get("/api/v1/fulfillments", headers=reader, params={"status": "lost"}),
        422,
        "validation_failed",
        field="status",
    )
    assert client.get("/api/v1/fulfillments").status_code == 401


def test_shipping_and_delivery_over_http_are_idempotent_and_refuse_illegal_transitions(
    client: TestClient, pg: Database, admin: dict[str, str], reader: dict[str, str]
) -> None:
    fid, _ = _packed(pg)
    url = f"/api/v1/fulfillments/{fid}/ship"
    body = {"carrier": "SF Express", "tracking_number": "SF1234567890"}
    assert_problem(client.post(url, headers=admin, json=body), 400, "bad_request")
    assert_problem(client.post(url, headers=reader | _key(), json=body), 403, "forbidden")
    assert_problem(
        client.post(f"/api/v1/fulfillments/{fid}/delivered", headers=admin | _key()),
        409,
        "invalid_transition",
    )

    key = _key()
    shipped = client.post(url, headers=admin | key, json=body)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["tracking_number"] == "SF1234567890"
    replay = client.post(url, headers=admin | key, json=body)
    assert replay.status_code == 200
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == shipped.json()
    assert_problem(
        client.post(url, headers=admin | key, json=body | {"carrier": "EMS"}),
        422,
        "idempotency_key_reused",
    )
    assert_problem(client.post(url, headers=admin | _key(), json=body), 409, "invalid_transition")
    assert_problem(
        client.post(url, headers=admin | _key(), json={"carrier": "SF"}),
        422,
        "validation_failed",
        field="tracking_number",
    )
    assert pg.scalar("SELECT count(*) FROM moves WHERE reason = 'shipment'") == 1

    delivered = client.post(
        f"/api/v1/fulfillments/{fid}/delivered",
        headers=admin | _key(),
        json={"delivered_at": shipped.json()["shipped_at"]},
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"
    assert pg.scalar("SELECT status FROM orders") == "delivered"
    assert [t for t, _ in floor.events(pg)] == [
        "fulfillment.picked",
        "fulfillment.packed",
        "fulfillment.shipped",
        "fulfillment.delivered",
    ]


def test_a_short_pick_is_resolved_over_http(
    client: TestClient, pg: Database, admin: dict[str, str]
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 4)
        fid = floor.order(uow, ("MUG", 4))
        stop = picking.pick_list(uow, fid, actor="op").stops[0]
        picking.report_short(uow, stop.task_id, found=1, actor="op")
        uow.commit()
    listed = client.get("/api/v1/pick-exceptions", headers=bearer(pg, "read"))
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()
    assert (row["fulfillment_id"], row["sku"], row["picked"], row["short_quantity"]) == (
        fid,
        "MUG",
        1,
        3,
    )
    url = f"/api/v1/pick-exceptions/{row['id']}/resolve"
    assert_problem(
        client.post(url, headers=admin | _key(), json={"action": "ignore"}),
        422,
        "validation_failed",
    )
    resolved = client.post(url, headers=admin | _key(), json={"action": "backorder"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "backordered"
    assert resolved.json()["fulfillment_status"] == "picked"
    assert_problem(
        client.post(url, headers=admin | _key(), json={"action": "backorder"}),
        409,
        "pick_exception_resolved",
    )
    assert_problem(
        client.post(
            "/api/v1/pick-exceptions/999/resolve",
            headers=admin | _key(),
            json={"action": "backorder"},
        ),
        404,
        "unknown_pick_exception",
    )
    assert (
        client.get("/api/v1/pick-exceptions", headers=admin, params={"status": "open"}).json() == []
    )
