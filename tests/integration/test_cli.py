"""The `wms` command as operators run it: subprocesses against the PostgreSQL test database."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import text
from typer.core import TyperGroup

from tests import factories
from tests.commands import run_wms, wms_env
from tests.conftest import Database
from wms.auth.models import Scope
from wms.auth.services import verify_api_key
from wms.cli import app as cli_app
from wms.inventory import stock


def command_paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command of the CLI, as the words that invoke it."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, TyperGroup):
            paths += command_paths(command, (*prefix, name))
    return paths


COMMANDS = command_paths(typer.main.get_group(cli_app))


@pytest.fixture
def env(pg: Database) -> dict[str, str]:
    return wms_env(WMS_DATABASE_URL=pg.url)


@pytest.fixture
def stocked(pg: Database) -> Database:
    """A ledger with receipts, a move, an adjustment, a lot and a transfer still in transit."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.product(uow, "MUG-1")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        stock.receive(uow, sku="MUG-1", quantity=9, warehouse="SHA", location="B01", actor="t")
        stock.move(
            uow,
            sku="MUG-1",
            quantity=4,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            actor="t",
        )
        stock.adjust(uow, sku="MUG-1", warehouse="SHA", quantity=-1, reason="lost", actor="t")
        stock.receive(
            uow,
            sku="TEA-1",
            quantity=6,
            warehouse="SHA",
            location="B03",
            lot="L1",
            expiry_date=date(2030, 1, 1),
            actor="t",
        )
        stock.ship_transfer(
            uow,
            from_warehouse="SHA",
            to_warehouse="CAN",
            lines=[stock.TransferLineRequest("TEA-1", 2, "B03", "L1")],
            actor="t",
        )
        uow.commit()
    return pg


def quant_id(db: Database, sku: str, location: str) -> int:
    found = db.scalar(
        "SELECT q.id FROM quants q JOIN products p ON p.id = q.product_id "
        "JOIN locations l ON l.id = q.location_id WHERE p.sku = :sku AND l.code = :location",
        sku=sku,
        location=location,
    )
    assert isinstance(found, int)
    return found


def tamper(db: Database, sql: str, **params: object) -> None:
    """Change a row behind the services' back, as a bad script or a hand edit would."""
    with db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_check_passes_on_a_consistent_ledger_with_stock(
    stocked: Database, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_wms("check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    moves = stocked.count("moves")
    assert result.stdout.startswith(f"ok: {moves} moves, ")
    assert "agree" in result.stdout
    assert result.stderr == ""


def test_check_json_reports_ok_with_the_counts(
    stocked: Database, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_wms("check", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["discrepancies"] == []
    assert report["moves"] == stocked.count("moves")
    assert report["quants"] == stocked.count("quants")
    assert report["levels"] == stocked.count("stock_levels")


def test_check_exits_1_and_names_a_quant_altered_by_hand(
    stocked: Database, env: dict[str, str], tmp_path: Path
) -> None:
    row = quant_id(stocked, "MUG-1", "B02")
    tamper(stocked, "UPDATE quants SET quantity = quantity + 1 WHERE id = :id", id=row)
    result = run_wms("check", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("1 disagreement(s)")
    assert lines[1:] == [
        f"  quants #{row} (SKU MUG-1 at SHA/B02): quantity is 5, the ledger says 4"
    ]


def test_check_json_lists_the_altered_quant(
    stocked: Database, env: dict[str, str], tmp_path: Path
) -> None:
    row = quant_id(stocked, "TEA-1", "B03")
    tamper(stocked, "UPDATE quants SET quantity = quantity + 1 WHERE id = :id", id=row)
    result = run_wms("check", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["discrepancies"] == [
        {
            "table": "quants",
            "row_id": row,
            "subject": "(SKU TEA-1 lot L1 at SHA/B03)",
            "field": "quantity",
            "ledger": 4,
            "stored": 5,
            "description": f"quants #{row} (SKU TEA-1 lot L1 at SHA/B03): quantity is 5, "
            "the ledger says 4",
        }
    ]


def test_check_names_a_stock_level_altered_by_hand(
    stocked: Database, env: dict[str, str], tmp_path: Path
) -> None:
    level = stocked.scalar(
        "SELECT s.id FROM stock_levels s JOIN products p ON p.id = s.product_id "
        "JOIN warehouses w ON w.id = s.warehouse_id WHERE p.sku = 'TEA-1' AND w.code = 'CAN'"
    )
    tamper(stocked, "UPDATE stock_levels SET incoming = 0 WHERE id = :id", id=level)
    result = run_wms("check", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 1
    (found,) = json.loads(result.stdout)["discrepancies"]
    assert (found["table"], found["row_id"], found["field"]) == ("stock_levels", level, "incoming")
    assert (found["ledger"], found["stored"]) == (2, 0)


def test_check_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    empty = wms_env(WMS_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    result = run_wms("check", env=empty, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: the database schema is not up to date; run `wms db upgrade`"
    ]


def test_apikey_create_refuses_an_unknown_scope_with_one_error_line(
    pg: Database, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_wms("apikey", "create", "x", "--scope", "bogus", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "bogus" in lines[0]
    assert pg.count("api_keys") == 0


def test_apikey_create_prints_a_working_key_as_json(
    pg: Database, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_wms("apikey", "create", "x", "--scope", "read", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    assert (issued["name"], issued["scopes"]) == ("x", ["read"])
    assert issued["key"].startswith("wms_")
    with pg.uow() as uow:
        principal = verify_api_key(uow, key=issued["key"])
    assert principal.scopes == frozenset({Scope.READ})
    stored = pg.scalar("SELECT key_hash FROM api_keys")
    assert issued["key"] not in str(stored)


def test_apikey_create_takes_several_scopes_and_prints_the_key_alone_on_a_line(
    pg: Database, env: dict[str, str], tmp_path: Path
) -> None:
    result = run_wms(
        "apikey",
        "create",
        "shop",
        "--scope",
        "storefront",
        "--scope",
        "read",
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.splitlines()[-1]
    with pg.uow() as uow:
        principal = verify_api_key(uow, key=key)
    assert principal.scopes == frozenset({Scope.STOREFRONT, Scope.READ})


def test_every_command_is_listed() -> None:
    assert {("check",), ("serve",), ("demo",), ("db", "upgrade"), ("apikey", "create")} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("words", [(), *COMMANDS], ids=lambda words: " ".join(words) or "wms")
def test_every_command_answers_help(words: tuple[str, ...], tmp_path: Path) -> None:
    result = run_wms(*words, "--help", env=wms_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert f"wms {' '.join(words)}".strip() in result.stdout
