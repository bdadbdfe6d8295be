"""An independent check of an assignment: its cost from first principles, and every stock breach.

This module shares no code with the solvers beyond the problem value, so a solver that mis-states
its cost or over-ships a SKU is caught here (by the tests and the benchmark).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from wms.routing.allocate.costs import IntArray
from wms.routing.allocate.problem import UNFILLED, BatchProblem


@dataclass(frozen=True)
class Evaluation:
    """The cost of an assignment, its parts, and the (warehouse, SKU, shipped, stock) breaches."""

    cost: int
    shipping: int
    shipment_fees: int
    split_fees: int
    unfilled_penalty: int
    shipments: int
    unfilled_units: int
    breaches: tuple[tuple[int, int, int, int], ...]

    @property
    def feasible(self) -> bool:
        return not self.breaches


def evaluate(problem: BatchProblem, assignment: Sequence[int] | IntArray) -> Evaluation:
    """Recompute the cost of ``assignment`` (a warehouse number or -1 per line) and its breaches."""
    if len(assignment) != problem.lines:
        raise ValueError(f"{len(assignment)} assignments for {problem.lines} lines")
    shipping = unfilled_units = 0
    shipped: defaultdict[tuple[int, int], int] = defaultdict(int)
    parcels: defaultdict[int, set[int]] = defaultdict(set)
    for line, warehouse in enumerate(int(w) for w in assignment):
        qty = int(problem.qty[line])
        if warehouse == UNFILLED:
            unfilled_units += qty
            continue
        if not 0 <= warehouse < problem.warehouses:
            raise ValueError(f"line {line}: no warehouse {warehouse}")
        shipping += int(problem.unit_cost[line, warehouse]) * qty
        shipped[(warehouse, int(problem.sku[line]))] += qty
        parcels[int(problem.order[line])].add(warehouse)
    shipments = sum(len(used) for used in parcels.values())
    extra = sum(len(used) - 1 for used in parcels.values())
    fees = problem.penalties
    breaches = tuple(
        (w, sku, qty, int(problem.stock[w, sku]))
        for (w, sku), qty in sorted(shipped.items())
        if qty > problem.stock[w, sku]
    )
    parts = (
        shipping,
        fees.shipment * shipments,
        fees.split * extra,
        fees.unfilled_unit * unfilled_units,
    )
    return Evaluation(sum(parts), *parts, shipments, unfilled_units, breaches)
