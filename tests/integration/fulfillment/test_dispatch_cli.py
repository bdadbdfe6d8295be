"""`wms dispatch` as a user runs it on PostgreSQL: a day planned (as JSON), sent with its route
sheet, the sheet again as PDF, the fleet listed; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands import run_wms, wms_env
from tests.conftest import Database
from tests.integration.fulfillment.delivery_support import DAY, delivery_day, eta_events


@pytest.fixture
def env(pg: Database) -> dict[str, str]:
    return wms_env(WMS_DATABASE_URL=pg.url)


def test_a_day_is_planned_sent_with_its_sheet_and_printed_again(
    pg: Database, env: dict[str, str], tmp_path: Path
) -> None:
    day = delivery_day(pg)
    planned = run_wms(
        "dispatch", "plan", "--warehouse", "SHA", "--date", DAY.isoformat(),
        "--time-limit", "1", "--json", env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["status"] == "planned"
    assert plan["stops_routed"] == len(day)
    assert sorted(s["fulfillment_id"] for t in plan["trips"] for s in t["stops"]) == sorted(day)

    sent = run_wms("dispatch", "send", plan["id"], env=env, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith(f"Route plan {plan['id']} · SHA")
    assert "Vehicle VAN-1" in sent.stdout
    assert all(f in sent.stdout for f in day)
    assert len(eta_events(pg)) == len(day)

    again = run_wms("dispatch", "send", plan["id"], env=env, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == (
        f"error: route plan {plan['id']} cannot go from dispatched to dispatched"
    )
    assert len(eta_events(pg)) == len(day)

    pdf = tmp_path / "sheet.pdf"
    printed = run_wms("dispatch", "sheet", plan["id"], "--pdf", str(pdf), env=env, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    listed = run_wms("dispatch", "vehicles", "--warehouse", "SHA", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "VAN-1" in listed.stdout
    assert "08:00-18:00" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "--warehouse", "NOPE", "--date", "2030-05-06"), "no warehouse with code 'NOPE'"),
        (("plan", "--warehouse", "SHA", "--date", "soon"), "--date 'soon' is not a date"),
        (
            ("plan", "--warehouse", "SHA", "--date", "2030-05-06", "--time-limit", "0"),
            "time limit 0 s must be more than 0",
        ),
        (("send", "RP-NOPE-1"), "no route plan 'RP-NOPE-1'"),
        (("sheet", "RP-NOPE-1"), "no route plan 'RP-NOPE-1'"),
        (("vehicles", "--warehouse", "NOPE"), "no warehouse with code 'NOPE'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    pg: Database, env: dict[str, str], tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    delivery_day(pg)
    result = run_wms("dispatch", *args, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith(f"error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert pg.count("route_plans") == 0
