"""A real Celery worker on Redis runs the scheduled ledger verification against PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import factories
from tests.conftest import Database
from tests.workers import celery_worker
from wms.config import Settings
from wms.events.celery_app import create_celery
from wms.events.inprocess import InProcessScheduler
from wms.inventory import stock

BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture
def worker(pg: Database) -> Iterator[Settings]:
    with celery_worker(pg, BROKER) as settings:
        yield settings


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
