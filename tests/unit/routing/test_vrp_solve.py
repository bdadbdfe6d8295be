"""Both backends on tiny instances: the proven optimum, and stops dropped with their reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wms.routing.vrp import (
    EuclideanMatrix,
    RoutingResult,
    SolveParameters,
    Stop,
    Vehicle,
    solve,
    travel_table,
)
from wms.routing.vrp.assemble import build_result

from .vrp_builders import fleet, optimum, plane

BACKENDS = ["pyvrp", "ortools"]
QUICK = SolveParameters(time_limit_seconds=1.0, seed=3, iteration_limit=300)


def served(result: RoutingResult) -> list[str]:
    return sorted(s for route in result.routes for s in route.stops)


def dropped(result: RoutingResult) -> dict[str, str]:
    return {d.stop: d.reason for d in result.dropped}


CAPACITY_BOUND = [
    Stop("A", (10, 0), weight=40),
    Stop("B", (10, 6), weight=40),
    Stop("C", (1, 10), weight=30),
    Stop("D", (-6, 5), weight=30),
    Stop("E", (-10, -2), weight=50),
]

WINDOWS = [
    Stop("A", (5, 0), weight=1, earliest=30, latest=35, service_time=2),
    Stop("B", (0, 5), weight=1, earliest=0, latest=8, service_time=2),
    Stop("C", (-5, 0), weight=1, earliest=12, latest=20, service_time=2),
    Stop("D", (0, -5), weight=1, earliest=0, latest=60, service_time=2),
    Stop("E", (4, 4), weight=1, earliest=40, latest=50, service_time=2),
    Stop("F", (-4, -4), weight=1, earliest=5, latest=25, service_time=2),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("stops", "vehicles"),
    [
        (CAPACITY_BOUND, fleet(3, capacity=100)),
        (WINDOWS, fleet(2, capacity=10, shift_end=80)),
        (WINDOWS, fleet(1, capacity=10, shift_end=200)),
    ],
    ids=["capacity", "windows-two-vehicles", "windows-one-vehicle"],
)
def test_finds_the_optimum_of_a_tiny_instance(
    backend: str, stops: list[Stop], vehicles: tuple[Vehicle, ...]
) -> None:
    problem = plane(stops, vehicles)
    best = optimum(problem)
    result = solve(problem, QUICK, backend=backend)
    assert result.is_feasible()
    assert served(result) == sorted(s.id for s in stops)
    assert result.objective == result.distance == pytest.approx(best, abs=1e-6)
    assert result.method == backend


def test_auto_uses_pyvrp() -> None:
    result = solve(plane(CAPACITY_BOUND, fleet(3)), QUICK)
    assert result.method == "pyvrp"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stop_heavier_than_every_vehicle_is_dropped_with_the_reason(backend: str) -> None:
    stops = [*CAPACITY_BOUND[:3], Stop("HEAVY", (2, 2), weight=101)]
    result = solve(plane(stops, fleet(3)), QUICK, backend=backend)
    assert served(result) == ["A", "B", "C"]
    assert dropped(result) == {"HEAVY": "its weight 101 exceeds every vehicle's capacity"}
    assert not result.is_feasible()  # a required stop is not served
    assert not result.violations


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stop_no_vehicle_can_reach_in_time_is_dropped(backend: str) -> None:
    stops = [WINDOWS[1], Stop("FAR", (100, 0), earliest=0, latest=50)]
    result = solve(plane(stops, fleet(2, shift_end=500)), QUICK, backend=backend)
    assert served(result) == ["B"]
    assert dropped(result) == {
        "FAR": "no vehicle can get there before its window closes at 50",
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_stop_that_cannot_be_served_within_the_shift_is_dropped(backend: str) -> None:
    stops = [Stop("LONG", (3, 4), service_time=100)]
    result = solve(plane(stops, fleet(1, shift_end=60)), QUICK, backend=backend)
    assert dropped(result) == {
        "LONG": "no vehicle can serve it and be back before its shift ends",
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_optional_stop_not_worth_its_detour_is_dropped(backend: str) -> None:
    stops = [*CAPACITY_BOUND[:2], Stop("REMOTE", (-80, 0), drop_penalty=5.0)]
    result = solve(plane(stops, fleet(2)), QUICK, backend=backend)
    assert served(result) == ["A", "B"]
    assert dropped(result) == {"REMOTE": "serving it costs more than its drop penalty 5"}
    assert result.is_feasible()  # leaving out an optional stop is allowed
    assert result.objective == pytest.approx(result.distance + 5.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_optional_stop_worth_its_detour_is_served(backend: str) -> None:
    stops = [*CAPACITY_BOUND[:2], Stop("NEAR", (9, 3), drop_penalty=500.0)]
    result = solve(plane(stops, fleet(2)), QUICK, backend=backend)
    assert served(result) == ["A", "B", "NEAR"]
    assert not result.dropped


@pytest.mark.parametrize("backend", BACKENDS)
def test_required_stops_that_do_not_all_fit_drop_as_few_as_possible(backend: str) -> None:
    stops = [Stop(s, (k + 1, 0), weight=6) for k, s in enumerate("ABC")]
    result = solve(plane(stops, fleet(1, capacity=10)), QUICK, backend=backend)
    assert len(served(result)) == 1
    assert set(dropped(result).values()) == {
        "no route the search found could fit it with the vehicles available"
    }
    assert not result.is_feasible()
    assert not result.violations


@pytest.mark.parametrize("backend", BACKENDS)
def test_volume_limits_a_vehicle_as_weight_does(backend: str) -> None:
    stops = [Stop(s, (5, k), weight=1, volume=0.6) for k, s in enumerate("ABC")]
    vehicles = [replace(v, capacity_volume=1.25) for v in fleet(3)]
    result = solve(plane(stops, vehicles), QUICK, backend=backend)
    assert served(result) == ["A", "B", "C"]
    assert all(route.volume <= 1.25 for route in result.routes)
    assert result.vehicles_used == 2  # two stops (1.2) fit in volume, three (1.8) do not
    assert result.is_feasible()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fixed_cost_makes_one_route_cheaper_than_two(backend: str) -> None:
    stops = [Stop("A", (10, 0)), Stop("B", (-10, 0))]
    vehicles = [replace(v, fixed_cost=1000) for v in fleet(2)]
    result = solve(plane(stops, vehicles), QUICK, backend=backend)
    assert result.vehicles_used == 1
    assert result.objective == pytest.approx(1000 + 40)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_cheaper_vehicle_takes_the_route(backend: str) -> None:
    stops = [Stop("A", (10, 0))]
    vehicles = [replace(fleet(1)[0], id="DEAR", cost_per_km=3.0), replace(fleet(1)[0], id="CHEAP")]
    result = solve(plane(stops, vehicles), QUICK, backend=backend)
    assert [route.vehicle for route in result.routes] == ["CHEAP"]
    assert result.objective == pytest.approx(20)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_problem_with_no_stops_gives_an_empty_feasible_plan(backend: str) -> None:
    result = solve(plane([], fleet(1)), QUICK, backend=backend)
    assert result.routes == ()
    assert result.is_feasible()


def test_a_broken_route_from_a_backend_is_repaired_and_the_stops_reported() -> None:
    stops = [
        Stop("A", (10, 0), weight=60),
        Stop("B", (10, 5), weight=60, earliest=0, latest=12),
        Stop("C", (0, 5), weight=10),
    ]
    problem = plane(stops, fleet(2))
    table = travel_table(problem, EuclideanMatrix())
    # Too heavy, B too late after A, and C on two routes.
    routes = {"V1": ["A", "B", "C"], "V2": ["C"]}
    result = build_result(problem, table, routes, screened=(), method="test", started=0.0)
    assert [(r.vehicle, r.stops) for r in result.routes] == [("V1", ("A", "C"))]
    assert dropped(result) == {"B": "taken off vehicle V1: it broke a rule there"}
    assert result.violations == ()
    assert not result.is_feasible()
