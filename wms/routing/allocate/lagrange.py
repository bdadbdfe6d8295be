"""A lower bound for a large batch: Lagrangian relaxation of the stock limits, by subgradient.

Every unit taken from (warehouse, SKU) is charged a price ``lam[w, sku] >= 0`` instead of being
limited by the stock. Orders then no longer compete, and each one's best plan is found exactly:
for every set of warehouses (up to as many as it has lines) each line takes its cheapest member
or stays unfilled, plus the fees for the set's size. For any prices,

    L(lam) = sum over orders of their best priced plan - sum of lam * stock

is at most the cost of any plan that keeps to the stock, so the best L found is a proven lower
bound. Its maximum over prices is at least the LP relaxation's bound: each order's plan is whole,
which the LP's fractional shipments are not. The prices also say which stock is scarce; ``heuristic.sequential``
planned at these prices is the batch solver's main source of good plans.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from wms.routing.allocate.costs import FloatArray, IntArray
from wms.routing.allocate.problem import UNFILLED, BatchProblem

# Cap on (lines x warehouse sets x set size) per set size; past it, an order's bigger sets are
# bounded (fees + cheapest lines) instead of enumerated, which keeps L a valid bound.
WORK_CAP = 30_000_000


def _blocks(starts: IntArray, counts: IntArray) -> IntArray:
    """The positions of consecutive blocks: starts[i] .. starts[i] + counts[i] - 1, in order."""
    offsets = np.cumsum(counts) - counts
    return np.repeat(starts - offsets, counts) + np.arange(int(counts.sum()))


@dataclass
class Subproblems:
    """Each order's best priced plan: its value, and the warehouse (or -1) of every line."""

    value: FloatArray  # per order
    choice: IntArray  # per line (in the problem's line numbering)
    exact: bool


