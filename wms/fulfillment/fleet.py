"""A warehouse's own delivery fleet: add, change, read and list its vehicles.

Shifts are local clock times at the warehouse (``HH:MM``, 00:00 to 24:00), kept as minutes after
midnight; capacities are kilograms and cubic centimetres (no volume: volume never limits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, NotFound, ValidationFailed
from wms.fulfillment.delivery_models import MINUTES_PER_DAY, DeliveryVehicle
from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Warehouse

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
CLOCK_PATTERN = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
MAX_WEIGHT_KG = 100_000.0
MAX_VOLUME_CM3 = 2_000_000_000
MAX_MONEY = Decimal("1000000")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


class UnknownVehicle(NotFound):
    code = "unknown_vehicle"

    def __init__(self, warehouse: str, vehicle: str, *, field: str | None = "vehicle") -> None:
        super().__init__(
            f"warehouse {warehouse} has no vehicle {vehicle!r}",
            field=field,
            warehouse=warehouse,
            vehicle=vehicle,
        )


class DuplicateVehicle(AlreadyExists):
    code = "duplicate_vehicle"

    def __init__(self, warehouse: str, vehicle: str) -> None:
        super().__init__(
            f"warehouse {warehouse} already has a vehicle {vehicle!r}",
            field="code",
            warehouse=warehouse,
            vehicle=vehicle,
        )


@dataclass(frozen=True)
class VehicleView:
    warehouse: str
    code: str
    name: str
    capacity_weight_kg: float
    capacity_volume_cm3: int | None
    shift_start: str  # HH:MM, local time at the warehouse
    shift_end: str
    cost_per_km: Decimal
    fixed_cost: Decimal
    active: bool


def clock(minutes: float) -> str:
    """Minutes after midnight as ``HH:MM`` (24:00 for the end of the day)."""
    whole = round(minutes)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def clock_minutes(text: str, field: str) -> int:
    """``HH:MM`` (00:00 to 24:00) as minutes after midnight."""
    found = CLOCK_PATTERN.match(text.strip())
    minutes = int(found.group(1)) * 60 + int(found.group(2)) if found else -1
    if not 0 <= minutes <= MINUTES_PER_DAY:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} must be a time of day as HH:MM, not {text.strip()!r}",
            field=field,
        )
    return minutes


def time_minutes(value: time) -> int:
    """A time of day as minutes after midnight."""
    return value.hour * 60 + value.minute


def _view(row: DeliveryVehicle, warehouse: str) -> VehicleView:
    return VehicleView(
        warehouse=warehouse,
        code=row.code,
        name=row.name,
        capacity_weight_kg=row.capacity_weight_kg,
        capacity_volume_cm3=row.capacity_volume_cm3,
        shift_start=clock(row.shift_start_minute),
        shift_end=clock(row.shift_end_minute),
        cost_per_km=row.cost_per_km,
        fixed_cost=row.fixed_cost,
        active=row.active,
    )


def _weight(value: float) -> float:
    if not (math.isfinite(value) and 0 < value <= MAX_WEIGHT_KG):
        raise ValidationFailed(
            f"weight capacity must be more than 0 and at most {MAX_WEIGHT_KG:g} kg, not {value:g}",
            field="capacity_weight_kg",
        )
    return float(value)


def _volume(value: int | None) -> int | None:
    if value is not None and not 0 < value <= MAX_VOLUME_CM3:
        raise ValidationFailed(
            f"volume capacity must be more than 0 cm³ (or empty: no limit), not {value}",
            field="capacity_volume_cm3",
        )
    return value


def _money(value: Decimal | float | str, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} must be an amount", field=field
        ) from None
    if not (amount.is_finite() and 0 <= amount <= MAX_MONEY):
        raise ValidationFailed(
            f"{field.replace('_', ' ')} must be 0 or more and at most {MAX_MONEY}", field=field
        )
    return amount.quantize(Decimal("0.0001"))


def _shift(start: str, end: str) -> tuple[int, int]:
    first, last = clock_minutes(start, "shift_start"), clock_minutes(end, "shift_end")
    if not first < last:
        raise ValidationFailed(
            f"the shift must end after it starts ({start.strip()} to {end.strip()})",
            field="shift_end",
        )
    return first, last


def _name(value: str) -> str:
    name = value.strip()
    if len(name) > 120:
        raise ValidationFailed("a vehicle's name has at most 120 characters", field="name")
    return name


def add_vehicle(
    uow: UnitOfWork,
    *,
    warehouse: str,
    code: str,
    capacity_weight_kg: float,
    shift_start: str,
    shift_end: str,
    actor: str,
    name: str = "",
    capacity_volume_cm3: int | None = None,
    cost_per_km: Decimal | float | str = Decimal(0),
    fixed_cost: Decimal | float | str = Decimal(0),
    active: bool = True,
) -> VehicleView:
    """Add a vehicle to a warehouse's fleet; every value is checked before anything is written."""
    session = uow.session
    code = code.strip()
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(
            "a vehicle code has 1-32 letters, digits and . _ -, starting with a letter or digit",
            field="code",
        )
    start, end = _shift(shift_start, shift_end)
    row = DeliveryVehicle(
        code=code,
        name=_name(name),
        capacity_weight_kg=_weight(capacity_weight_kg),
        capacity_volume_cm3=_volume(capacity_volume_cm3),
        shift_start_minute=start,
        shift_end_minute=end,
        cost_per_km=_money(cost_per_km, "cost_per_km"),
        fixed_cost=_money(fixed_cost, "fixed_cost"),
        active=active,
        updated_by=actor,
    )
    ref = get_warehouse(session, warehouse)
    if _find(session, ref.id, code) is not None:
        raise DuplicateVehicle(ref.code, code)
    row.warehouse_id = ref.id
    session.add(row)
    session.flush()
    return _view(row, ref.code)


