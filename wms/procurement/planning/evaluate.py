"""An independent check of a plan: simulate it week by week, price it and list what it breaks.

Nothing here comes from the model builder, so a bug there cannot hide behind the same bug here.
Within a week, orders, stock already on order and transfers in arrive first; transfers out leave
next (they must be covered by the stock there); demand takes what is left and the rest is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from wms.procurement.planning.problem import (
    COST_SCALE,
    OrderLine,
    Problem,
    Series,
    SupplyOption,
    TransferLine,
)


@dataclass(frozen=True)
class Costs:
    """Every cost term of a plan, in points."""

    purchase: int = 0
    fixed: int = 0
    holding: int = 0
    shortage: int = 0
    below_safety: int = 0
    transfer: int = 0
    closing: int = 0  # units ended below the closing cover, at the closing cost

    @property
    def total(self) -> int:
        """The objective: the sum of every term."""
        return (
            self.purchase
            + self.fixed
            + self.holding
            + self.shortage
            + self.below_safety
            + self.transfer
            + self.closing
        )


@dataclass(frozen=True)
class Violation:
    """One broken rule: its name, where and when, and by how much (units, cm3 or points)."""

    constraint: str  # "pack", "moq", "price_break", "lead_time", "horizon", "quantity",
    # "unknown", "transfer_stock", "supplier_capacity", "warehouse_capacity", "budget"
    where: str
    week: int | None
    excess: int
    message: str


@dataclass(frozen=True)
class Evaluation:
    """The simulated plan: its costs, its violations, and what it uses of each shared limit."""

    costs: Costs
    violations: tuple[Violation, ...]
    stock: Mapping[tuple[str, str], tuple[int, ...]]  # end-of-week stock per (sku, warehouse)
    short: Mapping[tuple[str, str], tuple[int, ...]]  # demand lost per week
    budget_used: tuple[int, ...]  # points committed by orders placed per week
    supplier_units: Mapping[str, tuple[int, ...]]  # units ordered per supplier and week
    warehouse_cm3: Mapping[str, tuple[int, ...]]  # end-of-week volume per warehouse

    @property
    def total(self) -> int:
        """The plan's cost in points."""
        return self.costs.total

    def is_feasible(self) -> bool:
        """True when the plan breaks no rule."""
        return not self.violations


@dataclass(frozen=True)
class Trace:
    """One series simulated: end-of-week stock and lost sales, and the cost of both."""

    stock: tuple[int, ...]
    short: tuple[int, ...]
    uncovered: tuple[int, ...]  # units a transfer out wanted beyond the stock there
    holding: int
    shortage: int
    below_safety: int
    closing: int


def simulate(
    s: Series,
    weeks: int,
    arrivals: Sequence[int],
    moved_in: Sequence[int],
    moved_out: Sequence[int],
) -> Trace:
    """Run one series through the horizon with lost sales."""
    stock, short, uncovered = [], [], []
    level = s.on_hand
    holding = shortage = below = 0
    for t in range(weeks):
        level += arrivals[t] + moved_in[t] + (s.incoming[t] if s.incoming else 0)
        missing = max(0, moved_out[t] - level)
        level -= moved_out[t] - missing
        lost = max(0, s.demand[t] - level)
        level -= s.demand[t] - lost
        stock.append(level)
        short.append(lost)
        uncovered.append(missing)
        holding += s.holding_cost * level
        shortage += s.shortage_cost * lost
        below += s.below_safety_cost * max(0, s.safety_stock - level)
    closing = s.closing_cost * max(0, s.closing_cover - level) if weeks else 0
    return Trace(tuple(stock), tuple(short), tuple(uncovered), holding, shortage, below, closing)


def projected_without_orders(problem: Problem, s: Series) -> Trace:
    """A series with no new order and no transfer: what happens if nothing is done."""
    zero = [0] * problem.weeks
    return simulate(s, problem.weeks, zero, zero, zero)


