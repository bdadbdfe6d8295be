"""`wms qc plan` as a user runs it: JSON for machines, a sentence for people, one line on error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import run_wms


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--lot-size", "500", "--aql", "1.0"],
            {"code_letter": "H", "sample_size": 50, "ac": 1, "re": 2},
        ),
        (
            ["--lot-size", "500", "--aql", "0.65"],
            {"code_letter": "H", "sample_size": 80, "ac": 1, "re": 2},
        ),
        (
            ["--lot-size", "2000", "--aql", "2.5", "--level", "I", "--severity", "tightened"],
            {"code_letter": "H", "sample_size": 50, "ac": 2, "re": 3},
        ),
        (
            ["--lot-size", "5", "--aql", "0.010"],
            {"code_letter": "A", "sample_size": 5, "ac": 0, "re": 1},
        ),
    ],
)
def test_prints_the_plan_as_json(tmp_path: Path, args: list[str], expected: dict[str, int]) -> None:
    result = run_wms("qc", "plan", *args, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


def test_reduced_inspection_differs_between_the_standards(tmp_path: Path) -> None:
    common = ["qc", "plan", "--lot-size", "3000", "--aql", "1.0", "--severity", "reduced", "--json"]
    iso = json.loads(run_wms(*common, cwd=tmp_path).stdout)
    z14 = json.loads(run_wms(*common, "--standard", "z14", cwd=tmp_path).stdout)
    assert iso["re"] == iso["ac"] + 1
    assert z14["re"] > z14["ac"] + 1


def test_prints_a_readable_plan_without_json(tmp_path: Path) -> None:
    result = run_wms("qc", "plan", "--lot-size", "500", "--aql", "0.65", cwd=tmp_path)
    assert result.returncode == 0
    assert "code letter H -> plan J: inspect 80, accept on 1, reject on 2" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lot-size", "0", "--aql", "1.0"], "lot size 0"),
        (["--lot-size", "100", "--aql", "0.3"], "AQL 0.3 is not in the ISO 2859-1 tables"),
        (["--lot-size", "100", "--aql", "1.0", "--level", "IV"], "IV"),
        (["--lot-size", "100", "--aql", "1.0", "--severity", "lenient"], "lenient"),
        (["--lot-size", "100", "--aql", "1.0", "--standard", "mil"], "mil"),
    ],
)
def test_bad_input_is_one_plain_line_and_a_non_zero_exit(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_wms("qc", "plan", *args, "--json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
