"""Heuristics over a batch: a simple policy to compare against, and the solver's plans.

* ``per_line``: each line on its own to its cheapest warehouse with stock left (line order).
* ``sequential``: every order planned exactly (``plan_order``), one after another, against the
  stock the earlier ones left; at scarcity prices (``lagrange``, ``master``) an order leaves the
  stock that others need more, which is what makes the sequence good.
* ``improve``: ruin and recreate: take out a few orders that share a SKU, plan them again in a
  random order, keep the change only if the true cost fell.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence

import numpy as np

from wms.routing.allocate.costs import FloatArray, IntArray
from wms.routing.allocate.problem import UNFILLED, BatchProblem
from wms.routing.allocate.search import plan_order

Stock = dict[tuple[int, Hashable], int]


def _stock(problem: BatchProblem) -> Stock:
    rows, cols = np.nonzero(problem.stock)
    return {(int(w), int(s)): int(problem.stock[w, s]) for w, s in zip(rows, cols, strict=True)}


def per_line(problem: BatchProblem) -> IntArray:
    """Each line, in line order, to its cheapest warehouse that still has its quantity."""
    left = problem.stock.copy()
    assignment = np.full(problem.lines, UNFILLED, dtype=np.int64)
    for line in range(problem.lines):
        sku, qty = problem.sku[line], problem.qty[line]
        for w in np.argsort(problem.unit_cost[line], kind="stable"):
            if left[w, sku] >= qty:
                left[w, sku] -= qty
                assignment[line] = w
                break
    return assignment


class Planner:
    """Plans orders one at a time against shared stock, and takes them out again.

    Orders are planned at ``prices`` (cents per unit from a (warehouse, SKU), added to the unit
    cost: the scarcity prices of ``lagrange``) but every figure kept here is the true cost.
    """

    def __init__(self, problem: BatchProblem, prices: FloatArray | None = None) -> None:
        self.problem = problem
        self.left = _stock(problem)
        self.lines = [lines.tolist() for lines in problem.order_lines()]
        self.unit_cost = problem.unit_cost.tolist()
        self.priced: list[list[float]] = []
        self.reprice(prices)
        self.qty = problem.qty.tolist()
        self.sku = problem.sku.tolist()
        self.assignment = [UNFILLED] * problem.lines
        self._by_sku: dict[int, list[int]] = {}
        self.cost = [self.true_cost(order) for order in range(len(self.lines))]

    def reprice(self, prices: FloatArray | None) -> None:
        """Plan from now on at these prices (None: at the true unit costs)."""
        unit_cost = self.problem.unit_cost
        priced = unit_cost if prices is None else unit_cost + prices[:, self.problem.sku].T
        self.priced = priced.astype(np.float64).tolist()

    def true_cost(self, order: int) -> int:
        """What the order's lines cost as they are assigned now."""
        fees = self.problem.penalties
        cost, used = 0, set()
        for line in self.lines[order]:
            w = self.assignment[line]
            if w == UNFILLED:
                cost += fees.unfilled_unit * self.qty[line]
            else:
                cost += self.unit_cost[line][w] * self.qty[line]
                used.add(w)
        return cost + fees.order_fees(len(used))

    def plan(self, order: int) -> int:
        """Plan one (taken out) order against the stock left; return its true cost."""
        lines = self.lines[order]
        plan = plan_order(
            [self.priced[i] for i in lines],
            [self.qty[i] for i in lines],
            [self.sku[i] for i in lines],
            self.left,
            self.problem.penalties,
        )
        self.apply(order, plan.warehouses)
        return self.cost[order]

    def apply(self, order: int, warehouses: Sequence[int]) -> None:
        """Put an order's lines where ``warehouses`` says and take their stock."""
        for line, w in zip(self.lines[order], warehouses, strict=True):
            self.assignment[line] = w
            if w != UNFILLED:
                self.left[(w, self.sku[line])] -= self.qty[line]
        self.cost[order] = self.true_cost(order)

    def release(self, order: int) -> list[int]:
        """Take an order's lines out, give their stock back; return where they were."""
        lines = self.lines[order]
        was = [self.assignment[i] for i in lines]
        for line, w in zip(lines, was, strict=True):
            if w != UNFILLED:
                self.left[(w, self.sku[line])] += self.qty[line]
            self.assignment[line] = UNFILLED
        return was

    def orders_by_sku(self) -> dict[int, list[int]]:
        """The orders with a line of each SKU (computed once)."""
        if not self._by_sku:
            for order, lines in enumerate(self.lines):
                for line in lines:
                    self._by_sku.setdefault(self.sku[line], []).append(order)
        return self._by_sku

    def total(self) -> int:
        """The true cost of every order as planned."""
        return sum(self.cost)


def sequential(
    problem: BatchProblem, prices: FloatArray | None = None, sequence: Sequence[int] | None = None
) -> Planner:
    """Every order planned exactly, one after another, against the stock the earlier ones left."""
    planner = Planner(problem, prices)
    for order in range(len(planner.lines)) if sequence is None else sequence:
        planner.release(order)
        planner.plan(order)
    return planner


def improve(planner: Planner, *, deadline: float, seed: int, rounds: int, size: int = 24) -> int:
    """Ruin and recreate: take out orders that share a SKU, plan them again in a random order,
    keep the change if the true cost fell; return how many rounds were kept."""
    rng = np.random.default_rng(seed)
    by_sku = planner.orders_by_sku()
    skus = sorted(by_sku)
    kept = 0
    for _ in range(rounds):
        if time.perf_counter() >= deadline:
            break
        pool = by_sku[skus[int(rng.integers(len(skus)))]]
        picked = sorted(set(rng.choice(pool, min(size, len(pool)), replace=False).tolist()))
        before = sum(planner.cost[o] for o in picked)
        was = {o: planner.release(o) for o in picked}
        for o in rng.permutation(picked).tolist():
            planner.plan(o)
        if sum(planner.cost[o] for o in picked) < before:
            kept += 1
            continue
        for o in picked:
            planner.release(o)
        for o in picked:
            planner.apply(o, was[o])
    return kept
