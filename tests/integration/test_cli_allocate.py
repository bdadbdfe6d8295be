"""`wms allocate solve` as operators run it: a subprocess on an instance directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import run_wms
from tests.unit.routing.allocate_builders import small_instance


def test_json_gives_every_line_its_warehouse_id_the_cost_and_the_bound(tmp_path: Path) -> None:
    root = small_instance(tmp_path / "small")
    result = run_wms("allocate", "solve", str(root), "--json", "--time-limit", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"assignment", "cost", "bound"}
    # Lines by their row in orders.csv; warehouses by their id; -1 unfilled.
    assert answer["assignment"] == [[0, 0], [1, 0], [2, 1], [3, -1]]
    assert answer["cost"] == answer["bound"] == 42_530


def test_without_json_a_summary_is_printed(tmp_path: Path) -> None:
    root = small_instance(tmp_path / "small")
    result = run_wms("allocate", "solve", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "small: 4 lines in 3 orders, 2 warehouses" in result.stdout
    assert "optimal" in result.stdout
    assert "cost 425.30 EUR" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing"], "no such directory"),
        (["."], "is not an allocation instance"),
        (["small", "--time-limit", "0"], "the time limit must be more than 0 seconds"),
        (["small", "--time-limit", "soon"], "is not a number of seconds"),
    ],
)
def test_bad_input_is_one_plain_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    small_instance(tmp_path / "small")
    result = run_wms("allocate", "solve", *args, "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
