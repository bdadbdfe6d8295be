"""Ledger benchmark on PostgreSQL: write throughput, stock-level reads and `wms check`.

Figures printed (the acceptance point of the ledger issue):

* committed moves per second with 1 and 8 concurrent writers going through the stock services
  (receive, move, deliver; one unit of work and one commit per operation), with p50/p99 latency,
  refusals (``InsufficientStock``) and failures (anything else: a deadlock would be a bug);
* p50/p99 of a stock-level read (``queries.list_levels`` in-process, and
  ``GET /api/v1/inventory-levels`` over HTTP against a real ``wms serve``);
* how long ``check_ledger`` (what ``wms check`` runs) and the real ``wms check`` command take,

all with a ledger of ``--moves`` rows (one million by default). Run from the repository root::

    .venv/bin/python bench/ledger.py            # recreates the database wms_bench
    .venv/bin/python bench/ledger.py --moves 100000 --seconds 5 --reads 500 --json

Order of the run: master data through the catalog services, a bulk-loaded balanced ledger with
quants and stock levels rebuilt to agree with it, ``check_ledger`` and ``wms check`` on it, the
writer phases on top of the big ledger, the reads, ``check_ledger`` while writers keep posting
(one snapshot), and a final ``check_ledger`` that proves the
concurrent writers kept the projections consistent. See bench/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from common import free_port, log, percentile, run_cli_check, wms_executable
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from wms.db.engine import make_engine, make_session_factory
from wms.db.migrate import upgrade
from wms.db.uow import UnitOfWork
from wms.inventory import catalog, queries, stock
from wms.inventory.errors import InsufficientStock
from wms.inventory.gtin import make_gtin
from wms.inventory.integrity import CheckReport, check_ledger
from wms.inventory.models import LocationKind

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DATABASE = "wms_bench"
REPO_ROOT = Path(__file__).resolve().parent.parent

# (code, name, region, address, latitude, longitude)
WAREHOUSES: tuple[tuple[str, str, str, str, float, float], ...] = (
    ("SH1", "Shanghai DC", "East China", "88 Jiangchang Rd, Jing'an, Shanghai", 31.23, 121.47),
    ("BJ1", "Beijing DC", "North China", "12 Kechuang St, Daxing, Beijing", 39.90, 116.40),
    ("GZ1", "Guangzhou DC", "South China", "5 Huangpu Ave, Tianhe, Guangzhou", 23.13, 113.26),
    ("CD1", "Chengdu DC", "Southwest China", "9 Tianfu Ave, Gaoxin, Chengdu", 30.57, 104.07),
)
BINS_PER_WAREHOUSE = 50
PRODUCTS = 2000
BINS_PER_PRODUCT = 3  # each product has a few home bins per warehouse, as in a real store
ZIPF_EXPONENT = 0.8  # popularity of products: a long tail, a few hot SKUs
OPENING_QUANTITY = (300, 900)
COPY_CHUNK_ROWS = 50_000
ACTORS = tuple(f"op{n:02d}" for n in range(1, 31))
MAX_OPS_PER_WRITER = 5_000_000  # a hard bound besides the deadline
SERVER_START_TIMEOUT = 60.0
SUBPROCESS_TIMEOUT = 900.0
WARMUP_READS = 50


# --------------------------------------------------------------------------- helpers


def describe_exception(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    name = type(exc).__name__
    return f"{name}({type(orig).__name__})" if orig is not None else name


# --------------------------------------------------------------------------- database


def recreate_bench_database() -> str:
    """Drop and create the dedicated database ``wms_bench`` (and nothing else); its URL."""
    admin = make_url(ADMIN_URL)
    with psycopg.connect(
        host=admin.host,
        port=admin.port,
        user=admin.username,
        dbname=admin.database,
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    return admin.set(database=BENCH_DATABASE).render_as_string(hide_password=False)


def normalise_url(url: str) -> str:
    """psycopg 3 is the driver the project ships, as in ``wms.config``."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def ensure_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        products = conn.execute(text("SELECT count(*) FROM products")).scalar_one()
        warehouses = conn.execute(text("SELECT count(*) FROM warehouses")).scalar_one()
    if products or warehouses:
        raise SystemExit(
            f"{engine.url.render_as_string()} already holds data ({products} products, "
            f"{warehouses} warehouses); give an empty database or omit --database-url"
        )


# --------------------------------------------------------------------------- master data


@dataclass
class World:
    """Ids and codes of the master data, and which bins hold which product."""

    warehouses: list[str]
    warehouse_ids: list[int]
    bins: list[str]  # bin codes, the same in every warehouse
    bin_ids: list[list[int]]  # [warehouse index][bin index] -> location id
    skus: list[str]
    product_ids: list[int]
    home_bins: dict[tuple[int, int], tuple[int, ...]]  # (product, warehouse) -> bin indexes
    cum_weights: list[float]
    virtual: dict[str, int]  # kind -> location id

    def pick_product(self, rng: random.Random) -> int:
        return rng.choices(range(len(self.skus)), cum_weights=self.cum_weights)[0]


