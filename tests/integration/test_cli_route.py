"""`wms route solve` as operators run it: JSON on stdout, one plain line on stderr for bad input."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.commands import run_wms
from wms.cli import app

DATA = Path("/work/shared/data/vrp")

TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  3         30

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0       1000          0
    1      10         0         10          0        100          5
    2      10         10        10          0        100          5
    3      0          10        10         50        200          5
    4      -10        0         20          0        300          5
    5      -10       -10         5          0        300          5
"""

POINTS = {0: (0, 0), 1: (10, 0), 2: (10, 10), 3: (0, 10), 4: (-10, 0), 5: (-10, -10)}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.txt"
    path.write_text(TINY.replace("\n", "\r\n"))  # Solomon files have CRLF line ends
    return path


def solve_json(*args: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(app, ["route", "solve", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def route_length(route: list[int]) -> float:
    path = [0, *route, 0]
    return sum(math.dist(POINTS[a], POINTS[b]) for a, b in itertools.pairwise(path))


def test_prints_routes_distance_vehicles_and_feasibility_as_json(tiny: Path) -> None:
    code, answer = solve_json(str(tiny), "--time-limit", "1", "--seed", "4")
    assert code == 0
    assert set(answer) == {"routes", "distance", "vehicles", "feasible"}
    routes = answer["routes"]
    assert isinstance(routes, list)
    assert sorted(c for route in routes for c in route) == [1, 2, 3, 4, 5]
    assert all(isinstance(c, int) for route in routes for c in route)
    assert answer["vehicles"] == len(routes)
    assert answer["feasible"] is True
    # The distance is exact Euclidean, whatever convention the search optimised.
    assert answer["distance"] == pytest.approx(sum(route_length(r) for r in routes), abs=1e-6)


@pytest.mark.parametrize("backend", ["pyvrp", "ortools"])
def test_both_backends_answer_the_same_json_shape(tiny: Path, backend: str) -> None:
    code, answer = solve_json(str(tiny), "--time-limit", "0.5", "--backend", backend)
    assert code == 0
    assert answer["feasible"] is True


def test_a_customer_no_vehicle_can_carry_makes_the_plan_infeasible(tmp_path: Path) -> None:
    path = tmp_path / "heavy.txt"
    path.write_text(TINY.replace("-10       -10         5", "-10       -10        99"))
    code, answer = solve_json(str(path), "--time-limit", "0.5")
    assert code == 1
    assert answer["feasible"] is False
    assert sorted(c for route in answer["routes"] for c in route) == [1, 2, 3, 4]  # type: ignore[attr-defined]


@pytest.mark.skipif(not DATA.is_dir(), reason="the VRP benchmark data is not here")
def test_solves_a_cvrplib_instance(tmp_path: Path) -> None:
    code, answer = solve_json(str(DATA / "cvrp/P/P-n16-k8.vrp"), "--time-limit", "1")
    assert code == 0
    assert sorted(c for route in answer["routes"] for c in route) == list(range(1, 16))  # type: ignore[attr-defined]


def test_prints_a_readable_plan_without_json(tiny: Path) -> None:
    result = CliRunner().invoke(app, ["route", "solve", str(tiny), "--time-limit", "0.5"])
    assert result.exit_code == 0
    assert "feasible, " in result.stdout
    assert "exact Euclidean distance" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{dir}/bks.csv"], "error: bks.csv is not a VRP instance"),
        (["{dir}/missing.txt"], "error: no such file: {dir}/missing.txt"),
        (["{dir}/tiny.txt", "--time-limit", "0"], "error: time limit 0.0 s must be more than 0"),
        (["{dir}/tiny.txt", "--backend", "gurobi"], "error: unknown backend 'gurobi'"),
        (["{dir}/tiny.txt", "--format", "vrplib"], "error: tiny.txt is not a VRPLIB instance"),
        (["{dir}/tiny.txt", "--metric", "manhattan"], "error: unknown distance metric"),
    ],
    ids=[
        "not-an-instance",
        "missing-file",
        "time-limit-0",
        "unknown-backend",
        "wrong-format",
        "unknown-metric",
    ],
)
def test_bad_input_exits_2_with_one_plain_line(tiny: Path, args: list[str], message: str) -> None:
    (tiny.parent / "bks.csv").write_text("instance,cost\nC101,827.3\n")
    words = [a.format(dir=tiny.parent) for a in args]
    for output in ([], ["--json"]):
        result = CliRunner().invoke(app, ["route", "solve", *words, *output])
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(message.format(dir=tiny.parent))


def test_the_real_command_prints_no_traceback_for_a_file_that_is_not_an_instance(
    tmp_path: Path,
) -> None:
    (tmp_path / "orders.csv").write_text("order,sku\n1,MUG-1\n")
    result = run_wms("route", "solve", "orders.csv", "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "error: orders.csv is not a VRP instance (expected a Solomon .txt or a VRPLIB .vrp file)\n"
    )
