"""`wms replenish` as a user runs it on PostgreSQL: a plan as JSON, an infeasible plan (exit 1),
bad input as one line and exit 2, and the model written as LP and MPS files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.commands import run_wms, wms_env
from tests.conftest import Database
from tests.integration.procurement.support import approved, stocked
from wms.db.base import utcnow
from wms.procurement.replenishment import set_storage_capacity


@pytest.fixture
def env(pg: Database) -> dict[str, str]:
    stocked(pg, utcnow().date())
    return wms_env(WMS_DATABASE_URL=pg.url)


def test_plan_prints_the_plan_as_json(pg: Database, env: dict[str, str], tmp_path: Path) -> None:
    result = run_wms(
        "replenish", "plan", "--horizon", "8", "--time-limit", "5", "--json",
        env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["status"] in ("optimal", "feasible")
    assert isinstance(plan["objective"], float)
    assert isinstance(plan["bound"], float)
    assert plan["bound"] <= plan["objective"]
    assert plan["gap"] >= 0
    assert plan["lines"]
    for line in plan["lines"]:
        assert {"sku", "warehouse", "supplier", "order_week", "quantity", "reason"} <= set(line)
        assert line["warehouse"] == "SHA"
        assert line["reason"]
    assert pg.count("plan_runs") == 1
    assert pg.count("plan_proposals") == len(plan["lines"])


def test_plan_without_json_prints_one_line_per_order(env: dict[str, str], tmp_path: Path) -> None:
    result = run_wms(
        "replenish", "plan", "--horizon", "6", "--time-limit", "5", "--warehouse", "SHA",
        env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    head, *lines = result.stdout.strip().splitlines()
    assert head.startswith("plan run 1: ")
    assert "CNY" in head
    assert lines
    assert all(" from SUP-1: " in line for line in lines), result.stdout


def test_an_infeasible_plan_prints_its_reason_and_exits_1(
    pg: Database, env: dict[str, str], tmp_path: Path
) -> None:
    approved(pg, {"MUG": 500})
    with pg.uow() as uow:
        uow.session.execute(text("UPDATE products SET volume_cm3 = 1000"))
        set_storage_capacity(uow, warehouse="SHA", capacity_m3=0.2)
        uow.commit()
    result = run_wms(
        "replenish", "plan", "--time-limit", "5", "--json", env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 1, result.stderr
    plan = json.loads(result.stdout)
    assert plan["status"] == "infeasible"
    assert "warehouse SHA is over capacity" in plan["reason"]
    assert plan["lines"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "0"], "the horizon is 1 to 52 weeks, not 0"),
        (["--time-limit", "0"], "time limit 0.0 s must be more than 0"),
        (["--budget", "-5"], "budget -5.0 a week must be from 0"),
        (["--service-level", "1"], "service level 1.0 must be at least 0.5 and below 1"),
        (["--warehouse", "NOPE"], "no warehouse with code 'NOPE'"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(
    pg: Database, env: dict[str, str], tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_wms("replenish", "plan", *args, env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert pg.count("plan_runs") == 0


@pytest.mark.parametrize("suffix", ["lp", "mps"])
def test_export_writes_the_model(env: dict[str, str], tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"plan.{suffix}"
    result = run_wms(
        "replenish", "export", str(target), "--horizon", "4", env=env, cwd=tmp_path, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert target.stat().st_size > 0
    assert "2 series over 4 weeks" in result.stdout


def test_export_refuses_another_kind_of_file(env: dict[str, str], tmp_path: Path) -> None:
    result = run_wms("replenish", "export", str(tmp_path / "plan.txt"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"error: {tmp_path / 'plan.txt'}: the file name must end in .lp or .mps"
    )