def update_vehicle(
    uow: UnitOfWork,
    *,
    warehouse: str,
    code: str,
    actor: str,
    name: str | None = None,
    capacity_weight_kg: float | None = None,
    capacity_volume_cm3: int | _Unset | None = UNSET,
    shift_start: str | None = None,
    shift_end: str | None = None,
    cost_per_km: Decimal | float | str | None = None,
    fixed_cost: Decimal | float | str | None = None,
    active: bool | None = None,
) -> VehicleView:
    """Change what is given of a vehicle (None and UNSET keep the rest as it is)."""
    session = uow.session
    ref = get_warehouse(session, warehouse)
    row = _find(session, ref.id, code.strip(), lock=True)
    if row is None:
        raise UnknownVehicle(ref.code, code, field=None)
    start, end = _shift(
        shift_start if shift_start is not None else clock(row.shift_start_minute),
        shift_end if shift_end is not None else clock(row.shift_end_minute),
    )
    changes = {
        "name": None if name is None else _name(name),
        "capacity_weight_kg": None if capacity_weight_kg is None else _weight(capacity_weight_kg),
        "cost_per_km": None if cost_per_km is None else _money(cost_per_km, "cost_per_km"),
        "fixed_cost": None if fixed_cost is None else _money(fixed_cost, "fixed_cost"),
        "active": active,
    }
    volume = row.capacity_volume_cm3
    if not isinstance(capacity_volume_cm3, _Unset):
        volume = _volume(capacity_volume_cm3)
    for key, value in changes.items():
        if value is not None:
            setattr(row, key, value)
    row.capacity_volume_cm3 = volume
    row.shift_start_minute, row.shift_end_minute = start, end
    row.updated_by, row.updated_at = actor, utcnow()
    session.flush()
    return _view(row, ref.code)


def _find(
    session: Session, warehouse_id: int, code: str, *, lock: bool = False
) -> DeliveryVehicle | None:
    stmt = select(DeliveryVehicle).where(
        DeliveryVehicle.warehouse_id == warehouse_id, DeliveryVehicle.code == code
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_vehicle(session: Session, *, warehouse: str, code: str) -> VehicleView:
    """One vehicle of a warehouse's fleet."""
    ref = get_warehouse(session, warehouse)
    row = _find(session, ref.id, code.strip())
    if row is None:
        raise UnknownVehicle(ref.code, code, field=None)
    return _view(row, ref.code)


def list_vehicles(
    session: Session, *, warehouse: str | None = None, active_only: bool = False
) -> list[VehicleView]:
    """Vehicles by warehouse and code, of one warehouse if given."""
    stmt = (
        select(DeliveryVehicle, Warehouse.code)
        .join(Warehouse, Warehouse.id == DeliveryVehicle.warehouse_id)
        .order_by(Warehouse.code, DeliveryVehicle.code)
    )
    if warehouse is not None:
        stmt = stmt.where(DeliveryVehicle.warehouse_id == get_warehouse(session, warehouse).id)
    if active_only:
        stmt = stmt.where(DeliveryVehicle.active)
    return [_view(row, code) for row, code in session.execute(stmt).all()]
