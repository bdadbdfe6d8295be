"""The embedded default with no broker: a storefront on `wms serve` over a SQLite file.

A first-time setup as the README gives it (`wms db upgrade`, API keys from the CLI, `wms serve` with
only a secret key: the database is `var/wms.sqlite3`, no broker), the reference consumer subscribed
over the API, then reserve, order, release and cancel as a storefront does. The server's own
delivery loop (``wms.events.inprocess``) signs and sends every event; the consumer ends with every
event once and a replica of the stock levels equal to the database's, and `GET /api/v1/events`
pages through every outbox row exactly once, in order.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.storefront.consumer import LEVEL_FIELDS, StorefrontConsumer
from tests.commands import WMS, free_port, run_wms, stop, wait_until_healthy, wms_env
from wms.config import DEFAULT_SQLITE_PATH

pytestmark = pytest.mark.slow

SHANGHAI = {"latitude": 31.2354, "longitude": 121.5058}
GUANGZHOU = {"latitude": 23.1200, "longitude": 113.3210}
WAREHOUSES = (
    ("SHA", "Shanghai Jiading DC", "East China", 31.3747, 121.2655),
    ("CAN", "Guangzhou Baiyun DC", "South China", 23.3924, 113.2988),
)
STOCK = (("MUG", "SHA", 10), ("TEA", "SHA", 4), ("MUG", "CAN", 6), ("TEA", "CAN", 3))


@dataclass
class Embedded:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    env: dict[str, str]
    cwd: Path
    admin: dict[str, str]
    shop: dict[str, str]

    @property
    def database(self) -> Path:
        return self.cwd / DEFAULT_SQLITE_PATH

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10)) as db:
            return list(db.execute(sql))


def new_key(env: dict[str, str], cwd: Path, name: str, scope: str) -> dict[str, str]:
    created = run_wms("apikey", "create", name, "--scope", scope, "--json", env=env, cwd=cwd)
    assert created.returncode == 0, created.stderr
    return {"Authorization": f"Bearer {json.loads(created.stdout)['key']}"}


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Embedded]:
    env = wms_env(WMS_SECRET_KEY="smoke-secret", WMS_LOG_LEVEL="WARNING")
    upgraded = run_wms("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    admin = new_key(env, tmp_path, "back-office", "admin")
    shop = new_key(env, tmp_path, "shop", "storefront")
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Embedded(process, f"http://127.0.0.1:{port}", log, env, tmp_path, admin, shop)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        stop(process)


def send(
    http: httpx.Client, method: str, path: str, headers: dict[str, str], body: Any = None
) -> dict[str, Any]:
    """A state-changing request with its own Idempotency-Key; the JSON answer."""
    response = http.request(
        method,
        f"/api/v1{path}",
        json=body,
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


def set_up_warehouses(http: httpx.Client, admin: dict[str, str]) -> None:
    for code, name, region, latitude, longitude in WAREHOUSES:
        send(
            http,
            "POST",
            "/warehouses",
            admin,
            {
                "code": code,
                "name": name,
                "region": region,
                "address": f"{name}, China",
                "latitude": latitude,
                "longitude": longitude,
                "time_zone": "Asia/Shanghai",
            },
        )
    for sku, name in (("MUG", "Ceramic mug 350 ml"), ("TEA", "Longjing tea 100 g")):
        send(http, "POST", "/products", admin, {"sku": sku, "name": name})


def ship_to(point: dict[str, float], city: str) -> dict[str, Any]:
    return {
        "name": "Li Na",
        "address_lines": ["88 Century Avenue", "Floor 12"],
        "city": city,
        "postal_code": "200120",
        "country": "CN",
        **point,
    }


def database_levels(server: Embedded) -> dict[tuple[str, str], dict[str, int]]:
    columns = ", ".join(f"l.{name}" for name in LEVEL_FIELDS)
    rows = server.rows(
        f"SELECT p.sku, w.code, {columns} FROM stock_levels l "
        "JOIN products p ON p.id = l.product_id JOIN warehouses w ON w.id = l.warehouse_id"
    )
    return {(r[0], r[1]): dict(zip(LEVEL_FIELDS, r[2:], strict=True)) for r in rows}


def wait_for(condition: Any, *, within: float, server: Embedded, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {within} s:\n{server.output()[-4000:]}")
        time.sleep(0.05)


def page_through(
    http: httpx.Client, headers: dict[str, str], *, limit: int, types: str | None = None
) -> list[str]:
    """Every event id `GET /events` returns, following `next_cursor` until a page is empty."""
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": limit, **({"types": types} if types else {})}
    after: str | None = None
    for _page in range(10_000):
        response = http.get(
            "/api/v1/events",
            params={**params, **({"after": after} if after else {})},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= limit
        if not body["data"]:
            assert body["next_cursor"] == (after or "0-0")  # an empty page does not move on
            return seen
        assert body["next_cursor"] == body["data"][-1]["cursor"]
        seen += [event["id"] for event in body["data"]]
        after = body["next_cursor"]
    pytest.fail("the feed never ended")


def test_a_storefront_on_the_embedded_default(embedded: Embedded) -> None:
    admin, shop = embedded.admin, embedded.shop
    with (
        StorefrontConsumer("whsec_" + "A" * 32) as consumer,
        httpx.Client(base_url=embedded.base_url, timeout=15.0) as http,
    ):
        set_up_warehouses(http, admin)
        # The endpoint gets the events written from now on (its cursor then moves as it fans out).
        (before,) = embedded.rows("SELECT coalesce(max(id), 0) FROM outbox_events")[0]
        endpoint = send(http, "POST", "/webhook-endpoints", shop, {"url": consumer.url})
        consumer.secret = endpoint["secret"]
        for sku, warehouse, quantity in STOCK:
            body = {"sku": sku, "warehouse": warehouse, "quantity": quantity}
            send(http, "POST", "/stock-adjustments", admin, {**body, "reason": "opening_balance"})

        # Checkout: hold, then order what was held (the reservation is converted).
        held = send(
            http,
            "POST",
            "/reservations",
            shop,
            {
                "external_ref": "cart-1",
                "lines": [{"sku": "MUG", "quantity": 3}, {"sku": "TEA", "quantity": 1}],
                "ttl_seconds": 600,
                "ship_to": SHANGHAI,
            },
        )
        assert held["status"] == "active"
        assert {ln["warehouse"] for ln in held["lines"]} == {"SHA"}
        ordered = send(
            http,
            "POST",
            "/orders",
            shop,
            {
                "external_ref": "web-1",
                "lines": [{"sku": "MUG", "quantity": 3}, {"sku": "TEA", "quantity": 1}],
                "ship_to": ship_to(SHANGHAI, "Shanghai"),
                "reservation_id": held["id"],
            },
        )
        assert ordered["status"] == "allocated"
        assert [f["warehouse"] for f in ordered["allocation"]] == ["SHA"]
        # A second order, allocated at once near Guangzhou, then cancelled.
        second = send(
            http,
            "POST",
            "/orders",
            shop,
            {
                "external_ref": "web-2",
                "lines": [{"sku": "MUG", "quantity": 2}],
                "ship_to": ship_to(GUANGZHOU, "Guangzhou"),
            },
        )
        assert [f["warehouse"] for f in second["allocation"]] == ["CAN"]
        cancelled = send(http, "POST", f"/orders/{second['id']}/cancel", shop)
        assert cancelled["status"] == "cancelled"
        # A cart abandoned: held, then released.
        abandoned = send(
            http,
            "POST",
            "/reservations",
            shop,
            {"external_ref": "cart-2", "lines": [{"sku": "TEA", "quantity": 2}], "ttl_seconds": 60},
        )
        send(http, "DELETE", f"/reservations/{abandoned['id']}", shop)
        # Asking for more than exists holds nothing and writes no event.
        short = http.post(
            "/api/v1/reservations",
            json={"external_ref": "cart-3", "lines": [{"sku": "MUG", "quantity": 100}]},
            headers={**shop, "Idempotency-Key": str(uuid.uuid4())},
        )
        assert short.status_code == 409, short.text

        outbox = embedded.rows("SELECT event_id, type, id FROM outbox_events ORDER BY id")
        expected = {event_id for event_id, _type, row in outbox if row > before}
        wait_for(
            lambda: consumer.event_ids() >= expected,
            within=30,
            server=embedded,
            what="delivery of every event",
        )
        wait_for(
            lambda: (
                embedded.rows("SELECT count(*) FROM webhook_deliveries WHERE status != 'delivered'")
                == [(0,)]
            ),
            within=10,
            server=embedded,
            what="every delivery marked delivered",
        )
        feed = page_through(http, shop, limit=7)
        orders_only = page_through(http, shop, limit=2, types="order.*,reservation.*")

    # Every event after the subscription reached the consumer once, none before it.
    assert consumer.event_ids() == expected
    assert len(consumer.events()) == len(expected)
    assert consumer.rejected == 0
    assert embedded.rows("SELECT count(*) FROM webhook_deliveries") == [(len(expected),)]
    received = [e.type for e in consumer.events()]
    for type_, times in {
        "reservation.created": 2,
        "reservation.committed": 1,
        "reservation.released": 1,
        "order.received": 2,
        "order.allocated": 2,
        "order.cancelled": 1,
    }.items():
        assert received.count(type_) == times, (type_, received)
    by_subject = {e.data.get("id"): e for e in consumer.events() if e.type == "order.cancelled"}
    assert by_subject[second["id"]].data["status"] == "cancelled"

    # The replica is the database's stock levels, every counter and version.
    levels = database_levels(embedded)
    assert consumer.replica() == levels
    assert levels[("MUG", "SHA")]["committed"] == 3
    assert levels[("TEA", "SHA")]["committed"] == 1
    assert levels[("MUG", "CAN")]["committed"] == 0  # released by the cancel
    assert all(level["reserved"] == 0 for level in levels.values())

    # The feed pages through every outbox row once, in order; a type filter keeps the order too.
    assert feed == [event_id for event_id, _type, _row in outbox]
    assert orders_only == [
        event_id
        for event_id, type_, _row in outbox
        if type_.split(".")[0] in {"order", "reservation"}
    ]

    checked = run_wms("check", env=embedded.env, cwd=embedded.cwd)
    assert checked.returncode == 0, checked.stderr
    assert stop(embedded.process) in {0, -signal.SIGTERM}
    assert "Traceback" not in embedded.output()
