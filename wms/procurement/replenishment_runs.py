"""Plan runs: queue one, then run it (build, forecast, solve, store) with live progress.

``run_plan`` owns its transactions: it claims the queued run, reports progress in short
transactions of its own so that readers see it live, reads the database in one, and writes the
answer (proposals, projections, objective, bound, gap) in one. It is idempotent: a run that is
not queued any more is left alone, so a task delivered twice solves once. An infeasible plan is
an answer (succeeded, result ``infeasible`` with the reason); an error fails the run with its text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork, transaction
from wms.errors import WmsError
from wms.inventory.catalog import get_warehouse
from wms.procurement.models import PlanProposal, PlanRun, PlanRunStatus, ProposalStatus
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.plan_views import UnknownPlanRun
from wms.procurement.planning.problem import COST_SCALE, OrderLine, Problem, Result
from wms.procurement.replenishment import BuildContext, assemble
from wms.procurement.replenishment_inputs import load_inputs

log = structlog.get_logger("wms.planning")
Progress = Callable[[int, int, str], None]
REPORT_EVERY_SECONDS = 0.5
# A run still running this long after its time limit lost its worker.
STALE_AFTER = timedelta(minutes=30)


def create_run(uow: UnitOfWork, *, parameters: PlanParameters, actor: str) -> int:
    """Queue a plan run with validated parameters; returns its id (launch it after commit)."""
    if parameters.warehouse is not None:
        get_warehouse(uow.session, parameters.warehouse)
    run = PlanRun(
        status=PlanRunStatus.QUEUED,
        parameters=parameters.to_json(),
        progress_message="queued",
        created_by=actor,
    )
    uow.session.add(run)
    uow.session.flush()
    return run.id


@dataclass(frozen=True)
class RunOutcome:
    """Where a run ended: its status, the solver's answer, or the error that stopped it."""

    run_id: int
    status: str
    result_status: str | None
    reason: str
    error: str
    invalid: bool = False  # the error was a refused input (exit 2 on the command line)


class _Reporter:
    """Progress into the run's row (throttled, a transaction each) and to an optional callback."""

    def __init__(
        self, factory: sessionmaker[Session], run_id: int, callback: Progress | None
    ) -> None:
        self.factory, self.run_id, self.callback = factory, run_id, callback
        self.last = 0.0

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.callback is not None:
            self.callback(done, total, message)
        now = time.monotonic()
        if now - self.last < REPORT_EVERY_SECONDS and done < total:
            return
        self.last = now
        try:
            _set(
                self.factory,
                self.run_id,
                progress_done=max(0, int(done)),
                progress_total=max(0, int(total)),
                progress_message=str(message)[:200],
            )
        except Exception:  # progress is a courtesy: never let it stop the plan
            log.warning("plan_progress_not_written", run_id=self.run_id, exc_info=True)


def _set(factory: sessionmaker[Session], run_id: int, **values: Any) -> int:
    def work(uow: UnitOfWork) -> int:
        result = uow.session.execute(update(PlanRun).where(PlanRun.id == run_id).values(**values))
        return int(getattr(result, "rowcount", 0) or 0)

    return transaction(factory, work)


def _claim(factory: sessionmaker[Session], run_id: int) -> PlanParameters | None:
    def work(uow: UnitOfWork) -> PlanParameters | None:
        run = uow.session.get(PlanRun, run_id, with_for_update=True)
        if run is None:
            raise UnknownPlanRun(run_id)
        if run.status != PlanRunStatus.QUEUED:
            return None
        run.status = PlanRunStatus.RUNNING
        run.started_at = utcnow()
        run.progress_message = "reading history and stock"
        return PlanParameters.from_json(run.parameters)

    return transaction(factory, work)


def run_plan(
    session_factory: sessionmaker[Session], *, run_id: int, progress: Progress | None = None
) -> RunOutcome:
    """Build, forecast, solve and store a queued run; a run not queued is left as it is."""
    report = _Reporter(session_factory, run_id, progress)
    try:
        params = _claim(session_factory, run_id)
        if params is None:
            return outcome(session_factory, run_id)
        today = params.today or utcnow().date()
        with UnitOfWork(session_factory) as uow:
            inputs = load_inputs(uow.session, params, today=today)
        report(0, 1, "forecasting demand")
        problem, context = assemble(inputs, params, progress=report)
        result = _solve(problem, params, report)
        report(1, 1, "storing the plan")
        transaction(session_factory, lambda uow: _store(uow, run_id, problem, context, result))
    except WmsError as exc:
        _fail(session_factory, run_id, exc.message)
        return RunOutcome(run_id, PlanRunStatus.FAILED, None, "", exc.message, invalid=True)
    except Exception as exc:
        log.exception("plan_run_failed", run_id=run_id)
        _fail(session_factory, run_id, f"{type(exc).__name__}: {exc}")
    return outcome(session_factory, run_id)


