"""A delivery day as a routing problem: which fulfilments go, with what, when, on which vehicles.

``load_day`` reads the rows (the warehouse, its active vehicles, the fulfilments to deliver);
``build_problem`` turns them into the solver's plain values; ``solve_day`` solves them and keeps
the travel table the routes were priced with. Times are minutes after local midnight at the
warehouse, weights kilograms, volumes cubic centimetres, distances kilometres.

The fulfilments a plan takes: the warehouse's fulfilment orders still to ship (released, picking,
picked or packed) that are not on a dispatched plan of that day or a later one. Every one of
them ends on a route or among the dropped stops with its reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from wms.errors import ValidationFailed
from wms.fulfillment.delivery_models import (
    DeliveryVehicle,
    RoutePlan,
    RoutePlanStatus,
    RouteStop,
)
from wms.fulfillment.fleet import clock, time_minutes
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    Package,
)
from wms.inventory.models import Product, Warehouse
from wms.routing.vrp import (
    BACKENDS,
    Depot,
    DistanceMatrix,
    RoutingProblem,
    RoutingResult,
    SolveParameters,
    Stop,
    TravelTable,
    Vehicle,
    make_matrix,
    solve,
    travel_table,
)

TO_DELIVER = (
    FulfillmentStatus.RELEASED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PICKED,
    FulfillmentStatus.PACKED,
)
MAX_TIME_LIMIT_SECONDS = 600.0
MAX_SEED = 2**31 - 1


def _fail(message: str, field_name: str) -> None:
    raise ValidationFailed(message, field=field_name)


@dataclass(frozen=True)
class RouteParameters:
    """How a day is routed: search time and seed, solver, distances, service times, penalty."""

    time_limit_seconds: float = 10.0
    seed: int = 0
    backend: str = "ortools"
    metric: str = "haversine"
    service_minutes: float = 5.0
    minutes_per_package: float = 1.0
    drop_penalty: float = 100_000.0

    def __post_init__(self) -> None:
        t = self.time_limit_seconds
        if not (math.isfinite(t) and 0 < t <= MAX_TIME_LIMIT_SECONDS):
            _fail(
                f"time limit {t:g} s must be more than 0 and at most {MAX_TIME_LIMIT_SECONDS:g}",
                "time_limit_seconds",
            )
        if not 0 <= self.seed <= MAX_SEED:
            _fail(f"seed {self.seed} must be 0 to {MAX_SEED}", "seed")
        if self.backend not in BACKENDS:
            _fail(f"unknown routing backend {self.backend!r}; use {', '.join(BACKENDS)}", "backend")
        make_matrix(self.metric)  # refuses a metric it does not know, naming the field
        for name in ("service_minutes", "minutes_per_package"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 240):
                _fail(f"{name.replace('_', ' ')} must be 0 to 240", name)
        if not (math.isfinite(self.drop_penalty) and self.drop_penalty > 0):
            _fail("the drop penalty must be more than 0", "drop_penalty")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RouteParameters:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class Candidate:
    """A fulfilment to deliver: where, how heavy and bulky, how many packages, its window."""

    fulfillment_id: int
    public_id: str
    order_id: str
    customer: str
    latitude: float
    longitude: float
    weight_kg: float
    volume_cm3: float
    packages: int
    window: tuple[int, int] | None  # minutes after local midnight; None: the shift


@dataclass(frozen=True)
class FleetVehicle:
    id: int
    code: str
    capacity_weight_kg: float
    capacity_volume_cm3: int | None
    shift: tuple[int, int]
    cost_per_km: float
    fixed_cost: float


@dataclass(frozen=True)
class DayInputs:
    """What a plan of one warehouse and day is built from."""

    warehouse_id: int
    warehouse: str
    latitude: float
    longitude: float
    time_zone: str
    on: date
    candidates: tuple[Candidate, ...]
    vehicles: tuple[FleetVehicle, ...]

    @property
    def depot_id(self) -> str:
        return f"@{self.warehouse}"

    def candidate(self, public_id: str) -> Candidate:
        return next(c for c in self.candidates if c.public_id == public_id)

    def vehicle(self, code: str) -> FleetVehicle:
        return next(v for v in self.vehicles if v.code == code)


def active_vehicles(session: Session, warehouse_id: int) -> list[FleetVehicle]:
    """The warehouse's active vehicles by code."""
    rows = session.scalars(
        select(DeliveryVehicle)
        .where(DeliveryVehicle.warehouse_id == warehouse_id, DeliveryVehicle.active)
        .order_by(DeliveryVehicle.code)
    ).all()
    return [
        FleetVehicle(
            id=v.id,
            code=v.code,
            capacity_weight_kg=v.capacity_weight_kg,
            capacity_volume_cm3=v.capacity_volume_cm3,
            shift=(v.shift_start_minute, v.shift_end_minute),
            cost_per_km=float(v.cost_per_km),
            fixed_cost=float(v.fixed_cost),
        )
        for v in rows
    ]


