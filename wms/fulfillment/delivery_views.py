"""The read side of delivery routes: a plan with its routes, stops and dropped stops, and lists.

Times are UTC; ``RoutePlanView.clock`` shows one as the warehouse's local time of day, as route
sheets and the planner's timetable print them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.fulfillment.delivery_models import (
    DeliveryVehicle,
    RouteDrop,
    RoutePlan,
    RoutePlanStatus,
    RouteStop,
    RouteTrip,
)
from wms.fulfillment.delivery_routes import find_plan
from wms.fulfillment.fleet import clock
from wms.fulfillment.models import FulfillmentOrder, Order
from wms.inventory.models import Warehouse


@dataclass(frozen=True)
class StopView:
    seq: int
    fulfillment_id: str
    fulfillment_status: str
    order_id: str
    external_ref: str
    customer: str
    address: str
    latitude: float
    longitude: float
    window: tuple[str, str] | None  # local HH:MM; None: any time in the shift
    arrival_at: datetime
    service_start_at: datetime
    service_minutes: float
    weight_kg: float
    volume_cm3: float
    load_weight_kg: float  # on board after this stop
    load_volume_cm3: float
    distance_km: float  # from the depot to here
    eta: datetime | None  # as dispatched


@dataclass(frozen=True)
class TripView:
    vehicle: str
    vehicle_name: str
    capacity_weight_kg: float
    capacity_volume_cm3: int | None
    departure_at: datetime
    return_at: datetime
    distance_km: float
    cost: Decimal
    load_weight_kg: float
    load_volume_cm3: float
    stops: list[StopView]


@dataclass(frozen=True)
class DroppedView:
    fulfillment_id: str
    order_id: str
    customer: str
    latitude: float
    longitude: float
    reason: str
    weight_kg: float
    volume_cm3: float


@dataclass(frozen=True)
class RoutePlanView:
    id: str
    warehouse: str
    warehouse_name: str
    depot: tuple[float, float]
    time_zone: str
    delivery_date: date
    status: str
    parameters: dict[str, Any]
    progress_message: str
    vehicles_used: int | None
    distance_km: float | None
    cost: Decimal | None
    feasible: bool | None
    solver_method: str
    solver_seconds: float | None
    solver_summary: str
    error: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    dispatched_by: str | None
    dispatched_at: datetime | None
    cancelled_by: str | None
    cancelled_at: datetime | None
    trips: list[TripView] = field(default_factory=list)
    dropped: list[DroppedView] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status not in (RoutePlanStatus.QUEUED, RoutePlanStatus.RUNNING)

    @property
    def stops_routed(self) -> int:
        return sum(len(t.stops) for t in self.trips)

    def clock(self, when: datetime | None) -> str:
        """A time as the warehouse's local HH:MM (with the day when it is not the plan's)."""
        if when is None:
            return "—"
        local = when.astimezone(ZoneInfo(self.time_zone))
        text = local.strftime("%H:%M")
        return text if local.date() == self.delivery_date else f"{local:%Y-%m-%d} {text}"


def _address(ship_to: dict[str, Any]) -> str:
    lines = [str(x) for x in ship_to.get("address_lines") or () if x]
    city = " ".join(str(ship_to.get(k) or "") for k in ("postal_code", "city")).strip()
    return ", ".join([*lines, city] if city else lines)


def _window(row: RouteStop) -> tuple[str, str] | None:
    if row.window_start_minute is None or row.window_end_minute is None:
        return None
    return clock(row.window_start_minute), clock(row.window_end_minute)


def _trips(session: Session, plan_id: int) -> list[TripView]:
    stops = session.execute(
        select(RouteStop, FulfillmentOrder, Order)
        .join(FulfillmentOrder, FulfillmentOrder.id == RouteStop.fulfillment_order_id)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .where(RouteStop.plan_id == plan_id)
        .order_by(RouteStop.vehicle_id, RouteStop.seq)
    ).all()
    by_vehicle: dict[int, list[StopView]] = {}
    for stop, fo, order in stops:
        by_vehicle.setdefault(stop.vehicle_id, []).append(
            StopView(
                seq=stop.seq,
                fulfillment_id=fo.public_id,
                fulfillment_status=fo.status,
                order_id=order.public_id,
                external_ref=order.external_ref,
                customer=str(order.ship_to.get("name") or ""),
                address=_address(order.ship_to),
                latitude=order.latitude,
                longitude=order.longitude,
                window=_window(stop),
                arrival_at=stop.arrival_at,
                service_start_at=stop.service_start_at,
                service_minutes=stop.service_minutes,
                weight_kg=stop.weight_kg,
                volume_cm3=stop.volume_cm3,
                load_weight_kg=stop.load_weight_kg,
                load_volume_cm3=stop.load_volume_cm3,
                distance_km=stop.distance_km,
                eta=fo.eta,
            )
        )
    trips = session.execute(
        select(RouteTrip, DeliveryVehicle)
        .join(DeliveryVehicle, DeliveryVehicle.id == RouteTrip.vehicle_id)
        .where(RouteTrip.plan_id == plan_id)
        .order_by(DeliveryVehicle.code)
    ).all()
    return [
        TripView(
            vehicle=v.code,
            vehicle_name=v.name,
            capacity_weight_kg=v.capacity_weight_kg,
            capacity_volume_cm3=v.capacity_volume_cm3,
            departure_at=t.departure_at,
            return_at=t.return_at,
            distance_km=t.distance_km,
            cost=t.cost,
            load_weight_kg=t.load_weight_kg,
            load_volume_cm3=t.load_volume_cm3,
            stops=by_vehicle.get(v.id, []),
        )
        for t, v in trips
    ]


def _dropped(session: Session, plan_id: int) -> list[DroppedView]:
    rows = session.execute(
        select(RouteDrop, FulfillmentOrder.public_id, Order)
        .join(FulfillmentOrder, FulfillmentOrder.id == RouteDrop.fulfillment_order_id)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .where(RouteDrop.plan_id == plan_id)
        .order_by(RouteDrop.fulfillment_order_id)
    ).all()
    return [
        DroppedView(
            fulfillment_id=fid,
            order_id=order.public_id,
            customer=str(order.ship_to.get("name") or ""),
            latitude=order.latitude,
            longitude=order.longitude,
            reason=drop.reason,
            weight_kg=drop.weight_kg,
            volume_cm3=drop.volume_cm3,
        )
        for drop, fid, order in rows
    ]


def _view(session: Session, plan: RoutePlan, *, details: bool) -> RoutePlanView:
    warehouse = session.get(Warehouse, plan.warehouse_id)
    assert warehouse is not None
    return RoutePlanView(
        id=plan.public_id,
        warehouse=warehouse.code,
        warehouse_name=warehouse.name,
        depot=(warehouse.latitude, warehouse.longitude),
        time_zone=warehouse.time_zone,
        delivery_date=plan.delivery_date,
        status=plan.status,
        parameters=dict(plan.parameters),
        progress_message=plan.progress_message,
        vehicles_used=plan.vehicles_used,
        distance_km=plan.distance_km,
        cost=plan.cost,
        feasible=plan.feasible,
        solver_method=plan.solver_method,
        solver_seconds=plan.solver_seconds,
        solver_summary=plan.solver_summary,
        error=plan.error,
        created_by=plan.created_by,
        created_at=plan.created_at,
        started_at=plan.started_at,
        finished_at=plan.finished_at,
        dispatched_by=plan.dispatched_by,
        dispatched_at=plan.dispatched_at,
        cancelled_by=plan.cancelled_by,
        cancelled_at=plan.cancelled_at,
        trips=_trips(session, plan.id) if details else [],
        dropped=_dropped(session, plan.id) if details else [],
    )


def route_plan_view(session: Session, plan: str) -> RoutePlanView:
    """A plan with its routes (stops in order) and its dropped stops with their reasons."""
    return _view(session, find_plan(session, plan), details=True)


@dataclass(frozen=True)
class RoutePlanRow:
    """A plan in a list: the plan without its routes, and how many stops it routed and dropped."""

    plan: RoutePlanView
    stops_routed: int
    stops_dropped: int


def list_route_plans(
    session: Session,
    *,
    warehouse: str | None = None,
    on: date | None = None,
    limit: int = 100,
) -> list[RoutePlanRow]:
    """Plans, latest delivery day and newest first, of one warehouse and day if given."""
    stmt = select(RoutePlan).join(Warehouse, Warehouse.id == RoutePlan.warehouse_id)
    if warehouse is not None:
        stmt = stmt.where(Warehouse.code == warehouse)
    if on is not None:
        stmt = stmt.where(RoutePlan.delivery_date == on)
    plans = session.scalars(
        stmt.order_by(RoutePlan.delivery_date.desc(), RoutePlan.id.desc()).limit(limit)
    ).all()
    ids = [p.id for p in plans]
    routed = _counts(session, RouteStop, ids)
    dropped = _counts(session, RouteDrop, ids)
    return [
        RoutePlanRow(_view(session, p, details=False), routed.get(p.id, 0), dropped.get(p.id, 0))
        for p in plans
    ]


def _counts(
    session: Session, table: type[RouteStop] | type[RouteDrop], ids: list[int]
) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(table.plan_id, func.count()).where(table.plan_id.in_(ids)).group_by(table.plan_id)
    ).all()
    return {plan_id: int(n) for plan_id, n in rows}
