"""Route plans in the background: claim a queued plan, read the day, solve, store the routes.

``run_route_plan`` owns its transactions: it claims the plan (queued -> running) in one, reads the
day in another, solves outside any, and stores the answer in one more. It is idempotent: a plan
that is not queued any more is left alone, so a task delivered twice solves once. A refused input
(no vehicle left, an unknown distance metric, a routing engine that does not answer) fails the
plan with its message; so does any other error, with its type.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork, transaction
from wms.errors import WmsError
from wms.fulfillment.delivery_models import RoutePlan, RoutePlanStatus
from wms.fulfillment.delivery_problem import DayInputs, RouteParameters, load_day, solve_day
from wms.fulfillment.delivery_routes import UnknownRoutePlan, move_to, store

log = structlog.get_logger("wms.routing")
Progress = Callable[[str], None]
# A plan still running this long after its time limit lost its worker.
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class RouteRunOutcome:
    """Where a plan's run ended: its status, or the error that stopped it."""

    plan_id: int
    public_id: str
    status: str
    error: str
    invalid: bool = False  # the error was a refused input (exit 2 on the command line)


def _claim(factory: sessionmaker[Session], plan_id: int) -> tuple[RouteParameters, Any] | None:
    def work(uow: UnitOfWork) -> tuple[RouteParameters, Any] | None:
        plan = uow.session.get(RoutePlan, plan_id, with_for_update=True)
        if plan is None:
            raise UnknownRoutePlan(plan_id)
        if plan.status != RoutePlanStatus.QUEUED:
            return None
        move_to(plan, RoutePlanStatus.RUNNING)
        plan.started_at = utcnow()
        plan.progress_message = "reading the day's fulfilments"
        return RouteParameters.from_json(plan.parameters), (plan.warehouse_id, plan.delivery_date)

    return transaction(factory, work)


def _set(factory: sessionmaker[Session], plan_id: int, **values: Any) -> None:
    transaction(
        factory,
        lambda uow: uow.session.execute(
            update(RoutePlan).where(RoutePlan.id == plan_id).values(**values)
        ),
    )


def run_route_plan(
    session_factory: sessionmaker[Session], *, plan_id: int, progress: Progress | None = None
) -> RouteRunOutcome:
    """Solve and store a queued plan; a plan not queued is left as it is."""
    report = progress or (lambda message: None)
    try:
        claimed = _claim(session_factory, plan_id)
        if claimed is None:
            return outcome(session_factory, plan_id)
        params, (warehouse_id, on) = claimed
        report("reading the day's fulfilments")
        with UnitOfWork(session_factory) as uow:
            inputs: DayInputs = load_day(uow.session, warehouse_id=warehouse_id, on=on)
        message = (
            f"solving: {len(inputs.candidates)} stops, {len(inputs.vehicles)} vehicles, "
            f"at most {params.time_limit_seconds:g} s"
        )
        report(message)
        _set(session_factory, plan_id, progress_message=message)
        solved = solve_day(inputs, params)
        report("storing the routes")
        transaction(session_factory, lambda uow: _store(uow, plan_id, inputs, solved))
    except WmsError as exc:
        _fail(session_factory, plan_id, exc.message)
        return _with(outcome(session_factory, plan_id), invalid=True)
    except Exception as exc:
        log.exception("route_plan_failed", plan_id=plan_id)
        _fail(session_factory, plan_id, f"{type(exc).__name__}: {exc}")
    return outcome(session_factory, plan_id)


def _store(uow: UnitOfWork, plan_id: int, inputs: DayInputs, solved: Any) -> None:
    plan = uow.session.get(RoutePlan, plan_id, with_for_update=True)
    assert plan is not None
    store(uow.session, plan, inputs, solved)


def _with(result: RouteRunOutcome, *, invalid: bool) -> RouteRunOutcome:
    return RouteRunOutcome(result.plan_id, result.public_id, result.status, result.error, invalid)


def _fail(factory: sessionmaker[Session], plan_id: int, error: str) -> None:
    def work(uow: UnitOfWork) -> None:
        plan = uow.session.get(RoutePlan, plan_id, with_for_update=True)
        if plan is None or plan.status != RoutePlanStatus.RUNNING:
            return
        move_to(plan, RoutePlanStatus.FAILED)
        plan.error = error
        plan.progress_message = "failed"
        plan.finished_at = utcnow()

    transaction(factory, work)


def outcome(session_factory: sessionmaker[Session], plan_id: int) -> RouteRunOutcome:
    """Where a plan stands now."""
    with UnitOfWork(session_factory) as uow:
        plan = uow.session.get(RoutePlan, plan_id)
        if plan is None:
            raise UnknownRoutePlan(plan_id)
        return RouteRunOutcome(plan.id, plan.public_id, plan.status, plan.error)


def plan_id_of(session: Session, public_id: str) -> int:
    """The row id of a plan named by its public id."""
    found = session.scalar(select(RoutePlan.id).where(RoutePlan.public_id == public_id))
    if found is None:
        raise UnknownRoutePlan(public_id)
    return found


def queued_route_plans(session: Session, *, older_than: timedelta) -> list[int]:
    """Plans still queued after ``older_than``: their launch was lost, so launch them again."""
    cutoff = utcnow() - older_than
    return list(
        session.scalars(
            select(RoutePlan.id)
            .where(RoutePlan.status == RoutePlanStatus.QUEUED, RoutePlan.created_at < cutoff)
            .order_by(RoutePlan.id)
        )
    )


def fail_stale_route_plans(uow: UnitOfWork, *, grace: timedelta = STALE_AFTER) -> list[int]:
    """Fail plans running far longer than their time limit allows (their worker died)."""
    now = utcnow()
    stale = []
    for plan in uow.session.scalars(
        select(RoutePlan).where(RoutePlan.status == RoutePlanStatus.RUNNING).with_for_update()
    ):
        limit = timedelta(seconds=float(plan.parameters.get("time_limit_seconds", 0) or 0))
        if plan.started_at is not None and plan.started_at + limit + grace < now:
            move_to(plan, RoutePlanStatus.FAILED)
            plan.error = (
                "the solve stopped without an answer (its worker ended); plan the day again"
            )
            plan.progress_message = "failed"
            plan.finished_at = now
            stale.append(plan.id)
    uow.session.flush()
    return stale