def on_dispatched_plan(on: date) -> Any:
    """A condition: the fulfilment is on a dispatched plan of ``on`` or a later day."""
    return exists().where(
        RouteStop.fulfillment_order_id == FulfillmentOrder.id,
        RoutePlan.id == RouteStop.plan_id,
        RoutePlan.status == RoutePlanStatus.DISPATCHED,
        RoutePlan.delivery_date >= on,
    )


def load_day(session: Session, *, warehouse_id: int, on: date) -> DayInputs:
    """The warehouse, its active vehicles and the fulfilments a plan of ``on`` takes."""
    warehouse = session.get(Warehouse, warehouse_id)
    assert warehouse is not None
    rows = session.execute(
        select(FulfillmentOrder, Order)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .where(
            FulfillmentOrder.warehouse_id == warehouse_id,
            FulfillmentOrder.status.in_(TO_DELIVER),
            Order.latitude.is_not(None),
            Order.longitude.is_not(None),
            ~on_dispatched_plan(on),
        )
        .order_by(FulfillmentOrder.id)
    ).all()
    ids = [fo.id for fo, _ in rows]
    loads = _loads(session, ids)
    packages = _packages(session, ids)
    candidates = []
    for fo, order in rows:
        weight_g, volume = loads.get(fo.id, (0, 0))
        window = None
        if order.delivery_window_from is not None and order.delivery_window_to is not None:
            window = (
                time_minutes(order.delivery_window_from),
                time_minutes(order.delivery_window_to),
            )
        candidates.append(
            Candidate(
                fulfillment_id=fo.id,
                public_id=fo.public_id,
                order_id=order.public_id,
                customer=str(order.ship_to.get("name") or ""),
                latitude=order.latitude,
                longitude=order.longitude,
                weight_kg=weight_g / 1000,
                volume_cm3=float(volume),
                packages=packages.get(fo.id, 0),
                window=window,
            )
        )
    return DayInputs(
        warehouse_id=warehouse.id,
        warehouse=warehouse.code,
        latitude=warehouse.latitude,
        longitude=warehouse.longitude,
        time_zone=warehouse.time_zone,
        on=on,
        candidates=tuple(candidates),
        vehicles=tuple(active_vehicles(session, warehouse_id)),
    )


