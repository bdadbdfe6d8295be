"""A real Celery worker on Redis runs a plan run launched through the broker, reporting to the
run's row, and beat's sweep launches a run whose launch was lost."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from tests.conftest import Database
from tests.integration.procurement.support import stocked
from tests.workers import celery_worker
from wms.config import Settings
from wms.db.base import utcnow
from wms.events.celery_app import create_celery
from wms.events.planning_tasks import PLAN, SWEEP_PLANS, CeleryPlanLauncher
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.plan_views import plan_run_view
from wms.procurement.replenishment_runs import create_run

BROKER = "redis://127.0.0.1:6379/13"

pytestmark = pytest.mark.slow


@pytest.fixture
def worker(pg: Database) -> Iterator[Settings]:
    with celery_worker(pg, BROKER) as settings:
        yield settings


def _queue(pg: Database) -> int:
    with pg.uow() as uow:
        run_id = create_run(
            uow,
            parameters=PlanParameters(horizon_weeks=6, time_limit_seconds=5, today=utcnow().date()),
            actor="t",
        )
        uow.commit()
    return run_id


def _finished(pg: Database, run_id: int, within: float = 150) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with pg.uow() as uow:
            run = plan_run_view(uow.session, run_id)
        if run.finished:
            return f"{run.status}:{run.result_status}"
        time.sleep(0.3)
    raise AssertionError(f"plan run {run_id} did not finish: {run}")


def test_a_worker_runs_a_plan_launched_through_the_broker(pg: Database, worker: Settings) -> None:
    stocked(pg, utcnow().date())
    run_id = _queue(pg)
    assert worker.broker_url is not None
    CeleryPlanLauncher.for_broker(worker.broker_url).launch(run_id)
    assert _finished(pg, run_id) in {"succeeded:optimal", "succeeded:feasible"}
    proposed = pg.count("plan_proposals")
    assert proposed > 0
    again = create_celery(worker).send_task(PLAN, args=(run_id,)).get(timeout=60)
    assert again["status"] == "succeeded"  # a repeat changes nothing
    assert pg.count("plan_proposals") == proposed


def test_the_sweep_launches_a_run_whose_launch_was_lost(pg: Database, worker: Settings) -> None:
    stocked(pg, utcnow().date())
    run_id = _queue(pg)
    with pg.engine.begin() as connection:
        connection.execute(text("UPDATE plan_runs SET created_at = now() - interval '10 minutes'"))
    swept = create_celery(worker).send_task(SWEEP_PLANS).get(timeout=60)
    assert swept == {"relaunched": 1, "failed": 0}
    assert _finished(pg, run_id).startswith("succeeded")
