"""Storefront benchmark: reservations per second over real HTTP on PostgreSQL, beside pgbench.

Figures printed, for 1, 8 and 32 concurrent clients (``--clients``):

- reservations per second (201 answers) and the p50/p99 of the client's round trip;
- PostgreSQL's own ``pgbench -b simple-update`` transactions per second and mean latency with the
  same number of clients on the same machine, and our rate as a fraction of it;
- from commit to webhook receipt: for every ``reservation.created`` event, the time from the
  outbox row's ``created_at`` (written inside the committing transaction, so slightly before the
  commit: an upper bound) to its arrival at the reference consumer, p50/p99 and max, with the
  number of events that arrived out of the number written.

Each client is a thread with its own keep-alive ``httpx.Client``, reserving one unit of a random
SKU (out of ``--skus``) with a fresh ``Idempotency-Key``, back to back. The server is `wms serve
--workers 2` with a Redis broker, a `wms worker --beat` process delivers webhooks to the reference
consumer (``integrations.storefront.consumer``) running in this process. Run from the repository
root::

    .venv/bin/python bench/storefront.py                      # 1, 8, 32 clients, 15 s each
    .venv/bin/python bench/storefront.py --clients 1,4 --seconds 5

The script drops and creates the databases ``wms_bench_storefront`` and ``wms_bench_pgbench``
(only those), uses Redis database 11, and drops both databases at the end unless ``--keep-db``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import redis
from common import free_port, log, percentile, wms_executable
from rich.console import Console
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.engine import make_url

from integrations.storefront.consumer import StorefrontConsumer
from wms.auth.services import create_api_key
from wms.db.engine import make_engine, make_session_factory
from wms.db.migrate import upgrade
from wms.db.uow import UnitOfWork
from wms.inventory import catalog, stock
from wms.inventory.gtin import make_gtin
from wms.inventory.models import LocationKind

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "wms_bench_storefront"
PGBENCH_DATABASE = "wms_bench_pgbench"
BROKER = "redis://127.0.0.1:6379/11"
REPO_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-storefront-secret"
WAREHOUSES = (("SH1", 31.23, 121.47), ("GZ1", 23.13, 113.26))
STOCK_PER_SKU = 1_000_000
TPS = re.compile(r"tps = ([\d.]+) \(without initial connection time\)")
LATENCY = re.compile(r"latency average = ([\d.]+) ms")


@dataclass
class Round:
    clients: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def created(self) -> int:
        return self.statuses[201]

    @property
    def rate(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0


@dataclass
class PgbenchResult:
    clients: int
    tps: float
    latency_ms: float


# --------------------------------------------------------------------------- databases


def admin_connection() -> psycopg.Connection[Any]:
    admin = make_url(ADMIN_URL)
    return psycopg.connect(
        host=admin.host,
        port=admin.port or 5432,
        user=admin.username,
        dbname="postgres",
        autocommit=True,
    )


def recreate(name: str) -> str:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop(name: str) -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str, skus: int) -> tuple[list[str], str]:
    """Warehouses, ``skus`` products with deep stock in each, and a storefront API key."""
    engine = make_engine(url)
    upgrade(engine)
    names = [f"BENCH-{index:05d}" for index in range(skus)]
    with UnitOfWork(make_session_factory(engine)) as uow:
        for code, lat, lon in WAREHOUSES:
            catalog.create_warehouse(
                uow,
                code=code,
                name=f"{code} DC",
                region="bench",
                address=f"1 {code} Road",
                latitude=lat,
                longitude=lon,
                time_zone="Asia/Shanghai",
            )
            catalog.create_location(
                uow,
                warehouse=code,
                code="A01",
                name="Bin A01",
                kind=LocationKind.STORAGE,
                parent="STOCK",
                barcode=f"{code}-A01",
            )
        for index, sku in enumerate(names):
            catalog.create_product(
                uow,
                sku=sku,
                name=f"Bench item {index}",
                gtin=make_gtin(f"0{7_700_000_000_00 + index:012d}"),
            )
            for code, _, _ in WAREHOUSES:
                stock.receive(
                    uow,
                    sku=sku,
                    quantity=STOCK_PER_SKU,
                    warehouse=code,
                    location="A01",
                    actor="bench",
                )
        key = create_api_key(uow, name="bench-storefront", scopes=["storefront"]).key
        uow.commit()
    engine.dispose()
    return names, key


# --------------------------------------------------------------------------- processes


@contextlib.contextmanager
def process(
    args: list[str], env: dict[str, str], log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit("the server did not become healthy within 60 s")


# --------------------------------------------------------------------------- load


def run_round(base_url: str, key: str, skus: list[str], clients: int, seconds: float) -> Round:
    result = Round(clients=clients, seconds=seconds)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = [0.0]

    def client(index: int) -> None:
        rng = random.Random(index)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            start.wait()
            while time.perf_counter() < stop_at[0]:
                body = {
                    "external_ref": f"cart-{uuid.uuid4().hex[:12]}",
                    "lines": [{"sku": rng.choice(skus), "quantity": 1}],
                    "ttl_seconds": 3600,
                }
                began = time.perf_counter()
                try:
                    response = http.post(
                        "/api/v1/reservations",
                        json=body,
                        headers={"Idempotency-Key": str(uuid.uuid4())},
                    )
                    statuses[response.status_code] += 1
                except httpx.HTTPError:
                    statuses[0] += 1
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
        with lock:
            result.latencies.extend(latencies)
            result.statuses.update(statuses)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def pgbench(url: str, clients: int, seconds: float) -> PgbenchResult:
    parsed = make_url(url)
    args = [
        "pgbench",
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
        "-b",
        "simple-update",
        "-n",
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(int(seconds)),
        parsed.database or PGBENCH_DATABASE,
    ]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=seconds + 120)
    tps = TPS.search(out.stdout)
    latency = LATENCY.search(out.stdout)
    if tps is None or latency is None:
        raise SystemExit(f"cannot read pgbench's output:\n{out.stdout}\n{out.stderr}")
    return PgbenchResult(clients, float(tps.group(1)), float(latency.group(1)))


def webhook_latencies(
    url: str, consumer: StorefrontConsumer, *, wait: float
) -> tuple[list[float], int, int]:
    """(commit-to-receipt ms per event, events written, events received) for reservation.created."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event_id, extract(epoch FROM created_at) AS at FROM outbox_events "
                "WHERE type = 'reservation.created'"
            )
        ).all()
    engine.dispose()
    written = {row.event_id: float(row.at) for row in rows}
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not set(written) <= consumer.event_ids():
        time.sleep(0.5)
    arrived = {e.id: e.received_at for e in consumer.events() if e.id in written}
    latencies = [max(0.0, (arrived[i] - written[i]) * 1000) for i in arrived]
    return latencies, len(written), len(arrived)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,8,32", help="Client counts, comma separated.")
    parser.add_argument("--seconds", type=float, default=15.0, help="Duration of each round.")
    parser.add_argument("--skus", type=int, default=200, help="SKUs to spread reservations over.")
    parser.add_argument("--workers", type=int, default=2, help="`wms serve` worker processes.")
    parser.add_argument("--keep-db", action="store_true", help="Keep the databases afterwards.")
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",") if c.strip()]
    console = Console()

    log(console, f"seeding {BENCH_DATABASE}: {args.skus} SKUs in {len(WAREHOUSES)} warehouses")
    url = recreate(BENCH_DATABASE)
    skus, key = seed(url, args.skus)
    redis.Redis.from_url(BROKER).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="wms-bench-storefront-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WMS_")},
        "WMS_DATABASE_URL": url,
        "WMS_BROKER_URL": BROKER,
        "WMS_SECRET_KEY": SECRET_KEY,
        "WMS_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    consumer = StorefrontConsumer("whsec_placeholder").start()
    rounds: list[Round] = []
    try:
        with (
            process(
                [
                    wms_executable(),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env,
                tmp / "server.log",
            ) as server,
            process(
                [
                    wms_executable(),
                    "worker",
                    "--beat",
                    "--concurrency",
                    "2",
                    "--loglevel",
                    "WARNING",
                ],
                env,
                tmp / "worker.log",
            ),
        ):
            wait_healthy(base_url, server, tmp / "server.log")
            created = httpx.post(
                f"{base_url}/api/v1/webhook-endpoints",
                json={"url": consumer.url, "event_types": ["reservation.created"]},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
                timeout=30,
            )
            created.raise_for_status()
            consumer.secret = created.json()["secret"]
            for clients in counts:
                log(console, f"reservations with {clients} client(s) for {args.seconds:.0f} s")
                rounds.append(run_round(base_url, key, skus, clients, args.seconds))
            log(console, "waiting for the webhooks to arrive")
            hooks, written, arrived = webhook_latencies(url, consumer, wait=60)
    finally:
        consumer.stop()

    log(console, f"pgbench simple-update on {PGBENCH_DATABASE}")
    pg_url = recreate(PGBENCH_DATABASE)
    parsed = make_url(pg_url)
    subprocess.run(
        [
            "pgbench",
            "-i",
            "-q",
            "-s",
            "10",
            "-h",
            parsed.host or "127.0.0.1",
            "-U",
            parsed.username or "postgres",
            PGBENCH_DATABASE,
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    bench = {clients: pgbench(pg_url, clients, args.seconds) for clients in counts}

    table = Table(title="POST /api/v1/reservations on PostgreSQL (1 unit, random SKU)")
    for column in (
        "clients",
        "reservations/s",
        "p50 ms",
        "p99 ms",
        "answers",
        "pgbench tps",
        "pgbench ms",
        "ratio",
    ):
        table.add_column(column, justify="right")
    for r in rounds:
        pgb = bench[r.clients]
        answers = " ".join(f"{status}:{n}" for status, n in sorted(r.statuses.items()))
        table.add_row(
            str(r.clients),
            f"{r.rate:.1f}",
            f"{percentile(r.latencies, 50):.1f}",
            f"{percentile(r.latencies, 99):.1f}",
            answers,
            f"{pgb.tps:.0f}",
            f"{pgb.latency_ms:.2f}",
            f"{r.rate / pgb.tps:.3f}" if pgb.tps else "-",
        )
    console.print(table)
    hook_table = Table(title="Commit to webhook receipt (reservation.created)")
    for column in ("events written", "received", "p50 ms", "p99 ms", "max ms"):
        hook_table.add_column(column, justify="right")
    hook_table.add_row(
        str(written),
        str(arrived),
        f"{percentile(hooks, 50):.0f}",
        f"{percentile(hooks, 99):.0f}",
        f"{max(hooks) if hooks else float('nan'):.0f}",
    )
    console.print(hook_table)
    print(
        json.dumps(
            {
                "rounds": [
                    {
                        "clients": r.clients,
                        "per_second": round(r.rate, 1),
                        "p50_ms": round(percentile(r.latencies, 50), 2),
                        "p99_ms": round(percentile(r.latencies, 99), 2),
                        "pgbench_tps": bench[r.clients].tps,
                        "ratio": round(r.rate / bench[r.clients].tps, 4)
                        if bench[r.clients].tps
                        else None,
                    }
                    for r in rounds
                ],
                "webhook": {
                    "written": written,
                    "received": arrived,
                    "p50_ms": round(percentile(hooks, 50), 1),
                    "p99_ms": round(percentile(hooks, 99), 1),
                },
            }
        )
    )
    if not args.keep_db:
        drop(BENCH_DATABASE)
        drop(PGBENCH_DATABASE)
    if arrived < written:
        sys.exit(f"{written - arrived} webhook(s) never arrived")


if __name__ == "__main__":
    main()