class _Tally:
    def __init__(self, problem: Problem) -> None:
        self.p = problem
        self.violations: list[Violation] = []
        self.costs = {"purchase": 0, "fixed": 0, "transfer": 0}
        self.budget = [0] * problem.weeks
        self.supplier: dict[str, list[int]] = {}
        weeks = problem.weeks
        self.series = {s.key: s for s in problem.series}
        self.arrivals = {key: [0] * weeks for key in self.series}
        self.moved_in = {key: [0] * weeks for key in self.series}
        self.moved_out = {key: [0] * weeks for key in self.series}

    def fail(self, constraint: str, where: str, week: int | None, excess: int, msg: str) -> None:
        self.violations.append(Violation(constraint, where, week, excess, msg))

    def option(self, s: Series, line: OrderLine, where: str) -> SupplyOption | None:
        offers = [o for o in s.options if o.supplier == line.supplier]
        if not offers:
            self.fail("unknown", where, line.order_week, 0, f"{where}: no such supply option")
            return None
        lead = line.arrival_week - line.order_week
        timed = [o for o in offers if o.lead_time_weeks == lead]
        if not timed:
            self.fail(
                "lead_time", where, line.order_week, 0,
                f"{where}: arrives {lead} weeks after ordering, the lead time is "
                f"{offers[0].lead_time_weeks}",
            )  # fmt: skip
            return offers[0]
        return timed[0]

    def order(self, line: OrderLine) -> None:
        where = f"{line.sku} at {line.warehouse} from {line.supplier}"
        s = self.series.get((line.sku, line.warehouse))
        if s is None:
            self.fail("unknown", where, line.order_week, 0, f"{where}: no such series")
            return
        o = self.option(s, line, where)
        if o is None:
            return
        q, t, weeks = line.quantity, line.order_week, self.p.weeks
        if q <= 0:
            self.fail("quantity", where, t, -q, f"{where}: quantity {q} is not positive")
            return
        if q % o.pack:
            self.fail("pack", where, t, q % o.pack, f"{where}: {q} is not whole packs of {o.pack}")
        least = max(o.moq, o.price_breaks[0].min_quantity)
        if q < least:
            self.fail("moq", where, t, least - q, f"{where}: {q} is under the minimum {least}")
        price = o.unit_cost_for(q)
        if line.unit_cost != price:
            self.fail(
                "price_break", where, t, abs(line.unit_cost - price),
                f"{where}: {q} units cost {price} points each, not {line.unit_cost}",
            )  # fmt: skip
        if not 0 <= t < weeks or not 0 <= line.arrival_week < weeks:
            self.fail(
                "horizon", where, t, 0,
                f"{where}: ordered in week {t} to arrive in week {line.arrival_week}, "
                f"outside weeks 0 to {weeks - 1}",
            )  # fmt: skip
        else:
            self.arrivals[s.key][line.arrival_week] += q
        spend = q * price + o.fixed_cost
        self.costs["purchase"] += q * price
        self.costs["fixed"] += o.fixed_cost
        if 0 <= t < weeks:
            self.budget[t] += spend
            self.supplier.setdefault(o.supplier, [0] * weeks)[t] += q

    def transfer(self, move: TransferLine) -> None:
        where = f"{move.sku} from {move.from_warehouse} to {move.to_warehouse}"
        lane = next(
            (
                lane
                for lane in self.p.transfers
                if (lane.from_warehouse, lane.to_warehouse)
                == (move.from_warehouse, move.to_warehouse)
            ),
            None,
        )
        source, target = (move.sku, move.from_warehouse), (move.sku, move.to_warehouse)
        if lane is None or source not in self.series or target not in self.series:
            self.fail("unknown", where, move.week, 0, f"{where}: no such lane or series")
            return
        if move.quantity <= 0:
            self.fail("quantity", where, move.week, 0, f"{where}: quantity is not positive")
            return
        arrival = move.week + lane.lead_time_weeks
        if move.week < 0 or arrival >= self.p.weeks:
            self.fail("horizon", where, move.week, 0, f"{where}: arrives after the horizon")
            return
        self.costs["transfer"] += move.quantity * lane.unit_cost
        self.moved_out[source][move.week] += move.quantity
        self.moved_in[target][arrival] += move.quantity


