"""Make a plan keep the coupling constraints: trim, drop or defer the cheapest lines first.

A Lagrangian plan is the union of plans that each saw prices instead of limits, so a budget,
supplier or warehouse week may be over. Each violated limit is relieved, earliest week first, by
the moves of least cost increase per unit of relief: trimming an order (whole packs, never below
its smallest order), dropping it, deferring it a week (a warehouse: past the full week), bringing
it a week forward into an earlier week's slack, or trimming a transfer into a full warehouse.
Every move is priced by the independent evaluator on the series it touches, and refused if it
breaks any other rule or overfills another limit.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from wms.procurement.planning.evaluate import Evaluation, evaluate
from wms.procurement.planning.problem import OrderLine, Problem, SupplyOption, TransferLine

Row = tuple[str, str, int]  # (kind, supplier or warehouse or "", week)


@dataclass
class _Group:
    """A set of series no lane leaves, its lines, and their evaluation on their own."""

    problem: Problem
    lines: list[OrderLine]
    moves: list[TransferLine]
    ev: Evaluation
    version: int = 0


def usage_of(ev: Evaluation) -> dict[Row, int]:
    use: dict[Row, int] = {}
    for t, spent in enumerate(ev.budget_used):
        if spent:
            use[("budget", "", t)] = spent
    for supplier, units in ev.supplier_units.items():
        for t, u in enumerate(units):
            if u:
                use[("supplier_capacity", supplier, t)] = u
    for warehouse, cm3 in ev.warehouse_cm3.items():
        for t, v in enumerate(cm3):
            if v:
                use[("warehouse_capacity", warehouse, t)] = v
    return use


class Repair:
    """The repair of one plan against one problem's coupling limits."""

    def __init__(
        self,
        problem: Problem,
        groups: Sequence[Sequence[int]],
        lines: Sequence[OrderLine],
        moves: Sequence[TransferLine],
    ) -> None:
        self.p = problem
        where: dict[tuple[str, str], int] = {}
        self.groups: list[_Group] = []
        for g, members in enumerate(groups):
            series = tuple(problem.series[i] for i in members)
            for s in series:
                where[s.key] = g
            sub = Problem(problem.weeks, series, transfers=problem.transfers)
            self.groups.append(_Group(sub, [], [], evaluate(sub, ())))
        for line in lines:
            self.groups[where[(line.sku, line.warehouse)]].lines.append(line)
        for move in moves:
            self.groups[where[(move.sku, move.from_warehouse)]].moves.append(move)
        self.used: dict[Row, int] = {}
        self.users: dict[Row, set[int]] = {}
        for g, group in enumerate(self.groups):
            if group.lines or group.moves:
                group.ev = evaluate(group.problem, group.lines, group.moves)
            self._account(g, usage_of(group.ev), +1)
        self.counter = itertools.count()

    def _account(self, g: int, use: dict[Row, int], sign: int) -> None:
        for row, amount in use.items():
            self.used[row] = self.used.get(row, 0) + sign * amount
            if sign > 0:
                self.users.setdefault(row, set()).add(g)

    def limit(self, row: Row) -> int | None:
        """The capacity of a row, or None when the problem does not limit it."""
        kind, who, t = row
        if kind == "budget":
            return None if self.p.budget is None else self.p.budget[t]
        if kind == "supplier_capacity":
            caps = self.p.supplier_capacity.get(who)
            return None if caps is None else caps[t]
        return self.p.warehouse_capacity.get(who)

    def excess(self, row: Row) -> int:
        cap = self.limit(row)
        return 0 if cap is None else self.used.get(row, 0) - cap

    def run(self) -> list[Row]:
        """Relieve every violated limit; returns the limits still over."""
        order = {"budget": 0, "supplier_capacity": 1, "warehouse_capacity": 2}
        for row in sorted(self.used, key=lambda r: (r[2], order[r[0]], r[1])):
            if self.excess(row) > 0:
                self.relieve(row)
        return [row for row in self.used if self.excess(row) > 0]

    def plan(self) -> tuple[list[OrderLine], list[TransferLine], int]:
        """The current plan and its cost."""
        lines = [line for g in self.groups for line in g.lines]
        moves = [m for g in self.groups for m in g.moves]
        return lines, moves, sum(g.ev.total for g in self.groups)

    def relieve(self, row: Row) -> None:
        heap: list[tuple[float, int, int, int, list[OrderLine], list[TransferLine]]] = []
        for g in sorted(self.users.get(row, ())):
            self.push(heap, row, g)
        while heap and self.excess(row) > 0:
            _, _, g, version, lines, moves = heapq.heappop(heap)
            group = self.groups[g]
            if version != group.version:
                continue
            new = evaluate(group.problem, lines, moves)
            if not self.acceptable(group, new, row):
                continue
            self.replace(g, lines, moves, new)
            self.push(heap, row, g)

    def replace(
        self, g: int, lines: list[OrderLine], moves: list[TransferLine], new: Evaluation
    ) -> None:
        """Give group ``g`` a new plan and account for what it uses."""
        group = self.groups[g]
        self._account(g, usage_of(group.ev), -1)
        group.lines, group.moves, group.ev = lines, moves, new
        group.version += 1
        self._account(g, usage_of(new), +1)

    def acceptable(self, group: _Group, new: Evaluation, row: Row) -> bool:
        """No new rule broken, and no other limit pushed over."""
        if new.violations:
            return False
        before, after = usage_of(group.ev), usage_of(new)
        if after.get(row, 0) >= before.get(row, 0):
            return False
        for other, amount in after.items():
            grow = amount - before.get(other, 0)
            if grow > 0 and other != row:
                cap = self.limit(other)
                if cap is not None and self.used.get(other, 0) + grow > cap:
                    return False
        return True

    def push(self, heap: list[tuple[float, int, int, int, list[OrderLine], list[TransferLine]]],
             row: Row, g: int) -> None:  # fmt: skip
        group = self.groups[g]
        need = self.excess(row)
        for lines, proposed in self.candidates(group, row, need):
            moves, new = _covered(group.problem, lines, proposed)
            relief = usage_of(group.ev).get(row, 0) - usage_of(new).get(row, 0)
            if relief > 0 and not new.violations:
                ratio = (new.total - group.ev.total) / min(relief, max(need, 1))
                heapq.heappush(heap, (ratio, next(self.counter), g, group.version, lines, moves))

    def candidates(
        self, group: _Group, row: Row, need: int
    ) -> Iterator[tuple[list[OrderLine], list[TransferLine]]]:
        kind, who, t = row
        series = {s.key: s for s in group.problem.series}
        for k, line in enumerate(group.lines):
            s = series[(line.sku, line.warehouse)]
            if kind == "warehouse_capacity":
                hit = line.warehouse == who and line.arrival_week <= t
                per_pack, late = s.volume_cm3, t + 1 - line.arrival_week
            else:
                hit = line.order_week == t and (kind == "budget" or line.supplier == who)
                per_pack, late = (line.unit_cost if kind == "budget" else 1), 1
            if not hit:
                continue
            o = _option(s.options, line)
            rest = group.lines[:k] + group.lines[k + 1 :]
            yield rest, group.moves
            packs = -(-need // max(1, per_pack * o.pack))
            smaller = max(o.smallest_order, line.quantity - packs * o.pack)
            if smaller < line.quantity:
                cut = replace(line, quantity=smaller, unit_cost=o.unit_cost_for(smaller))
                yield [*rest, cut], group.moves
            if line.arrival_week + late < self.p.weeks:
                yield [*rest, _shift(line, late)], group.moves
            if kind != "warehouse_capacity" and line.order_week > 0:
                yield [*rest, _shift(line, -1)], group.moves  # into an earlier week's slack
        if kind == "warehouse_capacity":
            for k, move in enumerate(group.moves):
                if move.to_warehouse == who and move.week <= t:
                    rest_moves = group.moves[:k] + group.moves[k + 1 :]
                    yield group.lines, rest_moves
                    vol = series[(move.sku, move.to_warehouse)].volume_cm3
                    keep = move.quantity - -(-need // max(1, vol))
                    if keep > 0:
                        yield group.lines, [*rest_moves, replace(move, quantity=keep)]


def _covered(
    problem: Problem, lines: list[OrderLine], moves: list[TransferLine]
) -> tuple[list[TransferLine], Evaluation]:
    """Trim the transfers out of a warehouse that a smaller order no longer covers."""
    new = evaluate(problem, lines, moves)
    for _ in range(problem.weeks):  # each pass settles at least the earliest uncovered week
        short = [v for v in new.violations if v.constraint == "transfer_stock"]
        if not short or len(short) < len(new.violations):
            break
        v = short[0]
        excess, trimmed = v.excess, []
        for move in sorted(moves, key=lambda m: -m.quantity):
            source = f"{move.sku} at {move.from_warehouse}"
            if excess > 0 and source == v.where and move.week == v.week:
                cut = min(excess, move.quantity)
                excess -= cut
                if move.quantity > cut:
                    trimmed.append(replace(move, quantity=move.quantity - cut))
            else:
                trimmed.append(move)
        moves = trimmed
        new = evaluate(problem, lines, moves)
    return moves, new


def _shift(line: OrderLine, weeks: int) -> OrderLine:
    return replace(line, order_week=line.order_week + weeks, arrival_week=line.arrival_week + weeks)


def _option(options: Sequence[SupplyOption], line: OrderLine) -> SupplyOption:
    lead = line.arrival_week - line.order_week
    return next(o for o in options if (o.supplier, o.lead_time_weeks) == (line.supplier, lead))


def repair_plan(
    problem: Problem,
    groups: Sequence[Sequence[int]],
    lines: Sequence[OrderLine],
    moves: Sequence[TransferLine],
) -> tuple[list[OrderLine], list[TransferLine], list[Row]]:
    """The plan trimmed to keep every coupling limit, and any limit that could not be kept."""
    state = Repair(problem, groups, lines, moves)
    over = state.run()
    lines, moves, _ = state.plan()
    return lines, moves, over
