"""Column generation: the best scarcity prices, and the Lagrangian bound they prove.

The restricted master LP chooses, for every order, a mix of whole plans (columns) that sums to
one, within the stock of every contested (warehouse, SKU):

    min sum c_p z_p   s.t.   sum_{p of o} z_p = 1 (each order),
                             sum_p use_p[w, s] z_p <= stock[w, s] (contested cells),  z >= 0.

Its duals on the stock rows are prices; each order's best plan at those prices
(``lagrange.Relaxation``) either has a negative reduced cost (a new column) or proves the LP
optimal. At any prices the Lagrangian value is a valid lower bound, and at the LP's optimum it
equals the best bound this relaxation can give (at least the plain LP relaxation's). The pool
starts from the plans the subgradient steps and the heuristics already found, so few rounds are
needed. HiGHS is imported here and in ``mip`` only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from highspy._core import HighsModelStatus, _Highs

from wms.routing.allocate.costs import FloatArray, IntArray
from wms.routing.allocate.lagrange import Relaxation
from wms.routing.allocate.problem import UNFILLED, BatchProblem

CLOSE_ENOUGH = 5e-5  # stop when the bound is this close (relative) to the master LP's value


@dataclass(frozen=True)
class Priced:
    """The outcome of column generation: the prices, the best bound seen, and whether the LP
    was solved to the end (then ``bound`` is the relaxation's best)."""

    prices: FloatArray | None
    bound: float
    converged: bool
    rounds: int


class Master:
    """The restricted master LP in HiGHS, and the pool of plans already in it."""

    def __init__(self, problem: BatchProblem, *, threads: int = 1) -> None:
        self.problem = problem
        self.lines = [lines.tolist() for lines in problem.order_lines()]
        pair_line, pair_wh = np.nonzero(problem.qty[:, None] <= problem.stock[:, problem.sku].T)
        cell = pair_wh * problem.stock.shape[1] + problem.sku[pair_line]
        wanted = np.bincount(cell, weights=problem.qty[pair_line], minlength=problem.stock.size)
        self.contested = np.flatnonzero(wanted > problem.stock.ravel())
        row = np.full(problem.stock.size, -1)
        row[self.contested] = problem.orders + np.arange(len(self.contested))
        self.row_of_cell = row.tolist()
        self.pool: set[tuple[int, tuple[int, ...]]] = set()
        self.highs = _Highs()
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", threads)
        # The interior point method, stopped before crossover: it solves these degenerate LPs
        # several times faster than simplex, and its duals (central, not a vertex's) are the
        # better prices for planning.
        self.highs.setOptionValue("solver", "ipm")
        self.highs.setOptionValue("run_crossover", "off")
        n = problem.orders + len(self.contested)
        stock = problem.stock.ravel()[self.contested].astype(np.float64)
        lower = np.concatenate([np.ones(problem.orders), np.full(len(stock), -math.inf)])
        upper = np.concatenate([np.ones(problem.orders), stock])
        none = np.zeros(0, dtype=np.int32)
        self.highs.addRows(n, lower, upper, 0, np.zeros(n, dtype=np.int32), none, np.zeros(0))
        self.add(np.full(problem.lines, UNFILLED, dtype=np.int64))  # always a feasible mix

    def add(self, choice: IntArray, orders: IntArray | None = None) -> int:
        """Add each order's plan in ``choice`` (a warehouse or -1 per line) not yet in the pool."""
        costs: list[float] = []
        starts: list[int] = []
        rows: list[int] = []
        values: list[float] = []
        picked = choice.tolist()
        for order in range(len(self.lines)) if orders is None else orders.tolist():
            plan = tuple(picked[line] for line in self.lines[order])
            if (order, plan) in self.pool:
                continue
            self.pool.add((order, plan))
            cost, use = self._column(order, plan)
            costs.append(float(cost))
            starts.append(len(rows))
            rows += [order, *use]
            values += [1.0, *(float(q) for q in use.values())]
        if costs:
            self.highs.addCols(
                len(costs),
                np.array(costs),
                np.zeros(len(costs)),
                np.full(len(costs), math.inf),
                len(rows),
                np.array(starts, dtype=np.int32),
                np.array(rows, dtype=np.int32),
                np.array(values),
            )
        return len(costs)

    def _column(self, order: int, plan: tuple[int, ...]) -> tuple[int, dict[int, int]]:
        """A plan's true cost and the units it takes from each contested cell, by row."""
        problem, fees = self.problem, self.problem.penalties
        skus = problem.stock.shape[1]
        cost, used, use = 0, set(), dict[int, int]()
        for line, w in zip(self.lines[order], plan, strict=True):
            qty = int(problem.qty[line])
            if w == UNFILLED:
                cost += fees.unfilled_unit * qty
                continue
            cost += int(problem.unit_cost[line, w]) * qty
            used.add(w)
            row = self.row_of_cell[w * skus + int(problem.sku[line])]
            if row >= 0:
                use[row] = use.get(row, 0) + qty
        return cost + fees.order_fees(len(used)), use

    def duals(self, time_limit: float) -> tuple[FloatArray, FloatArray, float] | None:
        """Solve the LP: the stock prices [warehouses, SKUs], each order's dual and the LP's
        value; None if it was not solved."""
        self.highs.setOptionValue("time_limit", max(0.01, time_limit))
        self.highs.run()
        if self.highs.getModelStatus() != HighsModelStatus.kOptimal:
            return None
        duals = np.asarray(self.highs.getSolution().row_dual)
        orders = self.problem.orders
        prices = np.zeros(self.problem.stock.size)
        prices[self.contested] = np.maximum(0.0, -duals[orders:])  # <= rows: duals are <= 0
        value = self.highs.getInfo().objective_function_value
        return prices.reshape(self.problem.stock.shape), duals[:orders], value


def generate(
    master: Master,
    relaxation: Relaxation,
    *,
    bound: float,
    deadline: float,
    report: Callable[[str], None],
) -> Priced:
    """Rounds of LP, pricing and new columns until no plan improves the LP or time is up."""
    prices: FloatArray | None = None
    rounds = 0
    while time.perf_counter() < deadline:
        solved = master.duals(deadline - time.perf_counter())
        if solved is None:
            return Priced(prices, bound, False, rounds)
        prices, order_duals, value = solved
        rounds += 1
        best = relaxation.solve(prices)
        # Valid even when not exact: the values are then lower bounds of each order's best.
        bound = max(bound, float(best.value.sum() - (prices * master.problem.stock).sum()))
        if value - bound <= CLOSE_ENOUGH * abs(value):  # the LP cannot fall much further
            return Priced(prices, bound, best.exact, rounds)
        improving = np.flatnonzero(best.value - order_duals < -1e-6 * np.maximum(1.0, best.value))
        added = master.add(best.choice, improving)
        report(f"column generation: round {rounds}, bound {bound:,.0f} cents, {added:,} plans")
        if added == 0:
            return Priced(prices, bound, best.exact, rounds)
    return Priced(prices, bound, False, rounds)