class Relaxation:
    """The priced per-order problems of one batch, set up once and solved for many prices."""

    def __init__(self, problem: BatchProblem) -> None:
        self.problem = problem
        self.perm = np.argsort(problem.order, kind="stable")  # lines grouped by order
        self.count = np.bincount(problem.order, minlength=problem.orders)
        self.starts = np.cumsum(self.count) - self.count
        qty = problem.qty[self.perm].astype(np.float64)
        self.qty, self.sku = qty, problem.sku[self.perm]
        fits = problem.qty[self.perm][:, None] <= problem.stock[:, self.sku].T
        self.base = np.where(fits, problem.unit_cost[self.perm] * qty[:, None], np.inf)
        self.unfilled = problem.penalties.unfilled_unit * qty
        w = problem.warehouses
        self.fees = np.array([problem.penalties.order_fees(m) for m in range(w + 1)], float)
        self.largest = min(w, int(self.count.max(initial=0)))
        self.combos: dict[int, IntArray] = {}

    def _combos(self, size: int) -> IntArray:
        if size not in self.combos:
            w = self.problem.warehouses
            self.combos[size] = np.array(list(itertools.combinations(range(w), size)))
        return self.combos[size]

    def solve(self, lam: FloatArray) -> Subproblems:
        """Every order's best plan with each unit from (w, sku) costing ``lam[w, sku]`` more."""
        priced = self.base + lam[:, self.sku].T * self.qty[:, None]
        capped = np.minimum(priced, self.unfilled[:, None])
        has_lines = self.count > 0
        cheapest = np.zeros(len(self.count))
        cheapest[has_lines] = np.add.reduceat(capped.min(axis=1), self.starts[has_lines])
        best = np.zeros(len(self.count))
        best[has_lines] = np.add.reduceat(self.unfilled, self.starts[has_lines])
        size = np.zeros(len(self.count), dtype=np.int64)
        combo = np.zeros(len(self.count), dtype=np.int64)
        exact = True
        for s in range(1, self.largest + 1):
            active = np.flatnonzero((self.count >= s) & (self.fees[s] + cheapest < best))
            if active.size == 0:
                break
            n_sets = math.comb(self.problem.warehouses, s)
            if int(self.count[active].sum()) * n_sets * s > WORK_CAP:
                best[active] = np.minimum(best[active], self.fees[s] + cheapest[active])
                exact = False
                break
            sets = self._combos(s)
            totals = self._set_values(capped, active, sets) + self.fees[s]
            pick = totals.argmin(axis=1)
            value = totals[np.arange(len(active)), pick]
            better = value < best[active]
            best[active[better]] = value[better]
            size[active[better]], combo[active[better]] = s, pick[better]
        choice = self._choices(priced, size, combo)
        return Subproblems(best, choice, exact)

    def _set_values(self, capped: FloatArray, active: IntArray, sets: IntArray) -> FloatArray:
        """[active orders, sets]: the sum over an order's lines of its cheapest member."""
        counts = self.count[active]
        rows = _blocks(self.starts[active], counts)
        local = np.cumsum(counts) - counts
        out = np.empty((len(active), len(sets)))
        widest = int(counts.max())  # lines of the largest order: bounds a chunk's memory
        chunk = max(1, 4_000_000 // (len(sets) * sets.shape[1] * widest))
        for first in range(0, len(active), chunk):
            part = slice(first, first + chunk)
            lo, hi = local[part][0], local[part][-1] + counts[part][-1]
            values = capped[rows[lo:hi]][:, sets].min(axis=2)
            out[part] = np.add.reduceat(values, local[part] - lo, axis=0)
        return out

    def _choices(self, priced: FloatArray, size: IntArray, combo: IntArray) -> IntArray:
        choice = np.full(self.problem.lines, UNFILLED, dtype=np.int64)
        for s in range(1, self.largest + 1):
            orders = np.flatnonzero(size == s)
            if orders.size == 0:
                continue
            rows = _blocks(self.starts[orders], self.count[orders])
            members = self._combos(s)[np.repeat(combo[orders], self.count[orders])]
            costs = priced[rows[:, None], members]
            pick = costs.argmin(axis=1)
            at = np.arange(len(rows))
            filled = costs[at, pick] < self.unfilled[rows]
            choice[self.perm[rows[filled]]] = members[at, pick][filled]
        return choice

    def usage(self, choice: IntArray) -> FloatArray:
        """Units each (warehouse, SKU) would ship under ``choice``."""
        use = np.zeros(self.problem.stock.shape)
        filled = choice != UNFILLED
        np.add.at(use, (choice[filled], self.problem.sku[filled]), self.problem.qty[filled])
        return use


@dataclass
class DualAscent:
    """Subgradient steps on the prices (Polyak's step towards ``upper``, halved on a stall)."""

    relaxation: Relaxation
    upper: float
    scale: float = 2.0
    patience: int = 10
    iteration: int = 0
    bound: float = -math.inf
    prices: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    best_prices: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    last_choice: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _stall: int = 0

    def __post_init__(self) -> None:
        shape = self.relaxation.problem.stock.shape
        self.prices, self.best_prices = np.zeros(shape), np.zeros(shape)

    def step(self) -> float:
        """One subgradient step; returns L at the prices it started from."""
        stock = self.relaxation.problem.stock
        sub = self.relaxation.solve(self.prices)
        self.last_choice = sub.choice
        value = float(sub.value.sum() - (self.prices * stock).sum())
        self.iteration += 1
        if value > self.bound + 1e-6 * max(1.0, abs(value)):
            self.bound, self.best_prices, self._stall = value, self.prices.copy(), 0
        else:
            self._stall += 1
            if self._stall >= self.patience:
                self.scale, self._stall = self.scale / 2, 0
        slack: npt.NDArray[np.float64] = self.relaxation.usage(sub.choice) - stock
        slack[(self.prices <= 0) & (slack < 0)] = 0  # a price at 0 cannot fall
        norm = float((slack * slack).sum())
        if norm > 0:
            step = self.scale * max(self.upper - value, 1.0) / norm
            self.prices = np.maximum(0.0, self.prices + step * slack)
        return value
