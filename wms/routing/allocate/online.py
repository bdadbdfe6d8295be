"""Online allocation: each order as it arrives gets its least-cost plan against the stock now.

``LeastCostPolicy`` implements ``AllocationPolicy``, so the order-placement service can use it in
place of ``DEFAULT_POLICY``. For one order it prices every line at every warehouse (the cost
model: great-circle distance, transit days, lateness against the promised date) and searches the
plans exactly (``search.plan_order``): shipping, a fee per shipment, a fee per extra shipment of a
split order, and a penalty per unit left unfilled. A line ships whole from one warehouse; a line
that no warehouse has whole stays unassigned, as the interface expects, and so does a line whose
shipping would cost more than the unfilled penalty (raise ``Penalties.unfilled_unit`` to ship
whatever it costs).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from types import MappingProxyType

import numpy as np

from wms.routing.allocate.costs import CostModel, FloatArray, IntArray, great_circle_km
from wms.routing.allocate.search import NODE_LIMIT, UNFILLED, OrderPlan, plan_order
from wms.routing.allocation import (
    AllocationProblem,
    AllocationResult,
    LineKey,
    Shipment,
)

Region = Callable[[tuple[float, float]], str | None]


def _today() -> date:
    return datetime.now(UTC).date()


class LeastCostPolicy:
    """The least-cost plan of each order on its own (an ``AllocationPolicy``).

    ``today`` dates the promised-by check; ``region_of`` maps a destination to the region of the
    cost model's rate table (None: the distance formula everywhere).
    """

    name = "least_cost"

    def __init__(
        self,
        costs: CostModel | None = None,
        *,
        today: Callable[[], date] = _today,
        region_of: Region | None = None,
        node_limit: int = NODE_LIMIT,
    ) -> None:
        self.costs = costs or CostModel()
        self.today = today
        self.region_of = region_of
        self.node_limit = node_limit

    def allocate(self, problem: AllocationProblem) -> AllocationResult:
        """Where each line ships from, at the least cost this order can have alone."""
        unit_cost, distances = self.unit_costs(problem)
        plan = self.plan(problem, unit_cost, distances)
        codes = [wh.code for wh in problem.warehouses]
        assignments: dict[LineKey, str | None] = {}
        by_warehouse: dict[int, list[LineKey]] = {}
        for line, w in zip(problem.lines, plan.warehouses, strict=True):
            assignments[line.key] = None if w == UNFILLED else codes[w]
            if w != UNFILLED:
                by_warehouse.setdefault(w, []).append(line.key)
        shipments = tuple(
            Shipment(codes[w], tuple(keys), None if distances is None else float(distances[w]))
            for w, keys in by_warehouse.items()
        )
        return AllocationResult(MappingProxyType(assignments), shipments, self.name)

    def plan(
        self, problem: AllocationProblem, unit_cost: IntArray, distances: FloatArray | None = None
    ) -> OrderPlan:
        """The exact search over the order's lines at these unit costs [lines, warehouses];
        plans that cost the same go to the nearer warehouses (else to the earlier ones)."""
        # The search breaks ties by warehouse number, so number them nearest first.
        rank = np.argsort(distances, kind="stable") if distances is not None else None
        order = list(range(len(problem.warehouses))) if rank is None else rank.tolist()
        left: dict[tuple[int, Hashable], int] = {}
        for position, w in enumerate(order):
            for line in problem.lines:
                left[(position, line.sku)] = problem.warehouses[w].has(line.sku)
        plan = plan_order(
            unit_cost[:, order].tolist(),
            [line.quantity for line in problem.lines],
            [line.sku for line in problem.lines],
            left,
            self.costs.penalties,
            node_limit=self.node_limit,
        )
        chosen = tuple(UNFILLED if p == UNFILLED else order[p] for p in plan.warehouses)
        return OrderPlan(chosen, plan.cost, plan.exact)

    def unit_costs(self, problem: AllocationProblem) -> tuple[IntArray, FloatArray | None]:
        """Cents per unit [lines, warehouses], and the distance to each warehouse if known."""
        n, w = len(problem.lines), len(problem.warehouses)
        if problem.destination is None:
            # Nowhere to measure from: every warehouse costs the same, fees decide.
            return self.costs.unit_costs(np.zeros((n, w))), None
        places = [(wh.latitude, wh.longitude) for wh in problem.warehouses]
        distance = great_circle_km(places, [problem.destination])[0]
        days_left = None
        if problem.promised_by is not None:
            days_left = [(problem.promised_by - self.today()).days] * n
        region = self.region_of(problem.destination) if self.region_of else None
        costs = self.costs.unit_costs(
            np.tile(distance, (n, 1)),
            days_left,
            warehouses=[wh.code for wh in problem.warehouses],
            regions=[region] * n,
        )
        return costs, distance
