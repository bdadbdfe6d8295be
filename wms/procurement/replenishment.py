"""The replenishment problem built from the database: demand history and its forecast, safety
stock from the service level and the learned lead times, sellable stock, receipts on their way,
and what qualified suppliers offer at which price; plus the warehouse and supplier capacities.

Reading the database and forecasting are separate steps (``load_inputs``, then ``assemble``), so
that a run can report its progress in transactions of its own between them (SQLite has one
writer). ``build_problem`` does both for callers that need no progress rows.

Choices made here, in the plan's currency (offers in another currency are left out):
- A series is a SKU at a warehouse with demand in its history and a qualified offer. Suspended,
  disqualified and inactive suppliers are left out (the context says which and why), and so are
  products pulled from sale.
- Lead time: the learned mean once a supplier product has ``LEARNED_AFTER`` deliveries, else the
  planned days; weeks = ceil(days / 7). Safety stock uses the learned deviation when there is one.
- Costs per unit, from the cheapest offer's base price: holding ``holding_rate`` a week, a unit
  of demand not met ``shortage_factor`` times the price, a unit-week below safety stock
  ``below_safety_rate`` times the price.
- The problem's capacity is per supplier: the sum of the weekly capacities of the supplier's
  offers in the plan, unlimited if any of them is. A warehouse's capacity is its storage volume
  less the volume of the stock the plan does not cover (other products, held and damaged units).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Warehouse
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.planning.problem import Problem, Series, with_closing
from wms.procurement.replenishment_inputs import Inputs, Key, load_inputs, points

if TYPE_CHECKING:
    from wms.procurement.forecasting import Forecast

__all__ = ["BuildContext", "Inputs", "PlanParameters", "assemble", "build_problem", "load_inputs"]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SeriesInfo:
    model: str
    pattern: str
    error: float | None
    sigma: float
    safety_stock: int
    lead_time_weeks: int
    on_hand: int


@dataclass(frozen=True)
class BuildContext:
    """What the plan was built from, and what it left out and why."""

    today: date
    weeks: int
    currency: str
    warehouses: tuple[str, ...]
    ids: dict[str, dict[str, int]]
    series: dict[Key, SeriesInfo] = field(default_factory=dict)
    left_out: tuple[dict[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def week_start(self, week: int) -> date:
        return self.today + timedelta(days=7 * week)

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "weeks": self.weeks,
            "currency": self.currency,
            "warehouses": list(self.warehouses),
            "week_starts": [self.week_start(w).isoformat() for w in range(self.weeks)],
            "series": len(self.series),
            "left_out_suppliers": list(self.left_out),
            "notes": list(self.notes),
        }


def _forecast(
    inputs: Inputs, keys: Sequence[Key], params: PlanParameters, progress: Progress | None
) -> Mapping[Key, Forecast]:
    from wms.procurement.forecasting import forecast_many

    if not keys:
        return {}

    def report(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total, f"forecasting demand: {done} of {total} series")

    return forecast_many(
        {key: [float(v) for v in inputs.history[key]] for key in keys},
        horizon=params.horizon_weeks,
        progress=report,
    )


def _per_week(values: Sequence[float], weeks: int) -> tuple[int, ...]:
    out = [max(0, round(float(v))) for v in list(values)[:weeks]]
    return tuple(out + [out[-1] if out else 0] * (weeks - len(out)))


def assemble(
    inputs: Inputs, params: PlanParameters, *, progress: Progress | None = None
) -> tuple[Problem, BuildContext]:
    """Forecast every series with demand and build the solver-agnostic problem."""
    from wms.procurement.safety import safety_stock

    weeks = params.horizon_weeks
    notes = list(inputs.notes)
    keys: list[Key] = []
    for key, history in sorted(inputs.history.items()):
        if not any(history):
            continue
        if not inputs.offers.get(key[0]):
            notes.append(
                f"{key[0]} at {key[1]}: no qualified supplier offers it in {params.currency}"
            )
            continue
        keys.append(key)
    forecasts = _forecast(inputs, keys, params, progress)
    context = BuildContext(
        today=inputs.today,
        weeks=weeks,
        currency=params.currency,
        warehouses=inputs.warehouses,
        ids=inputs.ids,
        left_out=inputs.left_out,
    )
    series: list[Series] = []
    capacity = dict(inputs.capacity_cm3)
    for key in keys:
        sku, warehouse = key
        forecast = forecasts[key]
        offers = inputs.offers[sku]
        primary = min(offers, key=lambda o: (o.breaks[0][1], o.lead_days))
        price = max(1, points(primary.breaks[0][1]))
        demand = _per_week(forecast.values, weeks)
        on_hand = inputs.sellable.get(key, 0)
        safety = safety_stock(
            service_level=params.service_level,
            demand_mean=sum(demand) / weeks,
            demand_sigma=float(forecast.sigma),
            lead_time_mean=primary.lead_days / 7,
            lead_time_sigma=primary.lead_sd_days / 7,
        )
        series.append(
            with_closing(
                Series(
                    sku=sku,
                    warehouse=warehouse,
                    on_hand=on_hand,
                    demand=demand,
                    safety_stock=int(safety),
                    holding_cost=max(1, round(price * params.holding_rate)),
                    shortage_cost=round(price * params.shortage_factor),
                    below_safety_cost=round(price * params.below_safety_rate),
                    volume_cm3=inputs.volume_cm3.get(sku, 0),
                    options=tuple(o.option() for o in offers),
                    incoming=tuple(inputs.incoming.get(key, [0] * weeks)),
                )
            )
        )
        if warehouse in capacity:
            capacity[warehouse] += on_hand * inputs.volume_cm3.get(sku, 0)
        context.series[key] = SeriesInfo(
            model=forecast.model,
            pattern=forecast.pattern,
            error=_maybe_float(forecast.error),
            sigma=float(forecast.sigma),
            safety_stock=int(safety),
            lead_time_weeks=math.ceil(primary.lead_days / 7),
            on_hand=on_hand,
        )
    problem = Problem(
        weeks=weeks,
        series=tuple(series),
        supplier_capacity=_supplier_capacity(inputs, keys, weeks),
        warehouse_capacity={w: max(0, c) for w, c in capacity.items() if w in {k[1] for k in keys}},
        budget=None
        if params.budget_per_week is None
        else (points(params.budget_per_week),) * weeks,
    )
    object.__setattr__(context, "notes", tuple(notes))
    return problem, context


def _maybe_float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _supplier_capacity(
    inputs: Inputs, keys: Sequence[Key], weeks: int
) -> dict[str, tuple[int, ...]]:
    per_supplier: dict[str, list[int | None]] = defaultdict(list)
    for sku in sorted({key[0] for key in keys}):
        for offer in inputs.offers[sku]:
            per_supplier[offer.supplier].append(offer.capacity_per_week)
    return {
        supplier: (sum(c for c in caps if c is not None),) * weeks
        for supplier, caps in per_supplier.items()
        if all(c is not None for c in caps)
    }


def build_problem(
    session: Session,
    *,
    warehouse: str | None = None,
    horizon_weeks: int = 12,
    service_level: float = 0.95,
    budget_per_week: Decimal | None = None,
    today: date | None = None,
    parameters: PlanParameters | None = None,
    progress: Progress | None = None,
) -> tuple[Problem, BuildContext]:
    """The replenishment problem of the database as it stands, and what it was built from."""
    params = parameters or PlanParameters(
        warehouse=warehouse,
        horizon_weeks=horizon_weeks,
        service_level=service_level,
        budget_per_week=budget_per_week,
        today=today,
    )
    inputs = load_inputs(session, params, today=params.today or utcnow().date())
    return assemble(inputs, params, progress=progress)


def set_storage_capacity(uow: UnitOfWork, *, warehouse: str, capacity_m3: float | None) -> None:
    """Set (or with None, remove) how many cubic metres of stock a warehouse can hold."""
    if capacity_m3 is not None and not (
        isinstance(capacity_m3, int | float)
        and math.isfinite(capacity_m3)
        and 0 < capacity_m3 <= 1e7
    ):
        raise ValidationFailed(
            f"storage capacity {capacity_m3} m3 must be more than 0", field="capacity_m3"
        )
    row = uow.session.get(Warehouse, get_warehouse(uow.session, warehouse).id)
    assert row is not None
    row.storage_capacity_m3 = None if capacity_m3 is None else float(capacity_m3)
    uow.session.flush()
