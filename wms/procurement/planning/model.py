"""The one model builder: the MIP of ``problem.py``, written against a backend-neutral sink.

Both backends consume the ``LinearModel`` this writes (CP-SAT renders it as a proto, PuLP as an
``LpProblem``), so they solve exactly the same numbers. Every variable is an integer with finite
bounds, every coefficient an integer (cost points, units, cm3).

Bounds are kept tight because they are the big-M values of the model and CP-SAT's domains:

* an order never needs more than the demand its units can still meet (the SKU's demand from its
  arrival week on, in every warehouse a transfer lane reaches) plus those warehouses' safety
  stock plus its smallest order, unless a price break lies above that: trimming a pack from a
  bigger order keeps every later week above safety stock, and costs no more;
* an order slot is left out when it would arrive after the horizon, when the supplier's capacity
  or the week's budget cannot pay for its smallest order, and its packs are capped by both;
* stock is capped by what can have arrived by then and by the warehouse capacity over its volume.

Lost sales are exact: when safety stock is priced (or stock can leave by a transfer) the solver
could prefer not to sell, so a "stocked out" binary lets ``short`` be positive only at zero stock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from wms.procurement.planning.linear import LinearModel, ModelSink
from wms.procurement.planning.problem import OrderLine, PriceBreak, Problem, TransferLine

CouplingKind = Literal["budget", "supplier_capacity", "warehouse_capacity"]
RowKey = tuple[CouplingKind, str, int]  # (kind, supplier or warehouse or "", week)


@dataclass(frozen=True)
class OrderSlot:
    """An order one supply option of one series may place in one week, and its variables."""

    series: int
    option: int
    week: int
    arrival: int
    placed: int  # binary
    packs: int  # integer packs
    tiers: tuple[tuple[int, int, int, int], ...]  # (binary, packs, lowest, highest) per break
    unit_costs: tuple[int, ...]  # the price of a unit in each of those breaks


@dataclass(frozen=True)
class TransferSlot:
    sku: str
    source: int  # series index
    target: int
    week: int
    var: int


@dataclass
class BuiltModel:
    """The model and where its decisions live, to read a plan back from variable values."""

    model: LinearModel
    slots: list[OrderSlot]
    transfers: list[TransferSlot]
    stock: list[list[int]]  # [series][week]
    short: list[list[int]]  # [series][week], -1 where demand is 0
    below: list[list[int]]  # [series][week], -1 where safety stock is not priced
    out: list[list[int]]  # [series][week], -1 where lost sales need no binary
    closing: list[int]  # [series]: units ended below the closing cover, -1 where not priced
    coupling: dict[RowKey, tuple[list[int], list[int], int]]  # row -> (vars, coefs, capacity)

    def plan(
        self, problem: Problem, values: Sequence[int]
    ) -> tuple[list[OrderLine], list[TransferLine]]:
        """The order and transfer lines of a solution given as one value per variable."""
        lines = []
        for slot in self.slots:
            packs = values[slot.packs]
            if packs > 0:
                s = problem.series[slot.series]
                o = s.options[slot.option]
                q = packs * o.pack
                lines.append(
                    OrderLine(s.sku, s.warehouse, o.supplier, slot.week, slot.arrival, q,
                              o.unit_cost_for(q))
                )  # fmt: skip
        moves = [
            TransferLine(
                t.sku,
                problem.series[t.source].warehouse,
                problem.series[t.target].warehouse,
                t.week,
                values[t.var],
            )
            for t in self.transfers
            if values[t.var] > 0
        ]
        return lines, moves

    def hint(
        self, problem: Problem, lines: Sequence[OrderLine], moves: Sequence[TransferLine]
    ) -> dict[int, int]:
        """Values of the order and transfer variables that reproduce a plan (a solver's hint)."""
        ordered = {
            (x.sku, x.warehouse, x.supplier, x.order_week, x.arrival_week): x.quantity
            for x in lines
        }
        values: dict[int, int] = {}
        for slot in self.slots:
            s = problem.series[slot.series]
            o = s.options[slot.option]
            q = ordered.get((s.sku, s.warehouse, o.supplier, slot.week, slot.arrival), 0)
            for z, m, lo, hi in slot.tiers:
                chosen = q > 0 and lo <= q // o.pack <= hi
                values[z], values[m] = (1, q // o.pack) if chosen else (0, 0)
            values[slot.placed] = int(q > 0)  # a single tier shares these variables
            values[slot.packs] = q // o.pack
        moved = {(m.sku, m.from_warehouse, m.to_warehouse, m.week): m.quantity for m in moves}
        for t in self.transfers:
            key = (t.sku, problem.series[t.source].warehouse, problem.series[t.target].warehouse)
            values[t.var] = moved.get((*key, t.week), 0)
        return values


def components(problem: Problem) -> list[list[int]]:
    """Series that only a transfer lane links: without lanes, every series stands alone."""
    parent = list(range(len(problem.series)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    at = {s.key: i for i, s in enumerate(problem.series)}
    for lane in problem.transfers:
        for i, s in enumerate(problem.series):
            if s.warehouse == lane.from_warehouse and (s.sku, lane.to_warehouse) in at:
                parent[root(i)] = root(at[(s.sku, lane.to_warehouse)])
    groups: dict[int, list[int]] = {}
    for i in range(len(problem.series)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def build_model(
    problem: Problem, *, relax_coupling: bool = False, names: bool = True
) -> BuiltModel:
    """Write the replenishment MIP; with ``relax_coupling`` the coupling rows are only recorded."""
    model = LinearModel(wants_names=names)
    b = _Builder(problem, model, relax_coupling)
    b.build()
    return BuiltModel(
        model, b.slots, b.moves, b.stock, b.short, b.below, b.out, b.closing, b.coupling
    )


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class _Builder:
    def __init__(self, problem: Problem, sink: ModelSink, relax: bool) -> None:
        self.p = problem
        self.m = sink
        self.relax = relax
        self.obj: dict[int, int] = {}
        self.coupling: dict[RowKey, tuple[list[int], list[int], int]] = {}
        n, weeks = len(problem.series), problem.weeks
        self.arrive: list[list[tuple[int, int]]] = [[] for _ in range(n * weeks)]
        self.leave: list[list[int]] = [[] for _ in range(n * weeks)]
        self.arrive_max = [[0] * weeks for _ in range(n)]
        self.slots: list[OrderSlot] = []
        self.moves: list[TransferSlot] = []
        self.stock: list[list[int]] = []
        self.short: list[list[int]] = []
        self.below: list[list[int]] = []
        self.out: list[list[int]] = []
        self.closing: list[int] = []
        self.reach_demand = [[0] * (weeks + 1) for _ in range(n)]  # by arrival week
        self.reach_safety = [0] * n
        self.linked: set[int] = set()
        for group in components(problem):
            tail = [sum(problem.series[i].demand[t] for i in group) for t in range(weeks)]
            suffix = [0] * (weeks + 1)
            for t in range(weeks - 1, -1, -1):
                suffix[t] = suffix[t + 1] + tail[t]
            safety = sum(problem.series[i].end_target for i in group)
            for i in group:
                self.reach_demand[i] = suffix
                self.reach_safety[i] = safety
                if len(group) > 1:
                    self.linked.add(i)

    def name(self, *parts: object) -> str:
        return "_".join(map(str, parts)) if self.m.wants_names else ""

    def couple(self, key: RowKey, capacity: int, var: int, coef: int) -> None:
        row = self.coupling.get(key)
        if row is None:
            row = self.coupling[key] = ([], [], capacity)
        row[0].append(var)
        row[1].append(coef)

    def cost(self, var: int, coef: int) -> None:
        if coef:
            self.obj[var] = self.obj.get(var, 0) + coef

    def build(self) -> None:
        for i in range(len(self.p.series)):
            self.order_slots(i)
        self.transfer_slots()
        for i in range(len(self.p.series)):
            self.flow(i)
        if not self.relax:
            for (kind, who, week), (vs, cs, cap) in self.coupling.items():
                self.m.add_constraint(vs, cs, None, cap, self.name(kind, who or "all", week))
        self.m.set_objective(list(self.obj), list(self.obj.values()))

    def order_slots(self, i: int) -> None:
        p, s = self.p, self.p.series[i]
        for k, o in enumerate(s.options):
            smallest = o.smallest_order
            top = _ceil_div(o.price_breaks[-1].min_quantity, o.pack) * o.pack
            supplier_caps = p.supplier_capacity.get(o.supplier)
            cheapest = min(b.unit_cost for b in o.price_breaks)
            for t in range(p.weeks - o.lead_time_weeks):
                arrival = t + o.lead_time_weeks
                need = self.reach_demand[i][arrival] + self.reach_safety[i] + smallest
                cap = max(_ceil_div(need, o.pack) * o.pack, top)
                if supplier_caps is not None:
                    cap = min(cap, supplier_caps[t])
                money = None if p.budget is None else p.budget[t] - o.fixed_cost
                if money is not None and cheapest > 0:
                    cap = min(cap, max(money, 0) // cheapest)
                tiers = self.tiers(o.price_breaks, o.pack, smallest, cap, money)
                if tiers:
                    self.order_slot(i, k, t, arrival, tiers)

    @staticmethod
    def tiers(
        breaks: Sequence[PriceBreak], pack: int, smallest: int, cap: int, money: int | None
    ) -> list[tuple[int, int, int]]:
        """(lowest packs, highest packs, unit cost) of each all-units break an order can use."""
        out: list[tuple[int, int, int]] = []
        if money is not None and money < 0:
            return out  # the fixed cost alone is over the week's budget
        for b, brk in enumerate(breaks):
            lo_units = max(brk.min_quantity, smallest)
            hi_units = breaks[b + 1].min_quantity - 1 if b + 1 < len(breaks) else cap
            unit = brk.unit_cost
            hi = min(hi_units, cap) // pack
            if money is not None and unit > 0:
                hi = min(hi, money // (unit * pack))
            lo = _ceil_div(lo_units, pack)
            if lo <= hi:
                out.append((lo, hi, unit))
        return out

    def order_slot(
        self, i: int, k: int, t: int, arrival: int, tiers: list[tuple[int, int, int]]
    ) -> None:
        s = self.p.series[i]
        o = s.options[k]
        top = max(hi for _, hi, _ in tiers)
        placed = self.m.add_var(0, 1, binary=True, name=self.name("order", i, k, t))
        packs = self.m.add_var(0, top, binary=False, name=self.name("packs", i, k, t))
        self.cost(placed, o.fixed_cost)
        if len(tiers) == 1:
            lo, hi, unit = tiers[0]
            self.m.add_constraint([packs, placed], [1, -lo], 0, None, self.name("moq", i, k, t))
            self.m.add_constraint([packs, placed], [1, -hi], None, 0, self.name("max", i, k, t))
            self.cost(packs, unit * o.pack)
            priced = [(packs, unit)]
            recorded = [(placed, packs, lo, hi)]
        else:
            chosen, amounts, priced, recorded = [], [], [], []
            for b, (lo, hi, unit) in enumerate(tiers):
                z = self.m.add_var(0, 1, binary=True, name=self.name("tier", i, k, t, b))
                q = self.m.add_var(0, hi, binary=False, name=self.name("tierpacks", i, k, t, b))
                self.m.add_constraint([q, z], [1, -lo], 0, None, self.name("tierlo", i, k, t, b))
                self.m.add_constraint([q, z], [1, -hi], None, 0, self.name("tierhi", i, k, t, b))
                self.cost(q, unit * o.pack)
                chosen.append(z)
                amounts.append(q)
                priced.append((q, unit))
                recorded.append((z, q, lo, hi))
            self.m.add_constraint(
                [*chosen, placed], [1] * len(chosen) + [-1], 0, 0, self.name("onetier", i, k, t)
            )
            self.m.add_constraint(
                [*amounts, packs], [1] * len(amounts) + [-1], 0, 0, self.name("tiersum", i, k, t)
            )
        if self.p.budget is not None:
            key: RowKey = ("budget", "", t)
            for q, unit in priced:
                self.couple(key, self.p.budget[t], q, unit * o.pack)
            self.couple(key, self.p.budget[t], placed, o.fixed_cost)
        caps = self.p.supplier_capacity.get(o.supplier)
        if caps is not None:
            self.couple(("supplier_capacity", o.supplier, t), caps[t], packs, o.pack)
        self.arrive[i * self.p.weeks + arrival].append((packs, o.pack))
        self.arrive_max[i][arrival] += top * o.pack
        self.slots.append(
            OrderSlot(
                i, k, t, arrival, placed, packs, tuple(recorded), tuple(u for _, _, u in tiers)
            )
        )

    def transfer_slots(self) -> None:
        at = {s.key: i for i, s in enumerate(self.p.series)}
        weeks = self.p.weeks
        for li, lane in enumerate(self.p.transfers):
            for i, s in enumerate(self.p.series):
                j = at.get((s.sku, lane.to_warehouse))
                if s.warehouse != lane.from_warehouse or j is None:
                    continue
                for t in range(weeks - lane.lead_time_weeks):
                    arrival = t + lane.lead_time_weeks
                    top = self.reach_demand[j][arrival] + self.reach_safety[j]
                    if top <= 0:
                        continue
                    x = self.m.add_var(0, top, binary=False, name=self.name("move", li, i, t))
                    self.cost(x, lane.unit_cost)
                    self.leave[i * weeks + t].append(x)
                    self.arrive[j * weeks + arrival].append((x, 1))
                    self.arrive_max[j][arrival] += top
                    self.moves.append(TransferSlot(s.sku, i, j, t, x))

    def stock_caps(self, i: int) -> list[int]:
        """Stock an optimal plan never exceeds at the end of each week (see the module doc)."""
        s, weeks = self.p.series[i], self.p.weeks
        reach, level, caps = s.on_hand, s.on_hand, []
        fits = self.p.warehouse_capacity.get(s.warehouse)
        room = fits // s.volume_cm3 if fits is not None and s.volume_cm3 > 0 else None
        # Trimming the last order that arrived by week t by one pack (or dropping a small
        # one) keeps every later week above safety stock once stock exceeds what is still
        # demanded + safety stock + that order + anything still on order: it only saves.
        extra = max(
            (max(o.smallest_order, _ceil_div(o.price_breaks[-1].min_quantity, o.pack) * o.pack)
             + o.pack for o in s.options),
            default=0,
        ) + sum(s.incoming)  # fmt: skip
        tail = self.own_demand_after(i)
        for t in range(weeks):
            incoming = s.incoming[t] if s.incoming else 0
            reach += incoming + self.arrive_max[i][t]
            level = max(0, level + incoming - s.demand[t])  # no order at all: sell what is there
            cap = (
                reach
                if i in self.linked
                else min(reach, max(level, tail[t] + s.end_target + extra))
            )
            caps.append(cap if room is None else min(cap, room))
        return caps

    def own_demand_after(self, i: int) -> list[int]:
        demand = self.p.series[i].demand
        tail = [0] * len(demand)
        for t in range(len(demand) - 2, -1, -1):
            tail[t] = tail[t + 1] + demand[t + 1]
        return tail

    def flow(self, i: int) -> None:
        """Stock balance, lost sales, safety stock and warehouse capacity of one series."""
        p, s, m, weeks = self.p, self.p.series[i], self.m, self.p.weeks
        wh_cap = p.warehouse_capacity.get(s.warehouse)
        priced_safety = s.safety_stock > 0 and s.below_safety_cost > 0
        priced_end = s.closing_cover > 0 and s.closing_cost > 0
        exact_sales = i in self.linked or priced_safety or priced_end
        previous: int | None = None
        stocks, shorts, belows, outs = [], [], [], []
        for t, top in enumerate(self.stock_caps(i)):
            incoming = s.incoming[t] if s.incoming else 0
            stock = m.add_var(0, top, binary=False, name=self.name("stock", i, t))
            self.cost(stock, s.holding_cost)
            vs, cs = [stock], [1]
            if previous is not None:
                vs.append(previous)
                cs.append(-1)
            for var, coef in self.arrive[i * weeks + t]:
                vs.append(var)
                cs.append(-coef)
            for var in self.leave[i * weeks + t]:
                vs.append(var)
                cs.append(1)
            demand, short, out, below = s.demand[t], -1, -1, -1
            if demand > 0:
                short = m.add_var(0, demand, binary=False, name=self.name("short", i, t))
                self.cost(short, s.shortage_cost)
                vs.append(short)
                cs.append(-1)
                if exact_sales:
                    out = m.add_var(0, 1, binary=True, name=self.name("out", i, t))
                    m.add_constraint([short, out], [1, -demand], None, 0, self.name("lost", i, t))
                    m.add_constraint([stock, out], [1, top], None, top, self.name("empty", i, t))
            rhs = incoming - demand + (s.on_hand if previous is None else 0)
            m.add_constraint(vs, cs, rhs, rhs, self.name("balance", i, t))
            if priced_safety:
                below = m.add_var(0, s.safety_stock, binary=False, name=self.name("below", i, t))
                self.cost(below, s.below_safety_cost)
                m.add_constraint(
                    [below, stock], [1, 1], s.safety_stock, None, self.name("safety", i, t)
                )
            if wh_cap is not None and s.volume_cm3 > 0:
                self.couple(("warehouse_capacity", s.warehouse, t), wh_cap, stock, s.volume_cm3)
            previous = stock
            stocks.append(stock)
            shorts.append(short)
            belows.append(below)
            outs.append(out)
        self.closing.append(self.closing_shortfall(i, stocks[-1]) if priced_end else -1)
        self.stock.append(stocks)
        self.short.append(shorts)
        self.below.append(belows)
        self.out.append(outs)

    def closing_shortfall(self, i: int, last: int) -> int:
        """The units the series ends below its closing cover, priced at ``closing_cost``."""
        s = self.p.series[i]
        var = self.m.add_var(0, s.closing_cover, binary=False, name=self.name("closing", i))
        self.cost(var, s.closing_cost)
        self.m.add_constraint([var, last], [1, 1], s.closing_cover, None, self.name("end", i))
        return var
