"""Acceptance 1: 200 concurrent reservations of one unit against 50, over HTTP, on PostgreSQL.

A real `wms serve` with two worker processes; 200 threads, each with its own HTTP client and
Idempotency-Key, released together. Exactly 50 hold a unit, 150 get 409 problem+json, the level
shows 50 reserved, and `wms check` finds the ledger and the levels in agreement.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import factories
from tests.commands import WMS, free_port, run_wms, stop, wait_until_healthy, wms_env
from tests.conftest import Database
from wms.auth.services import create_api_key
from wms.inventory import stock

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

UNITS = 50
REQUESTS = 200


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path
    env: dict[str, str]
    cwd: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def server(pg: Database, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = wms_env(
        WMS_DATABASE_URL=pg.url,
        WMS_SECRET_KEY="race-secret",
        # Two processes share the database's 100 connections with the test suite.
        WMS_DB_POOL_SIZE="10",
        WMS_DB_MAX_OVERFLOW="10",
    )
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log, env, tmp_path)
    try:
        wait_until_healthy(running, within=60)
        yield running
    finally:
        stop(process)


@pytest.fixture
def key(pg: Database) -> str:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=1)
        factories.product(uow, "LAST-50")
        stock.receive(
            uow, sku="LAST-50", quantity=UNITS, warehouse="SHA", location="B01", actor="test"
        )
        issued = create_api_key(uow, name="storefront", scopes=["storefront"])
        uow.commit()
    return issued.key


def test_two_hundred_checkouts_for_fifty_units_hold_exactly_fifty(
    pg: Database, server: Server, key: str
) -> None:
    barrier = threading.Barrier(REQUESTS)
    answers: list[httpx.Response] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def checkout(index: int) -> None:
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())}
        body = {"external_ref": f"cart-{index}", "lines": [{"sku": "LAST-50", "quantity": 1}]}
        try:
            with httpx.Client(base_url=server.base_url, timeout=120.0) as http:
                barrier.wait(timeout=60)
                response = http.post("/api/v1/reservations", json=body, headers=headers)
            with lock:
                answers.append(response)
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(REQUESTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert not failures, failures[:3]

    statuses = Counter(r.status_code for r in answers)
    assert statuses == Counter({201: UNITS, 409: REQUESTS - UNITS}), (
        statuses,
        [r.text for r in answers if r.status_code not in (201, 409)][:3],
        server.output()[-3000:],
    )
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["code"] == "insufficient_stock"
        assert problem["lines"] == [{"sku": "LAST-50", "requested": 1, "available": 0}]
    held = [r.json() for r in answers if r.status_code == 201]
    assert len({h["id"] for h in held}) == UNITS
    assert all(h["lines"] == [{"sku": "LAST-50", "quantity": 1, "warehouse": "SHA"}] for h in held)

    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        level = http.get(
            "/api/v1/inventory-levels",
            params={"sku": "LAST-50"},
            headers={"Authorization": f"Bearer {key}"},
        ).json()["data"][0]
    assert (level["on_hand"], level["reserved"], level["available"]) == (UNITS, UNITS, 0)
    assert pg.count("reservations") == UNITS
    assert (
        pg.scalar("SELECT count(*) FROM outbox_events WHERE type = 'reservation.created'") == UNITS
    )

    checked = run_wms("check", "--json", env=server.env, cwd=server.cwd)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Traceback" not in server.output()
