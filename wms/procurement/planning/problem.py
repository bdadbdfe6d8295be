"""The replenishment problem and its result, as plain values that know no solver.

Money is in integer cost points (``COST_SCALE`` points to one unit of the currency), so that the
CP-SAT backend (integers only) and the PuLP backend (CBC) optimise exactly the same numbers.
Quantities are integer base units; weeks are numbered 0 .. weeks-1 from the planning date.

The model, for every series (a SKU at a warehouse) and week:

    stock[t] = stock[t-1] + arrivals[t] + incoming[t] + transfers in - transfers out
               - demand[t] + short[t]                                   (lost sales, short >= 0)
    arrivals[t] = sum of orders placed in week t - lead time of their supply option
    below[t] >= safety_stock - stock[t]                                  (soft safety stock)
    closing >= closing_cover - stock[weeks-1]                            (the horizon's end)

An order of a supply option in a week is either nothing or a whole number of packs of at least
the minimum order quantity, priced by the all-units quantity break it falls in, plus the option's
fixed cost. Coupling constraints: units per week from each supplier (capacity), cubic centimetres
stored per warehouse and week (capacity), and the money committed by orders placed per week
(budget). The objective is purchase cost + fixed ordering cost + holding cost + shortage penalty +
the penalty for weeks below safety stock (+ transfer cost when transfers are allowed) + the
closing shortfall at its replacement cost.

The closing shortfall stops the horizon's end from shaping the plan. Without it stock left after
the last week is worth nothing, so the last orders are cut to what the horizon still sells and a
rolling plan orders small and often. Every unit the plan ends below ``closing_cover`` (stock to
last until an order placed after the horizon can arrive) costs ``closing_cost``, what buying it
after the horizon would cost (see ``with_closing``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from wms.errors import ValidationFailed

COST_SCALE = 10_000  # cost points per unit of currency
MAX_WEEKS = 52


def _fail(message: str, field_name: str) -> None:
    raise ValidationFailed(message, field=field_name)


@dataclass(frozen=True)
class PriceBreak:
    """From ``min_quantity`` units on, every unit of the order costs ``unit_cost`` points."""

    min_quantity: int
    unit_cost: int


@dataclass(frozen=True)
class SupplyOption:
    """A supplier's offer of one SKU to one warehouse."""

    supplier: str
    lead_time_weeks: int
    moq: int
    pack: int
    price_breaks: tuple[PriceBreak, ...]
    fixed_cost: int = 0  # points per order placed

    def __post_init__(self) -> None:
        where = f"supplier {self.supplier}"
        if self.lead_time_weeks < 0:
            _fail(f"{where}: lead time {self.lead_time_weeks} weeks is negative", "lead_time")
        if self.pack < 1:
            _fail(f"{where}: pack multiple {self.pack} must be 1 or more", "pack")
        if self.moq < 1:
            _fail(f"{where}: minimum order quantity {self.moq} must be 1 or more", "moq")
        if not self.price_breaks:
            _fail(f"{where}: at least one price is needed", "price_breaks")
        mins = [b.min_quantity for b in self.price_breaks]
        if mins != sorted(set(mins)) or mins[0] < 1:
            _fail(f"{where}: price breaks must start at 1 or more and rise", "price_breaks")
        if any(b.unit_cost < 0 for b in self.price_breaks):
            _fail(f"{where}: a unit cost is negative", "price_breaks")
        if self.fixed_cost < 0:
            _fail(f"{where}: the fixed ordering cost is negative", "fixed_cost")

    @property
    def smallest_order(self) -> int:
        """The fewest units one order can hold: the MOQ rounded up to whole packs."""
        return -(-max(self.moq, self.price_breaks[0].min_quantity) // self.pack) * self.pack

    def unit_cost_for(self, quantity: int) -> int:
        """The all-units price of an order of ``quantity``."""
        cost = self.price_breaks[0].unit_cost
        for brk in self.price_breaks:
            if quantity >= brk.min_quantity:
                cost = brk.unit_cost
        return cost


@dataclass(frozen=True)
class Series:
    """One SKU at one warehouse over the horizon."""

    sku: str
    warehouse: str
    on_hand: int  # sellable stock now (on hand less committed, held and damaged)
    demand: tuple[int, ...]  # forecast per week
    safety_stock: int
    holding_cost: int  # points per unit per week in stock
    shortage_cost: int  # points per unit of demand not met
    below_safety_cost: int  # points per unit per week below safety stock
    volume_cm3: int  # per unit, for the warehouse capacity
    options: tuple[SupplyOption, ...]
    incoming: tuple[int, ...] = ()  # already on order, arriving per week (empty: none)
    closing_cover: int = 0  # units to end the horizon with (0: the end is not priced)
    closing_cost: int = 0  # points per unit the plan ends below ``closing_cover``

    @property
    def key(self) -> tuple[str, str]:
        return (self.sku, self.warehouse)

    @property
    def end_target(self) -> int:
        """The stock a plan aims at in the last week: safety stock or the closing cover."""
        return max(self.safety_stock, self.closing_cover if self.closing_cost else 0)


def with_closing(s: Series) -> Series:
    """The series with its end priced by what the shortfall would cost to buy after the horizon.

    The cover is safety stock plus demand over the lead time of the cheapest option: an order
    placed after the horizon takes that long to arrive. Each unit short of it costs the lowest
    price the SKU is quoted at plus its share of a fixed ordering cost in an economic order
    quantity (sqrt(2 D K / h)): what buying it later costs. So an order near the end is not cut
    to what the horizon still sells, and stock is only carried to the end where the holding
    costs less than the ordering it saves.
    """
    if not s.options or not s.demand:
        return s
    cheapest = min(s.options, key=lambda o: (o.price_breaks[0].unit_cost, o.lead_time_weeks))
    weekly = sum(s.demand) / len(s.demand)
    cover = s.safety_stock + math.ceil(weekly * max(cheapest.lead_time_weeks, 1))
    price = min(b.unit_cost for o in s.options for b in o.price_breaks)
    batch = math.sqrt(2 * weekly * cheapest.fixed_cost / max(s.holding_cost, 1))
    share = math.ceil(cheapest.fixed_cost / batch) if batch >= 1 else 0
    return replace(s, closing_cover=cover, closing_cost=price + share)


@dataclass(frozen=True)
class TransferLane:
    """Moving stock of any SKU from one warehouse to another."""

    from_warehouse: str
    to_warehouse: str
    lead_time_weeks: int
    unit_cost: int  # points per unit moved

    def __post_init__(self) -> None:
        where = f"lane {self.from_warehouse} to {self.to_warehouse}"
        if self.lead_time_weeks < 0:
            _fail(f"{where}: lead time {self.lead_time_weeks} weeks is negative", "lead_time")
        if self.unit_cost < 0:
            _fail(f"{where}: the unit cost is negative", "transfers")
        if self.from_warehouse == self.to_warehouse:
            _fail(f"{where}: a lane joins two different warehouses", "transfers")


@dataclass(frozen=True)
class Problem:
    weeks: int
    series: tuple[Series, ...]
    supplier_capacity: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # units/week
    warehouse_capacity: Mapping[str, int] = field(default_factory=dict)  # cm3
    budget: tuple[int, ...] | None = None  # points committed by orders placed per week
    transfers: tuple[TransferLane, ...] = ()

    def validate(self) -> None:
        """Refuse a problem no solver should see, with the field at fault."""
        if not 1 <= self.weeks <= MAX_WEEKS:
            _fail(f"the horizon is 1 to {MAX_WEEKS} weeks, not {self.weeks}", "horizon")
        self._validate_series()
        for supplier, caps in self.supplier_capacity.items():
            if len(caps) != self.weeks or min(caps) < 0:
                _fail(f"supplier {supplier}: one capacity of 0 or more per week", "capacity")
        for warehouse, cm3 in self.warehouse_capacity.items():
            if cm3 < 0:
                _fail(f"warehouse {warehouse}: capacity {cm3} cm3 is negative", "capacity")
        if self.budget is not None:
            if len(self.budget) != self.weeks or min(self.budget) < 0:
                _fail("the budget needs one amount of 0 or more per week", "budget")
            smallest = min(
                (
                    o.smallest_order * o.unit_cost_for(o.smallest_order) + o.fixed_cost
                    for s in self.series
                    for o in s.options
                ),
                default=0,
            )
            if self.series and max(self.budget) < smallest:
                _fail(
                    f"the budget ({max(self.budget) / COST_SCALE:.2f} a week at most) is smaller "
                    f"than the smallest possible order ({smallest / COST_SCALE:.2f})",
                    "budget",
                )

    def _validate_series(self) -> None:
        seen: set[tuple[str, str]] = set()
        for s in self.series:
            if s.key in seen:
                _fail(f"{s.sku} at {s.warehouse} appears twice", "series")
            seen.add(s.key)
            if len(s.demand) != self.weeks or (s.incoming and len(s.incoming) != self.weeks):
                _fail(f"{s.sku} at {s.warehouse}: one value per week is needed", "demand")
            if min(s.demand, default=0) < 0 or s.safety_stock < 0 or s.on_hand < 0:
                _fail(f"{s.sku} at {s.warehouse}: negative demand or stock", "demand")
            if min(s.incoming, default=0) < 0:
                _fail(f"{s.sku} at {s.warehouse}: negative stock on order", "incoming")
            costs = (
                s.holding_cost, s.shortage_cost, s.below_safety_cost, s.volume_cm3,
                s.closing_cover, s.closing_cost,
            )  # fmt: skip
            if min(costs) < 0:
                _fail(f"{s.sku} at {s.warehouse}: a cost or the volume is negative", "costs")


Status = Literal["optimal", "feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class SolveParameters:
    time_limit_seconds: float = 60.0
    relative_gap: float = 0.01  # stop when (objective - bound) / objective is this small
    seed: int = 0
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.time_limit_seconds > 0:
            _fail(f"time limit {self.time_limit_seconds} s must be more than 0", "time_limit")
        if not 0 <= self.relative_gap < 1:
            _fail(f"gap {self.relative_gap} must be at least 0 and below 1", "gap")
        if self.workers < 1:
            _fail("at least one worker", "workers")


@dataclass(frozen=True)
class OrderLine:
    sku: str
    warehouse: str
    supplier: str
    order_week: int
    arrival_week: int
    quantity: int
    unit_cost: int  # points
    reason: str = ""  # the explanation: see ``Explanation``
    explanation: Explanation | None = None  # the same, as values (None until explained)


@dataclass(frozen=True)
class TransferLine:
    sku: str
    from_warehouse: str
    to_warehouse: str
    week: int
    quantity: int


@dataclass(frozen=True)
class Projection:
    """Projected end-of-week stock of a series with the plan, and without any new order."""

    sku: str
    warehouse: str
    demand: tuple[int, ...]
    safety_stock: int
    with_plan: tuple[int, ...]
    without_plan: tuple[int, ...]
    short_with_plan: tuple[int, ...]


@dataclass(frozen=True)
class Explanation:
    """Why one line is proposed: what it covers and the constraint that shaped its quantity."""

    needed: int  # units the series lacks by the arrival week to stay at safety stock
    shaped_by: tuple[str, ...]  # "moq", "pack", "price_break", "supplier_capacity",
    # "warehouse_capacity", "budget", "lead_time", "demand"
    text: str


@dataclass(frozen=True)
class Result:
    status: Status
    objective: int | None  # points
    bound: int | None  # points; a proven lower bound on the optimum
    lines: tuple[OrderLine, ...] = ()
    transfers: tuple[TransferLine, ...] = ()
    projections: tuple[Projection, ...] = ()
    reason: str = ""  # why infeasible or unknown
    method: str = ""  # "cp-sat", "cbc", "lagrangian(cp-sat)" ...
    seconds: float = 0.0

    @property
    def gap(self) -> float | None:
        """(objective - bound) / objective, or None without both."""
        if self.objective is None or self.bound is None:
            return None
        if self.objective == 0:
            return 0.0
        return max(0.0, (self.objective - self.bound) / abs(self.objective))

    def is_feasible(self) -> bool:
        return self.status in ("optimal", "feasible")

    def summary(self) -> str:
        if not self.is_feasible():
            return f"{self.status}: {self.reason}"
        gap = f"{self.gap:.2%}" if self.gap is not None else "n/a"
        return (
            f"{self.status}: objective {self.objective / COST_SCALE if self.objective else 0:,.2f}"
            f", bound {(self.bound or 0) / COST_SCALE:,.2f}, gap {gap}, {len(self.lines)} lines "
            f"({self.method}, {self.seconds:.1f} s)"
        )
