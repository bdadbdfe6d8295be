"""Delivery routes of a warehouse's own fleet: plan a day, dispatch it, or cancel it.

A route plan moves ``queued -> running -> planned -> dispatched``; it may end ``failed`` (an
error stopped the solve) or ``cancelled`` (before it was dispatched); nothing else. Planning
takes the day's fulfilments (see ``delivery_problem``), solves a capacitated VRP with time
windows and stores every vehicle's stops in order with arrival, service start, load and distance,
and every fulfilment no vehicle could serve with the reason. Dispatching writes each routed
fulfilment's ETA (the planned start of service) and a ``fulfillment.eta_updated`` event in the
same transaction. Plans solve in the background (``delivery_runs``) or, with ``plan_routes``,
in the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from wms.fulfillment.delivery_models import (
    RouteDrop,
    RoutePlan,
    RoutePlanStatus,
    RouteStop,
    RouteTrip,
)
from wms.fulfillment.delivery_problem import (
    TO_DELIVER,
    Candidate,
    DayInputs,
    RouteParameters,
    Solved,
    active_vehicles,
    load_day,
    solve_day,
)
from wms.fulfillment.fleet import UNSET, add_vehicle, update_vehicle
from wms.fulfillment.models import FulfillmentOrder
from wms.fulfillment.workflow import record_fulfillment_event
from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Warehouse
from wms.routing.vrp import RoutingResult

__all__ = [
    "UNSET",
    "DispatchResult",
    "RoutePlanSummary",
    "UnknownRoutePlan",
    "add_vehicle",
    "cancel",
    "dispatch",
    "plan_routes",
    "queue_route_plan",
    "update_vehicle",
]

S = RoutePlanStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.PLANNED, S.FAILED}),
    S.PLANNED: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.FAILED: frozenset(),
    S.DISPATCHED: frozenset(),
    S.CANCELLED: frozenset(),
}
FINISHED = (S.PLANNED, S.FAILED, S.DISPATCHED, S.CANCELLED)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class UnknownRoutePlan(NotFound):
    code = "unknown_route_plan"

    def __init__(self, plan: str | int, *, field: str | None = "plan") -> None:
        super().__init__(f"no route plan {plan!r}", field=field, plan=str(plan))


def move_to(plan: RoutePlan, target: RoutePlanStatus) -> None:
    """Set the plan's status, refusing a transition the state machine does not allow."""
    if target not in TRANSITIONS[plan.status]:
        raise InvalidTransition(f"route plan {plan.public_id}", plan.status, target)
    plan.status = target.value


@dataclass(frozen=True)
class RoutePlanSummary:
    """Where a plan stands and what it found."""

    id: str
    warehouse: str
    delivery_date: date
    status: str
    vehicles_used: int | None
    stops_routed: int
    stops_dropped: int
    distance_km: float | None
    cost: Decimal | None
    method: str
    seconds: float | None
    error: str = ""


def summary(session: Session, plan: RoutePlan) -> RoutePlanSummary:
    """The plan's summary as it is in this transaction."""
    routed = session.scalar(select(func.count()).where(RouteStop.plan_id == plan.id)) or 0
    dropped = session.scalar(select(func.count()).where(RouteDrop.plan_id == plan.id)) or 0
    code = session.scalar(select(Warehouse.code).where(Warehouse.id == plan.warehouse_id))
    return RoutePlanSummary(
        id=plan.public_id,
        warehouse=str(code),
        delivery_date=plan.delivery_date,
        status=plan.status,
        vehicles_used=plan.vehicles_used,
        stops_routed=int(routed),
        stops_dropped=int(dropped),
        distance_km=plan.distance_km,
        cost=plan.cost,
        method=plan.solver_method,
        seconds=plan.solver_seconds,
        error=plan.error,
    )


def find_plan(session: Session, plan: str, *, lock: bool = False) -> RoutePlan:
    """A route plan by its public id (RP-SHA-20260512-1), locked for update when asked."""
    stmt = select(RoutePlan).where(RoutePlan.public_id == plan.strip().upper())
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise UnknownRoutePlan(plan)
    return row


