"""The real server over real HTTP: `wms serve` in a subprocess, a key from the CLI, a stock flow."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.commands import WMS, free_port, run_wms, stop, wait_until_healthy, wms_env
from tests.conftest import Database

SECRET = "e2e-secret-key"


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
    env = wms_env(WMS_DATABASE_URL=pg.url, WMS_SECRET_KEY=SECRET)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log, env, tmp_path)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        stop(process)


def test_a_stock_flow_over_real_http(server: Server) -> None:
    created = run_wms(
        "apikey", "create", "e2e", "--scope", "admin", "--json", env=server.env, cwd=server.cwd
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["key"]
    headers = {"Authorization": f"Bearer {key}", "X-Request-ID": "e2e-flow-1"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=10.0) as http:
        health = http.get("/healthz")
        assert health.json()["status"] == "ok"
        assert health.headers["x-request-id"] == "e2e-flow-1"
        warehouse = http.post(
            "/api/v1/warehouses",
            json={
                "code": "SHA",
                "name": "Shanghai Jiading DC",
                "region": "East China",
                "address": "1188 Xingxian Road, Jiading, Shanghai",
                "latitude": 31.3747,
                "longitude": 121.2655,
                "time_zone": "Asia/Shanghai",
            },
        )
        assert warehouse.status_code == 201, warehouse.text
        product = http.post(
            "/api/v1/products",
            json={"sku": "MUG-1", "name": "Ceramic mug 350 ml", "gtin": "4006381333931"},
        )
        assert product.status_code == 201, product.text
        assert product.json()["gtin"] == "04006381333931"
        adjusted = http.post(
            "/api/v1/stock-adjustments",
            json={"sku": "MUG-1", "warehouse": "SHA", "quantity": 12, "reason": "opening_balance"},
        )
        assert adjusted.status_code == 201, adjusted.text
        level = http.get("/api/v1/inventory-levels", params={"sku": "MUG-1", "warehouse": "SHA"})
        assert level.status_code == 200
        (row,) = level.json()["data"]
        assert (row["on_hand"], row["available"], row["version"]) == (12, 12, 1)
        refused = http.post(
            "/api/v1/stock-adjustments",
            json={"sku": "MUG-1", "warehouse": "SHA", "quantity": -13, "reason": "lost"},
        )
        assert refused.status_code == 409
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["lines"] == [
            {"sku": "MUG-1", "requested": 13, "available": 12, "warehouse": "SHA"}
        ]
        anonymous = httpx.get(f"{server.base_url}/api/v1/inventory-levels", timeout=10.0)
        assert anonymous.status_code == 401
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to report it.
    assert stop(server.process) in {0, -signal.SIGTERM}
    log = server.output()
    assert "Application shutdown complete" in log
    assert "Traceback" not in log


def test_serve_without_a_secret_key_exits_with_one_error_line(pg: Database, tmp_path: Path) -> None:
    result = run_wms(
        "serve", "--port", str(free_port()), env=wms_env(WMS_DATABASE_URL=pg.url), cwd=tmp_path
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "WMS_SECRET_KEY" in lines[0]
