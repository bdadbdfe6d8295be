"""An exact dynamic programme for the model of one series that no transfer lane links.

Once the coupling constraints are priced, such a series is a single-item lot-sizing problem with
lost sales. CP-SAT needs some 10-40 ms to prove one optimal, too slow for 50,000 series per
Lagrangian iteration; this DP solves the same model (it reads the bounds, tiers and objective
coefficients of the built model, so it cannot drift from it) in about a millisecond.

The state is the stock at the end of a week, up to the variable's upper bound. An order slot is a
min-plus convolution with "nothing, or a fixed cost plus a price per pack over a range of packs",
which is a sliding-window minimum per residue modulo the pack. Selling is greedy (sell all you
can): the model only lets a solver hold back sales where that never pays, so the optimum is equal.
Costs are float64, exact for the integers involved (below 2**53).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wms.procurement.planning.model import BuiltModel, OrderSlot
from wms.procurement.planning.problem import Problem

Costs = npt.NDArray[np.float64]
_INF = np.inf
_COUNT = np.arange(1 << 16, dtype=np.float64)  # sliced, never copied: 0, 1, 2, ...


def _count(n: int) -> Costs:
    return _COUNT[:n] if n <= _COUNT.size else np.arange(n, dtype=np.float64)


def _window_min(h: Costs, lo: int, hi: int) -> Costs:
    """out[j] = min(h[max(0, j - hi) .. j - lo]) along axis 0, inf where that range is empty."""
    rows = h.shape[0]
    width = min(hi - lo + 1, rows)
    if width >= rows - lo:  # the window reaches back to 0 for every j: a running minimum
        trailing, cover = np.minimum.accumulate(h, axis=0), width
    else:
        trailing, cover = h, 1
    while cover < width:  # doubling: each pass widens the trailing window
        step = min(cover, width - cover)
        wider = trailing.copy()
        np.minimum(trailing[step:], trailing[:-step], out=wider[step:])
        trailing, cover = wider, cover + step
    if lo == 0:
        return trailing
    if lo >= rows:
        return np.full_like(h, _INF)
    out = np.empty_like(h)
    out[:lo] = _INF
    out[lo:] = trailing[: rows - lo]
    return out


@dataclass
class _Slot:
    slot: OrderSlot
    supplier: str
    pack: int
    fixed: int  # the option's fixed cost per order, for a spending cap
    fixed_var: int
    tiers: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True)
class Caps:
    """Hard limits for one solve: what one order may take of a week, and stock per week."""

    units: Mapping[str, Sequence[int]]  # per supplier and order week
    spend: Sequence[int] | None  # per order week
    stock: Sequence[int] | None  # per week


class SeriesDP:
    """The exact optimum of one unlinked series' model for any objective coefficients."""

    def __init__(self, problem: Problem, built: BuiltModel, i: int) -> None:
        s = problem.series[i]
        self.weeks = problem.weeks
        self.on_hand = s.on_hand
        self.incoming = s.incoming or (0,) * problem.weeks
        self.demand = s.demand
        self.safety = s.safety_stock
        self.stock, self.short = built.stock[i], built.short[i]
        self.below, self.out = built.below[i], built.out[i]
        self.closing, self.cover = built.closing[i], s.closing_cover
        self.ub = [built.model.ub[v] for v in self.stock]
        self.n_vars = len(built.model.lb)
        self.arriving: list[list[_Slot]] = [[] for _ in range(problem.weeks)]
        for slot in built.slots:
            if slot.series == i:
                o = s.options[slot.option]
                self.arriving[slot.arrival].append(
                    _Slot(slot, o.supplier, o.pack, o.fixed_cost, slot.placed, slot.tiers)
                )

    def _capped(self, x: _Slot, caps: Caps | None) -> tuple[tuple[int, int, int, int], ...]:
        """The slot's tiers, their highest pack counts cut to the caps."""
        if caps is None:
            return x.tiers
        t = x.slot.week
        units = caps.units.get(x.supplier)
        out = []
        for (z, m, lo, hi), unit in zip(x.tiers, x.slot.unit_costs, strict=True):
            top = hi if units is None else min(hi, units[t] // x.pack)
            if caps.spend is not None and unit > 0:
                top = min(top, (caps.spend[t] - x.fixed) // (unit * x.pack))
            elif caps.spend is not None and caps.spend[t] < x.fixed:
                top = -1
            if top >= lo:
                out.append((z, m, lo, top))
        return tuple(out)

    def _order(
        self, a: Costs, x: _Slot, tiers: tuple[tuple[int, int, int, int], ...], c: list[int]
    ) -> Costs:
        n, p = a.shape[0], x.pack
        rows = -(-n // p)
        if p == 1:
            padded = a
        else:
            padded = np.full(rows * p, _INF)
            padded[:n] = a
        grid = padded.reshape(rows, p)
        best = padded.copy()
        j = _count(rows)[:, None]
        for z, m, lo, hi in tiers:
            fixed = float(c[x.fixed_var] + (c[z] if z != x.fixed_var else 0))
            per_pack = float(c[x.slot.packs] + (c[m] if m != x.slot.packs else 0))
            slope = per_pack * j
            reach = _window_min(grid - slope, lo, hi)
            reach += slope
            reach += fixed
            np.minimum(best, reach.reshape(-1), out=best)
        return best[:n]

    def solve(
        self, c: npt.NDArray[np.int64], caps: Caps | None = None
    ) -> tuple[int, list[int]] | None:
        """(optimal objective, one value per model variable), or None if infeasible."""
        self.tiers = [[self._capped(x, caps) for x in slots] for slots in self.arriving]
        coefs: list[int] = c.tolist()  # Python ints index faster than numpy scalars
        ub = self.ub
        if caps is not None and caps.stock is not None:
            ub = [min(u, v) for u, v in zip(self.ub, caps.stock, strict=True)]
        value: Costs = np.full(self.on_hand + 1, _INF)
        value[self.on_hand] = 0.0
        history: list[tuple[list[Costs], Costs]] = []
        for t in range(self.weeks):
            d, inc = self.demand[t], self.incoming[t]
            size = ub[t] + d + 1
            avail = np.full(size, _INF)
            if inc < size:
                keep = min(len(value), size - inc)
                avail[inc : inc + keep] = value[:keep]
            befores = []
            for x, tiers in zip(self.arriving[t], self.tiers[t], strict=True):
                befores.append(avail)
                avail = self._order(avail, x, tiers, coefs)
            history.append((befores, avail))
            value = self._sell(avail, t, ub[t], coefs)
            if not np.isfinite(value).any():
                return None
        end = int(np.argmin(value))
        return int(value[end]), self._values(history, end, coefs)

    def _sell(self, avail: Costs, t: int, ub: int, c: list[int]) -> Costs:
        d = self.demand[t]
        level = _count(ub + 1)
        value = np.empty(ub + 1)
        value[1:] = avail[1 + d : ub + 1 + d]
        if d > 0:
            lost = _count(d + 1)[::-1]  # short when d - x units are there
            value[0] = np.min(avail[: d + 1] + float(c[self.short[t]]) * lost)
        else:
            value[0] = avail[0]
        value += float(c[self.stock[t]]) * level
        if self.below[t] >= 0 and self.safety > 0:
            short_of = min(self.safety, ub + 1)
            value[:short_of] += float(c[self.below[t]]) * (self.safety - level[:short_of])
        if t == self.weeks - 1 and self.closing >= 0:
            under = min(self.cover, ub + 1)
            value[:under] += float(c[self.closing]) * (self.cover - level[:under])
        return value

    def _values(
        self, history: list[tuple[list[Costs], Costs]], end: int, c: list[int]
    ) -> list[int]:
        """Walk back through the weeks to the decisions behind the optimum."""
        values = [0] * self.n_vars
        level = end
        for t in range(self.weeks - 1, -1, -1):
            befores, avail = history[t]
            d = self.demand[t]
            if level > 0 or d == 0:
                x = level + d
            else:
                lost = _count(d + 1)[::-1]
                x = int(np.argmin(avail[: d + 1] + float(c[self.short[t]]) * lost))
            values[self.stock[t]] = level
            if d > 0:
                values[self.short[t]] = max(0, d - x)
                if self.out[t] >= 0:
                    values[self.out[t]] = int(d > x)
            if self.below[t] >= 0:
                values[self.below[t]] = max(0, self.safety - level)
            if t == self.weeks - 1 and self.closing >= 0:
                values[self.closing] = max(0, self.cover - level)
            slots = zip(self.arriving[t], self.tiers[t], befores, strict=True)
            for slot, tiers, before in reversed(list(slots)):
                x -= self._chosen(slot, tiers, before, avail, x, c, values)
                avail = before
            level = x - self.incoming[t]
        return values

    @staticmethod
    def _chosen(
        x: _Slot,
        tiers: tuple[tuple[int, int, int, int], ...],
        before: Costs,
        after: Costs,
        at: int,
        c: list[int],
        values: list[int],
    ) -> int:
        """Units the slot brought to reach ``after[at]``; records its variables."""
        if before[at] == after[at]:
            return 0
        for z, m, lo, hi in tiers:
            fixed = float(c[x.fixed_var] + (c[z] if z != x.fixed_var else 0))
            per_pack = float(c[x.slot.packs] + (c[m] if m != x.slot.packs else 0))
            top = min(hi, at // x.pack)
            if top < lo:
                continue
            packs = np.arange(lo, top + 1)
            cost = before[at - packs * x.pack] + fixed + per_pack * packs
            hit = np.flatnonzero(cost == after[at])
            if hit.size:
                n = int(packs[hit[0]])
                values[x.fixed_var] = 1
                values[x.slot.packs] = n
                values[z] = 1
                values[m] = n
                return n * x.pack
        raise AssertionError("the order slot's choice could not be traced back")
