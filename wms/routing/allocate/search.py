"""The least-cost plan for one order: depth-first branch and bound over its lines.

Each line goes to one warehouse that has its whole quantity left, or stays unfilled. The first
line a warehouse takes opens a shipment (its fee, and the split fee unless it is the order's
first). Lines are tried in a fixed order, cheapest choice first, and a branch is cut when its cost
so far plus the cheapest each remaining line could cost on its own reaches the best plan found.
With 10 warehouses and a handful of lines this proves the optimum in well under a millisecond; a
node limit keeps a pathological order (dozens of lines) bounded, and then the plan is the best
found and marked inexact.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from wms.routing.allocate.costs import Penalties

UNFILLED = -1
NODE_LIMIT = 10_000  # about 7 ms on a 2-core VM: a pathological order stays within 10 ms


@dataclass(frozen=True)
class OrderPlan:
    """A warehouse number (or -1) per line, the plan's cost in cents, and whether it is proven."""

    warehouses: tuple[int, ...]
    cost: int
    exact: bool


class _Search:
    """One search's state; a class so the recursion reads its tables without long arguments."""

    def __init__(
        self,
        unit_cost: Sequence[Sequence[int]],
        qty: Sequence[int],
        sku: Sequence[Hashable],
        left: dict[tuple[int, Hashable], int],
        penalties: Penalties,
        node_limit: int,
    ) -> None:
        n = len(qty)
        self.qty, self.sku, self.left, self.penalties = qty, sku, left, penalties
        self.unfilled = [penalties.unfilled_unit * q for q in qty]
        # Options per line: (cost of its units, warehouse), cheapest first, only where it fits now.
        self.options = [
            sorted(
                (unit_cost[i][w] * qty[i], w)
                for w in range(len(unit_cost[i]))
                if left.get((w, sku[i]), 0) >= qty[i]
            )
            for i in range(n)
        ]
        cheapest = [min([self.unfilled[i], *(c for c, _ in self.options[i])]) for i in range(n)]
        # Fewest options first (they constrain the rest), then the dearest lines.
        self.sequence = sorted(range(n), key=lambda i: (len(self.options[i]), -cheapest[i], i))
        self.rest = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            self.rest[k] = self.rest[k + 1] + cheapest[self.sequence[k]]
        self.chosen = [UNFILLED] * n
        self.best_cost = sum(self.unfilled)  # leaving every line unfilled is always a plan
        self.best: list[int] = [UNFILLED] * n
        self.used = [0] * (max((w for ops in self.options for _, w in ops), default=-1) + 1)
        self.nodes, self.node_limit = 0, node_limit

    def run(self, k: int, cost: int, shipments: int) -> None:
        self.nodes += 1
        if cost + self.rest[k] >= self.best_cost or self.nodes > self.node_limit:
            return
        if k == len(self.sequence):
            self.best_cost, self.best = cost, list(self.chosen)
            return
        i = self.sequence[k]
        fee = self.penalties.order_fees(shipments + 1) - self.penalties.order_fees(shipments)
        choices = [(self.unfilled[i], UNFILLED)]
        for line_cost, w in self.options[i]:
            if self.left[(w, self.sku[i])] >= self.qty[i]:
                choices.append((line_cost + (0 if self.used[w] else fee), w))
        choices.sort()
        for extra, w in choices:
            if w == UNFILLED:
                self.run(k + 1, cost + extra, shipments)
                continue
            key, opens = (w, self.sku[i]), not self.used[w]
            self.left[key] -= self.qty[i]
            self.used[w] += 1
            self.chosen[i] = w
            self.run(k + 1, cost + extra, shipments + opens)
            self.chosen[i] = UNFILLED
            self.used[w] -= 1
            self.left[key] += self.qty[i]


def plan_order(
    unit_cost: Sequence[Sequence[int]],
    qty: Sequence[int],
    sku: Sequence[Hashable],
    left: dict[tuple[int, Hashable], int],
    penalties: Penalties,
    *,
    node_limit: int = NODE_LIMIT,
) -> OrderPlan:
    """The least-cost plan for one order's lines given ``left[(warehouse, sku)]`` units.

    ``unit_cost[i][w]`` is cents per unit of line i from warehouse w. ``left`` is read, not
    changed (the search restores every unit it takes).
    """
    search = _Search(unit_cost, qty, sku, left, penalties, node_limit)
    search.run(0, 0, 0)
    exact = search.nodes <= node_limit
    return OrderPlan(tuple(search.best), search.best_cost, exact)