def pairs(session: Session, sql: str) -> dict[str, int]:
    """A two-column query as a dict."""
    return {str(row[0]): int(row[1]) for row in session.execute(text(sql))}


def create_master_data(factory: sessionmaker[Session], seed: int) -> World:
    """Warehouses, bins and products through the catalog services, in one unit of work."""
    bins = [f"B{n:03d}" for n in range(1, BINS_PER_WAREHOUSE + 1)]
    skus = [f"SKU-{n:05d}" for n in range(1, PRODUCTS + 1)]
    with UnitOfWork(factory) as uow:
        for code, name, region, address, lat, lon in WAREHOUSES:
            catalog.create_warehouse(
                uow,
                code=code,
                name=name,
                region=region,
                address=address,
                latitude=lat,
                longitude=lon,
                time_zone="Asia/Shanghai",
            )
            for bin_code in bins:
                catalog.create_location(
                    uow,
                    warehouse=code,
                    code=bin_code,
                    name=f"Bin {bin_code}",
                    kind=LocationKind.STORAGE,
                    parent="STOCK",
                    barcode=f"{code}-{bin_code}",
                )
        for index, sku in enumerate(skus):
            catalog.create_product(
                uow,
                sku=sku,
                name=f"Bench product {index + 1}",
                gtin=make_gtin(f"{6901234500000 + index:013d}"),
                weight_g=100 + index % 900,
            )
        uow.commit()
    return load_world(factory, seed)


def load_world(factory: sessionmaker[Session], seed: int) -> World:
    """The ids of the master data, and the home bins of each product (a function of ``seed``)."""
    bins = [f"B{n:03d}" for n in range(1, BINS_PER_WAREHOUSE + 1)]
    skus = [f"SKU-{n:05d}" for n in range(1, PRODUCTS + 1)]
    with UnitOfWork(factory) as uow:
        session = uow.session
        wh_ids = pairs(session, "SELECT code, id FROM warehouses")
        loc_ids = {
            (row[0], row[1]): int(row[2])
            for row in session.execute(
                text(
                    "SELECT w.code, l.code, l.id FROM locations l "
                    "JOIN warehouses w ON w.id = l.warehouse_id"
                )
            )
        }
        product_ids = pairs(session, "SELECT sku, id FROM products")
        virtual = pairs(session, "SELECT kind, id FROM locations WHERE warehouse_id IS NULL")
    warehouses = [w[0] for w in WAREHOUSES]
    rng = random.Random(seed)
    home_bins = {
        (p, w): tuple(rng.sample(range(len(bins)), BINS_PER_PRODUCT))
        for p in range(len(skus))
        for w in range(len(warehouses))
    }
    weights = [1 / (rank + 1) ** ZIPF_EXPONENT for rank in range(len(skus))]
    rng.shuffle(weights)  # popularity unrelated to SKU order
    return World(
        warehouses=warehouses,
        warehouse_ids=[wh_ids[w] for w in warehouses],
        bins=bins,
        bin_ids=[[loc_ids[(w, b)] for b in bins] for w in warehouses],
        skus=skus,
        product_ids=[product_ids[s] for s in skus],
        home_bins=home_bins,
        cum_weights=list(itertools.accumulate(weights)),
        virtual=virtual,
    )


# --------------------------------------------------------------------------- bulk ledger


MOVE_COLUMNS = (
    "product_id, lot_id, from_location_id, to_location_id, quantity, reason, reference, "
    "actor, occurred_at, recorded_at"
)


