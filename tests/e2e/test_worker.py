"""A real Celery worker on Redis runs the scheduled ledger verification against PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests import factories
from tests.conftest import Database
from wms.config import Settings
from wms.events.celery_app import create_celery
from wms.events.inprocess import InProcessScheduler
from wms.inventory import stock

BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture
def worker(pg: Database) -> Iterator[Settings]:
    redis.Redis.from_url(BROKER).flushdb()
    env = {
        **os.environ,
        "WMS_DATABASE_URL": pg.url,
        "WMS_BROKER_URL": BROKER,
        "WMS_SECRET_KEY": "t",
    }
    wms = Path(sys.executable).parent / "wms"
    process = subprocess.Popen(
        [str(wms), "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield Settings(database_url=pg.url, broker_url=BROKER, secret_key="t", _env_file=None)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        redis.Redis.from_url(BROKER).flushdb()


def test_the_worker_verifies_the_ledger_and_reports_a_tampered_quant(
    pg: Database, worker: Settings
) -> None:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        stock.receive(uow, sku="MUG", quantity=7, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    celery = create_celery(worker)
    result = celery.send_task("wms.verify_ledger").get(timeout=90)
    assert result == {"ok": True, "moves": 1, "discrepancies": 0}
    with pg.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE quants SET quantity = quantity + 1")
    result = celery.send_task("wms.verify_ledger").get(timeout=60)
    assert result["ok"] is False
    assert result["discrepancies"] == 1


def test_without_a_broker_the_same_job_runs_in_process(pg: Database) -> None:
    scheduler = InProcessScheduler(pg.session_factory, first_run_after=0)
    assert sorted(scheduler.run_due()) == [
        "wms.allocate_backorders",
        "wms.expire_reservations",
        "wms.schedule_cycle_counts",
        "wms.verify_ledger",
    ]
    assert scheduler.run_due() == []  # the quickest (reservation expiry) is due in 15 s
