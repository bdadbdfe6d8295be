"""schemathesis against `/openapi.json` of a real server: no 5xx, and every 4xx is problem+json.

Every operation in the schema is exercised with generated requests (valid and invalid bodies,
parameters and headers) over real HTTP against PostgreSQL. Requests carry an admin API key, so
they get past authentication and reach the validation and domain code behind it; every
state-changing request gets a fresh Idempotency-Key unless the case generated its own header.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import factories
from tests.commands import WMS, free_port, stop, wait_until_healthy, wms_env
from tests.conftest import PG_ADMIN_URL
from wms.api.app import create_app
from wms.auth.services import create_api_key
from wms.config import Settings
from wms.db.engine import make_engine, make_session_factory
from wms.db.migrate import upgrade
from wms.db.uow import UnitOfWork
from wms.inventory import stock

# uvicorn's HTTP parser (h11) closes the connection on a request head larger than 16 KiB,
# before any application code runs; generated query strings can be longer than that.
HTTP_HEAD_LIMIT = 16 * 1024

# Streams that never end by themselves; their framing is tested in the events suite.
SKIPPED_PATHS = ("/api/v1/events/stream",)


@dataclass
class FuzzServer:
    process: subprocess.Popen[bytes]
    base_url: str
    key: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    name = f"wms_fuzz_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    with UnitOfWork(make_session_factory(engine)) as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        for sku in ("MUG", "TEA"):
            factories.product(uow, sku)
            stock.receive(uow, sku=sku, quantity=500, warehouse="SHA", location="B01", actor="t")
        key = create_api_key(uow, name="fuzz", scopes=["admin"]).key
        uow.commit()
    engine.dispose()
    tmp = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [WMS, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=wms_env(WMS_DATABASE_URL=url, WMS_SECRET_KEY="fuzz-secret"),
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = FuzzServer(process, f"http://127.0.0.1:{port}", key, log)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        stop(process)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _openapi() -> dict[str, Any]:
    # The schema the server publishes at /openapi.json, built in-process so that pytest can
    # collect one test per operation (building the app opens no connection).
    app = create_app(Settings(database_url="sqlite://", secret_key="schema-only", _env_file=None))
    return app.openapi()


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_every_client_error_is_a_problem(
    case: Any, fuzz_server: FuzzServer
) -> None:
    if case.path in SKIPPED_PATHS:
        return
    headers = {"Authorization": f"Bearer {fuzz_server.key}"}
    if case.method.upper() in {"POST", "PUT", "PATCH", "DELETE"} and not any(
        name.lower() == "idempotency-key" for name in (case.headers or {})
    ):
        headers["Idempotency-Key"] = str(uuid.uuid4())
    try:
        response = case.call(base_url=fuzz_server.base_url, headers=headers, timeout=30)
    except OSError as exc:  # requests' connection errors derive from OSError
        head = len(urlencode(case.query or {}, doseq=True)) + sum(
            len(str(k)) + len(str(v)) for k, v in (case.headers or {}).items()
        )
        if head > HTTP_HEAD_LIMIT:
            return  # refused by the HTTP server before it reaches the application
        pytest.fail(
            f"{case.method} {case.formatted_path} broke the connection: {exc!r}\n"
            f"query={str(case.query)[:300]} headers={str(case.headers)[:300]}\n"
            f"{fuzz_server.output()[-3000:]}"
        )
    described = (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    assert response.status_code < 500, described + "\n" + fuzz_server.output()[-3000:]
    if 400 <= response.status_code < 500:
        media_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
        assert media_type == "application/problem+json", described
        body = response.json()
        assert body["status"] == response.status_code, described
        assert body.get("detail"), described