class LedgerGenerator:
    """COPY text of a balanced ledger, with a running balance per bin so none goes below zero.

    Opening balances for every home bin first, then a year of receipts (supplier to the emptiest
    home bin), replenishment moves between home bins, shipments to the customer and a little
    scrap, for products picked by popularity.
    """

    def __init__(self, world: World, total: int, seed: int) -> None:
        self.world = world
        self.total = total
        self.rng = random.Random(seed)
        self.balance: dict[tuple[int, int, int], int] = {}
        self.rows: list[str] = []
        self.written = 0
        self.documents = 0
        end = datetime.now(UTC) - timedelta(hours=1)
        self.start = end - timedelta(days=365)
        self.step = (end - self.start) / max(total, 1)
        self.supplier = world.virtual[LocationKind.SUPPLIER.value]
        self.customer = world.virtual[LocationKind.CUSTOMER.value]
        self.adjustment = world.virtual[LocationKind.ADJUSTMENT.value]
        self.scrap = world.virtual[LocationKind.SCRAP.value]

    def chunks(self, chunk_rows: int) -> Iterator[str]:
        for (p, w), bins in self.world.home_bins.items():
            for b in bins:
                if self.written >= self.total:
                    break
                qty = self.rng.randint(*OPENING_QUANTITY)
                self.balance[(p, w, b)] = qty
                self.emit(
                    p,
                    self.adjustment,
                    self.world.bin_ids[w][b],
                    qty,
                    "adjustment:opening_balance",
                    "OPENING",
                )
            if len(self.rows) >= chunk_rows:
                yield self.flush()
        n_products = len(self.world.skus)
        while self.written < self.total:
            batch = self.rng.choices(
                range(n_products), cum_weights=self.world.cum_weights, k=10_000
            )
            for p in batch[: self.total - self.written]:
                self.event(p, self.rng.randrange(len(self.world.warehouses)))
                if len(self.rows) >= chunk_rows:
                    yield self.flush()
        if self.rows:
            yield self.flush()

    def event(self, p: int, w: int) -> None:
        rng, balance, bin_ids = self.rng, self.balance, self.world.bin_ids[w]
        bins = self.world.home_bins[(p, w)]
        stocks = [balance.get((p, w, b), 0) for b in bins]
        r = rng.random()
        self.documents += 1
        if r < 0.12 or max(stocks) == 0:
            b = bins[stocks.index(min(stocks))]
            qty = rng.randint(5, 40)
            balance[(p, w, b)] = balance.get((p, w, b), 0) + qty
            self.emit(p, self.supplier, bin_ids[b], qty, "receipt", f"PO-{self.documents // 4:07d}")
        elif r < 0.55:
            src = bins[stocks.index(max(stocks))]
            dst = rng.choice([b for b in bins if b != src])
            qty = min(rng.randint(1, 20), balance[(p, w, src)])
            balance[(p, w, src)] -= qty
            balance[(p, w, dst)] = balance.get((p, w, dst), 0) + qty
            self.emit(p, bin_ids[src], bin_ids[dst], qty, "move", "")
        else:
            src = rng.choice([b for b, s in zip(bins, stocks, strict=True) if s > 0])
            qty = min(rng.randint(1, 6), balance[(p, w, src)])
            balance[(p, w, src)] -= qty
            if r < 0.995:
                ref = f"SO-{self.documents:08d}"
                self.emit(p, bin_ids[src], self.customer, qty, "shipment", ref)
            else:
                self.emit(p, bin_ids[src], self.scrap, qty, "scrap", "")

    def emit(self, p: int, source: int, target: int, qty: int, reason: str, ref: str) -> None:
        at = self.start + self.step * self.written
        stamp = f"{at:%Y-%m-%d %H:%M:%S}+00"
        actor = ACTORS[self.written % len(ACTORS)]
        self.rows.append(
            f"{self.world.product_ids[p]}\t\\N\t{source}\t{target}\t{qty}\t{reason}\t{ref}\t"
            f"{actor}\t{stamp}\t{stamp}\n"
        )
        self.written += 1

    def flush(self) -> str:
        chunk = "".join(self.rows)
        self.rows.clear()
        return chunk


REBUILD_QUANTS = """
INSERT INTO quants (product_id, lot_id, location_id, holds_stock, quantity, updated_at)
SELECT m.product_id, NULL, m.location_id, true, sum(m.q), now()
FROM (
    SELECT product_id, to_location_id AS location_id, quantity AS q FROM moves
    WHERE lot_id IS NULL
    UNION ALL
    SELECT product_id, from_location_id, -quantity FROM moves WHERE lot_id IS NULL
) AS m
JOIN locations AS l ON l.id = m.location_id AND l.holds_stock
GROUP BY m.product_id, m.location_id
ON CONFLICT (product_id, location_id) WHERE lot_id IS NULL
DO UPDATE SET quantity = EXCLUDED.quantity, updated_at = EXCLUDED.updated_at
WHERE quants.quantity <> EXCLUDED.quantity
"""

REBUILD_LEVELS = """
UPDATE stock_levels AS s
SET on_hand = x.on_hand, quality_control = x.quality_control, damaged = x.damaged,
    version = s.version + 1, updated_at = now()
FROM (
    SELECT q.product_id, l.warehouse_id,
           sum(q.quantity) AS on_hand,
           coalesce(sum(q.quantity) FILTER (WHERE l.kind = 'qc_hold'), 0) AS quality_control,
           coalesce(sum(q.quantity) FILTER (WHERE l.kind = 'damaged'), 0) AS damaged
    FROM quants AS q JOIN locations AS l ON l.id = q.location_id
    WHERE l.warehouse_id IS NOT NULL
    GROUP BY q.product_id, l.warehouse_id
) AS x
WHERE s.product_id = x.product_id AND s.warehouse_id = x.warehouse_id
  AND (s.on_hand, s.quality_control, s.damaged)
      IS DISTINCT FROM (x.on_hand, x.quality_control, x.damaged)
"""


@dataclass
class LoadResult:
    moves: int
    generate_copy_seconds: float
    copy_finish_seconds: float  # end of the COPY statement: its queued foreign-key checks
    rebuild_seconds: float
    vacuum_seconds: float
    quants: int
    levels_updated: int


