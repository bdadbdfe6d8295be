"""Pure pieces of the replenishment benchmark: a seeded scenario, the classic min/max policy, and
a lost-sales simulation that prices every policy the same way.

Nothing here times anything or prints: ``bench/replenishment.py`` drives these functions.
Money is in the planning module's integer cost points (``COST_SCALE`` per unit of currency).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from wms.procurement.planning.problem import COST_SCALE, PriceBreak, SupplyOption

Pattern = Literal["regular", "intermittent", "erratic"]
IntArray = npt.NDArray[np.int64]

SEASON_WEEKS = 52
HOLDING_RATE = 0.25  # of the unit cost, per year
WAREHOUSE_SHARES = (1.0, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15)
SKUS_PER_SUPPLIER = 8
CYCLE_WEEKS_CAP = 13  # the order cycle used to price a lost sale (see ``shortage_cost``)


class SafetyStockFn(Protocol):
    def __call__(
        self,
        *,
        service_level: float,
        demand_mean: float,
        demand_sigma: float,
        lead_time_mean: float,
        lead_time_sigma: float,
        review_period: float = 1.0,
    ) -> int: ...


@dataclass(frozen=True)
class Offer:
    """A supply option with the spread (standard deviation, weeks) of its real lead time."""

    option: SupplyOption
    lead_time_sigma: float


@dataclass(frozen=True)
class SeriesSpec:
    """One SKU at one warehouse: its costs, its suppliers (the first is the preferred one)."""

    sku: str
    warehouse: str
    pattern: Pattern
    unit_cost: int  # points: the preferred offer's base price, used to value stock
    holding_cost: int  # points per unit per week at the end of the week
    shortage_cost: int  # points per unit of demand lost
    volume_cm3: int
    offers: tuple[Offer, ...]
    opening_stock: int


@dataclass(frozen=True)
class Scenario:
    history_weeks: int
    weeks: int
    service_level: float
    series: tuple[SeriesSpec, ...]
    demand: IntArray  # (series, history_weeks + weeks): units demanded each week
    lead_times: IntArray  # (series, offer, weeks): real lead time of an order placed that week
    supplier_capacity: dict[str, int]  # units ordered per week
    warehouse_capacity: dict[str, int]  # cm3

    def history(self, week: int) -> IntArray:
        """Demand known at the review of simulated week ``week`` (everything before it)."""
        return self.demand[:, : self.history_weeks + week]


def eoq(*, weekly_demand: float, fixed_cost: int, holding_cost: int) -> float:
    """The economic order quantity, sqrt(2 D K / h), with D and h per week."""
    return math.sqrt(2 * max(weekly_demand, 0.0) * fixed_cost / max(holding_cost, 1))


def shortage_cost(
    *, unit_cost: int, holding_cost: int, weekly_demand: float, fixed_cost: int, service: float
) -> int:
    """Points per lost unit that make ``service`` the economic cycle service level.

    Silver, Pyke and Peterson's equivalence of a cycle service level and a cost per unit short
    (B2 = Q r / (D (1 - P1))): one more unit of safety stock is held for a whole order cycle of
    Q / D weeks and saves a shortage in 1 - P1 of the cycles. With lost sales the purchase cost of
    the unit not sold is saved too, so it is added. The cycle is capped at ``CYCLE_WEEKS_CAP``.
    """
    quantity = eoq(weekly_demand=weekly_demand, fixed_cost=fixed_cost, holding_cost=holding_cost)
    cycle = min(max(quantity / max(weekly_demand, 1e-9), 1.0), CYCLE_WEEKS_CAP)
    return unit_cost + round(holding_cost * cycle / (1 - service))


def _demand(rng: np.random.Generator, pattern: Pattern, level: float, weeks: int) -> IntArray:
    t = np.arange(weeks)
    if pattern == "regular":
        trend = np.maximum(0.3, 1 + rng.normal(0, 0.003) * (t - weeks / 2))
        season = 1 + rng.uniform(0, 0.5) * np.sin(2 * np.pi * t / SEASON_WEEKS + rng.uniform(0, 7))
        mean = level * trend * season
        sigma = np.sqrt(mean + (rng.uniform(0.1, 0.3) * mean) ** 2)
        noisy: IntArray = np.maximum(0, np.rint(rng.normal(mean, sigma))).astype(np.int64)
        return noisy
    occurs = rng.random(weeks) < (rng.uniform(0.1, 0.4) if pattern == "intermittent" else 0.85)
    spread = 0.8 if pattern == "intermittent" else 1.0
    sizes = np.ceil(rng.lognormal(math.log(level), spread, weeks))
    lumps: IntArray = (occurs * sizes).astype(np.int64)
    return lumps


def _breaks(
    rng: np.random.Generator, cost: int, weekly: float, pack: int
) -> tuple[PriceBreak, ...]:
    steps = [PriceBreak(1, cost)]
    for weeks_of_demand, discount in ((4, 0.96), (10, 0.92)):
        if rng.random() < 0.7:
            quantity = max(pack, math.ceil(weekly * weeks_of_demand / pack) * pack)
            if quantity > steps[-1].min_quantity:
                steps.append(PriceBreak(quantity, round(cost * discount)))
    return tuple(steps)


def _offers(
    rng: np.random.Generator, *, cost: int, weekly: float, suppliers: Sequence[str]
) -> tuple[Offer, ...]:
    pack = int(rng.choice([1, 1, 6, 12, 24])) if weekly > 20 else int(rng.choice([1, 1, 6]))
    main_supplier, alternative = rng.choice(len(suppliers), size=2, replace=False)
    lead = int(rng.integers(2, 7))
    main = SupplyOption(
        supplier=suppliers[main_supplier],
        lead_time_weeks=lead,
        moq=pack * int(rng.integers(1, 5)),
        pack=pack,
        price_breaks=_breaks(rng, cost, weekly, pack),
        fixed_cost=round(rng.uniform(25, 60) * COST_SCALE),
    )
    offers = [Offer(main, lead_time_sigma=float(rng.uniform(0.3, 1.2)))]
    if rng.random() < 0.5 and lead > 2:  # a dearer, nearer supplier to expedite from
        near = SupplyOption(
            supplier=suppliers[alternative],
            lead_time_weeks=int(rng.integers(1, lead - 1)),
            moq=1,
            pack=1,
            price_breaks=(PriceBreak(1, round(cost * rng.uniform(1.08, 1.2))),),
            fixed_cost=round(rng.uniform(15, 40) * COST_SCALE),
        )
        offers.append(Offer(near, lead_time_sigma=float(rng.uniform(0.1, 0.4))))
    return tuple(offers)


def make_scenario(
    *,
    skus: int,
    warehouses: int,
    history_weeks: int = 104,
    weeks: int = 26,
    service_level: float = 0.95,
    seed: int = 7,
) -> Scenario:
    """A seeded scenario: demand, suppliers and the real lead times both policies will meet."""
    rng = np.random.default_rng(seed)
    total = history_weeks + weeks
    suppliers = [f"SUP{n:02d}" for n in range(1, max(3, skus // SKUS_PER_SUPPLIER) + 2)]
    codes = [f"WH{n}" for n in range(1, warehouses + 1)]
    patterns: tuple[Pattern, ...] = ("regular", "intermittent", "erratic")
    specs: list[SeriesSpec] = []
    rows: list[IntArray] = []
    for number in range(1, skus + 1):
        pattern = patterns[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
        cost = round(float(np.clip(rng.lognormal(math.log(8), 0.8), 0.5, 200)) * COST_SCALE)
        volume = int(np.clip(rng.lognormal(math.log(2000), 0.9), 50, 60_000))
        base = float(rng.lognormal(math.log(30 if pattern == "regular" else 8), 0.9))
        for w, code in enumerate(codes):
            level = max(1.0, base * WAREHOUSE_SHARES[w % len(WAREHOUSE_SHARES)])
            demand = _demand(rng, pattern, level, total)
            weekly = float(demand[history_weeks - 52 : history_weeks].mean())
            offers = _offers(rng, cost=cost, weekly=weekly, suppliers=suppliers)
            holding = max(1, round(cost * HOLDING_RATE / SEASON_WEEKS))
            main = offers[0].option
            specs.append(
                SeriesSpec(
                    sku=f"SKU{number:05d}",
                    warehouse=code,
                    pattern=pattern,
                    unit_cost=cost,
                    holding_cost=holding,
                    shortage_cost=shortage_cost(
                        unit_cost=cost,
                        holding_cost=holding,
                        weekly_demand=weekly,
                        fixed_cost=main.fixed_cost,
                        service=service_level,
                    ),
                    volume_cm3=volume,
                    offers=offers,
                    opening_stock=round(weekly * (main.lead_time_weeks + 2)),
                )
            )
            rows.append(demand)
    lead_times = np.ones((len(specs), 2, weeks), dtype=np.int64)
    for i, spec in enumerate(specs):
        for k, offer in enumerate(spec.offers):
            drawn = rng.normal(offer.option.lead_time_weeks, offer.lead_time_sigma, weeks)
            lead_times[i, k] = np.maximum(1, np.rint(drawn))
    return Scenario(
        history_weeks=history_weeks,
        weeks=weeks,
        service_level=service_level,
        series=tuple(specs),
        demand=np.vstack(rows),
        lead_times=lead_times,
        supplier_capacity=_supplier_capacity(specs, rows, history_weeks),
        warehouse_capacity=_warehouse_capacity(specs, rows, history_weeks),
    )


def _supplier_capacity(
    specs: Sequence[SeriesSpec], rows: Sequence[IntArray], history_weeks: int
) -> dict[str, int]:
    """Four times the mean weekly demand of the series a supplier is preferred for."""
    load: dict[str, float] = {}
    for spec, demand in zip(specs, rows, strict=True):
        for offer in spec.offers:
            load.setdefault(offer.option.supplier, 0.0)
        supplier = spec.offers[0].option.supplier
        load[supplier] += float(demand[:history_weeks].mean())
    return {supplier: max(100, round(4 * units)) for supplier, units in load.items()}


def _warehouse_capacity(
    specs: Sequence[SeriesSpec], rows: Sequence[IntArray], history_weeks: int
) -> dict[str, int]:
    """Room for about ten weeks of mean demand plus the opening stock."""
    room: dict[str, float] = {}
    for spec, demand in zip(specs, rows, strict=True):
        units = 10 * float(demand[:history_weeks].mean()) + spec.opening_stock
        room[spec.warehouse] = room.get(spec.warehouse, 0.0) + units * spec.volume_cm3
    return {code: round(cm3) for code, cm3 in room.items()}


# --- the simulation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    series: int  # index into ``Scenario.series``
    offer: int  # index into that series' offers
    quantity: int


@dataclass(frozen=True)
class OpenOrder:
    """An order in transit as the buyer sees it: when it was promised, not when it will come."""

    series: int
    offer: int
    quantity: int
    due_week: int  # order week + the offer's quoted lead time


@dataclass(frozen=True)
class View:
    """What a policy knows at the weekly review, after this week's deliveries came in."""

    week: int
    on_hand: tuple[int, ...]
    open_orders: tuple[OpenOrder, ...]

    def position(self) -> list[int]:
        """Inventory position per series: on hand plus everything on order."""
        position = list(self.on_hand)
        for order in self.open_orders:
            position[order.series] += order.quantity
        return position


