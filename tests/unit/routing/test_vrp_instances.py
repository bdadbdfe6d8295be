"""Benchmark files: Solomon and VRPLIB readers, .sol files, and the evaluator against bks.csv."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from wms.errors import NotFound, ValidationFailed
from wms.routing.vrp import (
    EuclideanMatrix,
    assign_vehicles,
    evaluate,
    make_matrix,
    travel_table,
)
from wms.routing.vrp.instances import read_instance, read_solution

DATA = Path("/work/shared/data/vrp")
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="the VRP benchmark data is not here")


def bks_rows() -> list[dict[str, str]]:
    if not DATA.is_dir():
        return []
    with open(DATA / "bks.csv", newline="") as handle:
        return list(csv.DictReader(handle))


CHECKED = [r for r in bks_rows() if r["convention"] in ("vrptw_dist_trunc1", "cvrp_dist_nint")]


@needs_data
def test_reads_a_solomon_instance_with_its_depot_fleet_and_windows() -> None:
    instance = read_instance(DATA / "solomon/txt/C101.txt")
    problem = instance.problem
    assert (instance.name, instance.format, instance.convention) == (
        "C101",
        "solomon",
        "vrptw_dist_trunc1",
    )
    assert problem.metric == "euclidean_trunc1"
    assert [d.id for d in problem.depots] == ["0"]
    assert problem.depots[0].coordinates == (40, 50)
    assert len(problem.stops) == 100
    assert len(problem.vehicles) == 25
    assert {(v.capacity_weight, v.shift_start, v.shift_end) for v in problem.vehicles} == {
        (200, 0, 1236)
    }
    first = problem.stop("1")
    assert (first.coordinates, first.weight, first.earliest, first.latest, first.service_time) == (
        (45, 68),
        10,
        912,
        967,
        90,
    )
    assert first.required


@needs_data
def test_the_vrplib_copy_of_a_solomon_instance_reads_the_same() -> None:
    txt = read_instance(DATA / "solomon/txt/R201.txt").problem
    vrp = read_instance(DATA / "solomon/vrplib/R201.vrp").problem
    assert vrp.stops == txt.stops
    assert vrp.depots == txt.depots
    assert vrp.vehicles == txt.vehicles
    assert vrp.metric == txt.metric


@needs_data
def test_reads_a_cvrp_instance_with_a_free_fleet_and_nint_arcs() -> None:
    instance = read_instance(DATA / "cvrp/A/A-n32-k5.vrp")
    problem = instance.problem
    assert (instance.name, instance.convention, problem.metric) == (
        "A-n32-k5",
        "cvrp_dist_nint",
        "euclidean_nint",
    )
    assert len(problem.stops) == 31
    assert len(problem.vehicles) == 31  # the fleet size is free: one vehicle per customer at most
    assert problem.vehicles[0].capacity_weight == 100
    assert all(s.latest == math.inf and s.service_time == 0 for s in problem.stops)
    assert problem.depots[0].coordinates == (82, 76)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("instance,cost\nC101,827.3\n", "bks.csv", "bks.csv is not a VRP instance"),
        ("hello\n", "notes.txt", "notes.txt is not a Solomon instance"),
        ("NAME : x\nTYPE : CVRP\n", "x.vrp", "x.vrp is not a VRPLIB instance: missing DIMENSION"),
        (
            "NAME : x\nDIMENSION : 3\nCAPACITY : 10\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
            "NODE_COORD_SECTION\n1 0 0\n2 1 1\n3 2 2\nDEMAND_SECTION\n1 0\n2 1\n3 1\n",
            "x.vrp",
            "edge weight type EXPLICIT is not supported",
        ),
        (
            "NAME : x\nDIMENSION : 3\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n"
            "DEMAND_SECTION\n1 0\n2 1\n3 1\n",
            "x.vrp",
            "a section does not list nodes 1 to 3",
        ),
        ("VEHICLE\nNUMBER CAPACITY\n 2 x\nCUSTOMER\n", "y.txt", "expected numbers"),
    ],
)
def test_a_file_that_is_not_an_instance_gives_one_plain_message(
    tmp_path: Path, content: str, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValidationFailed) as caught:
        read_instance(path)
    assert message in caught.value.message
    assert "\n" not in caught.value.message


def test_a_binary_file_is_not_an_instance(tmp_path: Path) -> None:
    path = tmp_path / "image.vrp"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(ValidationFailed, match="not a text file"):
        read_instance(path)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        read_instance(tmp_path / "nothing.txt")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("x")
    with pytest.raises(ValidationFailed, match="unknown instance format 'csv'") as caught:
        read_instance(path, format="csv")
    assert caught.value.field == "format"


@needs_data
def test_reads_the_routes_and_cost_of_a_solution_file() -> None:
    solution = read_solution(DATA / "solomon/txt/C101.sol")
    assert len(solution.routes) == 10
    assert solution.routes[0][:3] == ("5", "3", "7")
    assert solution.cost == pytest.approx(827.3)


def test_a_file_without_routes_is_not_a_solution(tmp_path: Path) -> None:
    path = tmp_path / "x.sol"
    path.write_text("Cost 12\n")
    with pytest.raises(ValidationFailed, match="no 'Route #' lines"):
        read_solution(path)


@needs_data
def test_the_evaluator_gives_c101_its_best_known_827_3_under_truncation() -> None:
    problem = read_instance(DATA / "solomon/txt/C101.txt").problem
    routes = assign_vehicles(problem, read_solution(DATA / "solomon/txt/C101.sol").routes)
    truncated = evaluate(problem, routes, table=travel_table(problem, make_matrix(problem.metric)))
    exact = evaluate(problem, routes, table=travel_table(problem, EuclideanMatrix()))
    assert truncated.feasible
    assert truncated.distance == pytest.approx(827.3, abs=1e-9)
    assert truncated.vehicles_used == 10
    assert exact.feasible
    assert exact.distance == pytest.approx(828.9369, abs=1e-4)


@needs_data
@pytest.mark.parametrize("row", CHECKED, ids=[r["instance"] for r in CHECKED])
def test_the_evaluator_recomputes_the_check_column_of_bks_csv(row: dict[str, str]) -> None:
    path = DATA / row["file"]
    problem = read_instance(path).problem
    solution = read_solution(path.with_suffix(".sol"))
    plan = evaluate(
        problem,
        assign_vehicles(problem, solution.routes),
        table=travel_table(problem, make_matrix(problem.metric)),
    )
    recomputed = float(row["check"].split()[0].removeprefix("recomputed="))
    assert plan.distance == pytest.approx(recomputed, abs=1e-6)
    assert plan.feasible == ("feasible=True" in row["check"])


@needs_data
def test_the_evaluator_finds_the_known_defect_of_b_n50_k8() -> None:
    path = DATA / "cvrp/B/B-n50-k8.vrp"
    problem = read_instance(path).problem
    routes = assign_vehicles(problem, read_solution(path.with_suffix(".sol")).routes)
    plan = evaluate(problem, routes, table=travel_table(problem, make_matrix(problem.metric)))
    assert "stop 2 is visited 2 times" in plan.violations
    assert "stop 3 is neither visited nor dropped" in plan.violations


@needs_data
def test_exact_times_break_a_window_of_the_r102_best_known_routes() -> None:
    problem = read_instance(DATA / "solomon/txt/R102.txt").problem
    routes = assign_vehicles(problem, read_solution(DATA / "solomon/txt/R102.sol").routes)
    exact = evaluate(problem, routes, table=travel_table(problem, EuclideanMatrix()))
    assert exact.distance == pytest.approx(1471.7457, abs=1e-4)
    assert not exact.feasible
    assert all("after its window closes" in v for v in exact.violations)