def bulk_load(engine: Engine, world: World, total: int, seed: int, console: Console) -> LoadResult:
    """COPY a generated ledger into ``moves``, then rebuild quants and stock levels from it."""
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        conn: psycopg.Connection[Any] = raw.driver_connection  # type: ignore[assignment]
        with conn.cursor() as cur:
            with cur.copy(f"COPY moves ({MOVE_COLUMNS}) FROM STDIN") as copy:
                loaded = 0
                for index, chunk in enumerate(
                    LedgerGenerator(world, total, seed).chunks(COPY_CHUNK_ROWS), start=1
                ):
                    copy.write(chunk.encode())
                    loaded += chunk.count("\n")
                    if index % 4 == 0:
                        log(console, f"  copied {loaded:,} moves")
                streamed = time.perf_counter()
            raw.commit()
            copied = time.perf_counter()
            cur.execute(REBUILD_QUANTS)
            cur.execute(REBUILD_LEVELS)
            levels_updated = cur.rowcount
            raw.commit()
    finally:
        raw.close()
    rebuilt = time.perf_counter()
    # What autovacuum would do after a bulk load: visibility map, hint bits and statistics.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn2:
        conn2.execute(text("VACUUM (ANALYZE) moves, quants, stock_levels"))
        # Flush the load's dirty pages now, so that its checkpoint does not land in a writer phase.
        conn2.execute(text("CHECKPOINT"))
        moves = conn2.execute(text("SELECT count(*) FROM moves")).scalar_one()
        quants = conn2.execute(text("SELECT count(*) FROM quants")).scalar_one()
    return LoadResult(
        moves=moves,
        generate_copy_seconds=copied - started,
        copy_finish_seconds=copied - streamed,
        rebuild_seconds=rebuilt - copied,
        vacuum_seconds=time.perf_counter() - rebuilt,
        quants=quants,
        levels_updated=levels_updated,
    )


# --------------------------------------------------------------------------- integrity


@dataclass
class CheckResult:
    seconds: float
    report: CheckReport


def run_check(factory: sessionmaker[Session]) -> CheckResult:
    started = time.perf_counter()
    with UnitOfWork(factory) as uow:
        report = check_ledger(uow.session)
    return CheckResult(time.perf_counter() - started, report)


@dataclass
class LiveCheckResult:
    writers: int
    moves_per_second: float
    check: CheckResult


def run_live_check(
    factory: sessionmaker[Session], world: World, writers: int, expected: float, seed: int
) -> LiveCheckResult:
    """``check_ledger`` while ``writers`` threads keep posting (it reads one snapshot)."""
    seconds = 2 + 4 * expected
    phase: list[PhaseResult] = []
    thread = threading.Thread(
        target=lambda: phase.append(run_writers(factory, world, writers, seconds, seed=seed)),
        daemon=True,
    )
    thread.start()
    time.sleep(0.5)
    check = run_check(factory)
    thread.join(timeout=seconds + 180)
    if thread.is_alive() or not phase:
        raise SystemExit("the writers of the live check did not finish")
    return LiveCheckResult(writers, phase[0].moves_per_second, check)


# --------------------------------------------------------------------------- writers


@dataclass
class WriterStats:
    ops: Counter[str] = field(default_factory=Counter)
    moves: int = 0
    refusals: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    failure_samples: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    finished_at: float = 0.0  # time.monotonic()
    cpu_seconds: float = 0.0  # set by writer processes