Policy = Callable[[View], Sequence[Order]]


@dataclass
class Outcome:
    """What one policy did over the simulated weeks, in points and units."""

    purchase: int = 0
    ordering: int = 0
    holding: int = 0
    shortage: int = 0
    closing_credit: int = 0  # stock on hand and in transit at the end, at the price paid
    closing_units: int = 0  # that stock in units
    demanded: int = 0
    served: int = 0
    stockout_weeks: int = 0  # series-weeks with demand lost
    orders: int = 0
    stock_units: int = 0  # summed over weeks (end of week, on hand)
    stock_value: int = 0  # points, at standard cost, summed over weeks
    weeks: int = 0
    seconds: list[float] = field(default_factory=list)  # per review
    supplier_over_capacity: int = 0  # supplier-weeks ordered above capacity
    peak_warehouse_use: float = 0.0  # highest share of a warehouse's cm3 used
    by_pattern: dict[str, list[int]] = field(default_factory=dict)  # pattern: [demanded, served]

    @property
    def total(self) -> int:
        return self.purchase + self.ordering + self.holding + self.shortage - self.closing_credit

    @property
    def fill_rate(self) -> float:
        return self.served / self.demanded if self.demanded else 1.0


def _place(
    scenario: Scenario, week: int, orders: Sequence[Order], outcome: Outcome
) -> list[tuple[OpenOrder, int, int]]:
    """Price and send the week's orders: (open order, real arrival week, points paid)."""
    placed: list[tuple[OpenOrder, int, int]] = []
    per_supplier: dict[str, int] = {}
    for order in orders:
        option = scenario.series[order.series].offers[order.offer].option
        if order.quantity < option.smallest_order or order.quantity % option.pack:
            raise ValueError(f"{order} breaks the MOQ or pack of {option.supplier}")
        paid = order.quantity * option.unit_cost_for(order.quantity)
        outcome.purchase += paid
        outcome.ordering += option.fixed_cost
        outcome.orders += 1
        per_supplier[option.supplier] = per_supplier.get(option.supplier, 0) + order.quantity
        arrival = week + int(scenario.lead_times[order.series, order.offer, week])
        due = week + option.lead_time_weeks
        placed.append((OpenOrder(order.series, order.offer, order.quantity, due), arrival, paid))
    outcome.supplier_over_capacity += sum(
        units > scenario.supplier_capacity[supplier] for supplier, units in per_supplier.items()
    )
    return placed


