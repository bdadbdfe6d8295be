"""The quality API over HTTP on PostgreSQL: plans, inspections and dispositions, delisting,
supplier qualification; every bad input a problem+json naming the field, and nothing written."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Database
from tests.integration.api.conftest import assert_problem
from tests.integration.quality.support import SUPPLIER, picture, receive, setup_inspected
from wms.db.base import utcnow


def key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def post(client: TestClient, path: str, headers: dict[str, str], body: Any) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers={**headers, **key()})


def test_the_plan_endpoint_gives_the_plan_and_its_oc_curve(
    client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get(
        "/api/v1/quality/plan", params={"lot_size": 500, "aql": "0.65"}, headers=reader
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["code_letter"], body["plan_letter"], body["sample_size"]) == ("H", "J", 80)
    assert (body["ac"], body["re"]) == (1, 2)
    pas = [point["pa"] for point in body["oc_curve"]]
    assert pas[0] == 1.0
    assert pas == sorted(pas, reverse=True)
    assert 0 < body["p95"] < body["p10"] < 1


def test_bad_plan_input_is_a_problem_naming_the_field(
    client: TestClient, reader: dict[str, str]
) -> None:
    for params, field in (
        ({"lot_size": 500, "aql": "0.3"}, "aql"),
        ({"lot_size": 0, "aql": "1.0"}, "lot_size"),
        ({"lot_size": 500, "aql": "1.0", "level": "IV"}, "level"),
        ({"lot_size": 500, "aql": "1.0", "severity": "strict"}, "severity"),
    ):
        response = client.get("/api/v1/quality/plan", params=params, headers=reader)
        assert_problem(response, 422, response.json()["code"], field=field)


def test_an_inspection_runs_from_finding_to_return_over_the_api(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_inspected(pg)
    code = str(receive(pg, "KETTLE", 500).inspection)
    shown = client.get(f"/api/v1/inspections/{code}", headers=admin).json()
    assert (shown["status"], shown["sample_size"]) == ("open", 50)
    found = post(
        client,
        f"/inspections/{code}/findings",
        admin,
        {"findings": [{"defect_class": "major", "unit": 4}, {"defect_class": "major", "unit": 9}]},
    )
    assert found.status_code == 201, found.text
    assert found.json()["counts"]["major"] == 2
    decided = post(client, f"/inspections/{code}/decide", admin, {})
    assert decided.status_code == 200
    assert decided.json()["verdict"] == "rejected"
    assert decided.json()["ncr"].startswith("NCR-")
    returned = post(client, f"/inspections/{code}/disposition", admin, {"disposition": "return"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["return_code"].startswith("RT-SHA-")
    levels = client.get("/api/v1/inventory-levels", params={"sku": "KETTLE"}, headers=admin)
    assert levels.json()["data"][0]["quality_control"] == 0
    card = client.get(f"/api/v1/suppliers/{SUPPLIER}/quality", headers=admin).json()
    assert (card["lots_decided"], card["lots_accepted"], card["ppm"]) == (1, 0, 40000)


def test_bad_inspection_input_is_refused_and_writes_nothing(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_inspected(pg)
    code = str(receive(pg, "KETTLE", 500).inspection)
    before = picture(pg)
    beyond = post(
        client,
        f"/inspections/{code}/findings",
        admin,
        {"findings": [{"defect_class": "major", "unit": 51}]},
    )
    assert_problem(beyond, 422, "validation_failed", field="unit")
    unknown = post(
        client,
        f"/inspections/{code}/findings",
        admin,
        {"findings": [{"defect_class": "ugly", "unit": 1}]},
    )
    assert unknown.status_code == 422
    missing = post(client, "/inspections/QC-SHA-999999/decide", admin, {})
    assert_problem(missing, 404, "unknown_inspection")
    not_yet = post(client, f"/inspections/{code}/disposition", admin, {"disposition": "accept"})
    assert_problem(not_yet, 409, "invalid_transition")
    assert picture(pg) == before
    post(client, f"/inspections/{code}/decide", admin, {})
    post(client, f"/inspections/{code}/disposition", admin, {"disposition": "accept"})
    closed = picture(pg)
    again = post(client, f"/inspections/{code}/disposition", admin, {"disposition": "accept"})
    assert_problem(again, 409, "invalid_transition")
    assert picture(pg) == closed


def test_writes_need_an_idempotency_key_and_replay_the_first_answer(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_inspected(pg)
    code = str(receive(pg, "KETTLE", 100).inspection)
    body = {"findings": [{"defect_class": "minor", "unit": 2}]}
    no_key = client.post(f"/api/v1/inspections/{code}/findings", json=body, headers=admin)
    assert_problem(no_key, 400, "bad_request", field="Idempotency-Key")
    headers = {**admin, **key()}
    first = client.post(f"/api/v1/inspections/{code}/findings", json=body, headers=headers)
    second = client.post(f"/api/v1/inspections/{code}/findings", json=body, headers=headers)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == second.json()
    assert pg.count("inspection_findings") == 1


def test_delisting_and_relisting_over_the_api(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_inspected(pg)
    receive(pg, "PLAIN", 20)
    delisted = post(
        client,
        "/products/PLAIN/delist",
        admin,
        {
            "reason": "mislabelled voltage",
            "action": "relabel and re-inspect",
            "owner": "qa.lead",
            "due_date": (utcnow().date() + timedelta(days=7)).isoformat(),
        },
    )
    assert delisted.status_code == 201, delisted.text
    level = client.get("/api/v1/inventory-levels", params={"sku": "PLAIN"}, headers=admin).json()
    assert (level["data"][0]["available"], level["data"][0]["blocked"]) == (0, True)
    (block,) = client.get("/api/v1/quality/blocks", headers=admin).json()
    assert (block["sku"], block["reason"], block["owners"]) == (
        "PLAIN",
        "mislabelled voltage",
        ["qa.lead"],
    )
    assert block["ncr"] == delisted.json()["ncr"]
    report = client.get(f"/api/v1/ncrs/{delisted.json()['ncr']}", headers=admin).json()
    action_id = report["actions"][0]["id"]
    closed = post(client, f"/corrective-actions/{action_id}/close", admin, {"resolution": "done"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    level = client.get("/api/v1/inventory-levels", params={"sku": "PLAIN"}, headers=admin).json()
    assert (level["data"][0]["available"], level["data"][0]["blocked"]) == (20, False)


def test_supplier_qualification_over_the_api(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    setup_inspected(pg)
    cert = post(
        client,
        f"/suppliers/{SUPPLIER}/certificates",
        admin,
        {
            "type": "ISO 9001",
            "number": "CN-123",
            "valid_until": (utcnow().date() + timedelta(days=10)).isoformat(),
        },
    )
    assert cert.status_code == 201
    assert cert.json()["state"] == "expiring"
    no_reason = post(client, f"/suppliers/{SUPPLIER}/status", admin, {"status": "suspended"})
    assert_problem(no_reason, 422, "validation_failed", field="reason")
    audit = post(
        client,
        f"/suppliers/{SUPPLIER}/audits",
        admin,
        {
            "audit_date": utcnow().date().isoformat(),
            "auditor": "A. Chen",
            "score": 41,
            "result": "fail",
        },
    )
    assert audit.status_code == 201
    quality = client.get(f"/api/v1/suppliers/{SUPPLIER}/quality", headers=admin).json()
    assert quality["status"] == "suspended"
    assert quality["audit_score"] == 41
    assert quality["certificates"][0]["state"] == "expiring"
    unknown = client.get("/api/v1/suppliers/NOPE/quality", headers=admin)
    assert_problem(unknown, 404, "unknown_supplier")
