"""Properties of every plan on random small instances, checked by the independent evaluator."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from wms.routing.vrp import (
    EuclideanMatrix,
    RoutingProblem,
    SolveParameters,
    Stop,
    Vehicle,
    evaluate,
    solve,
    travel_table,
)

from .vrp_builders import DEPOT, optimum

BACKENDS = ["pyvrp", "ortools"]
PARAMS = SolveParameters(time_limit_seconds=0.5, seed=11, iteration_limit=200)
SOME = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def stops(draw: st.DrawFn, index: int, *, optional: bool = True) -> Stop:
    earliest = draw(st.integers(0, 120))
    return Stop(
        id=f"S{index}",
        coordinates=(draw(st.integers(-30, 30)), draw(st.integers(-30, 30))),
        weight=draw(st.integers(0, 70)),
        volume=draw(st.sampled_from([0.0, 0.5, 1.5])),
        earliest=earliest,
        latest=earliest + draw(st.sampled_from([0, 10, 40, 500])),
        service_time=draw(st.integers(0, 10)),
        drop_penalty=draw(st.sampled_from([None, None, 5.0, 80.0])) if optional else None,
    )


@st.composite
def problems(draw: st.DrawFn, *, max_stops: int = 7, optional: bool = True) -> RoutingProblem:
    count = draw(st.integers(1, max_stops))
    vehicles = tuple(
        Vehicle(
            id=f"V{k}",
            depot=DEPOT.id,
            capacity_weight=draw(st.integers(40, 120)),
            capacity_volume=draw(st.sampled_from([None, 2.0])),
            shift_end=draw(st.sampled_from([200.0, 400.0, math.inf])),
            fixed_cost=draw(st.sampled_from([0.0, 25.0])),
        )
        for k in range(draw(st.integers(1, 3)))
    )
    chosen = tuple(draw(stops(k, optional=optional)) for k in range(count))
    return RoutingProblem((DEPOT,), chosen, vehicles, metric="euclidean")


@pytest.mark.parametrize("backend", BACKENDS)
@SOME
@given(problem=problems())
def test_every_stop_is_visited_once_or_dropped_and_every_rule_holds(
    backend: str, problem: RoutingProblem
) -> None:
    result = solve(problem, PARAMS, backend=backend)
    on_routes = [s for route in result.routes for s in route.stops]
    dropped = [d.stop for d in result.dropped]
    assert sorted(on_routes + dropped) == sorted(s.id for s in problem.stops)
    assert all(d.reason for d in result.dropped)
    assert {d.stop for d in result.dropped if d.required} == {
        s.id for s in problem.stops if s.required and s.id in dropped
    }
    check = evaluate(
        problem,
        {route.vehicle: route.stops for route in result.routes},
        table=travel_table(problem, EuclideanMatrix()),
        dropped=dropped,
    )
    assert check.violations == ()
    assert result.violations == ()
    assert result.distance == pytest.approx(check.distance)
    assert result.objective == pytest.approx(check.cost)
    for route in result.routes:
        vehicle = problem.vehicle(route.vehicle)
        assert route.weight <= vehicle.capacity_weight
        assert vehicle.capacity_volume is None or route.volume <= vehicle.capacity_volume + 1e-9
        for visit in route.visits:
            stop = problem.stop(visit.stop)
            assert stop.earliest <= visit.service_start <= stop.latest + 1e-6
        assert route.return_time <= vehicle.shift_end + 1e-6


@pytest.mark.parametrize("backend", BACKENDS)
@SOME
@given(problem=problems())
def test_the_same_seed_gives_the_same_routes(backend: str, problem: RoutingProblem) -> None:
    first = solve(problem, PARAMS, backend=backend)
    second = solve(problem, PARAMS, backend=backend)
    assert [(r.vehicle, r.stops) for r in first.routes] == [
        (r.vehicle, r.stops) for r in second.routes
    ]
    assert first.dropped == second.dropped


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=problems(max_stops=5, optional=False))
def test_pyvrp_reaches_the_enumerated_optimum_of_five_stops(problem: RoutingProblem) -> None:
    best = optimum(problem)
    assume(math.isfinite(best))
    result = solve(problem, PARAMS, backend="pyvrp")
    assert result.is_feasible()
    assert result.objective == pytest.approx(best, abs=1e-2)
