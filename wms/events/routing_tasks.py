"""Route plans in the background: a Celery task with a broker, a thread without one.

- ``wms.routing.plan_routes(plan_id)``: ``run_route_plan`` on a queued plan. Idempotent: a plan
  that is not queued any more is left alone.
- ``wms.routing.sweep_route_plans``: beat's safety net. Launches again plans still queued after
  ``RELAUNCH_AFTER`` (a launch lost with the broker) and fails plans whose worker died.

The API and the planner queue a plan in their transaction, commit, then call
``route_launcher(state).launch(plan_id)``; the launchers are those of the replenishment plans
(``planning_tasks``), running this task instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from wms.config import Settings
from wms.db.uow import UnitOfWork, transaction
from wms.events.planning_tasks import CeleryPlanLauncher, PlanLauncher, ThreadPlanLauncher
from wms.fulfillment.delivery_problem import RouteParameters
from wms.fulfillment.delivery_runs import (
    fail_stale_route_plans,
    queued_route_plans,
    run_route_plan,
)

log = structlog.get_logger("wms.routing")

PLAN_ROUTES = "wms.routing.plan_routes"
SWEEP_ROUTES = "wms.routing.sweep_route_plans"
SWEEP_EVERY_SECONDS = 60.0
RELAUNCH_AFTER = timedelta(minutes=2)
_lock = threading.Lock()


def route_parameters(
    settings: Settings, *, time_limit_seconds: float | None = None, seed: int = 0
) -> RouteParameters:
    """A plan's parameters: the time limit and seed asked for, the rest from the settings."""
    return RouteParameters(
        time_limit_seconds=(
            settings.delivery_time_limit_seconds
            if time_limit_seconds is None
            else time_limit_seconds
        ),
        seed=seed,
        backend=settings.routing_backend,
        metric=settings.routing_distance,
        service_minutes=settings.delivery_service_minutes,
        minutes_per_package=settings.delivery_minutes_per_package,
        drop_penalty=settings.delivery_drop_penalty,
    )


def _run(session_factory: sessionmaker[Session], *, run_id: int) -> Any:
    return run_route_plan(session_factory, plan_id=run_id)


def route_launcher_for(settings: Settings, session_factory: sessionmaker[Session]) -> PlanLauncher:
    """A Celery launcher with a broker, else an in-process thread of its own."""
    if settings.broker_url:
        from celery import Celery

        app = Celery("wms-router", broker=settings.broker_url)
        app.conf.broker_transport_options = {"socket_connect_timeout": 3}
        app.conf.broker_connection_retry = False
        return CeleryPlanLauncher(
            lambda plan_id: app.send_task(PLAN_ROUTES, args=(plan_id,), retry=False)
        )
    return ThreadPlanLauncher(session_factory, runner=_run)


def route_launcher(state: Any) -> PlanLauncher:
    """The app's route launcher (``state.route_launcher``), built on first use; an in-process
    one first picks up the plans an earlier server process left queued (beat does that with
    Celery)."""
    with _lock:
        found: PlanLauncher | None = getattr(state, "route_launcher", None)
        if found is None:
            found = route_launcher_for(state.settings, state.session_factory)
            state.route_launcher = found
            if isinstance(found, ThreadPlanLauncher):
                sweep_route_plans(state.session_factory, found.launch)
    return found


def sweep_route_plans(
    session_factory: sessionmaker[Session], launch: Callable[[int], None]
) -> dict[str, int]:
    """Launch plans whose launch was lost again; fail plans whose worker died."""
    failed = transaction(session_factory, fail_stale_route_plans)
    with UnitOfWork(session_factory) as uow:
        waiting = queued_route_plans(uow.session, older_than=RELAUNCH_AFTER)
    for plan_id in waiting:
        launch(plan_id)
    if waiting or failed:
        log.info("route_plans_swept", relaunched=len(waiting), failed=len(failed))
    return {"relaunched": len(waiting), "failed": len(failed)}


def register_routing(app: Any, session_factory: Callable[[], sessionmaker[Session]]) -> None:
    """Register the route planning task and its sweep on a Celery app."""

    @app.task(name=PLAN_ROUTES, ignore_result=False)  # type: ignore[untyped-decorator]
    def plan_routes_task(plan_id: int) -> dict[str, Any]:
        """Solve and store a queued route plan (a repeat is a no-op)."""
        return asdict(run_route_plan(session_factory(), plan_id=int(plan_id)))

    @app.task(name=SWEEP_ROUTES, ignore_result=False)  # type: ignore[untyped-decorator]
    def sweep_task() -> dict[str, int]:
        """Relaunch route plans still queued; fail plans whose worker died."""
        return sweep_route_plans(session_factory(), plan_routes_task.delay)

    app.conf.beat_schedule[SWEEP_ROUTES] = {
        "task": SWEEP_ROUTES,
        "schedule": SWEEP_EVERY_SECONDS,
        "options": {"expires": SWEEP_EVERY_SECONDS * 2},
    }