def simulate(
    scenario: Scenario, policy: Policy, *, clock: Callable[[], float] = lambda: 0.0
) -> Outcome:
    """Run ``policy`` over the scenario's weeks with lost sales; ``clock`` times its reviews."""
    specs = scenario.series
    on_hand = [spec.opening_stock for spec in specs]
    transit: list[tuple[OpenOrder, int, int]] = []
    bought = [[0, 0] for _ in specs]  # units, points: to credit the closing stock at its price
    outcome = Outcome()
    for week in range(scenario.weeks):
        for order, arrival, _ in transit:
            if arrival == week:
                on_hand[order.series] += order.quantity
        transit = [entry for entry in transit if entry[1] > week]
        _record_volume(scenario, on_hand, outcome)
        view = View(week, tuple(on_hand), tuple(entry[0] for entry in transit))
        started = clock()
        orders = policy(view)
        outcome.seconds.append(clock() - started)
        placed = _place(scenario, week, orders, outcome)
        for order, _, paid in placed:
            bought[order.series][0] += order.quantity
            bought[order.series][1] += paid
        transit.extend(placed)
        demand = scenario.demand[:, scenario.history_weeks + week]
        for i, spec in enumerate(specs):
            wanted = int(demand[i])
            served = min(on_hand[i], wanted)
            on_hand[i] -= served
            _count_week(outcome, spec, wanted, served, on_hand[i])
        outcome.weeks += 1
    closing = list(on_hand)
    for order, _, _ in transit:
        closing[order.series] += order.quantity
    outcome.closing_units = sum(closing)
    for i, spec in enumerate(specs):
        units, points = bought[i]
        outcome.closing_credit += round(closing[i] * (points / units if units else spec.unit_cost))
    return outcome


