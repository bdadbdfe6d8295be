"""PyVRP (hybrid iterated local search) on the integer model.

Required stops are required clients; stops with a drop penalty are optional clients whose prize
is that penalty (PyVRP charges the prizes it does not collect, which is the same objective).
Identical vehicles share one vehicle type. When the required stops cannot all be served together
(too few vehicles, say), PyVRP has no feasible plan to return; the search then runs again, for a
quarter of the time limit, with every stop optional and the required ones at a penalty larger than
any route, so the result drops as few required stops as it can instead of failing.

PyVRP is seeded and single-threaded: with ``iteration_limit`` reached before the time limit, the
same seed gives the same routes.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pyvrp import Client, Depot, Location, ProblemData, VehicleType
from pyvrp import solve as pyvrp_solve
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from wms.routing.vrp.problem import SolveParameters
from wms.routing.vrp.scaled import IntegerModel, IntVehicle

Routes = dict[str, list[str]]
FALLBACK_SHARE = 0.25  # of the time limit, for the second search when required stops do not fit


def search(model: IntegerModel, params: SolveParameters, *, seconds: float) -> Routes:
    """The best routes PyVRP finds within ``seconds``: vehicle id to stop ids in order."""
    started = time.perf_counter()
    types = _vehicle_types(model.vehicles)
    data = _data(model, types, all_optional=False)
    seconds = max(seconds - (time.perf_counter() - started), 0.05)
    result = pyvrp_solve(data, _stop(params, seconds), seed=params.seed, collect_stats=False)
    if not result.best.is_feasible():
        data = _data(model, types, all_optional=True)
        budget = max(seconds * FALLBACK_SHARE, 0.5)
        result = pyvrp_solve(data, _stop(params, budget), seed=params.seed, collect_stats=False)
    if not result.best.is_feasible():
        return {}
    routes: Routes = {}
    clients = data.clients()
    taken: dict[int, int] = defaultdict(int)
    for route in result.best.routes():
        kind = route.vehicle_type()
        vehicle = types[kind][taken[kind]]
        taken[kind] += 1
        routes[vehicle.id] = [
            model.node_ids[clients[a.idx].location] for a in route if a.is_client()
        ]
    return routes


def _stop(params: SolveParameters, seconds: float) -> StoppingCriterion:
    runtime = MaxRuntime(max(seconds, 0.01))
    if params.iteration_limit is None:
        return runtime
    return MultipleCriteria([MaxIterations(params.iteration_limit), runtime])


def _vehicle_types(vehicles: Sequence[IntVehicle]) -> list[list[IntVehicle]]:
    """Vehicles grouped by everything but their id, in fleet order."""
    groups: dict[tuple[object, ...], list[IntVehicle]] = {}
    for v in vehicles:
        key = (v.start, v.end, v.capacity, v.shift, v.arc_cost, v.fixed_cost)
        groups.setdefault(key, []).append(v)
    return list(groups.values())


def _data(model: IntegerModel, types: list[list[IntVehicle]], *, all_optional: bool) -> ProblemData:
    dims = 2 if model.uses_volume else 1
    locations = [
        Location(x=x, y=y, name=i)
        for (x, y), i in zip(model.coordinates, model.node_ids, strict=True)
    ]
    depots = [Depot(location=n) for n in range(model.depots)]
    clients = [
        Client(
            location=n,
            delivery=list(model.demand[n][:dims]),
            service_duration=model.service[n],
            tw_early=model.window[n][0],
            tw_late=model.window[n][1],
            prize=model.penalty[n],
            required=model.required[n] and not all_optional,
            name=model.node_ids[n],
        )
        for n in model.stop_nodes
    ]
    vehicle_types = [
        VehicleType(
            num_available=len(group),
            capacity=list(group[0].capacity[:dims]),
            start_depot=group[0].start,
            end_depot=group[0].end,
            fixed_cost=group[0].fixed_cost,
            tw_early=group[0].shift[0],
            tw_late=group[0].shift[1],
            unit_distance_cost=group[0].arc_cost,
        )
        for group in types
    ]
    # PyVRP's stubs type matrices as ``ndarray[int]``; ours are int64 arrays, which it takes.
    matrices: tuple[Any, Any] = ([model.distance], [model.time])
    return ProblemData(locations, clients, depots, vehicle_types, *matrices)
