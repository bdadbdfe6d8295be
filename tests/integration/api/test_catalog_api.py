"""Warehouses and products over the JSON API: reading, paging, creating, scopes and refusals."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer, written
from wms.auth.services import revoke_api_key
from wms.inventory.gtin import make_gtin

MISSING = object()

GOOD_GTIN_13 = "4006381333931"  # a real EAN-13, check digit 1
# The same digits as full-width characters (U+FF10..U+FF19), as a phone keyboard may type them.
FULL_WIDTH_GTIN_13 = "".join(chr(0xFF10 + int(d)) for d in GOOD_GTIN_13)


def product_body(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": "MUG-1",
        "name": "Ceramic mug 350 ml",
        "gtin": GOOD_GTIN_13,
        "weight_g": 320,
        "packs": [{"name": "case", "quantity": 12, "gtin": make_gtin("1400638133393")}],
    }
    return _apply(body, overrides)


def warehouse_body(**overrides: object) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "CTU",
        "name": "Chengdu DC",
        "region": "Southwest China",
        "address": "66 Airport Road, Chengdu",
        "latitude": 30.5785,
        "longitude": 103.9471,
        "time_zone": "Asia/Shanghai",
    }
    return _apply(body, overrides)


def _apply(body: dict[str, Any], overrides: dict[str, object]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is MISSING:
            del body[key]
        else:
            body[key] = value
    return body


def cursor_after(value: object) -> str:
    """A cursor in the API's own encoding, around any value."""
    raw = json.dumps({"after": value}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def stocked(pg: Database) -> Database:
    """Two warehouses and two products, so that a new row would also write stock levels."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        factories.product(uow, "SPOON-1")
        uow.commit()
    return pg


def test_lists_warehouses_to_a_read_key(
    stocked: Database, client: TestClient, reader: dict[str, str]
) -> None:
    response = client.get("/api/v1/warehouses", headers=reader)
    assert response.status_code == 200
    body = response.json()
    assert [w["code"] for w in body["data"]] == ["SHA", "CAN"]
    assert body["next_cursor"] is None
    sha = body["data"][0]
    assert sha == {
        "code": "SHA",
        "name": "Shanghai DC",
        "region": "China",
        "address": "1 Test Road, Shanghai",
        "latitude": 31.23,
        "longitude": 121.47,
        "time_zone": "Asia/Shanghai",
        "active": True,
    }


def test_follows_next_cursor_through_every_page_of_products(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    skus = [f"SKU-{n:02d}" for n in range(7)]
    with pg.uow() as uow:
        for sku in skus:
            factories.product(uow, sku)
        uow.commit()
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get("/api/v1/products", headers=reader, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["data"]) <= 3
        seen += [p["sku"] for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ran out"
    assert pages == 3
    assert seen == skus


def test_follows_next_cursor_through_warehouses(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with pg.uow() as uow:
        for code in ("SHA", "CAN", "PEK"):
            factories.warehouse(uow, code, bins=0)
        uow.commit()
    first = client.get("/api/v1/warehouses", headers=reader, params={"limit": 2}).json()
    assert [w["code"] for w in first["data"]] == ["SHA", "CAN"]
    second = client.get(
        "/api/v1/warehouses", headers=reader, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [w["code"] for w in second["data"]] == ["PEK"]
    assert second["next_cursor"] is None


def test_a_full_last_page_still_ends_the_listing(
    pg: Database, client: TestClient, reader: dict[str, str]
) -> None:
    with pg.uow() as uow:
        for sku in ("A-1", "A-2"):
            factories.product(uow, sku)
        uow.commit()
    page = client.get("/api/v1/products", headers=reader, params={"limit": 2}).json()
    assert [p["sku"] for p in page["data"]] == ["A-1", "A-2"]
    assert page["next_cursor"] is None


def test_shows_one_product_by_sku_with_its_gtin_as_gtin_14(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    created = client.post("/api/v1/products", headers=admin, json=product_body())
    assert created.status_code == 201, created.text
    response = client.get("/api/v1/products/MUG-1", headers=admin)
    assert response.status_code == 200
    product = response.json()
    assert product == created.json()
    assert product["gtin"] == "0" + GOOD_GTIN_13
    assert product["packs"] == [
        {"name": "case", "quantity": 12, "gtin": make_gtin("1400638133393")}
    ]
    assert (product["lot_tracked"], product["active"], product["base_unit"]) == (False, True, "EA")


def test_an_admin_creates_a_product_with_a_level_in_every_warehouse(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/products",
        headers=admin,
        json=product_body(sku="HONEY-1", lot_tracked=True, shelf_life_days=540),
    )
    assert response.status_code == 201, response.text
    assert response.json()["shelf_life_days"] == 540
    after = written(stocked)
    assert after["products"] == before["products"] + 1
    assert after["product_packs"] == before["product_packs"] + 1
    assert after["stock_levels"] == before["stock_levels"] + 2
    levels = client.get(
        "/api/v1/inventory-levels", headers=admin, params={"sku": "HONEY-1"}
    ).json()["data"]
    assert [(lv["warehouse"], lv["on_hand"], lv["version"]) for lv in levels] == [
        ("SHA", 0, 0),
        ("CAN", 0, 0),
    ]


def test_an_admin_creates_a_warehouse_with_standard_locations_and_levels(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/warehouses", headers=admin, json=warehouse_body())
    assert response.status_code == 201, response.text
    assert response.json() == {**warehouse_body(), "active": True}
    after = written(stocked)
    assert after["warehouses"] == before["warehouses"] + 1
    assert after["locations"] == before["locations"] + 7  # the root and six standard locations
    assert after["stock_levels"] == before["stock_levels"] + 2  # one per existing product
    listed = client.get("/api/v1/warehouses", headers=admin).json()["data"]
    assert [w["code"] for w in listed] == ["SHA", "CAN", "CTU"]
    assert client.get("/api/v1/warehouses/CTU", headers=admin).json()["name"] == "Chengdu DC"


def test_a_warehouse_accepts_whole_numbers_as_coordinates(
    pg: Database, client: TestClient, admin: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/warehouses", headers=admin, json=warehouse_body(latitude=30, longitude=104)
    )
    assert response.status_code == 201, response.text
    assert (response.json()["latitude"], response.json()["longitude"]) == (30.0, 104.0)


@pytest.mark.parametrize(
    ("path", "code"),
    [("/api/v1/products/NOPE-1", "unknown_sku"), ("/api/v1/warehouses/NOPE", "unknown_warehouse")],
)
def test_an_unknown_product_or_warehouse_is_a_404_problem(
    stocked: Database, client: TestClient, reader: dict[str, str], path: str, code: str
) -> None:
    assert_problem(client.get(path, headers=reader), 404, code)


def test_an_unknown_route_is_a_404_problem(client: TestClient, reader: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/no-such-thing", headers=reader), 404, "not_found")
    assert_problem(client.get("/no-such-page"), 404, "not_found")


def test_a_wrong_method_is_a_405_problem(client: TestClient, admin: dict[str, str]) -> None:
    assert_problem(client.delete("/api/v1/products", headers=admin), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/warehouses"),
        ("GET", "/api/v1/products"),
        ("GET", "/api/v1/products/TEA-1"),
        ("POST", "/api/v1/products"),
        ("POST", "/api/v1/warehouses"),
    ],
)
def test_requests_without_an_api_key_are_refused_with_401(
    stocked: Database, client: TestClient, method: str, path: str
) -> None:
    before = written(stocked)
    body = product_body() if path.endswith("products") else warehouse_body()
    response = client.request(method, path, json=body if method == "POST" else None)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert written(stocked) == before


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer wms_deadbeef_not-the-secret",
        "Bearer wms__",
        "Basic YWRtaW46YWRtaW4=",
        "Bearer ",
    ],
)
def test_garbage_api_keys_are_refused_with_401(
    stocked: Database, client: TestClient, authorization: str
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/products", headers={"Authorization": authorization}, json=product_body()
    )
    assert_problem(response, 401, "unauthorized")
    assert written(stocked) == before


def test_a_valid_prefix_with_the_wrong_secret_is_refused(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    key = admin["Authorization"].removeprefix("Bearer ")
    forged = key[: key.rindex("_") + 1] + "x" * 43
    response = client.get("/api/v1/products", headers={"Authorization": f"Bearer {forged}"})
    assert_problem(response, 401, "unauthorized")


def test_a_revoked_api_key_is_refused_with_401(stocked: Database, client: TestClient) -> None:
    headers = bearer(stocked, "admin", name="leaked")
    assert client.get("/api/v1/products", headers=headers).status_code == 200
    with stocked.uow() as uow:
        key_id = stocked.scalar("SELECT id FROM api_keys WHERE name = 'leaked'")
        assert isinstance(key_id, int)
        revoke_api_key(uow, key_id=key_id)
        uow.commit()
    before = written(stocked)
    assert_problem(client.get("/api/v1/products", headers=headers), 401, "unauthorized")
    response = client.post("/api/v1/products", headers=headers, json=product_body())
    assert_problem(response, 401, "unauthorized")
    assert written(stocked) == before


@pytest.mark.parametrize("scope", ["read", "storefront"])
def test_a_key_without_admin_scope_reads_but_cannot_create(
    stocked: Database, client: TestClient, scope: str
) -> None:
    headers = bearer(stocked, scope)
    assert client.get("/api/v1/products/TEA-1", headers=headers).status_code == 200
    before = written(stocked)
    body = assert_problem(
        client.post("/api/v1/products", headers=headers, json=product_body()), 403, "forbidden"
    )
    assert body["scope"] == "admin"
    assert_problem(
        client.post("/api/v1/warehouses", headers=headers, json=warehouse_body()), 403, "forbidden"
    )
    assert written(stocked) == before


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        pytest.param({"gtin": "4006381333932"}, 422, "invalid_gtin", "gtin", id="check-digit"),
        pytest.param({"gtin": "40063813339AB"}, 422, "invalid_gtin", "gtin", id="gtin-letters"),
        pytest.param({"gtin": "12345678901"}, 422, "invalid_gtin", "gtin", id="gtin-11-digits"),
        pytest.param({"gtin": 4006381333931}, 422, "validation_failed", "gtin", id="gtin-number"),
        pytest.param(
            {"packs": [{"name": "case", "quantity": 12, "gtin": "14006381333930"}]},
            422,
            "invalid_gtin",
            "packs[0].gtin",
            id="pack-gtin-check-digit",
        ),
        pytest.param(
            {"packs": [{"name": "single", "quantity": 1}]},
            422,
            "validation_failed",
            "packs[0].quantity",
            id="pack-of-one",
        ),
        pytest.param(
            {"packs": [{"name": "case", "quantity": "12"}]},
            422,
            "validation_failed",
            "packs[0].quantity",
            id="pack-quantity-string",
        ),
        pytest.param({"sku": "MUG 1"}, 422, "validation_failed", "sku", id="sku-with-space"),
        pytest.param({"sku": ""}, 422, "validation_failed", "sku", id="empty-sku"),
        pytest.param({"sku": "x" * 65}, 422, "validation_failed", "sku", id="sku-too-long"),
        pytest.param({"name": ""}, 422, "validation_failed", "name", id="empty-name"),
        pytest.param({"name": MISSING}, 422, "validation_failed", "name", id="missing-name"),
        pytest.param({"sku": MISSING}, 422, "validation_failed", "sku", id="missing-sku"),
        pytest.param(
            {"shelf_life_days": 365},
            422,
            "validation_failed",
            "shelf_life_days",
            id="shelf-life-untracked",
        ),
        pytest.param(
            {"lot_tracked": True, "shelf_life_days": 0},
            422,
            "validation_failed",
            "shelf_life_days",
            id="zero-shelf-life",
        ),
        pytest.param({"weight_g": -1}, 422, "validation_failed", "weight_g", id="negative-weight"),
        pytest.param({"weight_g": "320"}, 422, "validation_failed", "weight_g", id="weight-string"),
        pytest.param({"weight_g": 2.5}, 422, "validation_failed", "weight_g", id="weight-float"),
        pytest.param({"colour": "blue"}, 422, "validation_failed", "colour", id="unknown-field"),
        pytest.param(
            {"lot_tracked": "yes"},
            422,
            "validation_failed",
            "lot_tracked",
            id="lot-tracked-string",
        ),
        pytest.param(
            {"gtin": FULL_WIDTH_GTIN_13},
            422,
            "invalid_gtin",
            "gtin",
            id="gtin-full-width-digits",
        ),
        pytest.param(
            {"gtin": "400638133393\u00b2"},
            422,
            "invalid_gtin",
            "gtin",
            id="gtin-superscript-digit",
        ),
        pytest.param(
            {"weight_g": 2**31},
            422,
            "validation_failed",
            "weight_g",
            id="weight-beyond-integer",
        ),
    ],
)
def test_refuses_a_bad_product_and_writes_nothing(
    stocked: Database,
    client: TestClient,
    admin: dict[str, str],
    overrides: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/products", headers=admin, json=product_body(**overrides))
    assert_problem(response, status, code, field=field)
    assert written(stocked) == before


def test_refuses_a_duplicate_sku_with_409_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/products", headers=admin, json=product_body(sku="TEA-1", gtin=None, packs=[])
    )
    body = assert_problem(response, 409, "already_exists", field="sku")
    assert body["sku"] == "TEA-1"
    assert written(stocked) == before


def test_refuses_a_gtin_another_product_uses_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/api/v1/products", headers=admin, json=product_body()).status_code == 201
    before = written(stocked)
    response = client.post("/api/v1/products", headers=admin, json=product_body(sku="MUG-2"))
    assert_problem(response, 409, "already_exists", field="gtin")
    assert written(stocked) == before


def test_refuses_a_product_whose_packs_share_its_gtin(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    packs = [{"name": "case", "quantity": 12, "gtin": GOOD_GTIN_13}]
    response = client.post("/api/v1/products", headers=admin, json=product_body(packs=packs))
    assert_problem(response, 422, "validation_failed", field="packs")
    assert written(stocked) == before


@pytest.mark.parametrize(
    ("overrides", "status", "code", "field"),
    [
        pytest.param({"latitude": -91}, 422, "validation_failed", "latitude", id="latitude-low"),
        pytest.param({"latitude": 90.5}, 422, "validation_failed", "latitude", id="latitude-high"),
        pytest.param(
            {"longitude": -180.01}, 422, "validation_failed", "longitude", id="longitude-low"
        ),
        pytest.param(
            {"latitude": "30.5"}, 422, "validation_failed", "latitude", id="latitude-string"
        ),
        pytest.param(
            {"time_zone": "Mars/Olympus"}, 422, "validation_failed", "time_zone", id="bad-zone"
        ),
        pytest.param(
            {"time_zone": "../etc/passwd"}, 422, "validation_failed", "time_zone", id="zone-path"
        ),
        pytest.param({"time_zone": "Asia"}, 422, "validation_failed", "time_zone", id="zone-dir"),
        pytest.param({"code": "ctu"}, 422, "validation_failed", "code", id="lowercase-code"),
        pytest.param({"code": "C" * 17}, 422, "validation_failed", "code", id="long-code"),
        pytest.param({"code": "CT U"}, 422, "validation_failed", "code", id="code-with-space"),
        pytest.param({"time_zone": MISSING}, 422, "validation_failed", "time_zone", id="no-zone"),
        pytest.param({"region": None}, 422, "validation_failed", "region", id="null-region"),
        pytest.param({"capacity": 10}, 422, "validation_failed", "capacity", id="unknown-field"),
    ],
)
def test_refuses_a_bad_warehouse_and_writes_nothing(
    stocked: Database,
    client: TestClient,
    admin: dict[str, str],
    overrides: dict[str, object],
    status: int,
    code: str,
    field: str,
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/warehouses", headers=admin, json=warehouse_body(**overrides))
    assert_problem(response, status, code, field=field)
    assert written(stocked) == before


def test_a_body_missing_every_field_names_each_of_them(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    body = assert_problem(
        client.post("/api/v1/warehouses", headers=admin, json={}), 422, "validation_failed"
    )
    assert {e["field"] for e in body["errors"]} == set(warehouse_body())
    assert written(stocked) == before


def test_refuses_a_duplicate_warehouse_code_with_409_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str]
) -> None:
    before = written(stocked)
    response = client.post("/api/v1/warehouses", headers=admin, json=warehouse_body(code="SHA"))
    assert_problem(response, 409, "already_exists", field="code")
    assert written(stocked) == before


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/warehouses"])
def test_malformed_json_is_a_400_problem_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str], path: str
) -> None:
    before = written(stocked)
    response = client.post(
        path,
        headers={**admin, "Content-Type": "application/json"},
        content=b'{"sku": "MUG-1", "name": ',
    )
    assert_problem(response, 400, "malformed_json", field="body")
    assert written(stocked) == before


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/warehouses"])
def test_a_form_encoded_body_is_a_415_problem_and_writes_nothing(
    stocked: Database, client: TestClient, admin: dict[str, str], path: str
) -> None:
    before = written(stocked)
    response = client.post(path, headers=admin, data={"sku": "MUG-1", "name": "Mug"})
    body = assert_problem(response, 415, "unsupported_media_type", field="content-type")
    assert "application/x-www-form-urlencoded" in body["detail"]
    assert written(stocked) == before


@pytest.mark.parametrize("payload", [[], "MUG-1", 42, None])
def test_a_json_body_that_is_not_an_object_is_refused(
    stocked: Database, client: TestClient, admin: dict[str, str], payload: object
) -> None:
    before = written(stocked)
    response = client.post(
        "/api/v1/products",
        headers={**admin, "Content-Type": "application/json"},
        content=json.dumps(payload).encode(),
    )
    assert_problem(response, 422, "validation_failed", field="body")
    assert written(stocked) == before


@pytest.mark.parametrize("path", ["/api/v1/products", "/api/v1/warehouses"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"cursor": "not-a-cursor"}, "cursor", id="garbage-cursor"),
        pytest.param({"cursor": cursor_after(-1)}, "cursor", id="negative-cursor"),
        pytest.param({"cursor": cursor_after("3")}, "cursor", id="string-cursor"),
        pytest.param({"cursor": base64.urlsafe_b64encode(b"[1]").decode()}, "cursor", id="list"),
        pytest.param({"limit": 0}, "limit", id="limit-zero"),
        pytest.param({"limit": 501}, "limit", id="limit-too-high"),
        pytest.param({"limit": "ten"}, "limit", id="limit-not-a-number"),
    ],
)
def test_a_bad_cursor_or_limit_is_a_422_problem(
    client: TestClient, reader: dict[str, str], path: str, params: dict[str, object], field: str
) -> None:
    response = client.get(path, headers=reader, params=params)
    assert_problem(response, 422, "validation_failed", field=field)


@pytest.mark.parametrize("after", [True, 2**31, 2**63])
def test_a_forged_cursor_out_of_range_is_a_422_problem(
    client: TestClient, reader: dict[str, str], after: object
) -> None:
    response = client.get(
        "/api/v1/products", headers=reader, params={"cursor": cursor_after(after)}
    )
    assert_problem(response, 422, "validation_failed", field="cursor")


def test_the_openapi_document_lists_the_catalogue(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/warehouses", "/api/v1/products", "/api/v1/products/{sku}"} <= set(paths)