def _count_week(outcome: Outcome, spec: SeriesSpec, wanted: int, served: int, left: int) -> None:
    outcome.demanded += wanted
    outcome.served += served
    outcome.shortage += (wanted - served) * spec.shortage_cost
    outcome.stockout_weeks += served < wanted
    outcome.holding += left * spec.holding_cost
    outcome.stock_units += left
    outcome.stock_value += left * spec.unit_cost
    tally = outcome.by_pattern.setdefault(spec.pattern, [0, 0])
    tally[0] += wanted
    tally[1] += served


def _record_volume(scenario: Scenario, on_hand: Sequence[int], outcome: Outcome) -> None:
    used: dict[str, int] = {}
    for spec, units in zip(scenario.series, on_hand, strict=True):
        used[spec.warehouse] = used.get(spec.warehouse, 0) + units * spec.volume_cm3
    for code, cm3 in used.items():
        share = cm3 / max(scenario.warehouse_capacity[code], 1)
        outcome.peak_warehouse_use = max(outcome.peak_warehouse_use, share)


# --- the classic min/max policy ------------------------------------------------------------------


@dataclass(frozen=True)
class MinMax:
    reorder_point: int  # s: order when the position is at or below it
    order_up_to: int  # S


def round_to_option(quantity: int, option: SupplyOption) -> int:
    """Up to whole packs, and at least the smallest order the option takes."""
    packs = -(-quantity // option.pack)
    return max(packs * option.pack, option.smallest_order)


def min_max_levels(
    *,
    history: Sequence[float] | IntArray,
    spec: SeriesSpec,
    service_level: float,
    safety_stock: SafetyStockFn,
) -> MinMax:
    """Textbook (s, S) from recent mean and spread: s covers lead time + review, S = s + EOQ."""
    offer = spec.offers[0]
    mean = float(np.mean(history))
    sigma = float(np.std(history, ddof=1)) if len(history) > 1 else 0.0
    lead = float(offer.option.lead_time_weeks)
    buffer = safety_stock(
        service_level=service_level,
        demand_mean=mean,
        demand_sigma=sigma,
        lead_time_mean=lead,
        lead_time_sigma=offer.lead_time_sigma,
        review_period=1.0,
    )
    reorder = math.ceil(mean * (lead + 1.0)) + buffer
    quantity = eoq(
        weekly_demand=mean, fixed_cost=offer.option.fixed_cost, holding_cost=spec.holding_cost
    )
    return MinMax(reorder, reorder + max(1, round(quantity)))


def min_max_quantity(position: int, levels: MinMax, option: SupplyOption) -> int:
    """What a min/max rule orders: nothing above s, else up to S in whole packs (MOQ kept)."""
    if position > levels.reorder_point:
        return 0
    return round_to_option(levels.order_up_to - position, option)


class MinMaxPolicy:
    """(s, S) as an ERP's reordering rule runs it: weekly review, preferred supplier only.

    The levels are recomputed every ``refresh`` weeks from the last ``window`` weeks of demand,
    as a planner refreshing the rules monthly would.
    """

    def __init__(
        self, scenario: Scenario, *, safety_stock: SafetyStockFn, window: int = 26, refresh: int = 4
    ) -> None:
        self.scenario = scenario
        self.safety_stock = safety_stock
        self.window = window
        self.refresh = refresh
        self.levels: list[MinMax] = []

    def __call__(self, view: View) -> list[Order]:
        if view.week % self.refresh == 0 or not self.levels:
            history = self.scenario.history(view.week)[:, -self.window :]
            self.levels = [
                min_max_levels(
                    history=history[i],
                    spec=spec,
                    service_level=self.scenario.service_level,
                    safety_stock=self.safety_stock,
                )
                for i, spec in enumerate(self.scenario.series)
            ]
        orders = []
        for i, position in enumerate(view.position()):
            option = self.scenario.series[i].offers[0].option
            quantity = min_max_quantity(position, self.levels[i], option)
            if quantity:
                orders.append(Order(i, 0, quantity))
        return orders
