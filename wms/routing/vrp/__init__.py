"""Vehicle routing with capacities and time windows: plain problem values, two solver backends.

``solve`` is the entry point. It validates the problem, evaluates the distance matrix once, drops
the stops no vehicle could ever serve (with the reason), scales the rest to integers and hands
them to a backend: PyVRP by default (``auto``), or OR-Tools routing. Whatever the backend returns,
the independent evaluator prices and checks the routes, so the result always says the truth about
distance, cost, times and loads; infeasible is a result, never an exception.
"""

from __future__ import annotations

import time
from typing import Literal

from wms.errors import ValidationFailed
from wms.routing.vrp.assemble import build_result
from wms.routing.vrp.distance import (
    DistanceMatrix,
    DistanceServiceFailed,
    EuclideanMatrix,
    HaversineMatrix,
    RoundedEuclideanMatrix,
    TravelTable,
    TruncatedEuclideanMatrix,
    make_matrix,
    travel_table,
)
from wms.routing.vrp.evaluate import Evaluation, assign_vehicles, evaluate, unservable
from wms.routing.vrp.problem import (
    Depot,
    DroppedStop,
    Route,
    RoutingProblem,
    RoutingResult,
    SolveParameters,
    Stop,
    Vehicle,
    Visit,
)
from wms.routing.vrp.scaled import build_integer_model

Backend = Literal["auto", "ortools", "pyvrp"]
BACKENDS: tuple[str, ...] = ("auto", "ortools", "pyvrp")
# In the same 10 s PyVRP came within 0.17% of the best known on Solomon instances on average,
# OR-Tools within 1.64% (5.4% on X-n101-k25): see bench/README.md. OR-Tools stays selectable.
DEFAULT_BACKEND = "pyvrp"

__all__ = [
    "BACKENDS",
    "Backend",
    "Depot",
    "DistanceMatrix",
    "DistanceServiceFailed",
    "DroppedStop",
    "EuclideanMatrix",
    "Evaluation",
    "HaversineMatrix",
    "RoundedEuclideanMatrix",
    "Route",
    "RoutingProblem",
    "RoutingResult",
    "SolveParameters",
    "Stop",
    "TravelTable",
    "TruncatedEuclideanMatrix",
    "Vehicle",
    "Visit",
    "assign_vehicles",
    "check_backend",
    "evaluate",
    "make_matrix",
    "solve",
    "travel_table",
]


def check_backend(backend: str) -> None:
    """Refuse a backend name ``solve`` does not know."""
    if backend not in BACKENDS:
        raise ValidationFailed(
            f"unknown backend {backend!r}; use {', '.join(BACKENDS)}", field="backend"
        )


def solve(
    problem: RoutingProblem,
    params: SolveParameters,
    *,
    backend: str = "auto",
    matrix: DistanceMatrix | None = None,
) -> RoutingResult:
    """Plan routes for ``problem`` within the time limit; ``matrix`` overrides ``problem.metric``."""
    started = time.perf_counter()
    check_backend(backend)
    problem.validate()
    table = travel_table(problem, matrix if matrix is not None else make_matrix(problem.metric))
    screened = unservable(problem, table)
    model = build_integer_model(problem, table, screened)
    chosen = _automatic() if backend == "auto" else backend
    routes: dict[str, list[str]] = {}
    if len(model.stop_nodes):
        seconds = max(params.time_limit_seconds - (time.perf_counter() - started), 0.05)
        if chosen == "ortools":
            from wms.routing.vrp import ortools_backend as engine
        else:
            from wms.routing.vrp import pyvrp_backend as engine  # type: ignore[no-redef]
        routes = engine.search(model, params, seconds=seconds)
    return build_result(problem, table, routes, screened=screened, method=chosen, started=started)


def _automatic() -> str:
    """PyVRP, or OR-Tools (a core dependency) when PyVRP is not installed."""
    try:
        import pyvrp  # noqa: F401
    except ImportError:
        return "ortools"
    return DEFAULT_BACKEND