@dataclass
class PhaseResult:
    writers: int
    elapsed: float
    cpu_seconds: float
    stats: list[WriterStats]

    @property
    def moves(self) -> int:
        return sum(s.moves for s in self.stats)

    @property
    def moves_per_second(self) -> float:
        return self.moves / self.elapsed if self.elapsed else 0.0

    @property
    def ops(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.stats:
            total.update(s.ops)
        return total

    @property
    def refusals(self) -> int:
        return sum(s.refusals for s in self.stats)

    @property
    def failures(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.stats:
            total.update(s.failures)
        return total

    @property
    def failure_samples(self) -> list[str]:
        return [m for s in self.stats for m in s.failure_samples][:10]

    @property
    def latencies_ms(self) -> list[float]:
        return [v for s in self.stats for v in s.latencies_ms]


def one_operation(uow: UnitOfWork, world: World, rng: random.Random) -> tuple[str, int]:
    """One realistic stock operation through the services; (kind, moves posted)."""
    p = world.pick_product(rng)
    w = rng.randrange(len(world.warehouses))
    sku, wh = world.skus[p], world.warehouses[w]
    bins = world.home_bins[(p, w)]
    actor = rng.choice(ACTORS)
    r = rng.random()
    if r < 0.6:
        src, dst = rng.sample(bins, 2)
        posting = stock.move(
            uow,
            sku=sku,
            quantity=rng.randint(1, 5),
            warehouse=wh,
            from_location=world.bins[src],
            to_location=world.bins[dst],
            actor=actor,
        )
        kind = "move"
    elif r < 0.8:
        posting = stock.receive(
            uow,
            sku=sku,
            quantity=rng.randint(5, 40),
            warehouse=wh,
            location=world.bins[rng.choice(bins)],
            reference=f"PO-B{rng.randrange(10**6):06d}",
            actor=actor,
        )
        kind = "receive"
    else:
        posting = stock.deliver(
            uow,
            warehouse=wh,
            lines=[stock.PickedLine(sku, rng.randint(1, 3), world.bins[rng.choice(bins)])],
            reference=f"SO-B{rng.randrange(10**7):07d}",
            actor=actor,
        )
        kind = "deliver"
    uow.commit()
    return kind, posting.moves


def writer_loop(
    factory: sessionmaker[Session], world: World, rng: random.Random, end: float
) -> WriterStats:
    """Operations, each in its own unit of work, until the monotonic clock reaches ``end``."""
    stats = WriterStats()
    for _ in range(MAX_OPS_PER_WRITER):
        started = time.perf_counter()
        if time.monotonic() >= end:
            break
        try:
            with UnitOfWork(factory) as uow:
                kind, moves = one_operation(uow, world, rng)
        except InsufficientStock:
            stats.refusals += 1
            continue
        except Exception as exc:
            name = describe_exception(exc)
            stats.failures[name] += 1
            if len(stats.failure_samples) < 5:
                stats.failure_samples.append(f"{name}: {str(exc).splitlines()[0][:300]}")
            continue
        stats.latencies_ms.append((time.perf_counter() - started) * 1000)
        stats.ops[kind] += 1
        stats.moves += moves
    stats.finished_at = time.monotonic()
    return stats


def run_writers(
    factory: sessionmaker[Session], world: World, writers: int, seconds: float, seed: int
) -> PhaseResult:
    """``writers`` threads of one process sharing one engine, as in one API process."""
    stats: list[WriterStats] = [WriterStats() for _ in range(writers)]
    clock = {"start": 0.0, "cpu": 0.0, "end": 0.0}

    def release() -> None:  # runs once, when every writer is ready
        clock["start"] = time.monotonic()
        clock["cpu"] = time.process_time()
        clock["end"] = clock["start"] + seconds

    def work(index: int) -> None:
        rng = random.Random(f"{seed}-{writers}-{index}")
        barrier.wait(timeout=60)
        stats[index] = writer_loop(factory, world, rng, clock["end"])

    barrier = threading.Barrier(writers, action=release)
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    if any(t.is_alive() for t in threads):
        raise SystemExit(f"a writer did not stop within {seconds + 120:.0f} s")
    elapsed = max(s.finished_at for s in stats) - clock["start"]
    return PhaseResult(writers, elapsed, time.process_time() - clock["cpu"], stats)


def process_writer(
    index: int, url: str, seed: int, writers: int, seconds: float, barrier: Any, queue: Any
) -> None:
    """One writer in its own process (``--processes``): its own engine, one connection."""
    try:
        engine = make_engine(url, pool_size=1, max_overflow=1)
        factory = make_session_factory(engine)
        world = load_world(factory, seed)
        rng = random.Random(f"{seed}-{writers}-{index}")
        # Connect and warm the statement caches before the clock starts (not reported).
        writer_loop(factory, world, random.Random(f"warm-{index}"), time.monotonic() + 0.5)
        barrier.wait(timeout=300)
        cpu = time.process_time()
        stats = writer_loop(factory, world, rng, time.monotonic() + seconds)
        stats.cpu_seconds = time.process_time() - cpu
        engine.dispose()
        queue.put(stats)
    except BaseException as exc:
        queue.put(f"writer process {index}: {describe_exception(exc)}: {exc}")
        raise


def run_writer_processes(url: str, world_seed: int, writers: int, seconds: float) -> PhaseResult:
    """``writers`` processes, as API workers would be; CLOCK_MONOTONIC is shared by them all."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(writers + 1)
    queue = ctx.Queue()
    procs = [
        ctx.Process(
            target=process_writer,
            args=(i, url, world_seed, writers, seconds, barrier, queue),
            daemon=True,
        )
        for i in range(writers)
    ]
    for proc in procs:
        proc.start()
    try:
        barrier.wait(timeout=300)
        start = time.monotonic()
        results = [queue.get(timeout=seconds + 120) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=10)
    errors = [r for r in results if isinstance(r, str)]
    if errors:
        raise SystemExit("\n".join(errors))
    stats = [r for r in results if isinstance(r, WriterStats)]
    elapsed = max(s.finished_at for s in stats) - start
    return PhaseResult(writers, elapsed, sum(s.cpu_seconds for s in stats), stats)


# --------------------------------------------------------------------------- reads


def random_pairs(world: World, count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [
        (world.skus[rng.randrange(len(world.skus))], rng.choice(world.warehouses))
        for _ in range(count)
    ]


def time_reads(pairs: list[tuple[str, str]], read: Callable[[str, str], None]) -> list[float]:
    for sku, wh in pairs[:WARMUP_READS]:
        read(sku, wh)
    timings = []
    for sku, wh in pairs:
        started = time.perf_counter()
        read(sku, wh)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def service_reads(factory: sessionmaker[Session], pairs: list[tuple[str, str]]) -> list[float]:
    def read(sku: str, wh: str) -> None:
        with UnitOfWork(factory) as uow:
            page = queries.list_levels(uow.session, skus=[sku], warehouse=wh)
        if len(page.items) != 1:
            raise RuntimeError(f"expected one level for {sku} at {wh}, got {len(page.items)}")

    return time_reads(pairs, read)


def http_reads(url: str, pairs: list[tuple[str, str]], console: Console) -> list[float]:
    """Start `wms serve`, create a read key, time GET /api/v1/inventory-levels, stop the server."""
    env = {**os.environ, "WMS_DATABASE_URL": url, "WMS_SECRET_KEY": "bench-secret"}
    created = subprocess.run(
        [wms_executable(), "apikey", "create", "bench", "--scope", "read", "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=True,
    )
    key = json.loads(created.stdout)["key"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as server_log:
        server = subprocess.Popen(
            [wms_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(
                base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30.0
            ) as client:
                wait_until_serving(client, server, server_log)
                log(console, f"  wms serve is up on {base} (pid {server.pid})")

                def read(sku: str, wh: str) -> None:
                    response = client.get(
                        "/api/v1/inventory-levels", params={"sku": sku, "warehouse": wh}
                    )
                    response.raise_for_status()
                    if len(response.json()["data"]) != 1:
                        raise RuntimeError(f"expected one level for {sku} at {wh}")

                return time_reads(pairs, read)
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)


def wait_until_serving(
    client: httpx.Client, server: subprocess.Popen[bytes], log_file: Any
) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if client.get("/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    log_file.seek(0)
    tail = log_file.read()[-2000:]
    raise SystemExit(f"wms serve did not come up (exit code {server.poll()}):\n{tail}")


# --------------------------------------------------------------------------- report


def rounded(value: float, digits: int = 3) -> float | None:
    """``value`` rounded, or None when there is none (JSON has no NaN)."""
    return None if math.isnan(value) else round(value, digits)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def render(console: Console, figures: dict[str, Any]) -> None:
    ledger = figures["ledger"]
    overview = Table(title=f"Ledger benchmark on PostgreSQL ({figures['database']})")
    overview.add_column("figure")
    overview.add_column("value", justify="right")
    overview.add_column("notes")
    overview.add_row(
        "ledger size",
        f"{ledger['moves']:,} moves",
        f"{ledger['quants']:,} quants, {ledger['levels']:,} stock levels",
    )
    overview.add_row(
        "bulk load",
        f"{ledger['generate_copy_seconds']:.1f} s",
        f"generate + COPY ({ledger['copy_finish_seconds']:.1f} s of it finishing the statement: "
        f"queued foreign-key checks); then rebuild quants and levels "
        f"{ledger['rebuild_seconds']:.1f} s, VACUUM ANALYZE + CHECKPOINT "
        f"{ledger['vacuum_seconds']:.1f} s",
    )
    checks = figures["check"]
    overview.add_row(
        "check_ledger (in-process)",
        f"{checks['after_load']['seconds']:.2f} s",
        f"on {checks['after_load']['moves']:,} moves: "
        + ("ok" if checks["after_load"]["ok"] else "DISAGREEMENTS"),
    )
    cli = checks["cli"]
    reported = "-" if cli["reported_seconds"] is None else f"{cli['reported_seconds']:.2f} s"
    overview.add_row(
        "`wms check` (subprocess, wall)",
        f"{cli['wall_seconds']:.2f} s",
        f"exit code {cli['exit_code']}; {reported} of it is the check itself",
    )
    overview.add_row(
        "check_ledger after the writers",
        f"{checks['after_writers']['seconds']:.2f} s",
        f"on {checks['after_writers']['moves']:,} moves: "
        + ("ok" if checks["after_writers"]["ok"] else "DISAGREEMENTS"),
    )
    live = checks["during_writes"]
    if live is not None:
        found = live["check"]["disagreements"]
        overview.add_row(
            "check_ledger during writes",
            f"{live['check']['seconds']:.2f} s",
            f"{live['writers']} writers posting {live['moves_per_second']:,.0f} moves/s: "
            + ("ok" if live["check"]["ok"] else f"{found} disagreement(s)"),
        )
    reads = figures["reads"]
    for label, key in (("list_levels, in-process", "service"), ("GET inventory-levels", "http")):
        overview.add_row(
            f"stock-level read p50 / p99 ({label})",
            f"{ms(reads[key]['p50_ms'])} / {ms(reads[key]['p99_ms'])}",
            f"{reads['count']:,} random SKU/warehouse pairs, one at a time",
        )
    host = figures["host"]
    overview.add_row(
        "host",
        f"{host['cpus']} CPUs",
        "load average (1/5/15 min) at start "
        + "/".join(f"{v:.1f}" for v in host["load_average_at_start"])
        + ", at end "
        + "/".join(f"{v:.1f}" for v in host["load_average_at_end"]),
    )
    console.print(overview)

    writers = Table(
        title=f"Writers ({figures['writer_mode']}, {figures['writer_seconds']:g} s each; "
        "one unit of work and one commit per operation)"
    )
    for name in ("writers", "moves/s", "moves", "move/receive/deliver", "op p50", "op p99"):
        writers.add_column(name, justify="right")
    for name in ("refusals", "failures", "client CPU"):
        writers.add_column(name, justify="right")
    for phase in figures["writers"]:
        ops = phase["ops"]
        failures = phase["failures"]
        writers.add_row(
            str(phase["writers"]),
            f"{phase['moves_per_second']:,.0f}",
            f"{phase['moves']:,}",
            f"{ops.get('move', 0):,}/{ops.get('receive', 0):,}/{ops.get('deliver', 0):,}",
            ms(phase["p50_ms"]),
            ms(phase["p99_ms"]),
            str(phase["refusals"]),
            ", ".join(f"{k} {v}" for k, v in failures.items()) if failures else "0",
            f"{phase['client_cpu_percent']:.0f}%",
        )
    console.print(writers)
    for phase in figures["writers"]:
        for sample in phase["failure_samples"]:
            console.print(f"[red]failure ({phase['writers']} writers)[/red]: {sample}")


def check_figures(result: CheckResult) -> dict[str, Any]:
    report = result.report
    return {
        "seconds": round(result.seconds, 3),
        "ok": report.ok,
        "moves": report.moves,
        "quants": report.quants,
        "levels": report.levels,
        "disagreements": len(report.discrepancies),
        "discrepancies": [d.describe() for d in report.discrepancies[:20]],
    }


def phase_figures(phase: PhaseResult) -> dict[str, Any]:
    latencies = phase.latencies_ms
    return {
        "writers": phase.writers,
        "seconds": round(phase.elapsed, 3),
        "moves": phase.moves,
        "moves_per_second": round(phase.moves_per_second, 1),
        "ops": dict(phase.ops),
        "p50_ms": rounded(percentile(latencies, 50)),
        "p99_ms": rounded(percentile(latencies, 99)),
        "refusals": phase.refusals,
        "failures": dict(phase.failures),
        "failure_samples": phase.failure_samples,
        "client_cpu_percent": round(100 * phase.cpu_seconds / phase.elapsed, 1),
    }


def read_figures(timings: list[float]) -> dict[str, float | None]:
    return {
        "p50_ms": rounded(percentile(timings, 50)),
        "p99_ms": rounded(percentile(timings, 99)),
        "mean_ms": rounded(sum(timings) / len(timings)) if timings else None,
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ledger benchmark: write throughput, stock-level reads and `wms check` "
        "on PostgreSQL with a large ledger."
    )
    parser.add_argument(
        "--database-url",
        help="an empty PostgreSQL database to use (it is migrated and filled, never dropped); "
        f"by default the database {BENCH_DATABASE!r} on 127.0.0.1 is dropped and created again",
    )
    parser.add_argument(
        "--moves", type=int, default=1_000_000, help="ledger size (default: 1,000,000)"
    )
    parser.add_argument(
        "--seconds", type=float, default=20.0, help="duration of each writer phase (default: 20)"
    )
    parser.add_argument(
        "--writers", default="1,8", help="comma-separated writer counts (default: 1,8)"
    )
    parser.add_argument(
        "--reads", type=int, default=2000, help="stock-level reads to time (default: 2000)"
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="run each writer in its own process (like API workers) instead of a thread",
    )
    parser.add_argument(
        "--live-check-writers",
        type=int,
        default=4,
        help="writer threads running while check_ledger is timed on a live ledger "
        "(default: 4; 0 skips that step)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default: 7)")
    parser.add_argument(
        "--json", action="store_true", help="also print the figures as one JSON object"
    )
    args = parser.parse_args(argv)
    try:
        args.writer_counts = [int(n) for n in args.writers.split(",") if n.strip()]
    except ValueError:
        parser.error("--writers takes comma-separated whole numbers, e.g. 1,8")
    if not args.writer_counts or any(n < 1 or n > 64 for n in args.writer_counts):
        parser.error("--writers: each count must be between 1 and 64")
    if not 0 <= args.live_check_writers <= 64:
        parser.error("--live-check-writers must be between 0 and 64")
    if args.moves < 1 or args.reads < 1 or args.seconds <= 0:
        parser.error("--moves, --reads and --seconds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(stderr=True)
    out = Console(width=None if sys.stdout.isatty() else 150)
    url_text = normalise_url(args.database_url) if args.database_url else recreate_bench_database()
    if make_url(url_text).get_backend_name() != "postgresql":
        raise SystemExit("this benchmark measures PostgreSQL; give a postgresql+psycopg:// URL")
    engine = make_engine(
        url_text, pool_size=max(*args.writer_counts, args.live_check_writers) + 4, max_overflow=4
    )
    factory = make_session_factory(engine)
    try:
        return run(args, engine, factory, url_text, console, out)
    finally:
        engine.dispose()


def run_phases(
    args: argparse.Namespace,
    factory: sessionmaker[Session],
    world: World,
    url: str,
    console: Console,
) -> list[PhaseResult]:
    """A short unreported warm-up (connections, caches), then one phase per writer count."""
    most = max(args.writer_counts)
    warmup = min(3.0, args.seconds / 4)
    log(console, f"warm-up: {most} writer threads for {warmup:g} s (not reported)")
    run_writers(factory, world, most, warmup, seed=args.seed - 1)
    phases = []
    for writers in args.writer_counts:
        mode = "processes" if args.processes else "threads"
        log(console, f"writers: {writers} {mode} for {args.seconds:g} s")
        if args.processes:
            phase = run_writer_processes(url, args.seed, writers, args.seconds)
        else:
            phase = run_writers(factory, world, writers, args.seconds, seed=args.seed)
        log(
            console,
            f"  {phase.moves_per_second:,.0f} moves/s, refusals {phase.refusals}, "
            f"failures {sum(phase.failures.values())}",
        )
        phases.append(phase)
    return phases


def run(
    args: argparse.Namespace,
    engine: Engine,
    factory: sessionmaker[Session],
    url: str,
    console: Console,
    out: Console,
) -> int:
    load_at_start = os.getloadavg()
    log(console, f"database {engine.url.render_as_string()}: migrating")
    upgrade(engine)
    ensure_empty(engine)
    started = time.perf_counter()
    world = create_master_data(factory, args.seed)
    log(
        console,
        f"master data: {len(world.warehouses)} warehouses, {len(world.bins)} bins each, "
        f"{len(world.skus)} products ({time.perf_counter() - started:.1f} s)",
    )
    log(console, f"bulk-loading a ledger of {args.moves:,} moves")
    load = bulk_load(engine, world, args.moves, args.seed, console)
    log(
        console,
        f"loaded {load.moves:,} moves in {load.generate_copy_seconds:.1f} s; "
        f"projections rebuilt in {load.rebuild_seconds:.1f} s",
    )
    after_load = run_check(factory)
    log(console, f"check_ledger: {after_load.seconds:.2f} s, ok={after_load.report.ok}")
    if not after_load.report.ok:
        for d in after_load.report.discrepancies[:20]:
            console.print(f"  {d.describe()}")
        raise SystemExit("the bulk-loaded ledger does not agree with its projections")
    cli = run_cli_check(url, timeout=SUBPROCESS_TIMEOUT)
    log(console, f"wms check: {cli.wall_seconds:.2f} s wall, exit code {cli.exit_code}")
    phases = run_phases(args, factory, world, url, console)
    pairs = random_pairs(world, args.reads, args.seed)
    log(console, f"timing {args.reads:,} in-process stock-level reads")
    service_timings = service_reads(factory, pairs)
    log(console, f"timing {args.reads:,} HTTP stock-level reads")
    http_timings = http_reads(url, pairs, console)
    live: LiveCheckResult | None = None
    if args.live_check_writers:
        log(console, f"check_ledger while {args.live_check_writers} writers keep posting")
        live = run_live_check(
            factory, world, args.live_check_writers, after_load.seconds, seed=args.seed + 1
        )
        log(
            console,
            f"  {len(live.check.report.discrepancies)} disagreement(s) in {live.check.seconds:.2f} s",
        )
    after_writers = run_check(factory)
    log(console, f"check_ledger after writers: {after_writers.seconds:.2f} s")
    figures: dict[str, Any] = {
        "database": engine.url.render_as_string(),
        "host": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(v, 2) for v in load_at_start],
            "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        },
        "ledger": {
            "moves": load.moves,
            "quants": load.quants,
            "levels": after_load.report.levels,
            "generate_copy_seconds": round(load.generate_copy_seconds, 2),
            "copy_finish_seconds": round(load.copy_finish_seconds, 2),
            "rebuild_seconds": round(load.rebuild_seconds, 2),
            "vacuum_seconds": round(load.vacuum_seconds, 2),
        },
        "writer_mode": "processes" if args.processes else "threads",
        "writer_seconds": args.seconds,
        "writers": [phase_figures(p) for p in phases],
        "reads": {
            "count": args.reads,
            "service": read_figures(service_timings),
            "http": read_figures(http_timings),
        },
        "check": {
            "after_load": check_figures(after_load),
            "cli": {
                "wall_seconds": round(cli.wall_seconds, 3),
                "exit_code": cli.exit_code,
                "reported_seconds": cli.reported_seconds,
                "ok": cli.ok,
            },
            "after_writers": check_figures(after_writers),
            "during_writes": None
            if live is None
            else {
                "writers": live.writers,
                "moves_per_second": round(live.moves_per_second, 1),
                "check": check_figures(live.check),
            },
        },
    }
    render(out, figures)
    if cli.exit_code != 0:
        console.print(f"[red]wms check failed[/red]:\n{cli.stderr_tail}")
    for d in after_writers.report.discrepancies[:20]:
        console.print(f"[red]after writers[/red]: {d.describe()}")
    if args.json:
        print(json.dumps(figures, indent=2))
    healthy = after_writers.report.ok and cli.exit_code == 0 and not any(p.failures for p in phases)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