def queue_route_plan(
    uow: UnitOfWork,
    *,
    warehouse: str,
    on: date,
    actor: str,
    parameters: RouteParameters,
) -> RoutePlanSummary:
    """Queue a plan of the warehouse's day (launch it after commit); refuses a fleet-less one."""
    session = uow.session
    if not FIRST_DAY <= on <= LAST_DAY:
        raise ValidationFailed(
            f"the delivery day {on} must be between {FIRST_DAY} and {LAST_DAY}", field="date"
        )
    ref = get_warehouse(session, warehouse)
    if not active_vehicles(session, ref.id):
        raise ValidationFailed(
            f"warehouse {ref.code} has no active vehicle; add one to its fleet first",
            field="warehouse",
            warehouse=ref.code,
        )
    # The warehouse row serialises numbering: two plans of one day never take the same number.
    session.scalar(select(Warehouse.id).where(Warehouse.id == ref.id).with_for_update())
    number = 1 + (
        session.scalar(
            select(func.max(RoutePlan.number)).where(
                RoutePlan.warehouse_id == ref.id, RoutePlan.delivery_date == on
            )
        )
        or 0
    )
    plan = RoutePlan(
        public_id=f"RP-{ref.code}-{on:%Y%m%d}-{number}",
        warehouse_id=ref.id,
        delivery_date=on,
        number=number,
        status=S.QUEUED,
        parameters=parameters.to_json(),
        progress_message="queued",
        created_by=actor,
    )
    session.add(plan)
    session.flush()
    return summary(session, plan)


def plan_routes(
    uow: UnitOfWork,
    *,
    warehouse: str,
    on: date,
    time_limit_seconds: float,
    seed: int,
    actor: str,
    parameters: RouteParameters | None = None,
) -> RoutePlanSummary:
    """Plan a warehouse's delivery day in the caller's unit of work (queue, solve and store)."""
    base = parameters or RouteParameters()
    params = RouteParameters(
        **{**base.to_json(), "time_limit_seconds": time_limit_seconds, "seed": seed}
    )
    queued = queue_route_plan(uow, warehouse=warehouse, on=on, actor=actor, parameters=params)
    plan = find_plan(uow.session, queued.id, lock=True)
    move_to(plan, S.RUNNING)
    plan.started_at = utcnow()
    inputs = load_day(uow.session, warehouse_id=plan.warehouse_id, on=on)
    store(uow.session, plan, inputs, solve_day(inputs, params))
    return summary(uow.session, plan)


def local_time(on: date, minutes: float, zone: str) -> datetime:
    """``minutes`` after local midnight of ``on`` at the warehouse, as UTC."""
    midnight = datetime.combine(on, time(0), tzinfo=ZoneInfo(zone))
    return (midnight + timedelta(minutes=float(minutes))).astimezone(UTC)


def store(session: Session, plan: RoutePlan, inputs: DayInputs, solved: Solved) -> None:
    """Write the solved routes and dropped stops on the running plan, and mark it planned."""
    result, table, on, zone = solved.result, solved.table, inputs.on, inputs.time_zone
    depot = table.index(inputs.depot_id)
    for route in result.routes:
        vehicle = inputs.vehicle(route.vehicle)
        row, driven = depot, 0.0
        for seq, visit in enumerate(route.visits, start=1):
            here = table.index(visit.stop)
            driven += float(table.distance[row, here])
            row = here
            c = inputs.candidate(visit.stop)
            stop = solved.problem.stop(visit.stop)
            session.add(
                RouteStop(
                    plan_id=plan.id,
                    vehicle_id=vehicle.id,
                    seq=seq,
                    fulfillment_order_id=c.fulfillment_id,
                    arrival_at=local_time(on, visit.arrival, zone),
                    service_start_at=local_time(on, max(visit.service_start, visit.arrival), zone),
                    service_minutes=stop.service_time,
                    weight_kg=c.weight_kg,
                    volume_cm3=c.volume_cm3,
                    load_weight_kg=max(0.0, visit.weight_on_board),
                    load_volume_cm3=max(0.0, visit.volume_on_board),
                    distance_km=driven,
                    window_start_minute=c.window[0] if c.window else None,
                    window_end_minute=c.window[1] if c.window else None,
                )
            )
        session.add(
            RouteTrip(
                plan_id=plan.id,
                vehicle_id=vehicle.id,
                departure_at=local_time(on, route.departure, zone),
                return_at=local_time(on, route.return_time, zone),
                distance_km=route.distance,
                cost=_money(route.cost),
                load_weight_kg=route.weight,
                load_volume_cm3=route.volume,
                stops=len(route.visits),
            )
        )
    dropped = [(s.candidate, s.reason) for s in solved.screened]
    dropped += [(inputs.candidate(d.stop), d.reason) for d in result.dropped]
    for c, reason in dropped:
        session.add(
            RouteDrop(
                plan_id=plan.id,
                fulfillment_order_id=c.fulfillment_id,
                reason=reason,
                weight_kg=c.weight_kg,
                volume_cm3=c.volume_cm3,
            )
        )
    _check_every_stop_once(inputs, result, dropped)
    move_to(plan, S.PLANNED)
    plan.vehicles_used = result.vehicles_used
    plan.distance_km = result.distance
    plan.cost = _money(sum(r.cost for r in result.routes))
    plan.feasible = result.is_feasible()
    plan.solver_method = result.method[:40]
    plan.solver_seconds = result.seconds
    plan.solver_summary = result.summary()
    routed = sum(len(r.visits) for r in result.routes)
    plan.progress_message = f"{routed} stops on {result.vehicles_used} vehicle{'' if result.vehicles_used == 1 else 's'}, {len(dropped)} dropped"
    plan.finished_at = utcnow()
    session.flush()


