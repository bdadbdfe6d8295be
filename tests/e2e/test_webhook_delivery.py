"""Acceptance: webhooks through a real Celery worker (`wms worker --beat`) to the reference consumer.

2. The worker is killed with SIGKILL in the middle of deliveries and started again: the consumer's
   replica of the stock levels ends equal to the database, and no event is missing.
3. The consumer is down (503) for a while: deliveries retry with backoff, and once it is back its
   replica converges.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis

from integrations.storefront.consumer import StorefrontConsumer
from tests import factories
from tests.conftest import Database
from wms.db.uow import UnitOfWork, transaction
from wms.errors import WmsError
from wms.events import webhooks
from wms.events.notify import CeleryNotifier
from wms.inventory import levels, stock
from wms.inventory.levels import LevelLine

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BROKER = "redis://127.0.0.1:6379/13"  # test_worker.py uses db 14
WMS = str(Path(sys.executable).parent / "wms")
SKUS = [f"SKU-{i:02d}" for i in range(8)]
WAREHOUSES = ["SHA", "CAN"]
COUNTERS = (
    "on_hand",
    "committed",
    "reserved",
    "quality_control",
    "damaged",
    "safety_stock",
    "incoming",
    "available",
    "version",
)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL the worker, its pool children and its beat: nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Workers:
    """Starts `wms worker --beat` subprocesses; the fixture kills whatever is left of them."""

    pg: Database
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    started: list[Worker] = field(default_factory=list)

    def start(self) -> Worker:
        cwd = self.root / f"worker-{len(self.started)}"  # its own beat schedule file
        cwd.mkdir()
        log = cwd / "worker.log"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WMS_")},
            "WMS_DATABASE_URL": self.pg.url,
            "WMS_BROKER_URL": BROKER,
            "WMS_SECRET_KEY": "t",
            "WMS_LOG_LEVEL": "WARNING",
            "WMS_WEBHOOK_SWEEP_SECONDS": "0.5",
            "WMS_WEBHOOK_TIMEOUT_SECONDS": "2",
            "WMS_WEBHOOK_LEASE_SECONDS": "4",
            **self.env,
        }
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [WMS, "worker", "--beat", "--concurrency", "3", "--loglevel", "WARNING"],
                env=env,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process, log)
        self.started.append(worker)
        return worker


@pytest.fixture
def workers(pg: Database, tmp_path: Path) -> Iterator[Workers]:
    redis.Redis.from_url(BROKER).flushdb()
    pool = Workers(pg, tmp_path)
    try:
        yield pool
    finally:
        for worker in pool.started:
            worker.stop()
        redis.Redis.from_url(BROKER).flushdb()


@pytest.fixture
def consumer() -> Iterator[StorefrontConsumer]:
    with StorefrontConsumer("whsec_" + "A" * 32) as running:
        yield running


def subscribe(pg: Database, consumer: StorefrontConsumer) -> str:
    with pg.uow() as uow:
        created = webhooks.create_endpoint(
            uow, owner="apikey:1", url=consumer.url, event_types=["inventory.*"]
        )
        uow.commit()
    consumer.secret = created.secret
    return created.endpoint.id


def stock_up(pg: Database) -> None:
    with pg.uow() as uow:
        for code in WAREHOUSES:
            factories.warehouse(uow, code, bins=2)
        for sku in SKUS:
            factories.product(uow, sku)
        uow.commit()
    with pg.uow() as uow:
        for code in WAREHOUSES:
            for sku in SKUS:
                stock.receive(uow, sku=sku, quantity=20, warehouse=code, location="B01", actor="t")
        uow.commit()


def database_levels(pg: Database) -> dict[tuple[str, str], dict[str, int]]:
    with pg.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT p.sku, w.code, l.on_hand, l.committed, l.reserved, l.quality_control, "
            "l.damaged, l.safety_stock, l.incoming, l.available, l.version "
            "FROM stock_levels l JOIN products p ON p.id = l.product_id "
            "JOIN warehouses w ON w.id = l.warehouse_id"
        ).all()
    return {(row[0], row[1]): dict(zip(COUNTERS, row[2:], strict=True)) for row in rows}


def matching_event_ids(pg: Database) -> set[str]:
    with pg.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT event_id FROM outbox_events WHERE type LIKE 'inventory.%%'"
        ).all()
    return {row[0] for row in rows}


def delivery_counts(pg: Database) -> dict[str, int]:
    with pg.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT status, count(*) FROM webhook_deliveries GROUP BY status"
        ).all()
    return {row[0]: int(row[1]) for row in rows}


def wait_for(condition: Callable[[], bool], *, within: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {within} s waiting for {what}; worker log:\n{worker.output()}")


def converged(pg: Database, consumer: StorefrontConsumer) -> bool:
    return matching_event_ids(pg) <= consumer.event_ids() and consumer.replica() == database_levels(
        pg
    )


class Writers:
    """Threads changing stock levels in small transactions, nudging the worker after each."""

    def __init__(self, pg: Database, *, threads: int, ops: int, pause: float) -> None:
        self.pg = pg
        self.ops = ops
        self.pause = pause
        self.done = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._notifier = CeleryNotifier.for_broker(BROKER)
        self._threads = [
            threading.Thread(target=self._run, args=(seed,), daemon=True) for seed in range(threads)
        ]

    def start(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(t.is_alive() for t in self._threads), "a writer hung"
        assert not self.errors, self.errors[:3]

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        held: list[LevelLine] = []
        try:
            for _ in range(self.ops):
                line = LevelLine(rng.choice(SKUS), rng.choice(WAREHOUSES), rng.randint(1, 3))
                choice = rng.random()
                if choice < 0.45:
                    if self._apply(partial(_reserve, line=line)):
                        held.append(line)
                elif choice < 0.8 and held:
                    self._apply(partial(_release, line=held.pop(rng.randrange(len(held)))))
                else:
                    self._apply(partial(_receive, line=line))
                time.sleep(self.pause)
        except BaseException as exc:
            with self._lock:
                self.errors.append(exc)

    def _apply(self, work: Callable[[UnitOfWork], Any]) -> bool:
        try:
            transaction(self.pg.session_factory, work)
        except WmsError:  # short of stock: nothing changed
            return False
        self._notifier.notify()
        with self._lock:
            self.done += 1
        return True


def _reserve(uow: UnitOfWork, *, line: LevelLine) -> object:
    return levels.reserve(uow, lines=[line])


def _release(uow: UnitOfWork, *, line: LevelLine) -> object:
    return levels.release_reserved(uow, lines=[line])


def _receive(uow: UnitOfWork, *, line: LevelLine) -> object:
    return stock.receive(
        uow,
        sku=line.sku,
        quantity=line.quantity,
        warehouse=line.warehouse,
        location="B02",
        actor="writer",
    )


def test_a_worker_killed_mid_delivery_loses_no_event(
    pg: Database, workers: Workers, consumer: StorefrontConsumer
) -> None:
    started = time.monotonic()
    subscribe(pg, consumer)
    stock_up(pg)  # 16 levels, each an event before the worker even runs
    first = workers.start()
    wait_for(
        lambda: len(consumer.event_ids()) >= 16, within=30, what="the first events", worker=first
    )

    writers = Writers(pg, threads=4, ops=90, pause=0.04).start()
    wait_for(
        lambda: delivery_counts(pg).get("delivered", 0) >= 120,
        within=30,
        what="deliveries to be under way",
        worker=first,
    )
    assert writers.running, "the writers finished before the worker could be killed"
    first.kill()
    at_kill = delivery_counts(pg)
    time.sleep(1.0)  # the writers go on while no worker runs
    second = workers.start()
    writers.join()

    wait_for(
        lambda: converged(pg, consumer),
        within=40,
        what="the replica to converge after the restart",
        worker=second,
    )
    replica, database = consumer.replica(), database_levels(pg)
    assert replica == database
    assert len(database) == len(SKUS) * len(WAREHOUSES)
    assert matching_event_ids(pg) <= consumer.event_ids()
    level_events = [e for e in consumer.events() if e.type == "inventory.level.updated"]
    assert len(level_events) >= 300
    counts = delivery_counts(pg)
    assert counts.get("dead", 0) == 0
    assert at_kill.get("delivered", 0) < counts.get("delivered", 0)  # the kill came mid-stream
    print(
        f"\n{writers.done} changes, {len(consumer.events())} events, "
        f"{consumer.duplicates} duplicates ignored, at the kill {at_kill}, "
        f"{time.monotonic() - started:.1f} s"
    )


def test_a_consumer_that_was_down_converges_once_it_is_back(
    pg: Database, workers: Workers, consumer: StorefrontConsumer
) -> None:
    workers.env["WMS_WEBHOOK_RETRY_SCHEDULE"] = "0.5,1,1,1,1,1,1,1,1,1,1,1,1,1,1"
    workers.env["WMS_WEBHOOK_SWEEP_SECONDS"] = "0.3"
    subscribe(pg, consumer)
    stock_up(pg)
    worker = workers.start()
    wait_for(lambda: len(consumer.event_ids()) >= 16, within=30, what="startup", worker=worker)

    consumer.set_down(True)
    writers = Writers(pg, threads=2, ops=40, pause=0.02).start()
    writers.join()
    wait_for(
        lambda: (
            int(str(pg.scalar("SELECT count(*) FROM webhook_deliveries WHERE attempts >= 3"))) >= 20
        ),
        within=20,
        what="deliveries to be retried while the consumer is down",
        worker=worker,
    )
    assert consumer.refused > 0
    consumer.set_down(False)
    wait_for(
        lambda: converged(pg, consumer), within=30, what="the replica to converge", worker=worker
    )
    assert consumer.replica() == database_levels(pg)
    assert matching_event_ids(pg) <= consumer.event_ids()
    counts = delivery_counts(pg)
    assert counts.get("dead", 0) == 0
    retried = int(str(pg.scalar("SELECT count(*) FROM webhook_deliveries WHERE attempts > 1")))
    assert retried >= 20
    last_codes = pg.scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE attempts > 1 AND status = 'delivered' "
        "AND last_status_code = 200"
    )
    assert last_codes == retried
