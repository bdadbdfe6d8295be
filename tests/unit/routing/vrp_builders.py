"""Small routing problems on a plane, and the optimum found by trying every plan."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

from wms.routing.vrp import (
    Depot,
    EuclideanMatrix,
    RoutingProblem,
    Stop,
    Vehicle,
    travel_table,
)
from wms.routing.vrp.evaluate import schedule

DEPOT = Depot("DEPOT", (0.0, 0.0))


def fleet(count: int, capacity: float = 100.0, **options: float) -> tuple[Vehicle, ...]:
    return tuple(
        Vehicle(id=f"V{k}", depot="DEPOT", capacity_weight=capacity, **options)  # type: ignore[arg-type]
        for k in range(1, count + 1)
    )


def plane(
    stops: Sequence[Stop], vehicles: Sequence[Vehicle], metric: str = "euclidean"
) -> RoutingProblem:
    return RoutingProblem((DEPOT,), tuple(stops), tuple(vehicles), metric=metric, name="test")


def optimum(problem: RoutingProblem) -> float:
    """The least cost of any plan serving every stop, by trying every order, split and vehicle.

    math.inf when no plan is feasible. Costs of single routes are cached: they do not depend on
    the rest of the plan.
    """
    table = travel_table(problem, EuclideanMatrix())
    vehicles = problem.vehicles

    @functools.cache
    def route_cost(vehicle: int, sequence: tuple[str, ...]) -> float:
        route, broken = schedule(vehicles[vehicle], [problem.stop(s) for s in sequence], table)
        return math.inf if broken else route.cost

    best = math.inf
    ids = [s.id for s in problem.stops]
    for order in itertools.permutations(ids):
        for cuts in itertools.product((False, True), repeat=len(ids) - 1):
            routes: list[tuple[str, ...]] = [(order[0],)]
            for stop, cut in zip(order[1:], cuts, strict=True):
                routes = [*routes, (stop,)] if cut else [*routes[:-1], (*routes[-1], stop)]
            for chosen in itertools.permutations(range(len(vehicles)), len(routes)):
                cost = sum(route_cost(v, r) for v, r in zip(chosen, routes, strict=True))
                best = min(best, cost)
    return best