def _check_every_stop_once(
    inputs: DayInputs, result: RoutingResult, dropped: list[tuple[Candidate, str]]
) -> None:
    seen = [v.stop for r in result.routes for v in r.visits]
    seen += [c.public_id for c, _ in dropped]
    if sorted(seen) != sorted(c.public_id for c in inputs.candidates):
        raise Conflict("the routes lost or repeated a fulfilment; the plan was not stored")


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 4))).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class DispatchResult:
    """What dispatching told the storefront: each routed fulfilment's ETA, and what it did not."""

    plan: str
    etas: list[tuple[str, datetime]]  # fulfilment id, ETA
    skipped: list[tuple[str, str]]  # fulfilment id, why (shipped or cancelled meanwhile)
    dropped: list[tuple[str, str]]  # fulfilment id, why the plan could not route it


def dispatch(
    uow: UnitOfWork, *, plan: str, actor: str, now: datetime | None = None
) -> DispatchResult:
    """Send a planned route plan out: every routed fulfilment gets its ETA and an event."""
    session = uow.session
    row = find_plan(session, plan, lock=True)
    move_to(row, S.DISPATCHED)
    row.dispatched_at = now or utcnow()
    row.dispatched_by = actor
    stops = session.execute(
        select(RouteStop.fulfillment_order_id, RouteStop.service_start_at)
        .where(RouteStop.plan_id == row.id)
        .order_by(RouteStop.fulfillment_order_id)
    ).all()
    # Fulfilments in key order: two plans dispatched at once wait for each other, not deadlock.
    fulfilments = {
        fo.id: fo
        for fo in session.scalars(
            select(FulfillmentOrder)
            .where(FulfillmentOrder.id.in_([fid for fid, _ in stops]))
            .order_by(FulfillmentOrder.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    _refuse_dispatched_elsewhere(session, row, list(fulfilments))
    etas, skipped = [], []
    for fid, eta in stops:
        fo = fulfilments[fid]
        if fo.status not in TO_DELIVER:
            skipped.append((fo.public_id, f"it is {fo.status} now"))
            continue
        fo.eta = eta
        record_fulfillment_event(session, "eta_updated", fo)
        etas.append((fo.public_id, eta))
    session.flush()
    return DispatchResult(row.public_id, etas, skipped, _dropped(session, row.id))


def _refuse_dispatched_elsewhere(session: Session, plan: RoutePlan, ids: list[int]) -> None:
    if not ids:
        return
    clash = session.execute(
        select(FulfillmentOrder.public_id, RoutePlan.public_id)
        .join(RouteStop, RouteStop.fulfillment_order_id == FulfillmentOrder.id)
        .join(RoutePlan, RoutePlan.id == RouteStop.plan_id)
        .where(
            FulfillmentOrder.id.in_(ids),
            RoutePlan.id != plan.id,
            RoutePlan.status == S.DISPATCHED,
            RoutePlan.delivery_date >= plan.delivery_date,
        )
        .order_by(FulfillmentOrder.public_id)
    ).first()
    if clash is not None:
        raise Conflict(
            f"fulfilment {clash[0]} is already on dispatched route plan {clash[1]}; "
            "plan the day again",
            field="plan",
            fulfillment=clash[0],
            other_plan=clash[1],
        )


def _dropped(session: Session, plan_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(FulfillmentOrder.public_id, RouteDrop.reason)
        .join(RouteDrop, RouteDrop.fulfillment_order_id == FulfillmentOrder.id)
        .where(RouteDrop.plan_id == plan_id)
        .order_by(FulfillmentOrder.id)
    ).all()
    return [(fid, reason) for fid, reason in rows]


def cancel(
    uow: UnitOfWork, *, plan: str, actor: str, now: datetime | None = None
) -> RoutePlanSummary:
    """Cancel a plan that is queued or planned (a dispatched plan stays as it was sent)."""
    session = uow.session
    row = find_plan(session, plan, lock=True)
    move_to(row, S.CANCELLED)
    row.cancelled_at = now or utcnow()
    row.cancelled_by = actor
    row.progress_message = "cancelled"
    session.flush()
    return summary(session, row)
