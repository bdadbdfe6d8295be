"""`/webhook-endpoints` over HTTP on PostgreSQL: secrets once, validation, owners, replay."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from integrations.storefront.consumer import StorefrontConsumer
from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from wms.api.app import create_app
from wms.config import Settings
from wms.db.outbox import record_events
from wms.events.delivery import fan_out_ids

URL = "https://shop.example.com/hooks/wms"
_keys = itertools.count(1)


@pytest.fixture
def api(pg: Database) -> Iterator[TestClient]:
    """The API with no background delivery: the tests drive fan-out themselves."""
    settings = Settings(
        database_url=pg.url, secret_key="test-secret", run_jobs_in_process=False, _env_file=None
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def shop(pg: Database) -> dict[str, str]:
    return bearer(pg, "storefront", name="shop")


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"key-{next(_keys)}-{time.monotonic_ns()}"}


def create(
    api: TestClient, auth: dict[str, str], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = api.post(
        "/api/v1/webhook-endpoints",
        json=body or {"url": URL, "event_types": ["inventory.*"]},
        headers={**auth, **key()},
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def emit(db: Database, *types: str) -> None:
    with db.uow() as uow:
        record_events(uow.session, [(t, f"s{i}", {"i": i}) for i, t in enumerate(types)])
        uow.commit()


def settle(db: Database, expected: int) -> None:
    created: list[int] = []
    deadline = time.monotonic() + 15
    while len(created) < expected and time.monotonic() < deadline:
        created += fan_out_ids(db.session_factory)
        time.sleep(0.02)
    assert len(created) == expected


def test_creating_an_endpoint_returns_its_secret_once(
    api: TestClient, shop: dict[str, str]
) -> None:
    created = create(
        api,
        shop,
        {"url": URL, "event_types": ["inventory.*", "order.received"], "description": "Shop"},
    )
    assert created["id"].startswith("we_")
    assert created["url"] == URL
    assert created["event_types"] == ["inventory.*", "order.received"]
    assert created["description"] == "Shop"
    assert created["active"] is True
    assert created["disabled_at"] is None
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32
    shown = api.get(f"/api/v1/webhook-endpoints/{created['id']}", headers=shop)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert shown.json() == {k: v for k, v in created.items() if k != "secret"}
    listed = api.get("/api/v1/webhook-endpoints", headers=shop).json()
    assert listed == {"data": [shown.json()], "next_cursor": None}
    assert all("secret" not in item for item in listed["data"])


def test_a_retry_with_the_same_key_gets_the_same_endpoint_and_secret(
    api: TestClient, shop: dict[str, str], pg: Database
) -> None:
    headers = {**shop, "Idempotency-Key": "create-hook-1"}
    body = {"url": URL}
    first = api.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    again = api.post("/api/v1/webhook-endpoints", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert pg.count("webhook_endpoints") == 1
    other = api.post("/api/v1/webhook-endpoints", json={"url": URL + "/x"}, headers=headers)
    assert_problem(other, 422, "idempotency_key_reused")
    missing = api.post("/api/v1/webhook-endpoints", json=body, headers=shop)
    assert_problem(missing, 400, "bad_request", field="Idempotency-Key")
    assert first.json()["event_types"] == []  # no types: every event


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://shop.example.com/hooks"}, "url"),
        ({"url": "shop.example.com/hooks"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"url": "https://shop.example.com/a b"}, "url"),
        ({"url": "https://shop.example.com:99999/"}, "url"),
        ({"url": "https://shop.example.com/#frag"}, "url"),
        ({"url": "https://" + "a" * 2050 + ".com"}, "url"),
        ({"url": ""}, "url"),
        ({}, "url"),
        ({"url": URL, "event_types": ["Inventory.*"]}, "event_types[0]"),
        (
            {"url": URL, "event_types": ["inventory.level.updated", "inventory.**"]},
            "event_types[1]",
        ),
        ({"url": URL, "event_types": ["*.updated"]}, "event_types[0]"),
        ({"url": URL, "event_types": "inventory.*"}, "event_types"),
        ({"url": URL, "event_types": [f"t{i}" for i in range(51)]}, "event_types"),
        ({"url": URL, "secret": "whsec_mine"}, "secret"),
        ({"url": URL, "description": "x" * 256}, "description"),
    ],
)
def test_invalid_endpoints_are_refused_naming_the_field(
    api: TestClient, shop: dict[str, str], pg: Database, body: dict[str, Any], field: str
) -> None:
    response = api.post("/api/v1/webhook-endpoints", json=body, headers={**shop, **key()})
    assert_problem(response, 422, "validation_failed", field=field)
    assert pg.count("webhook_endpoints") == 0


def test_only_storefront_and_admin_keys_manage_endpoints(
    api: TestClient, pg: Database, admin: dict[str, str]
) -> None:
    reader = bearer(pg, "read", name="reporting")
    refused = api.post("/api/v1/webhook-endpoints", json={"url": URL}, headers={**reader, **key()})
    assert_problem(refused, 403, "forbidden")
    assert_problem(api.get("/api/v1/webhook-endpoints", headers=reader), 403, "forbidden")
    assert_problem(api.get("/api/v1/webhook-endpoints"), 401, "unauthorized")
    assert create(api, admin)["active"] is True


def test_an_owner_sees_and_changes_only_its_own_endpoints(
    api: TestClient, pg: Database, admin: dict[str, str]
) -> None:
    shop_a = bearer(pg, "storefront", name="shop-a")
    shop_b = bearer(pg, "storefront", name="shop-b")
    mine = create(api, shop_a)
    theirs = create(api, shop_b)
    listed = api.get("/api/v1/webhook-endpoints", headers=shop_a).json()["data"]
    assert [e["id"] for e in listed] == [mine["id"]]
    for path in ("", "/deliveries"):
        hidden = api.get(f"/api/v1/webhook-endpoints/{theirs['id']}{path}", headers=shop_a)
        assert_problem(hidden, 404, "not_found")
    refused = api.delete(f"/api/v1/webhook-endpoints/{theirs['id']}", headers={**shop_a, **key()})
    assert_problem(refused, 404, "not_found")
    replay = api.post(
        f"/api/v1/webhook-endpoints/{theirs['id']}/replay",
        json={"status": "dead"},
        headers={**shop_a, **key()},
    )
    assert_problem(replay, 404, "not_found")
    everyone = api.get("/api/v1/webhook-endpoints", headers=admin).json()["data"]
    assert {e["id"] for e in everyone} == {mine["id"], theirs["id"]}
    assert api.get(f"/api/v1/webhook-endpoints/{theirs['id']}", headers=admin).status_code == 200
    assert api.get(f"/api/v1/webhook-endpoints/{theirs['id']}", headers=shop_b).status_code == 200


def test_endpoints_are_listed_page_by_page(api: TestClient, shop: dict[str, str]) -> None:
    ids = [create(api, shop, {"url": f"{URL}/{i}"})["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/webhook-endpoints", params=params, headers=shop).json()
        seen += [e["id"] for e in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    bad = api.get("/api/v1/webhook-endpoints", params={"cursor": "nope"}, headers=shop)
    assert_problem(bad, 422, "validation_failed", field="cursor")


def test_deleting_an_endpoint_disables_it(
    api: TestClient, shop: dict[str, str], pg: Database
) -> None:
    created = create(api, shop)
    path = f"/api/v1/webhook-endpoints/{created['id']}"
    assert_problem(api.delete(path, headers=shop), 400, "bad_request", field="Idempotency-Key")
    deleted = api.delete(path, headers={**shop, **key()})
    assert deleted.status_code == 200
    assert deleted.json()["active"] is False
    assert deleted.json()["disabled_at"] is not None
    assert api.get(path, headers=shop).json()["active"] is False
    again = api.delete(path, headers={**shop, **key()})
    assert again.status_code == 200
    assert again.json()["disabled_at"] == deleted.json()["disabled_at"]
    emit(pg, "inventory.level.updated")
    assert fan_out_ids(pg.session_factory) == []
    replay = api.post(f"{path}/replay", json={"status": "dead"}, headers={**shop, **key()})
    assert_problem(replay, 409, "conflict")
    assert_problem(api.get("/api/v1/webhook-endpoints/we_nope", headers=shop), 404, "not_found")


def test_deliveries_are_listed_by_status_and_dead_ones_replayed(
    api: TestClient, shop: dict[str, str], pg: Database
) -> None:
    created = create(api, shop, {"url": URL, "event_types": ["inventory.*"]})
    path = f"/api/v1/webhook-endpoints/{created['id']}"
    emit(pg, "inventory.level.updated", "order.received", "inventory.item.out_of_stock")
    settle(pg, 2)
    with pg.engine.begin() as connection:  # as if the schedule had run out for the first one
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET status = 'dead', attempts = 11, "
                "last_status_code = 500, last_error = 'HTTP 500: boom' WHERE id = 1"
            )
        )
    every = api.get(f"{path}/deliveries", headers=shop).json()
    assert [(d["event_type"], d["status"]) for d in every["data"]] == [
        ("inventory.level.updated", "dead"),
        ("inventory.item.out_of_stock", "pending"),
    ]
    dead = api.get(f"{path}/deliveries", params={"status": "dead"}, headers=shop).json()["data"]
    assert len(dead) == 1
    assert dead[0]["event_id"].startswith("evt_")
    assert (dead[0]["attempts"], dead[0]["last_status_code"]) == (11, 500)
    assert dead[0]["last_error"] == "HTTP 500: boom"
    bad = api.get(f"{path}/deliveries", params={"status": "lost"}, headers=shop)
    assert_problem(bad, 422, "validation_failed", field="status")

    replayed = api.post(f"{path}/replay", json={"status": "dead"}, headers={**shop, **key()})
    assert replayed.status_code == 200
    assert replayed.json() == {"replayed": 1}
    after = api.get(f"{path}/deliveries", params={"status": "pending"}, headers=shop).json()
    assert len(after["data"]) == 2
    assert {d["attempts"] for d in after["data"]} == {0}
    assert api.get(f"{path}/deliveries", params={"status": "dead"}, headers=shop).json() == {
        "data": [],
        "next_cursor": None,
    }
    # By event id: the order event was never subscribed to; the others can be sent again.
    by_id = api.post(
        f"{path}/replay", json={"event_ids": [dead[0]["event_id"]]}, headers={**shop, **key()}
    )
    assert by_id.json() == {"replayed": 1}
    order_event = pg.scalar("SELECT event_id FROM outbox_events WHERE type = 'order.received'")
    refused = api.post(
        f"{path}/replay", json={"event_ids": [order_event]}, headers={**shop, **key()}
    )
    assert_problem(refused, 422, "validation_failed", field="event_ids")
    unknown = api.post(
        f"{path}/replay", json={"event_ids": ["evt_missing"]}, headers={**shop, **key()}
    )
    body = assert_problem(unknown, 422, "not_found", field="event_ids")
    assert body["missing"] == ["evt_missing"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"status": "dead", "since": "2024-01-01T00:00:00Z"},
        {"status": "delivered"},
        {"event_ids": []},
        {"since": "2024-01-01T00:00:00"},  # no time zone
        {"since": "yesterday"},
        {"status": "dead", "extra": 1},
    ],
)
def test_a_replay_names_exactly_one_selection(
    api: TestClient, shop: dict[str, str], body: dict[str, Any]
) -> None:
    created = create(api, shop)
    response = api.post(
        f"/api/v1/webhook-endpoints/{created['id']}/replay", json=body, headers={**shop, **key()}
    )
    assert_problem(response, 422, "validation_failed")


def test_replay_since_reaches_back_before_the_endpoint(
    api: TestClient, shop: dict[str, str], pg: Database
) -> None:
    emit(pg, "inventory.level.updated", "order.received", "inventory.level.updated")
    created = create(api, shop)
    response = api.post(
        f"/api/v1/webhook-endpoints/{created['id']}/replay",
        json={"since": "2000-01-01T00:00:00+00:00"},
        headers={**shop, **key()},
    )
    assert response.json() == {"replayed": 2}
    listed = api.get(f"/api/v1/webhook-endpoints/{created['id']}/deliveries", headers=shop)
    assert [d["status"] for d in listed.json()["data"]] == ["pending", "pending"]


def test_the_embedded_server_delivers_stock_changes_to_the_storefront(pg: Database) -> None:
    """No broker: the server's own delivery loop signs and sends, as in `wms demo`."""
    settings = Settings(
        database_url=pg.url, secret_key="test-secret", webhook_sweep_seconds=0.2, _env_file=None
    )
    admin = bearer(pg, "admin")
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        uow.commit()
    with (
        StorefrontConsumer("whsec_" + "A" * 32) as consumer,
        TestClient(create_app(settings), raise_server_exceptions=False) as client,
    ):
        created = client.post(
            "/api/v1/webhook-endpoints",
            json={"url": consumer.url, "event_types": ["inventory.level.updated"]},
            headers={**admin, **key()},
        ).json()
        consumer.secret = created["secret"]
        for quantity in (5, -2):
            adjusted = client.post(
                "/api/v1/stock-adjustments",
                json={
                    "sku": "MUG",
                    "warehouse": "SHA",
                    "quantity": quantity,
                    "reason": "correction",
                },
                headers=admin,
            )
            assert adjusted.status_code == 201, adjusted.text
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            level = consumer.replica().get(("MUG", "SHA"))
            if level and level["version"] == 2:
                break
            time.sleep(0.05)
    assert consumer.replica()[("MUG", "SHA")]["on_hand"] == 3
    assert [e.type for e in consumer.events()] == ["inventory.level.updated"] * 2