def _solve(problem: Problem, params: PlanParameters, report: Progress) -> Result:
    if not problem.series:
        return Result("optimal", 0, 0, method="nothing to plan")
    from wms.procurement.planning import solve
    from wms.procurement.planning.problem import SolveParameters

    problem.validate()
    solve_params = SolveParameters(
        time_limit_seconds=params.time_limit_seconds,
        relative_gap=params.relative_gap,
        seed=params.seed,
    )
    result: Result = solve(problem, solve_params, progress=report)
    return result


def _fail(factory: sessionmaker[Session], run_id: int, error: str) -> None:
    _set(
        factory,
        run_id,
        status=PlanRunStatus.FAILED,
        error=error,
        progress_message="failed",
        finished_at=utcnow(),
    )


def _money(points: int | None) -> Decimal | None:
    return None if points is None else (Decimal(points) / COST_SCALE).quantize(Decimal("0.0001"))


def _explanation(line: OrderLine) -> dict[str, Any]:
    why = line.explanation
    if why is None:
        return {"shaped_by": [], "needed": None, "text": line.reason}
    return {"shaped_by": list(why.shaped_by), "needed": why.needed, "text": why.text}


def _store(
    uow: UnitOfWork, run_id: int, problem: Problem, context: BuildContext, result: Result
) -> None:
    run = uow.session.get(PlanRun, run_id, with_for_update=True)
    assert run is not None
    ids = context.ids
    for line in result.lines:
        uow.session.add(
            PlanProposal(
                run_id=run_id,
                product_id=ids["sku"][line.sku],
                warehouse_id=ids["warehouse"][line.warehouse],
                supplier_id=ids["supplier"][line.supplier],
                order_week=line.order_week,
                order_date=context.week_start(line.order_week),
                arrival_date=context.week_start(line.arrival_week),
                proposed_quantity=line.quantity,
                quantity=line.quantity,
                unit_price=_money(line.unit_cost),
                currency=context.currency,
                reason=line.reason,
                explanation=_explanation(line),
                status=ProposalStatus.PROPOSED,
            )
        )
    run.status = PlanRunStatus.SUCCEEDED
    run.result_status = result.status
    run.objective = _money(result.objective)
    run.bound = _money(result.bound)
    run.gap = result.gap
    run.result_reason = result.reason
    run.method = result.method[:40]
    run.solve_seconds = result.seconds
    run.projections = [_projection(p, context) for p in result.projections]
    run.context = context.to_json()
    run.progress_message = f"{result.status}: {len(result.lines)} order lines"
    run.finished_at = utcnow()
    uow.session.flush()


def _projection(p: Any, context: BuildContext) -> dict[str, Any]:
    info = context.series.get((p.sku, p.warehouse))
    return {
        "sku": p.sku,
        "warehouse": p.warehouse,
        "demand": list(p.demand),
        "safety_stock": p.safety_stock,
        "with_plan": list(p.with_plan),
        "without_plan": list(p.without_plan),
        "short_with_plan": list(p.short_with_plan),
        "forecast_model": info.model if info else "",
        "demand_pattern": info.pattern if info else "",
        "lead_time_weeks": info.lead_time_weeks if info else None,
    }


def outcome(session_factory: sessionmaker[Session], run_id: int) -> RunOutcome:
    """Where a run stands now."""
    with UnitOfWork(session_factory) as uow:
        run = uow.session.get(PlanRun, run_id)
        if run is None:
            raise UnknownPlanRun(run_id)
        return RunOutcome(run_id, run.status, run.result_status, run.result_reason, run.error)


def queued_runs(session: Session, *, older_than: timedelta) -> list[int]:
    """Runs still queued after ``older_than``: their launch was lost, so launch them again."""
    cutoff = utcnow() - older_than
    return list(
        session.scalars(
            select(PlanRun.id)
            .where(PlanRun.status == PlanRunStatus.QUEUED, PlanRun.created_at < cutoff)
            .order_by(PlanRun.id)
        )
    )


def fail_stale_runs(uow: UnitOfWork, *, grace: timedelta = STALE_AFTER) -> list[int]:
    """Fail runs running far longer than their time limit allows (their worker died)."""
    now = utcnow()
    stale = []
    for run in uow.session.scalars(
        select(PlanRun).where(PlanRun.status == PlanRunStatus.RUNNING).with_for_update()
    ):
        limit = timedelta(seconds=float(run.parameters.get("time_limit_seconds", 0) or 0))
        if run.started_at is not None and run.started_at + limit + grace < now:
            run.status = PlanRunStatus.FAILED
            run.error = "the run stopped without an answer (its worker ended); start a new run"
            run.progress_message = "failed"
            run.finished_at = now
            stale.append(run.id)
    uow.session.flush()
    return stale
