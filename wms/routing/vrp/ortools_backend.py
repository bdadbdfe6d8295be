"""OR-Tools routing on the integer model: capacities, time windows, drop penalties, GLS.

Every stop sits in a disjunction with its drop penalty (required stops get a penalty larger than
any route could cost), so the search always has a plan to return: at worst, everything dropped.

Determinism: OR-Tools routing has no seed. Its search is single-threaded and deterministic for a
given model and parameters, so the only source of variation is where the time limit cuts it. With
``iteration_limit`` set, the search stops after that many solutions (``solution_limit``); when
that comes before the time limit, the same input gives the same routes. The seed is ignored.
"""

from __future__ import annotations

import time
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from wms.routing.vrp.problem import SolveParameters
from wms.routing.vrp.scaled import IntegerModel

Routes = dict[str, list[str]]


def search(model: IntegerModel, params: SolveParameters, *, seconds: float) -> Routes:
    """The best routes OR-Tools finds within ``seconds``: vehicle id to stop ids in order."""
    started = time.perf_counter()
    manager = pywrapcp.RoutingIndexManager(
        len(model.node_ids),
        len(model.vehicles),
        [v.start for v in model.vehicles],
        [v.end for v in model.vehicles],
    )
    routing = pywrapcp.RoutingModel(manager)
    _add_costs(routing, model)
    _add_capacities(routing, model)
    _add_time(routing, manager, model)
    for node in model.stop_nodes:
        routing.AddDisjunction([manager.NodeToIndex(node)], model.penalty[node])
    # The time limit covers building the model too.
    seconds = max(seconds - (time.perf_counter() - started), 0.05)
    solution = routing.SolveWithParameters(_search_parameters(model, params, seconds))
    if solution is None:
        # No first solution within the limit: ask again from the all-dropped plan, which exists.
        fallback = _search_parameters(model, params, max(seconds / 4, 0.5))
        fallback.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.ALL_UNPERFORMED
        solution = routing.SolveWithParameters(fallback)
    return {} if solution is None else _routes(routing, manager, model, solution)


def _add_costs(routing: Any, model: IntegerModel) -> None:
    callbacks: dict[int, int] = {}
    for v, vehicle in enumerate(model.vehicles):
        if vehicle.arc_cost not in callbacks:
            scaled = (model.distance * vehicle.arc_cost).tolist()
            callbacks[vehicle.arc_cost] = routing.RegisterTransitMatrix(scaled)
        routing.SetArcCostEvaluatorOfVehicle(callbacks[vehicle.arc_cost], v)
        routing.SetFixedCostOfVehicle(vehicle.fixed_cost, v)


def _add_capacities(routing: Any, model: IntegerModel) -> None:
    dimensions = [("weight", 0)] + ([("volume", 1)] if model.uses_volume else [])
    for name, k in dimensions:
        demand = routing.RegisterUnaryTransitVector([d[k] for d in model.demand])
        capacities = [v.capacity[k] for v in model.vehicles]
        routing.AddDimensionWithVehicleCapacity(demand, 0, capacities, True, name)


def _add_time(routing: Any, manager: Any, model: IntegerModel) -> None:
    # Transit out of a node is its service time plus the drive to the next one.
    transit = (model.time + [[s] for s in model.service]).tolist()
    callback = routing.RegisterTransitMatrix(transit)
    routing.AddDimension(callback, model.horizon, model.horizon, False, "time")
    time = routing.GetDimensionOrDie("time")
    for node in model.stop_nodes:
        earliest, latest = model.window[node]
        time.CumulVar(manager.NodeToIndex(node)).SetRange(earliest, latest)
    for v, vehicle in enumerate(model.vehicles):
        time.CumulVar(routing.Start(v)).SetRange(*vehicle.shift)
        time.CumulVar(routing.End(v)).SetRange(*vehicle.shift)


def _search_parameters(model: IntegerModel, params: SolveParameters, seconds: float) -> Any:
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    strategies = routing_enums_pb2.FirstSolutionStrategy
    has_windows = any(w != (0, model.horizon) for w in model.window[model.depots :])
    # Insertion copes with tight windows; savings builds better CVRP starts.
    parameters.first_solution_strategy = (
        strategies.PARALLEL_CHEAPEST_INSERTION if has_windows else strategies.SAVINGS
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if params.iteration_limit is not None:
        parameters.solution_limit = params.iteration_limit
    return parameters


def _routes(routing: Any, manager: Any, model: IntegerModel, solution: Any) -> Routes:
    routes: Routes = {}
    for v, vehicle in enumerate(model.vehicles):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        stops = []
        while not routing.IsEnd(index):
            stops.append(model.node_ids[manager.IndexToNode(index)])
            index = solution.Value(routing.NextVar(index))
        if stops:
            routes[vehicle.id] = stops
    return routes
