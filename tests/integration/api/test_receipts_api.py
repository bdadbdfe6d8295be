"""Expected receipts over the JSON API: create, list, read and close; every refusal writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem
from wms.inventory import receipts

MISSING = object()


@pytest.fixture
def master(pg: Database) -> Database:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=1)
        factories.warehouse(uow, "CAN", bins=1)
        factories.supplier(uow, "SUP-1")
        factories.product(uow, "MUG-1")
        factories.product(uow, "SPOON-1")
        uow.commit()
    return pg


def receipt_body(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "warehouse": "SHA",
        "supplier": "SUP-1",
        "expected_date": "2026-05-04",
        "supplier_reference": "ASN-991",
        "lines": [{"sku": "MUG-1", "quantity": 10}, {"sku": "SPOON-1", "quantity": 4}],
    }
    for key, value in overrides.items():
        if value is MISSING:
            del body[key]
        else:
            body[key] = value
    return body


def incoming(db: Database, sku: str, warehouse: str = "SHA") -> int:
    value = db.scalar(
        "SELECT incoming FROM stock_levels s JOIN products p ON p.id = s.product_id "
        "JOIN warehouses w ON w.id = s.warehouse_id WHERE p.sku = :sku AND w.code = :wh",
        sku=sku,
        wh=warehouse,
    )
    return int(str(value))


def nothing_written(db: Database) -> None:
    assert db.count("receipts") == 0
    assert db.count("receipt_lines") == 0
    assert (incoming(db, "MUG-1"), incoming(db, "SPOON-1")) == (0, 0)


def post(client: TestClient, headers: dict[str, str], **overrides: object) -> Any:
    return client.post("/api/v1/receipts", headers=headers, json=receipt_body(**overrides))


def test_an_admin_creates_a_receipt_and_its_lines_count_as_incoming(
    master: Database, client: TestClient, admin: dict[str, str]
) -> None:
    response = post(client, admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in ("code", "warehouse", "supplier", "status")} == {
        "code": "RC-SHA-000001",
        "warehouse": "SHA",
        "supplier": "SUP-1",
        "status": "open",
    }
    assert (body["supplier_name"], body["supplier_reference"]) == ("Supplier SUP-1", "ASN-991")
    assert (body["expected_date"], body["over_tolerance_pct"], body["closed_at"]) == (
        "2026-05-04",
        10,
        None,
    )
    assert body["lines"][0] == {
        "line_no": 1,
        "sku": "MUG-1",
        "name": "Test product MUG-1",
        "lot_tracked": False,
        "expected": 10,
        "received": 0,
        "outstanding": 10,
        "over": 0,
    }
    assert [ln["sku"] for ln in body["lines"]] == ["MUG-1", "SPOON-1"]
    assert (incoming(master, "MUG-1"), incoming(master, "SPOON-1")) == (10, 4)
    assert master.scalar("SELECT created_by FROM receipts") == "apikey:back-office"


def test_a_receipt_keeps_the_code_it_is_given_and_refuses_it_twice(
    master: Database, client: TestClient, admin: dict[str, str]
) -> None:
    assert post(client, admin, code="PO-77").json()["code"] == "PO-77"
    assert_problem(post(client, admin, code="PO-77"), 409, "already_exists", field="code")
    assert master.count("receipts") == 1
    assert incoming(master, "MUG-1") == 10


def test_a_read_key_cannot_create_a_receipt(
    master: Database, client: TestClient, reader: dict[str, str]
) -> None:
    assert_problem(post(client, reader), 403, "forbidden")
    assert_problem(post(client, {}), 401, "unauthorized")
    nothing_written(master)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param(
            {"lines": [{"sku": "MUG-1", "quantity": 0}]},
            "validation_failed",
            "lines[0].quantity",
            id="zero-quantity",
        ),
        pytest.param(
            {"lines": [{"sku": "MUG-1", "quantity": "3"}]},
            "validation_failed",
            "lines[0].quantity",
            id="quantity-as-text",
        ),
        pytest.param({"lines": MISSING}, "validation_failed", "lines", id="missing-lines"),
        pytest.param({"lines": []}, "validation_failed", "lines", id="no-lines"),
        pytest.param(
            {"expected_date": "tomorrow"}, "validation_failed", "expected_date", id="date"
        ),
        pytest.param({"supplier": MISSING}, "validation_failed", "supplier", id="no-supplier"),
        pytest.param(
            {"over_tolerance_pct": -1}, "validation_failed", "over_tolerance_pct", id="tol"
        ),
        pytest.param({"colour": "red"}, "validation_failed", "colour", id="unknown-field"),
        pytest.param(
            {"lines": [{"sku": "MUG-1", "quantity": 1}, {"sku": "NOPE-1", "quantity": 1}]},
            "unknown_sku",
            "lines[1].sku",
            id="unknown-sku",
        ),
        pytest.param(
            {"lines": [{"sku": "MUG-1", "quantity": 1}, {"sku": "MUG-1", "quantity": 2}]},
            "validation_failed",
            "lines[1].sku",
            id="sku-on-two-lines",
        ),
        pytest.param({"supplier": "NOPE"}, "not_found", "supplier", id="unknown-supplier"),
        pytest.param({"warehouse": "XXX"}, "unknown_warehouse", "warehouse", id="unknown-wh"),
        pytest.param({"code": "po 77"}, "validation_failed", "code", id="bad-code"),
    ],
)
def test_a_bad_receipt_is_a_422_problem_naming_the_field(
    master: Database,
    client: TestClient,
    admin: dict[str, str],
    overrides: dict[str, object],
    code: str,
    field: str,
) -> None:
    # An unknown SKU, supplier or warehouse in a body is a bad body (422), not a missing
    # resource (404): the API's convention for every body that names something unknown.
    assert_problem(post(client, admin, **overrides), 422, code, field=field)
    nothing_written(master)


def test_malformed_json_is_a_400_problem(
    master: Database, client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/receipts",
        headers={**admin, "Content-Type": "application/json"},
        content=b'{"warehouse": ',
    )
    assert_problem(response, 400, "malformed_json")
    nothing_written(master)


def _receive(db: Database, code: str, sku: str, quantity: int) -> None:
    with db.uow() as uow:
        receipts.receive_line(uow, receipt=code, sku=sku, quantity=quantity, actor="ola")
        uow.commit()


def _codes(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = client.get("/api/v1/receipts", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [r["code"] for r in response.json()]


def test_receipts_are_listed_by_warehouse_and_status(
    master: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    first = post(client, admin, expected_date="2026-05-06").json()["code"]
    second = post(client, admin, expected_date="2026-05-05").json()["code"]
    third = post(client, admin, expected_date="2026-05-01").json()["code"]
    post(client, admin, warehouse="CAN")
    _receive(master, first, "MUG-1", 2)
    assert client.post(f"/api/v1/receipts/{third}/close", headers=admin).status_code == 200

    assert _codes(client, reader, warehouse="SHA") == [second, first]  # earliest expected first
    assert _codes(client, reader, warehouse="SHA", status="receiving") == [first]
    assert _codes(client, reader, warehouse="SHA", status="closed") == [third]
    assert _codes(client, reader, warehouse="SHA", status=["open", "closed"]) == [third, second]
    assert _codes(client, reader, warehouse="SHA", status="cancelled") == []
    assert _codes(client, reader, warehouse="SHA", limit=1) == [second]
    (summary,) = client.get(
        "/api/v1/receipts", headers=reader, params={"warehouse": "SHA", "status": "receiving"}
    ).json()
    assert summary == {
        "code": first,
        "supplier": "SUP-1",
        "supplier_name": "Supplier SUP-1",
        "expected_date": "2026-05-06",
        "status": "receiving",
        "lines": 2,
        "expected": 14,
        "received": 2,
    }


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        pytest.param(
            {"warehouse": "SHA", "status": "done"}, "validation_failed", "status", id="st"
        ),
        pytest.param({}, "validation_failed", "warehouse", id="no-warehouse"),
        pytest.param({"warehouse": "XXX"}, "unknown_warehouse", "warehouse", id="unknown-wh"),
        pytest.param({"warehouse": "SHA", "limit": 0}, "validation_failed", "limit", id="limit"),
    ],
)
def test_a_bad_list_query_is_a_422_problem(
    master: Database,
    client: TestClient,
    reader: dict[str, str],
    params: dict[str, object],
    code: str,
    field: str,
) -> None:
    response = client.get("/api/v1/receipts", headers=reader, params=params)
    assert_problem(response, 422, code, field=field)


def test_one_receipt_is_read_with_its_lines(
    master: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    code = post(client, admin).json()["code"]
    _receive(master, code, "MUG-1", 11)
    response = client.get(f"/api/v1/receipts/{code.lower()}", headers=reader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["code"], body["status"]) == (code, "receiving")
    assert [(ln["sku"], ln["received"], ln["outstanding"], ln["over"]) for ln in body["lines"]] == [
        ("MUG-1", 11, 0, 1),
        ("SPOON-1", 0, 4, 0),
    ]


def test_an_unknown_receipt_is_a_404_problem(
    master: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    assert_problem(client.get("/api/v1/receipts/RC-NOPE", headers=reader), 404, "unknown_receipt")
    response = client.post("/api/v1/receipts/RC-NOPE/close", headers=admin)
    assert_problem(response, 404, "unknown_receipt")


def test_closing_releases_what_never_came_and_shows_the_shortage(
    master: Database, client: TestClient, admin: dict[str, str], reader: dict[str, str]
) -> None:
    code = post(client, admin).json()["code"]
    _receive(master, code, "MUG-1", 7)
    assert_problem(client.post(f"/api/v1/receipts/{code}/close", headers=reader), 403, "forbidden")
    assert master.scalar("SELECT status FROM receipts") == "receiving"
    assert (incoming(master, "MUG-1"), incoming(master, "SPOON-1")) == (3, 4)

    response = client.post(f"/api/v1/receipts/{code}/close", headers=admin)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "closed"
    assert body["closed_at"] is not None
    assert [(ln["sku"], ln["received"], ln["outstanding"]) for ln in body["lines"]] == [
        ("MUG-1", 7, 3),
        ("SPOON-1", 0, 4),
    ]
    assert (incoming(master, "MUG-1"), incoming(master, "SPOON-1")) == (0, 0)
    assert master.scalar("SELECT closed_by FROM receipts") == "apikey:back-office"

    again = client.post(f"/api/v1/receipts/{code}/close", headers=admin)
    assert_problem(again, 409, "invalid_transition")
    assert (incoming(master, "MUG-1"), incoming(master, "SPOON-1")) == (0, 0)
