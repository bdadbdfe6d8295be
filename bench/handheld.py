"""Handheld benchmark: simulated scanners doing move flows against a real `wms serve`.

Figures printed: scans per second, the p50/p95/p99/max of the server time of one scan (the
``Server-Timing: app;dur=`` header of ``POST /handheld/scan``) and of the client's round trip,
error answers by message, idempotent retries confirmed as duplicates, and at the end whether the
ledger is consistent (`wms check`) and whether every completed move flow booked exactly one move.

Each scanner is one user with a PIN, signed in to the same warehouse, in its own thread with its
own keep-alive ``httpx.Client``. It repeats the Move flow as an operator would: scan the source
bin, scan the product's EAN-13, type the quantity, scan the destination bin. Each scan has a
fresh uuid4 id; about 2% of the scans are sent a second time with the same id, as a device does
after a timeout, and must come back marked ``duplicate`` with the same answer. Run from the
repository root::

    .venv/bin/python bench/handheld.py                  # 20 scanners for 60 s
    .venv/bin/python bench/handheld.py --scanners 5 --seconds 10 --think 0.5

The script drops and creates the database ``wms_bench_handheld`` (and only that one), migrates
it, seeds it through the real services, serves it with `wms serve` on a free port, and drops it
at the end unless ``--keep-db``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from common import CliCheckResult, free_port, log, percentile, run_cli_check, wms_executable
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from wms.auth.models import Role
from wms.auth.services import create_user
from wms.auth.sessions import set_pin
from wms.db.engine import make_engine, make_session_factory
from wms.db.migrate import upgrade
from wms.db.uow import UnitOfWork
from wms.inventory import catalog, stock
from wms.inventory.gtin import make_gtin
from wms.inventory.models import LocationKind

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "wms_bench_handheld"
REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE = "SH1"
HOME_BINS = 4  # bins each product is stocked in; moves go between them
OPENING_QUANTITY = 1000  # per home bin: far more than a minute of 1-5 unit moves can drain
PIN = "2468"
SECRET_KEY = "bench-handheld-secret"
SERVER_START_TIMEOUT = 60.0
SUBPROCESS_TIMEOUT = 600.0
AVAILABLE = re.compile(r":\s*(\d+) here")


# --------------------------------------------------------------------------- helpers


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return math.nan, math.nan
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # steal included, guest counted inside user already
    return (total - idle) / tick, total / tick


# --------------------------------------------------------------------------- database


def recreate_database() -> str:
    """Drop and create the dedicated database ``wms_bench_handheld``; its URL."""
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return make_url(ADMIN_URL).set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def drop_database() -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def admin_connection() -> psycopg.Connection[Any]:
    admin = make_url(ADMIN_URL)
    return psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        dbname=admin.database,
        autocommit=True,
    )


# --------------------------------------------------------------------------- seed


@dataclass(frozen=True)
class World:
    bins: list[str]  # bin codes B001..
    barcodes: list[str]  # what is printed on each bin: SH1-B001..
    bin_ids: list[int]
    skus: list[str]
    eans: list[str]  # what a scanner reads off a box: the EAN-13
    product_ids: list[int]
    home_bins: list[tuple[int, ...]]  # product index -> bin indexes
    users: list[str]


def seed(factory: sessionmaker[Session], args: argparse.Namespace) -> World:
    """Warehouse, bins, products, opening stock and the scanner users, through the services."""
    rng = random.Random(args.seed)
    bins = [f"B{n:03d}" for n in range(1, args.bins + 1)]
    skus = [f"HH-{n:04d}" for n in range(1, args.products + 1)]
    gtins = [make_gtin(f"0{690123450000 + n:012d}") for n in range(args.products)]
    home_bins = [tuple(rng.sample(range(len(bins)), HOME_BINS)) for _ in skus]
    users = [f"scanner{n:02d}" for n in range(1, args.scanners + 1)]
    with UnitOfWork(factory) as uow:
        catalog.create_warehouse(
            uow,
            code=WAREHOUSE,
            name="Shanghai DC",
            region="East China",
            address="88 Jiangchang Rd, Jing'an, Shanghai",
            latitude=31.23,
            longitude=121.47,
            time_zone="Asia/Shanghai",
        )
        for code in bins:
            catalog.create_location(
                uow,
                warehouse=WAREHOUSE,
                code=code,
                name=f"Bin {code}",
                kind=LocationKind.STORAGE,
                parent="STOCK",
                barcode=f"{WAREHOUSE}-{code}",
            )
        for index, (sku, gtin) in enumerate(zip(skus, gtins, strict=True)):
            catalog.create_product(
                uow, sku=sku, name=f"Handheld bench product {index + 1}", gtin=gtin
            )
        for sku, homes in zip(skus, home_bins, strict=True):
            for b in homes:
                stock.adjust(
                    uow,
                    sku=sku,
                    warehouse=WAREHOUSE,
                    quantity=OPENING_QUANTITY,
                    reason="opening_balance",
                    location=bins[b],
                    actor="bench",
                )
        for username in users:
            create_user(
                uow,
                username=username,
                display_name=f"Scanner {username[-2:]}",
                role=Role.OPERATOR,
                password=f"{username}-password",
            )
            set_pin(uow, username=username, pin=PIN)
        uow.commit()
    with UnitOfWork(factory) as uow:
        bin_ids: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in uow.session.execute(
                text(
                    "SELECT l.code, l.id FROM locations l JOIN warehouses w "
                    "ON w.id = l.warehouse_id WHERE w.code = :wh"
                ),
                {"wh": WAREHOUSE},
            )
        }
        product_ids: dict[str, int] = {
            str(row[0]): int(row[1])
            for row in uow.session.execute(text("SELECT sku, id FROM products"))
        }
    return World(
        bins=bins,
        barcodes=[f"{WAREHOUSE}-{code}" for code in bins],
        bin_ids=[bin_ids[code] for code in bins],
        skus=skus,
        eans=[gtin[1:] for gtin in gtins],  # a GTIN-14 with a leading 0 is the EAN-13
        product_ids=[product_ids[sku] for sku in skus],
        home_bins=home_bins,
        users=users,
    )


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(url: str, pool_size: int, log_path: Path, workers: int = 1) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "WMS_DATABASE_URL": url,
        "WMS_SECRET_KEY": SECRET_KEY,
        "WMS_DB_POOL_SIZE": str(pool_size),
    }
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [
                wms_executable(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            cwd=REPO_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(
        f"wms serve did not come up (exit code {process.poll()}):\n{server.log_text()[-2000:]}"
    )


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


# --------------------------------------------------------------------------- scanners


@dataclass
class Sample:
    step: str
    server_ms: float
    rtt_ms: float


@dataclass
class ScannerStats:
    samples: list[Sample] = field(default_factory=list)  # measured window, first sends only
    retry_samples: list[Sample] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)  # status "error", by message
    failures: Counter[str] = field(default_factory=Counter)  # HTTP or transport trouble
    failure_samples: list[str] = field(default_factory=list)
    retries: int = 0
    duplicates_confirmed: int = 0
    duplicate_mismatches: list[str] = field(default_factory=list)
    flows_measured: int = 0
    moves_booked: int = 0  # completed flows over the whole run, warm-up included
    deltas: Counter[tuple[int, int]] = field(default_factory=Counter)  # (product, bin) -> qty
    uncertain: int = 0  # destination scans whose answer was lost (booked or not: unknown)


class ScanFailed(Exception):
    """An answer that is not a 200 JSON scan result (or none at all)."""


class Scanner:
    """One operator with one device: a thread, an HTTP client, a user session."""

    def __init__(
        self,
        index: int,
        world: World,
        base_url: str,
        args: argparse.Namespace,
        clock: dict[str, float],
    ) -> None:
        self.index = index
        self.world = world
        self.username = world.users[index]
        self.args = args
        self.clock = clock
        self.rng = random.Random(f"{args.seed}-scanner-{index}")
        self.stats = ScannerStats()
        self.client = httpx.Client(base_url=base_url, timeout=30.0)

    # One scan ------------------------------------------------------------------------------

    def send(self, step: str, body: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = self.client.post("/handheld/scan", json=body)
        except httpx.TransportError as exc:
            raise ScanFailed(f"{type(exc).__name__}: {exc}") from exc
        rtt = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise ScanFailed(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            answer: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ScanFailed(f"not JSON: {response.text[:200]}") from exc
        match = re.search(r"dur=([0-9.]+)", response.headers.get("server-timing", ""))
        measuring = self.clock["start"] <= time.monotonic() < self.clock["end"]
        sample = Sample(step, float(match.group(1)) if match else math.nan, rtt)
        if step == "retry":
            if measuring:
                self.stats.retry_samples.append(sample)
        elif measuring:
            self.stats.samples.append(sample)
        if answer.get("status") == "error" and step != "retry":
            self.stats.errors[str(answer.get("message"))] += 1
        return answer

    def scan(
        self, step: str, *, value: str = "", action: str = "", arg: str = ""
    ) -> dict[str, Any]:
        body = {
            "id": str(uuid.uuid4()),
            "kind": "action" if action else "scan",
            "value": value,
            "action": action,
            "arg": arg,
        }
        answer = self.send(step, body)
        if self.rng.random() < self.args.retry_rate:
            try:
                self.retry(body, answer)
            except ScanFailed as exc:  # the first answer stands; the flow goes on
                self.failed(exc)
        if self.args.think:
            time.sleep(self.rng.uniform(0.5, 1.5) * self.args.think)
        return answer

    def retry(self, body: dict[str, Any], first: dict[str, Any]) -> None:
        """The same scan again, as after a lost answer: it must be recognised, not applied."""
        self.stats.retries += 1
        again = self.send("retry", body)
        same = (again.get("status"), again.get("message")) == (
            first.get("status"),
            first.get("message"),
        )
        if again.get("duplicate") is True and same:
            self.stats.duplicates_confirmed += 1
        elif len(self.stats.duplicate_mismatches) < 5:
            self.stats.duplicate_mismatches.append(
                f"{self.username} {body['id']}: first {first.get('status')} "
                f"{first.get('message')!r}, retry duplicate={again.get('duplicate')} "
                f"{again.get('status')} {again.get('message')!r}"
            )

    def failed(self, exc: ScanFailed) -> None:
        self.stats.failures[str(exc).split(":", 1)[0]] += 1
        if len(self.stats.failure_samples) < 5:
            self.stats.failure_samples.append(f"{self.username}: {exc}")

    # Sign-in and the move flow ---------------------------------------------------------------

    def sign_in(self) -> None:
        login = self.client.post("/handheld/login", data={"username": self.username, "pin": PIN})
        if login.status_code != 303 or "wms_handheld" not in self.client.cookies:
            raise SystemExit(f"{self.username}: sign-in failed: HTTP {login.status_code}")
        chosen = self.client.post("/handheld/warehouse", data={"warehouse": WAREHOUSE})
        if chosen.status_code != 303:
            raise SystemExit(
                f"{self.username}: choosing the warehouse failed: {chosen.status_code}"
            )
        self.scan("start", action="start", arg="move")

    def one_move(self) -> None:
        """Source bin, product, quantity, destination bin; 'Start over' after a refused scan."""
        world, rng = self.world, self.rng
        p = rng.randrange(len(world.skus))
        src, dst = rng.sample(world.home_bins[p], 2)
        answer = self.scan("from", value=world.barcodes[src])
        if answer["status"] == "error":
            self.scan("back", action="back")
            return
        answer = self.scan("item", value=world.eans[p])
        found = AVAILABLE.search(str(answer.get("message", "")))
        if answer["status"] == "error" or found is None:
            self.scan("back", action="back")
            return
        quantity = min(rng.randint(1, 5), int(found.group(1)))
        answer = self.scan("quantity", value=str(quantity))
        if answer["status"] == "error":
            self.scan("back", action="back")
            return
        try:
            answer = self.scan("to", value=world.barcodes[dst])
        except ScanFailed:
            self.stats.uncertain += 1
            raise
        if answer["status"] == "ok":
            self.stats.moves_booked += 1
            self.stats.deltas[(p, src)] -= quantity
            self.stats.deltas[(p, dst)] += quantity
            if self.clock["start"] <= time.monotonic() < self.clock["end"]:
                self.stats.flows_measured += 1
        else:
            self.scan("back", action="back")

    def run(self, ready: threading.Barrier) -> None:
        try:
            self.sign_in()
            ready.wait(timeout=120)
            while time.monotonic() < self.clock["end"]:
                try:
                    self.one_move()
                except ScanFailed as exc:
                    self.failed(exc)
                    time.sleep(0.2)
                    with contextlib.suppress(ScanFailed):
                        self.scan("back", action="back")
        finally:
            self.client.close()


@dataclass
class RunResult:
    scanners: list[Scanner]
    seconds: float  # the measured window
    client_cpu: float
    server_cpu: float
    machine_busy: float
    machine_total: float
    load_at_start: tuple[float, float, float]


def run_scanners(
    world: World, server: Server, args: argparse.Namespace, console: Console
) -> RunResult:
    clock = {"start": math.inf, "end": math.inf}
    marks: dict[str, float] = {}

    def release() -> None:  # every scanner is signed in: warm-up, then the measured window
        now = time.monotonic()
        clock["start"] = now + args.warmup
        clock["end"] = clock["start"] + args.seconds

    scanners = [Scanner(i, world, server.base_url, args, clock) for i in range(args.scanners)]
    ready = threading.Barrier(len(scanners), action=release)
    errors: list[BaseException] = []

    def work(scanner: Scanner) -> None:
        try:
            scanner.run(ready)
        except BaseException as exc:  # a SystemExit from sign-in, say
            errors.append(exc)
            ready.abort()

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in scanners]
    log(console, f"signing in {len(scanners)} scanners")
    for t in threads:
        t.start()
    # Sample CPU counters at the edges of the measured window.
    while clock["start"] == math.inf and not errors:
        time.sleep(0.05)
    if errors:
        raise SystemExit(f"a scanner failed to start: {errors[0]}")
    log(console, f"all signed in; warm-up {args.warmup:g} s, then {args.seconds:g} s measured")
    time.sleep(max(0.0, clock["start"] - time.monotonic()))
    marks["client"], marks["server"] = time.process_time(), cpu_seconds_of(server.process.pid)
    marks["busy"], marks["total"] = machine_busy_seconds()
    load_at_start = os.getloadavg()
    while time.monotonic() < clock["end"]:
        time.sleep(min(10.0, max(0.0, clock["end"] - time.monotonic())))
        left = clock["end"] - time.monotonic()
        if left > 0.5:
            scans = sum(len(s.stats.samples) for s in scanners)
            log(console, f"  {scans:,} scans so far, {left:.0f} s to go")
    client_cpu = time.process_time() - marks["client"]
    server_cpu = cpu_seconds_of(server.process.pid) - marks["server"]
    busy, total = machine_busy_seconds()
    for t in threads:
        t.join(timeout=120)
    if any(t.is_alive() for t in threads):
        raise SystemExit("a scanner did not stop within 120 s of the end")
    if errors:
        raise SystemExit(f"a scanner failed: {errors[0]!r}")
    return RunResult(
        scanners=scanners,
        seconds=args.seconds,
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        machine_busy=busy - marks["busy"],
        machine_total=total - marks["total"],
        load_at_start=load_at_start,
    )


# --------------------------------------------------------------------------- checks


@dataclass
class BookingCheck:
    moves_booked: int  # rows in `moves` by the scanners
    moves_expected: int  # completed move flows
    uncertain: int
    quants_checked: int
    quants_off: list[str]


def check_bookings(factory: sessionmaker[Session], world: World, result: RunResult) -> BookingCheck:
    """Every completed flow booked exactly one move, and each home quant moved as the flows say."""
    deltas: Counter[tuple[int, int]] = Counter()
    for s in result.scanners:
        deltas.update(s.stats.deltas)
    with UnitOfWork(factory) as uow:
        booked = uow.session.execute(
            text("SELECT count(*) FROM moves WHERE reason = 'move' AND actor LIKE 'scanner%'")
        ).scalar_one()
        held = {
            (int(r[0]), int(r[1])): int(r[2])
            for r in uow.session.execute(
                text("SELECT product_id, location_id, quantity FROM quants WHERE lot_id IS NULL")
            )
        }
    off = []
    checked = 0
    for p, homes in enumerate(world.home_bins):
        for b in homes:
            checked += 1
            expected = OPENING_QUANTITY + deltas[(p, b)]
            actual = held.get((world.product_ids[p], world.bin_ids[b]), 0)
            if actual != expected:
                off.append(f"{world.skus[p]} in {world.barcodes[b]}: {actual}, expected {expected}")
    return BookingCheck(
        moves_booked=int(booked),
        moves_expected=sum(s.stats.moves_booked for s in result.scanners),
        uncertain=sum(s.stats.uncertain for s in result.scanners),
        quants_checked=checked,
        quants_off=off,
    )


# --------------------------------------------------------------------------- report


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def distribution(values: list[float]) -> list[float | None]:
    """p50, p95, p99 and max, rounded to 0.1 ms; None when there are no values (JSON has no NaN)."""
    if not values:
        return [None] * 4
    return [round(v, 1) for v in (*(percentile(values, p) for p in (50, 95, 99)), max(values))]


def summarise(
    args: argparse.Namespace,
    result: RunResult,
    bookings: BookingCheck,
    cli: CliCheckResult,
    pool_size: int,
    tracebacks: int,
) -> dict[str, Any]:
    stats = [s.stats for s in result.scanners]
    samples = [x for s in stats for x in s.samples]
    retries = [x for s in stats for x in s.retry_samples]
    errors: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    for s in stats:
        errors.update(s.errors)
        failures.update(s.failures)
    by_step: dict[str, list[Sample]] = defaultdict(list)
    for x in samples:
        by_step[x.step].append(x)

    def figures(values: list[Sample]) -> dict[str, Any]:
        server = [x.server_ms for x in values if not math.isnan(x.server_ms)]
        rtt = [x.rtt_ms for x in values]
        return {
            "count": len(values),
            "server_ms": dict(zip(("p50", "p95", "p99", "max"), distribution(server), strict=True)),
            "round_trip_ms": dict(
                zip(("p50", "p95", "p99", "max"), distribution(rtt), strict=True)
            ),
        }

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(v, 2) for v in result.load_at_start],
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        "scanners": args.scanners,
        "workers": args.workers,
        "seconds": result.seconds,
        "warmup_seconds": args.warmup,
        "think_seconds": args.think,
        "pool_size": pool_size,
        "bins": args.bins,
        "products": args.products,
        "scans": len(samples),
        "scans_per_second": round(len(samples) / result.seconds, 1),
        "moves_per_second": round(sum(s.flows_measured for s in stats) / result.seconds, 1),
        "all": figures(samples),
        "steps": {step: figures(by_step[step]) for step in sorted(by_step)},
        "retries": {
            "sent": sum(s.retries for s in stats),
            "duplicates_confirmed": sum(s.duplicates_confirmed for s in stats),
            "mismatches": [m for s in stats for m in s.duplicate_mismatches],
            **figures(retries),
        },
        "errors": dict(errors.most_common()),
        "failures": dict(failures),
        "failure_samples": [m for s in stats for m in s.failure_samples][:10],
        "server_tracebacks": tracebacks,
        "cpu_percent": {
            "client": round(100 * result.client_cpu / result.seconds, 1),
            "server": round(100 * result.server_cpu / result.seconds, 1),
            "machine": round(
                100 * result.machine_busy / result.machine_total * (os.cpu_count() or 1), 1
            )
            if result.machine_total
            else None,
        },
        "bookings": {
            "moves_booked": bookings.moves_booked,
            "moves_expected": bookings.moves_expected,
            "uncertain": bookings.uncertain,
            "quants_checked": bookings.quants_checked,
            "quants_off": bookings.quants_off[:20],
        },
        "check": {
            "exit_code": cli.exit_code,
            "ok": cli.ok,
            "wall_seconds": round(cli.wall_seconds, 2),
        },
    }


def render(out: Console, f: dict[str, Any]) -> None:
    title = (
        f"Handheld benchmark: {f['scanners']} scanners, {f['seconds']:g} s measured "
        f"(think {f['think_seconds']:g} s), {f['date']}, {f['host']['cpus']} CPUs"
    )
    overview = Table(title=title)
    overview.add_column("figure")
    overview.add_column("value", justify="right")
    overview.add_row("scans (first sends, measured window)", f"{f['scans']:,}")
    overview.add_row("scans/s", f"{f['scans_per_second']:,.1f}")
    overview.add_row("completed move flows/s", f"{f['moves_per_second']:,.1f}")
    errors = sum(f["errors"].values())
    overview.add_row("error answers (status error)", str(errors))
    failures = sum(f["failures"].values())
    overview.add_row("failed requests (HTTP/transport)", str(failures))
    retries = f["retries"]
    overview.add_row(
        "retries with the same id / confirmed duplicate",
        f"{retries['sent']} / {retries['duplicates_confirmed']}",
    )
    b = f["bookings"]
    overview.add_row(
        "moves booked / completed flows",
        f"{b['moves_booked']:,} / {b['moves_expected']:,}"
        + (f" ({b['uncertain']} lost answers)" if b["uncertain"] else ""),
    )
    overview.add_row(
        "home quants as the flows say",
        f"{b['quants_checked'] - len(b['quants_off'])}/{b['quants_checked']}",
    )
    check = f["check"]
    overview.add_row(
        "`wms check`",
        f"{'consistent' if check['ok'] else 'NOT CONSISTENT'} (exit {check['exit_code']}, "
        f"{check['wall_seconds']:.1f} s)",
    )
    cpu = f["cpu_percent"]
    machine = "-" if cpu["machine"] is None else f"{cpu['machine']:.0f}%"
    overview.add_row(
        "CPU (100% = one core): server / bench client / whole machine",
        f"{cpu['server']:.0f}% / {cpu['client']:.0f}% / {machine}",
    )
    host = f["host"]
    overview.add_row(
        "load average (1/5/15 min) at start; at end",
        "/".join(f"{v:.1f}" for v in host["load_average_at_start"])
        + "; "
        + "/".join(f"{v:.1f}" for v in host["load_average_at_end"]),
    )
    overview.add_row("server DB pool size", str(f["pool_size"]))
    overview.add_row("server processes", str(f["workers"]))
    overview.add_row("tracebacks in the server log", str(f["server_tracebacks"]))
    out.print(overview)

    latency = Table(
        title="Latency per scan, ms (server = Server-Timing app;dur; rtt = client round trip)"
    )
    latency.add_column("scan")
    latency.add_column("count", justify="right")
    for name in ("server p50", "p95", "p99", "max", "rtt p50", "p95", "p99", "max"):
        latency.add_column(name, justify="right")
    rows = [("all scans", f["all"])] + [
        (step, f["steps"][step]) for step in STEP_ORDER if step in f["steps"]
    ]
    rows.append(("retry (duplicate)", retries))
    for label, figs in rows:
        latency.add_row(
            label,
            f"{figs['count']:,}",
            *(ms(v) for v in figs["server_ms"].values()),
            *(ms(v) for v in figs["round_trip_ms"].values()),
        )
    out.print(latency)
    if f["errors"]:
        table = Table(title="Error answers by message")
        table.add_column("count", justify="right")
        table.add_column("message")
        for message, count in f["errors"].items():
            table.add_row(str(count), message)
        out.print(table)
    for sample in f["failure_samples"]:
        out.print(f"[red]failed request[/red]: {sample}")
    for mismatch in retries["mismatches"]:
        out.print(f"[red]retry not recognised[/red]: {mismatch}")
    for line in b["quants_off"]:
        out.print(f"[red]quant off[/red]: {line}")


STEP_ORDER = ("start", "from", "item", "quantity", "to", "back")


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Handheld benchmark: simulated scanners doing move flows over real HTTP "
        "against `wms serve` on PostgreSQL."
    )
    parser.add_argument("--scanners", type=int, default=20, help="scanners (default: 20)")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured duration (default: 60)"
    )
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="unreported warm-up after sign-in (default: 5)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean pause of an operator between an answer and the next scan, in seconds "
        "(uniform 0.5x-1.5x; default: 0, each scanner sends as fast as it is answered)",
    )
    parser.add_argument("--bins", type=int, default=200, help="storage bins (default: 200)")
    parser.add_argument("--products", type=int, default=100, help="products (default: 100)")
    parser.add_argument(
        "--retry-rate",
        type=float,
        default=0.02,
        help="share of scans sent again with the same id (default: 0.02)",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        help="WMS_DB_POOL_SIZE of the server (default: scanners + 5)",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help=f"keep the database {BENCH_DATABASE!r} afterwards (it is dropped by default)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (wms serve --workers; default: 1)"
    )
    parser.add_argument(
        "--json", action="store_true", help="also print the figures as one JSON object"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.scanners <= 200:
        parser.error("--scanners must be between 1 and 200")
    if args.seconds <= 0 or args.warmup < 0 or args.think < 0:
        parser.error("--seconds must be positive, --warmup and --think not negative")
    if args.bins < HOME_BINS or args.products < 1:
        parser.error(f"--bins must be at least {HOME_BINS}, --products at least 1")
    if not 0 <= args.retry_rate <= 1:
        parser.error("--retry-rate is a share between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    out = Console(width=None if sys.stdout.isatty() else 150)
    started = time.perf_counter()
    url = recreate_database()
    engine = make_engine(url, pool_size=2, max_overflow=2)
    try:
        return run(args, engine, url, console, out)
    finally:
        engine.dispose()
        if args.keep_db:
            log(console, f"kept the database {BENCH_DATABASE}")
        else:
            drop_database()
        log(console, f"done in {time.perf_counter() - started:.0f} s")


def run(args: argparse.Namespace, engine: Engine, url: str, console: Console, out: Console) -> int:
    factory = make_session_factory(engine)
    log(console, f"database {BENCH_DATABASE}: migrating")
    upgrade(engine)
    seeded = time.perf_counter()
    world = seed(factory, args)
    log(
        console,
        f"seeded {WAREHOUSE}: {args.bins} bins, {args.products} products in {HOME_BINS} bins "
        f"each, {args.scanners} users ({time.perf_counter() - seeded:.1f} s)",
    )
    pool_size = args.pool_size or args.scanners + 5
    with tempfile.TemporaryDirectory(prefix="wms-bench-handheld-") as tmp:
        server = start_server(url, pool_size, Path(tmp) / "server.log", args.workers)
        log(console, f"wms serve is up on {server.base_url} (pid {server.process.pid})")
        try:
            result = run_scanners(world, server, args, console)
        finally:
            stop_server(server)
        server_log = server.log_text()
    tracebacks = server_log.count("Traceback")
    log(console, "server stopped; checking the ledger")
    bookings = check_bookings(factory, world, result)
    cli = run_cli_check(url, timeout=SUBPROCESS_TIMEOUT)
    figures = summarise(args, result, bookings, cli, pool_size, tracebacks)
    render(out, figures)
    if cli.exit_code != 0:
        console.print(f"[red]wms check failed[/red]:\n{cli.stderr_tail}")
    if tracebacks:
        first = server_log.index("Traceback")
        console.print(f"[red]server log[/red]:\n{server_log[first : first + 3000]}")
    if args.json:
        print(json.dumps(figures, indent=2))
    healthy = (
        cli.exit_code == 0
        and bookings.moves_expected <= bookings.moves_booked
        and bookings.moves_booked <= bookings.moves_expected + bookings.uncertain
        and not bookings.quants_off
        and not figures["failures"]
        and not figures["retries"]["mismatches"]
        and figures["retries"]["sent"] == figures["retries"]["duplicates_confirmed"]
        and not tracebacks
    )
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