def evaluate(
    problem: Problem, lines: Iterable[OrderLine], transfers: Iterable[TransferLine] = ()
) -> Evaluation:
    """Simulate a plan week by week, price every term and check every rule."""
    tally = _Tally(problem)
    for line in lines:
        tally.order(line)
    for move in transfers:
        tally.transfer(move)
    weeks = problem.weeks
    stock, short = {}, {}
    holding = shortage = below = closing = 0
    volume: dict[str, list[int]] = {}
    for s in problem.series:
        trace = simulate(
            s, weeks, tally.arrivals[s.key], tally.moved_in[s.key], tally.moved_out[s.key]
        )
        stock[s.key], short[s.key] = trace.stock, trace.short
        holding, shortage = holding + trace.holding, shortage + trace.shortage
        below += trace.below_safety
        closing += trace.closing
        used = volume.setdefault(s.warehouse, [0] * weeks)
        for t in range(weeks):
            used[t] += trace.stock[t] * s.volume_cm3
            if trace.uncovered[t]:
                tally.fail(
                    "transfer_stock", f"{s.sku} at {s.warehouse}", t, trace.uncovered[t],
                    f"{s.sku} at {s.warehouse}: transfers out exceed the stock in week {t}",
                )  # fmt: skip
    _check_limits(problem, tally, volume)
    costs = Costs(
        tally.costs["purchase"], tally.costs["fixed"], holding, shortage, below,
        tally.costs["transfer"], closing,
    )  # fmt: skip
    return Evaluation(
        costs,
        tuple(tally.violations),
        stock,
        short,
        tuple(tally.budget),
        {k: tuple(v) for k, v in tally.supplier.items()},
        {k: tuple(v) for k, v in volume.items()},
    )


def _check_limits(problem: Problem, tally: _Tally, volume: Mapping[str, Sequence[int]]) -> None:
    for t in range(problem.weeks):
        for supplier, caps in problem.supplier_capacity.items():
            used = tally.supplier.get(supplier, [0] * problem.weeks)[t]
            if used > caps[t]:
                tally.fail(
                    "supplier_capacity", supplier, t, used - caps[t],
                    f"supplier {supplier}: {used} units ordered in week {t}, capacity {caps[t]}",
                )  # fmt: skip
        for warehouse, cap in problem.warehouse_capacity.items():
            cm3 = volume.get(warehouse, [0] * problem.weeks)[t]
            if cm3 > cap:
                tally.fail(
                    "warehouse_capacity", warehouse, t, cm3 - cap,
                    f"warehouse {warehouse}: {cm3} cm3 stored at the end of week {t}, "
                    f"capacity {cap}",
                )  # fmt: skip
        if problem.budget is not None and tally.budget[t] > problem.budget[t]:
            tally.fail(
                "budget", "budget", t, tally.budget[t] - problem.budget[t],
                f"orders placed in week {t} commit {tally.budget[t] / COST_SCALE:,.2f}, "
                f"budget {problem.budget[t] / COST_SCALE:,.2f}",
            )  # fmt: skip


def capacity_shortfall(problem: Problem, *, lanes_may_help: bool = True) -> str | None:
    """Why no plan can exist (stock already there overfills a warehouse it cannot leave), or None.

    With ``lanes_may_help`` a warehouse that a transfer lane leaves is not judged here (a solver
    decides); without it, the answer names where a solver that found no plan was stuck.
    """
    exits = {lane.from_warehouse for lane in problem.transfers} if lanes_may_help else set()
    volume: dict[str, list[int]] = {}
    for s in problem.series:
        if s.warehouse in problem.warehouse_capacity and s.warehouse not in exits:
            trace = projected_without_orders(problem, s)
            used = volume.setdefault(s.warehouse, [0] * problem.weeks)
            for t, level in enumerate(trace.stock):
                used[t] += level * s.volume_cm3
    for warehouse, used in sorted(volume.items()):
        cap = problem.warehouse_capacity[warehouse]
        for t, cm3 in enumerate(used):
            if cm3 > cap:
                leaves = any(lane.from_warehouse == warehouse for lane in problem.transfers)
                way_out = (
                    "the transfer lanes cannot move enough of it out"
                    if leaves
                    else "no transfer lane leaves it"
                )
                return (
                    f"warehouse {warehouse} is over capacity in week {t}: stock on hand and on "
                    f"order fills {cm3:,} cm3 of {cap:,} even with no new order, and {way_out}"
                )
    return None
