"""The routing problem refuses bad input by field; distance matrices and the evaluator by hand."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from wms.errors import ValidationFailed
from wms.routing.vrp import (
    DroppedStop,
    EuclideanMatrix,
    HaversineMatrix,
    RoutingProblem,
    RoutingResult,
    SolveParameters,
    Stop,
    evaluate,
    make_matrix,
    solve,
    travel_table,
)
from wms.routing.vrp.distance import RoundedEuclideanMatrix, TruncatedEuclideanMatrix

from .vrp_builders import fleet, plane

SHANGHAI = (31.23, 121.47)
BEIJING = (39.90, 116.41)


def field_of(error: pytest.ExceptionInfo[ValidationFailed]) -> str | None:
    return error.value.field


def test_rejects_a_vehicle_with_no_capacity() -> None:
    problem = plane([Stop("A", (1, 0), weight=1)], fleet(1))
    broken = replace(problem, vehicles=(replace(problem.vehicles[0], capacity_weight=0),))
    with pytest.raises(ValidationFailed, match="vehicle V1: weight capacity") as caught:
        broken.validate()
    assert field_of(caught) == "capacity_weight"
    assert caught.value.context == {"vehicle": "V1"}


def test_rejects_a_vehicle_with_no_volume_capacity() -> None:
    problem = plane([Stop("A", (1, 0))], [replace(fleet(1)[0], capacity_volume=0)])
    with pytest.raises(ValidationFailed) as caught:
        problem.validate()
    assert field_of(caught) == "capacity_volume"


def test_rejects_a_stop_whose_window_is_empty() -> None:
    problem = plane([Stop("A", (1, 0), earliest=50, latest=40)], fleet(1))
    with pytest.raises(ValidationFailed, match=r"stop A: time window \[50, 40\] is empty") as c:
        problem.validate()
    assert field_of(c) == "time_window"


def test_rejects_a_stop_whose_window_lies_outside_every_shift() -> None:
    problem = plane(
        [Stop("A", (1, 0), earliest=600, latest=700)],
        fleet(2, shift_start=0, shift_end=480),
    )
    with pytest.raises(ValidationFailed, match="outside every vehicle's shift") as caught:
        problem.validate()
    assert field_of(caught) == "time_window"
    assert caught.value.context == {"stop": "A"}


def test_accepts_a_window_that_one_vehicle_shift_overlaps() -> None:
    vehicles = (*fleet(1, shift_end=480), replace(fleet(1)[0], id="late", shift_start=500))
    plane([Stop("A", (1, 0), earliest=600, latest=700)], vehicles).validate()


def test_rejects_a_negative_service_time() -> None:
    with pytest.raises(ValidationFailed) as caught:
        plane([Stop("A", (1, 0), service_time=-1)], fleet(1)).validate()
    assert field_of(caught) == "service_time"


@pytest.mark.parametrize("limit", [0, -1.5])
def test_rejects_a_time_limit_that_is_not_positive(limit: float) -> None:
    with pytest.raises(ValidationFailed, match="must be more than 0") as caught:
        SolveParameters(time_limit_seconds=limit)
    assert field_of(caught) == "time_limit_seconds"


def test_rejects_repeated_ids_and_unknown_depots() -> None:
    with pytest.raises(ValidationFailed, match="repeated: A"):
        plane([Stop("A", (1, 0)), Stop("A", (2, 0))], fleet(1)).validate()
    with pytest.raises(ValidationFailed, match="unknown depot X") as caught:
        plane([Stop("A", (1, 0))], [replace(fleet(1)[0], depot="X")]).validate()
    assert field_of(caught) == "depot"
    with pytest.raises(ValidationFailed, match="no vehicle"):
        plane([Stop("A", (1, 0))], []).validate()


def test_solve_validates_before_searching() -> None:
    problem = plane([Stop("A", (1, 0), service_time=-1)], fleet(1))
    with pytest.raises(ValidationFailed):
        solve(problem, SolveParameters(time_limit_seconds=1))
    with pytest.raises(ValidationFailed, match="unknown backend 'cplex'"):
        solve(plane([Stop("A", (1, 0))], fleet(1)), SolveParameters(), backend="cplex")


def test_truncated_and_rounded_euclidean_follow_the_benchmark_conventions() -> None:
    points = [(0.0, 0.0), (1.0, 1.0), (3.0, 4.0), (0.0, 2.5)]
    exact, _ = EuclideanMatrix().table(points)
    truncated, truncated_time = TruncatedEuclideanMatrix().table(points)
    rounded, _ = RoundedEuclideanMatrix().table(points)
    assert exact[0, 1] == pytest.approx(math.sqrt(2))
    assert truncated[0, 1] == pytest.approx(1.4)  # floor(14.14...) / 10
    assert truncated[1, 2] == pytest.approx(3.6)  # sqrt(13) = 3.6055
    assert truncated_time[1, 2] == truncated[1, 2]  # speed 1
    assert rounded[0, 1] == 1
    assert rounded[0, 3] == 3  # nint(2.5) rounds half up, as TSPLIB does
    assert truncated[0, 2] == rounded[0, 2] == 5


def test_haversine_gives_road_kilometres_and_minutes() -> None:
    km, minutes = HaversineMatrix(road_factor=1.3, speed_kmh=60).table([SHANGHAI, BEIJING])
    assert km[0, 1] == pytest.approx(1067 * 1.3, rel=0.005)
    assert km[1, 0] == pytest.approx(km[0, 1])
    assert minutes[0, 1] == pytest.approx(km[0, 1])  # 60 km/h: a kilometre a minute
    assert km[0, 0] == 0


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("haversine", HaversineMatrix()),
        ("haversine:road_factor=1.5,speed_kmh=30", HaversineMatrix(road_factor=1.5, speed_kmh=30)),
        ("euclidean", EuclideanMatrix()),
        ("euclidean_trunc1", TruncatedEuclideanMatrix()),
        ("euclidean_nint", RoundedEuclideanMatrix()),
    ],
)
def test_a_configuration_string_picks_the_matrix(config: str, expected: object) -> None:
    assert make_matrix(config) == expected


def test_the_default_matrix_is_haversine_with_a_road_factor_of_1_3() -> None:
    matrix = make_matrix(RoutingProblem((), (), fleet(1)).metric)
    assert matrix == HaversineMatrix(road_factor=1.3)


@pytest.mark.parametrize(
    "config", ["manhattan", "haversine:speed=3", "haversine:road_factor=0.5", "osrm:", "osrm:host"]
)
def test_an_unknown_matrix_configuration_is_refused(config: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        make_matrix(config)
    assert field_of(caught) == "metric"


def test_the_evaluator_reports_every_broken_rule() -> None:
    stops = [
        Stop("A", (3, 4), weight=60, volume=2, earliest=0, latest=4),
        Stop("B", (3, 0), weight=50, earliest=0, latest=5),  # 5 + 4 = 9 > 5
        Stop("C", (0, 1), weight=1),
        Stop("E", (0, 2), weight=1),
    ]
    vehicles = [replace(v, capacity_volume=1, shift_end=12) for v in fleet(2)]
    problem = plane(stops, vehicles)
    table = travel_table(problem, EuclideanMatrix())
    plan = evaluate(problem, {"V1": ["A", "B", "A"], "V9": ["C"]}, table=table)
    assert set(plan.violations) == {
        "stop A is visited 2 times",
        "stop E is neither visited nor dropped",
        "unknown vehicle V9",
        "vehicle V1 carries weight 170 over its capacity 100",
        "vehicle V1 carries volume 4 over its capacity 1",
        "stop B: service starts at 9, after its window closes at 5 (vehicle V1)",
        "stop A: service starts at 5, after its window closes at 4 (vehicle V1)",
        "stop A: service starts at 13, after its window closes at 4 (vehicle V1)",
        "vehicle V1 is back at 18, after its shift ends at 12",
    }


def test_the_evaluator_schedules_prices_and_leaves_when_it_need_not_wait() -> None:
    stops = [
        Stop("A", (3, 4), weight=10, earliest=20, latest=30, service_time=2),
        Stop("B", (3, 0), weight=5, drop_penalty=7),
        Stop("C", (6, 0), weight=5, drop_penalty=11),
    ]
    vehicles = [replace(v, cost_per_km=2, fixed_cost=100) for v in fleet(2)]
    problem = plane(stops, vehicles)
    table = travel_table(problem, EuclideanMatrix())
    plan = evaluate(problem, {"V1": ["A", "B"]}, table=table, dropped=["C"])
    assert plan.feasible
    (route,) = plan.routes
    assert route.departure == 15  # arrives at A just as its window opens
    assert [(v.arrival, v.service_start) for v in route.visits] == [(20, 20), (26, 26)]
    assert [v.weight_on_board for v in route.visits] == [5, 0]
    assert route.weight == 15
    assert route.return_time == 29
    assert plan.distance == 12
    assert route.cost == 2 * 12 + 100
    assert plan.cost == 124 + 11  # C's drop penalty
    assert plan.unvisited == ("C",)


def test_a_result_with_a_required_stop_dropped_is_not_feasible() -> None:
    result = RoutingResult(
        routes=(),
        dropped=(DroppedStop("A", "its weight 500 exceeds every vehicle's capacity", True),),
        objective=0,
        distance=0,
        method="pyvrp",
        seconds=0.1,
    )
    assert not result.is_feasible()
    assert "dropped A: its weight 500 exceeds" in result.summary()
    optional = replace(result, dropped=(DroppedStop("B", "not worth it", False),))
    assert optional.is_feasible()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"coordinates": (math.nan, 0.0)}, "coordinates"),
        ({"weight": -1.0}, "demand"),
        ({"volume": math.inf}, "demand"),
        ({"drop_penalty": -5.0}, "drop_penalty"),
        ({"earliest": -math.inf}, "time_window"),
    ],
)
def test_rejects_stop_values_no_plan_can_use(change: dict[str, object], field: str) -> None:
    stop = replace(Stop("A", (1, 0)), **change)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        plane([stop], fleet(1)).validate()
    assert field_of(caught) == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity_weight": math.inf}, "capacity_weight"),
        ({"shift_start": 10.0, "shift_end": 5.0}, "shift"),
        ({"cost_per_km": -1.0}, "cost"),
    ],
)
def test_rejects_vehicle_values_no_plan_can_use(change: dict[str, object], field: str) -> None:
    vehicle = replace(fleet(1)[0], **change)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        plane([Stop("A", (1, 0))], [vehicle]).validate()
    assert field_of(caught) == field