def _loads(session: Session, ids: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Grams and cubic centimetres still to deliver per fulfilment (unknown weights count 0)."""
    if not ids:
        return {}
    units = FulfillmentLine.quantity - FulfillmentLine.cancelled_quantity
    rows = session.execute(
        select(
            FulfillmentLine.fulfillment_order_id,
            func.sum(units * func.coalesce(Product.weight_g, 0)),
            func.sum(units * func.coalesce(Product.volume_cm3, 0)),
        )
        .join(Product, Product.id == FulfillmentLine.product_id)
        .where(FulfillmentLine.fulfillment_order_id.in_(ids))
        .group_by(FulfillmentLine.fulfillment_order_id)
    ).all()
    return {fid: (float(w or 0), float(v or 0)) for fid, w, v in rows}


def _packages(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(Package.fulfillment_order_id, func.count(Package.id))
        .where(Package.fulfillment_order_id.in_(ids))
        .group_by(Package.fulfillment_order_id)
    ).all()
    return {fid: int(n) for fid, n in rows}


@dataclass(frozen=True)
class Screened:
    """A fulfilment left out before the solver saw it, and why."""

    candidate: Candidate
    reason: str


def _window_text(window: tuple[int, int]) -> str:
    return f"{clock(window[0])}-{clock(window[1])}"


def build_problem(
    inputs: DayInputs, params: RouteParameters
) -> tuple[RoutingProblem, list[Screened]]:
    """The routing problem of the day, and the fulfilments no shift could ever reach."""
    vehicles = tuple(
        Vehicle(
            id=v.code,
            depot=inputs.depot_id,
            capacity_weight=v.capacity_weight_kg,
            capacity_volume=None if v.capacity_volume_cm3 is None else float(v.capacity_volume_cm3),
            shift_start=float(v.shift[0]),
            shift_end=float(v.shift[1]),
            cost_per_km=v.cost_per_km,
            fixed_cost=v.fixed_cost,
        )
        for v in inputs.vehicles
    )
    opens = min((v.shift[0] for v in inputs.vehicles), default=0)
    closes = max((v.shift[1] for v in inputs.vehicles), default=0)
    stops, screened = [], []
    for c in inputs.candidates:
        window = c.window or (opens, closes)
        if c.window and not any(
            c.window[0] <= v.shift[1] and c.window[1] >= v.shift[0] for v in inputs.vehicles
        ):
            screened.append(
                Screened(
                    c,
                    f"its delivery window {_window_text(c.window)} lies outside every vehicle's "
                    f"shift ({', '.join(sorted({_window_text(v.shift) for v in inputs.vehicles}))})",
                )
            )
            continue
        stops.append(
            Stop(
                id=c.public_id,
                coordinates=(c.latitude, c.longitude),
                weight=c.weight_kg,
                volume=c.volume_cm3,
                earliest=float(window[0]),
                latest=float(window[1]),
                service_time=service_minutes(c, params),
                drop_penalty=params.drop_penalty,
            )
        )
    problem = RoutingProblem(
        depots=(Depot(inputs.depot_id, (inputs.latitude, inputs.longitude)),),
        stops=tuple(stops),
        vehicles=vehicles,
        metric=params.metric,
        name=f"{inputs.warehouse} {inputs.on.isoformat()}",
    )
    return problem, screened


def service_minutes(candidate: Candidate, params: RouteParameters) -> float:
    """A stop's service time: the fixed part and a share per package (one when not packed)."""
    return params.service_minutes + params.minutes_per_package * max(1, candidate.packages)


@dataclass(eq=False)
class _OnceMatrix:
    """A distance matrix asked once per set of points: the solver and the stored route share
    one table, and a routing engine (OSRM) is called once."""

    inner: DistanceMatrix
    cache: dict[tuple[tuple[float, float], ...], Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def precision(self) -> int:
        return self.inner.precision

    @property
    def exact(self) -> bool:
        return self.inner.exact

    def table(self, points: Sequence[tuple[float, float]]) -> Any:
        key = tuple((float(a), float(b)) for a, b in points)
        if key not in self.cache:
            self.cache[key] = self.inner.table(points)
        return self.cache[key]


@dataclass(frozen=True)
class Solved:
    problem: RoutingProblem
    result: RoutingResult
    table: TravelTable
    screened: tuple[Screened, ...]


def solve_day(inputs: DayInputs, params: RouteParameters) -> Solved:
    """Solve the day within the time limit; every fulfilment is routed or dropped with a reason."""
    if not inputs.vehicles:
        _fail(
            f"warehouse {inputs.warehouse} has no active vehicle; add one to its fleet", "vehicles"
        )
    problem, screened = build_problem(inputs, params)
    matrix = _OnceMatrix(make_matrix(params.metric))
    result = solve(
        problem,
        SolveParameters(time_limit_seconds=params.time_limit_seconds, seed=params.seed),
        backend=params.backend,
        matrix=matrix,
    )
    return Solved(problem, result, travel_table(problem, matrix), tuple(screened))
