"""Route plans in the background on PostgreSQL: the Celery task and its sweep are registered, a
real worker on Redis solves a plan launched through the broker, the thread solves one without a
broker, and the sweep relaunches lost launches and fails plans whose worker died."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import Database
from tests.integration.fulfillment.delivery_support import DAY, FAST, delivery_day
from tests.workers import celery_worker
from wms.config import Settings
from wms.db.base import utcnow
from wms.events.celery_app import create_celery
from wms.events.planning_tasks import ThreadPlanLauncher
from wms.events.routing_tasks import (
    PLAN_ROUTES,
    SWEEP_ROUTES,
    route_launcher_for,
    sweep_route_plans,
)
from wms.fulfillment import delivery_routes
from wms.fulfillment.delivery_runs import plan_id_of

BROKER = "redis://127.0.0.1:6379/12"


def queue(pg: Database) -> int:
    with pg.uow() as uow:
        queued = delivery_routes.queue_route_plan(
            uow, warehouse="SHA", on=DAY, actor="t", parameters=FAST
        )
        plan_id = plan_id_of(uow.session, queued.id)
        uow.commit()
    return plan_id


def status(pg: Database, plan_id: int) -> str:
    return str(pg.scalar("SELECT status FROM route_plans WHERE id = :i", i=plan_id))


def settled(pg: Database, plan_id: int, within: float = 90) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if (now := status(pg, plan_id)) not in ("queued", "running"):
            return now
        time.sleep(0.3)
    return status(pg, plan_id)


def test_the_celery_app_registers_the_route_task_and_its_sweep(pg: Database) -> None:
    app = create_celery(
        Settings(database_url=pg.url, broker_url=BROKER, secret_key="t", _env_file=None)
    )
    assert PLAN_ROUTES in app.tasks
    assert SWEEP_ROUTES in app.tasks
    assert app.conf.beat_schedule[SWEEP_ROUTES]["task"] == SWEEP_ROUTES


def test_without_a_broker_a_thread_solves_the_queued_plan(pg: Database) -> None:
    delivery_day(pg)
    plan_id = queue(pg)
    launcher = route_launcher_for(
        Settings(database_url=pg.url, secret_key="t", _env_file=None), pg.session_factory
    )
    assert isinstance(launcher, ThreadPlanLauncher)

    launcher.launch(plan_id)

    assert launcher.wait_idle(60)
    launcher.stop()
    assert status(pg, plan_id) == "planned"
    assert pg.count("route_stops") == 10


def test_the_sweep_relaunches_lost_launches_and_fails_plans_whose_worker_died(
    pg: Database,
) -> None:
    delivery_day(pg)
    lost, dead, fresh = queue(pg), queue(pg), queue(pg)
    long_ago = utcnow() - timedelta(hours=2)
    with pg.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE route_plans SET created_at = %(t)s WHERE id = %(i)s", {"t": long_ago, "i": lost}
        )
        connection.exec_driver_sql(
            "UPDATE route_plans SET status = 'running', started_at = %(t)s WHERE id = %(i)s",
            {"t": long_ago, "i": dead},
        )
    launched: list[int] = []

    swept = sweep_route_plans(pg.session_factory, launched.append)

    assert swept == {"relaunched": 1, "failed": 1}
    assert launched == [lost]
    assert status(pg, dead) == "failed"
    assert "worker ended" in str(pg.scalar("SELECT error FROM route_plans WHERE id = :i", i=dead))
    assert status(pg, fresh) == "queued"


@pytest.fixture
def worker(pg: Database) -> Iterator[Settings]:
    with celery_worker(pg, BROKER) as settings:
        yield settings


@pytest.mark.slow
def test_a_worker_solves_a_plan_launched_through_the_broker(pg: Database, worker: Settings) -> None:
    delivery_day(pg)
    plan_id = queue(pg)

    route_launcher_for(worker, pg.session_factory).launch(plan_id)

    assert settled(pg, plan_id) == "planned"
    assert pg.count("route_stops") == 10
