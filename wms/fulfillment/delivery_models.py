"""Tables of the warehouse's own deliveries: the fleet, route plans per warehouse and day, the
stops of each vehicle in visiting order, and the stops a plan could not serve, with the reason.

Invariants held by constraints: capacities are positive, a shift lies within the day and ends
after it starts, costs are not negative; a plan's status is known and it is dated exactly when it
was dispatched or cancelled; a fulfilment is on a plan once (routed or dropped, never both: the
service checks the pair), and a vehicle visits its stops in a strict sequence.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from wms.db.base import Base, BigId, utcnow

MINUTES_PER_DAY = 24 * 60
Money = Numeric(12, 4)
Total = Numeric(18, 4)


def _known(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class DeliveryVehicle(Base):
    """A vehicle of a warehouse's own fleet: what it carries, when it works, what it costs."""

    __tablename__ = "vehicles"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint("capacity_weight_kg > 0", name="capacity_weight_positive"),
        CheckConstraint(
            "capacity_volume_cm3 IS NULL OR capacity_volume_cm3 > 0",
            name="capacity_volume_positive",
        ),
        CheckConstraint(
            f"shift_start_minute >= 0 AND shift_start_minute < shift_end_minute "
            f"AND shift_end_minute <= {MINUTES_PER_DAY}",
            name="shift_within_day",
        ),
        CheckConstraint("cost_per_km >= 0 AND fixed_cost >= 0", name="costs_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    capacity_weight_kg: Mapped[float] = mapped_column(Float)
    capacity_volume_cm3: Mapped[int | None] = mapped_column(Integer)  # None: volume never limits
    # Minutes after local midnight (the warehouse's time zone) the shift starts and ends.
    shift_start_minute: Mapped[int] = mapped_column(Integer)
    shift_end_minute: Mapped[int] = mapped_column(Integer)
    cost_per_km: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default="0")
    fixed_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    updated_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoutePlanStatus(StrEnum):
    QUEUED = "queued"  # waiting for the solver
    RUNNING = "running"
    PLANNED = "planned"  # routes stored; nothing told to anyone yet
    FAILED = "failed"  # an error stopped the solve; see ``error``
    DISPATCHED = "dispatched"  # ETAs written to the fulfilments and sent to the storefront
    CANCELLED = "cancelled"


class RoutePlan(Base):
    """The routes of one warehouse's fleet on one delivery day, and how they were found."""

    __tablename__ = "route_plans"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "delivery_date", "number"),
        CheckConstraint(_known("status", RoutePlanStatus), name="status_known"),
        CheckConstraint("number > 0", name="number_positive"),
        CheckConstraint(
            "(status = 'dispatched') = (dispatched_at IS NOT NULL)", name="dispatched_iff_dated"
        ),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_iff_dated"
        ),
        CheckConstraint("distance_km IS NULL OR distance_km >= 0", name="distance_not_negative"),
        CheckConstraint("cost IS NULL OR cost >= 0", name="cost_not_negative"),
        Index("ix_route_plans_warehouse_date", "warehouse_id", "delivery_date"),
        Index("ix_route_plans_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # RP-SHA-20260512-1
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    delivery_date: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)  # the n-th plan of the warehouse that day
    status: Mapped[str] = mapped_column(String(12), default=RoutePlanStatus.QUEUED)
    # Time limit, seed, backend, distance metric, service times and drop penalty.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress_message: Mapped[str] = mapped_column(String(200), default="", server_default="")
    vehicles_used: Mapped[int | None] = mapped_column(Integer)
    distance_km: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[Decimal | None] = mapped_column(Total)  # routes only, without drop penalties
    feasible: Mapped[bool | None] = mapped_column(Boolean)
    solver_method: Mapped[str] = mapped_column(String(40), default="", server_default="")
    solver_seconds: Mapped[float | None] = mapped_column(Float)
    solver_summary: Mapped[str] = mapped_column(Text, default="", server_default="")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    dispatched_by: Mapped[str | None] = mapped_column(String(64))
    dispatched_at: Mapped[datetime | None] = mapped_column()
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[datetime | None] = mapped_column()


class RouteTrip(Base):
    """One vehicle's route in a plan: when it leaves and is back, how far, what it costs."""

    __tablename__ = "route_trips"
    __table_args__ = (
        UniqueConstraint("plan_id", "vehicle_id"),
        CheckConstraint("return_at >= departure_at", name="returns_after_departure"),
        CheckConstraint("distance_km >= 0 AND cost >= 0", name="distance_cost_not_negative"),
        CheckConstraint("stops > 0", name="stops_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"))
    departure_at: Mapped[datetime] = mapped_column()
    return_at: Mapped[datetime] = mapped_column()
    distance_km: Mapped[float] = mapped_column(Float)
    cost: Mapped[Decimal] = mapped_column(Total)
    load_weight_kg: Mapped[float] = mapped_column(Float)  # loaded at the depot
    load_volume_cm3: Mapped[float] = mapped_column(Float)
    stops: Mapped[int] = mapped_column(Integer)


class RouteStop(Base):
    """A fulfilment delivered on a route: its place in the sequence, its times and the load."""

    __tablename__ = "route_stops"
    __table_args__ = (
        UniqueConstraint("plan_id", "fulfillment_order_id"),
        UniqueConstraint("plan_id", "vehicle_id", "seq"),
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint("service_start_at >= arrival_at", name="service_after_arrival"),
        CheckConstraint(
            "weight_kg >= 0 AND volume_cm3 >= 0 AND load_weight_kg >= 0 AND load_volume_cm3 >= 0",
            name="loads_not_negative",
        ),
        CheckConstraint("distance_km >= 0", name="distance_not_negative"),
        CheckConstraint(
            "(window_start_minute IS NULL) = (window_end_minute IS NULL)",
            name="window_both_or_neither",
        ),
        Index("ix_route_stops_fulfillment", "fulfillment_order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id", ondelete="CASCADE"))
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in visiting order on the vehicle
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    arrival_at: Mapped[datetime] = mapped_column()
    service_start_at: Mapped[datetime] = mapped_column()  # the ETA: when the driver rings
    service_minutes: Mapped[float] = mapped_column(Float)
    weight_kg: Mapped[float] = mapped_column(Float)  # what is delivered here
    volume_cm3: Mapped[float] = mapped_column(Float)
    load_weight_kg: Mapped[float] = mapped_column(Float)  # still on board after the stop
    load_volume_cm3: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float] = mapped_column(Float)  # driven from the depot to here
    # The window service had to start in (minutes after local midnight); None: the shift.
    window_start_minute: Mapped[int | None] = mapped_column(Integer)
    window_end_minute: Mapped[int | None] = mapped_column(Integer)


class RouteDrop(Base):
    """A fulfilment the plan could not serve, and why: reported, never silently lost."""

    __tablename__ = "route_dropped_stops"
    __table_args__ = (UniqueConstraint("plan_id", "fulfillment_order_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("route_plans.id", ondelete="CASCADE"))
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    reason: Mapped[str] = mapped_column(Text)
    weight_kg: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    volume_cm3: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
