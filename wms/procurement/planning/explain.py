"""Why each line of a plan is there, and the projected stock of every series with and without it.

An explanation is computed from the plan alone (the evaluator's simulation), not from solver
internals, so it reads the same whichever backend produced the plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace

from wms.procurement.planning.evaluate import evaluate, projected_without_orders, simulate
from wms.procurement.planning.problem import (
    COST_SCALE,
    Explanation,
    OrderLine,
    Problem,
    Projection,
    Result,
    Series,
    SupplyOption,
)


def annotate(problem: Problem, result: Result) -> Result:
    """Attach a reason to every order line and the projections of every series."""
    ev = evaluate(problem, result.lines, result.transfers)
    weeks = problem.weeks
    series = {s.key: s for s in problem.series}
    moved_in = {key: [0] * weeks for key in series}
    moved_out = {key: [0] * weeks for key in series}
    lanes = {(x.from_warehouse, x.to_warehouse): x.lead_time_weeks for x in problem.transfers}
    for m in result.transfers:
        moved_out[(m.sku, m.from_warehouse)][m.week] += m.quantity
        arrival = m.week + lanes[(m.from_warehouse, m.to_warehouse)]
        moved_in[(m.sku, m.to_warehouse)][arrival] += m.quantity
    by_series: dict[tuple[str, str], list[OrderLine]] = defaultdict(list)
    for line in result.lines:
        by_series[(line.sku, line.warehouse)].append(line)
    context = _Context(problem, ev.budget_used, ev.supplier_units, ev.warehouse_cm3)
    explained = []
    for line in result.lines:
        key = (line.sku, line.warehouse)
        others = [o for o in by_series[key] if o is not line]
        why = context.explain(series[key], line, others, moved_in[key], moved_out[key])
        explained.append(replace(line, reason=why.text, explanation=why))
    projections = tuple(
        Projection(
            s.sku,
            s.warehouse,
            s.demand,
            s.safety_stock,
            ev.stock[s.key],
            projected_without_orders(problem, s).stock,
            ev.short[s.key],
        )
        for s in problem.series
    )
    return replace(result, lines=tuple(explained), projections=projections)


class _Context:
    def __init__(
        self,
        problem: Problem,
        budget_used: tuple[int, ...],
        supplier_units: Mapping[str, tuple[int, ...]],
        warehouse_cm3: Mapping[str, tuple[int, ...]],
    ) -> None:
        self.p = problem
        self.budget_used = budget_used
        self.supplier_units = supplier_units
        self.warehouse_cm3 = warehouse_cm3

    def explain(
        self,
        s: Series,
        line: OrderLine,
        others: list[OrderLine],
        moved_in: list[int],
        moved_out: list[int],
    ) -> Explanation:
        weeks, a = self.p.weeks, line.arrival_week
        arrivals = [0] * weeks
        for o in others:
            arrivals[o.arrival_week] += o.quantity
        without = simulate(s, weeks, arrivals, moved_in, moved_out)
        later = [o.arrival_week for o in others if o.arrival_week > a]
        until = min(later, default=weeks)
        level = without.stock[a - 1] if a > 0 else s.on_hand
        needed = 0
        for t in range(a, until):
            incoming = s.incoming[t] if s.incoming else 0
            level += arrivals[t] + incoming + moved_in[t] - moved_out[t] - s.demand[t]
            needed = max(needed, s.safety_stock - level)
        covered = sum(s.demand[a:until])
        below = next((t for t in range(a, weeks) if without.stock[t] < s.safety_stock), None)
        empty = next((t for t in range(a, weeks) if without.short[t] > 0), None)
        due = min((w for w in (below, empty) if w is not None), default=None)
        lead = line.arrival_week - line.order_week
        option = next(
            o for o in s.options if (o.supplier, o.lead_time_weeks) == (line.supplier, lead)
        )
        split = min(
            (o for o in others if o.supplier == line.supplier and o.order_week > line.order_week),
            key=lambda o: o.order_week,
            default=None,
        )
        shaped = self.shaped_by(s, line, option, needed, due, until, split)
        text = self.text(s, line, option, needed, covered, until, below, empty, shaped)
        return Explanation(needed, shaped, text)

    def shaped_by(
        self,
        s: Series,
        line: OrderLine,
        o: SupplyOption,
        needed: int,
        due: int | None,
        until: int,
        split: OrderLine | None,
    ) -> tuple[str, ...]:
        """The rules that made the quantity differ from what the demand alone asks for.

        A limit counts when it is full where it made a difference: in the order week of a line
        cut below its need, in the weeks a line was brought forward from (it arrives before the
        series needs it), or in the week the series' next order from the same supplier would
        have had to join this one (the limit split one order in two).
        """
        q, t = line.quantity, line.order_week
        rounded = -(-max(needed, 1) // o.pack) * o.pack
        shaped = []
        if q == o.smallest_order and rounded < o.smallest_order:
            shaped.append("moq")
        elif q == rounded and needed % o.pack:
            shaped.append("pack")
        if _tier(o, q) > _tier(o, max(rounded, o.smallest_order)):
            shaped.append("price_break")
        weeks = []
        if q < needed:
            weeks.append(t)
        if due is not None and due > line.arrival_week:
            weeks.extend(range(t + 1, t + 1 + due - line.arrival_week))
        more = split.quantity if split is not None else o.pack
        if any(self.supplier_full(o, w, more) for w in weeks) or (
            split is not None and self.supplier_full(o, t, split.quantity)
        ):
            shaped.append("supplier_capacity")
        if any(self.budget_full(o, w, q, more) for w in weeks) or (
            split is not None and self.budget_full(o, t, q, split.quantity)
        ):
            shaped.append("budget")
        end = until if split is None else split.arrival_week
        if (q < needed or split is not None) and any(
            self.warehouse_full(s, w, more) for w in range(line.arrival_week, end)
        ):
            shaped.append("warehouse_capacity")
        if o.lead_time_weeks > 0:
            shaped.append("lead_time")
        if set(shaped) <= {"lead_time"}:
            shaped.insert(0, "demand")
        return tuple(shaped)

    def supplier_full(self, o: SupplyOption, week: int, more: int) -> bool:
        """No room for ``more`` units from this supplier in ``week``."""
        caps = self.p.supplier_capacity.get(o.supplier)
        if caps is None or week >= self.p.weeks:
            return False
        return self.supplier_units.get(o.supplier, (0,) * self.p.weeks)[week] + more > caps[week]

    def budget_full(self, o: SupplyOption, week: int, q: int, more: int) -> bool:
        """No room in ``week``'s budget for ``more`` units on top of this order's ``q``."""
        if self.p.budget is None or week >= self.p.weeks:
            return False
        extra = (q + more) * o.unit_cost_for(q + more) - q * o.unit_cost_for(q)
        return self.budget_used[week] + extra > self.p.budget[week]

    def warehouse_full(self, s: Series, week: int, more: int) -> bool:
        """No room in the warehouse at the end of ``week`` for ``more`` units of this SKU."""
        cap = self.p.warehouse_capacity.get(s.warehouse)
        if cap is None:
            return False
        used = self.warehouse_cm3.get(s.warehouse, (0,) * self.p.weeks)[week]
        return used + more * s.volume_cm3 > cap

    def text(
        self,
        s: Series,
        line: OrderLine,
        o: SupplyOption,
        needed: int,
        covered: int,
        until: int,
        below: int | None,
        empty: int | None,
        shaped: tuple[str, ...],
    ) -> str:
        a, t = line.arrival_week, line.order_week
        if below is None and empty is None:
            first = f"Without it, stock stays at or above safety stock ({s.safety_stock})."
        elif below is None:
            first = f"Without it, stock runs out in week {empty}."
        else:
            runs = f" and runs out in week {empty}" if empty is not None else ""
            first = (
                f"Without it, stock falls below safety stock ({s.safety_stock}) in week {below}"
                f"{runs}."
            )
        covers = (
            f"It covers {covered} units of demand in weeks {a} to {until - 1}; "
            f"{max(needed, 0)} are needed to stay at safety stock."
        )
        lead = f"{o.lead_time_weeks} week{'s' if o.lead_time_weeks != 1 else ''}"
        notes = {
            "moq": f"Raised to the minimum order of {o.smallest_order}.",
            "pack": f"Rounded up to whole packs of {o.pack}.",
            "price_break": "Raised to reach the cheaper price of "
            f"{line.unit_cost / COST_SCALE:,.2f} a unit.",
            "supplier_capacity": f"Supplier {o.supplier}'s weekly capacity is binding: "
            "cut, split or ordered earlier.",
            "budget": f"The budget is binding around week {t}: cut, split or ordered earlier.",
            "warehouse_capacity": f"Warehouse {s.warehouse} is full: cut or split to fit.",
            "lead_time": f"Ordered in week {t} to arrive in week {a} (lead time {lead}).",
            "demand": "Sized to the demand.",
        }
        return " ".join([first, covers, *(notes[c] for c in shaped)])


def _tier(o: SupplyOption, quantity: int) -> int:
    return sum(1 for b in o.price_breaks if quantity >= b.min_quantity)
