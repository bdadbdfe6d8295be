"""The embedded default: `wms demo` builds a realistic SQLite database that `wms check` trusts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.commands import run_wms
from wms.api.app import create_app
from wms.auth.models import Scope
from wms.auth.services import verify_api_key
from wms.config import Settings
from wms.db.engine import make_engine, make_session_factory
from wms.db.uow import UnitOfWork
from wms.inventory.gtin import normalise_gtin

DEFAULT_DATABASE = Path("var") / "wms.sqlite3"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Demo:
    directory: Path
    output: str
    built_at: datetime
    finished_at: datetime

    @property
    def database(self) -> Path:
        return self.directory / DEFAULT_DATABASE


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """One demo database for the whole module: building it takes about half a minute."""
    directory = tmp_path_factory.mktemp("demo")
    built_at = datetime.now(UTC)
    result = run_wms("demo", "--no-serve", cwd=directory, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    return Demo(directory, result.stdout, built_at, datetime.now(UTC))


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        yield connection


def scalar(demo: Demo, sql: str) -> object:
    with read_only(demo.database) as connection:
        return connection.execute(sql).fetchone()[0]


def number(demo: Demo, sql: str) -> int:
    value = scalar(demo, sql)
    assert isinstance(value, int), value
    return value


def column(demo: Demo, sql: str) -> list[object]:
    with read_only(demo.database) as connection:
        return [row[0] for row in connection.execute(sql)]


def utc(stored: object) -> datetime:
    """A timestamp as SQLite stores it (naive, UTC) made aware."""
    return datetime.fromisoformat(str(stored)).replace(tzinfo=UTC)


def copy_of(demo: Demo, directory: Path) -> Path:
    """A consistent copy of the demo database at the default place under ``directory``."""
    target = directory / DEFAULT_DATABASE
    target.parent.mkdir(parents=True)
    with read_only(demo.database) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return target


def test_demo_puts_its_database_in_var_under_the_working_directory(demo: Demo) -> None:
    assert demo.database.is_file()
    assert f"Demo database sqlite:///{DEFAULT_DATABASE}" in demo.output


def test_demo_prints_the_warehouses_logins_and_urls(demo: Demo) -> None:
    codes = column(demo, "SELECT code FROM warehouses ORDER BY id")
    assert f"warehouses: {', '.join(map(str, codes))}" in demo.output
    for login in ("admin / admin-demo", "planner / planner-demo", "operator / 1234"):
        assert login in demo.output
    for url in ("/docs", "/openapi.json", "/api/v1/inventory-levels", "/healthz"):
        assert f"http://127.0.0.1:8000{url}" in demo.output


def printed_key(demo: Demo, heading: str) -> str:
    lines = demo.output.splitlines()
    return lines[lines.index(heading) + 1].strip()


def scopes_of(demo: Demo, key: str) -> list[str]:
    engine = make_engine(f"sqlite:///{demo.database}")
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            return list(verify_api_key(uow, key=key).scopes)
    finally:
        engine.dispose()


def test_the_printed_api_key_is_an_admin_key(demo: Demo) -> None:
    key = printed_key(demo, "API key (admin scope, shown once):")
    assert Scope.ADMIN in scopes_of(demo, key)


def test_the_printed_storefront_key_reads_levels_and_the_demo_orders(
    demo: Demo, tmp_path: Path
) -> None:
    key = printed_key(demo, "Storefront API key (storefront scope, shown once):")
    assert scopes_of(demo, key) == [Scope.STOREFRONT]
    database = copy_of(demo, tmp_path)
    settings = Settings(
        database_url=f"sqlite:///{database}",
        secret_key="smoke",
        run_jobs_in_process=False,
        _env_file=None,
    )
    headers = {"Authorization": f"Bearer {key}"}
    client = TestClient(create_app(settings))
    levels = client.get("/api/v1/inventory-levels", params={"warehouse": "SHA"}, headers=headers)
    assert levels.status_code == 200, levels.text
    assert levels.json()["data"]
    listed = client.get("/api/v1/orders", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    orders = listed.json()["data"]
    assert len(orders) == number(demo, "SELECT count(*) FROM orders") >= 6
    assert {o["status"] for o in orders} == {"allocated"}
    assert any(o["reservation_id"] for o in orders)
    shipped_from = {f["warehouse"] for o in orders for f in o["allocation"]}
    assert len(shipped_from) >= 2
    for order in orders:
        ship_to = order["ship_to"]
        assert ship_to["address_lines"]
        assert ship_to["city"]
        assert ship_to["country"] == "CN"
    admin = {"Authorization": f"Bearer {printed_key(demo, 'API key (admin scope, shown once):')}"}
    # Orders belong to the key that sent them: the admin key sees none of the storefront's.
    assert client.get("/api/v1/orders", headers=admin).json()["data"] == []


def fulfilments(demo: Demo, status: str) -> list[str]:
    return [
        str(code)
        for code in column(
            demo,
            "SELECT w.code FROM fulfillment_orders f JOIN warehouses w ON w.id = f.warehouse_id "
            f"WHERE f.status = '{status}' ORDER BY w.code",
        )
    ]


def test_demo_has_outbound_work_for_the_handheld(demo: Demo) -> None:
    released = fulfilments(demo, "released")
    assert len(set(released)) >= 2, released  # Pick has work in two warehouses or more
    picked, packed = fulfilments(demo, "picked"), fulfilments(demo, "packed")
    assert len(picked) == len(packed) == 1
    assert picked == packed  # one warehouse has something to pack and something to ship
    assert number(demo, "SELECT count(*) FROM pick_tasks WHERE status = 'done'") >= 2
    assert (
        number(
            demo,
            "SELECT count(*) FROM packages WHERE status = 'closed' AND weight_g > 0 "
            "AND length(sscc) = 18",
        )
        == 1
    )
    converted = number(demo, "SELECT count(*) FROM orders WHERE reservation_id IS NOT NULL")
    assert converted >= 1
    assert number(demo, "SELECT count(*) FROM reservations WHERE status = 'committed'") == converted
    active = column(demo, "SELECT expires_at FROM reservations WHERE status = 'active'")
    assert active
    assert all(utc(expiry) > demo.finished_at for expiry in active)
    for wh in sorted(set(released)):
        assert f"{wh} {released.count(wh)}" in demo.output
    assert f"open orders: {number(demo, 'SELECT count(*) FROM orders')}" in demo.output
    assert f"active reservations: {len(active)}" in demo.output
    assert f"fulfilments to pack: {picked[0]} 1" in demo.output
    assert f"fulfilments to ship: {packed[0]} 1" in demo.output


def test_demo_orders_wrote_their_events(demo: Demo) -> None:
    types = set(column(demo, "SELECT DISTINCT type FROM outbox_events"))
    assert {
        "reservation.created",
        "reservation.committed",
        "order.received",
        "order.allocated",
        "fulfillment.picked",
        "fulfillment.packed",
        "inventory.level.updated",
    } <= types


def test_demo_has_regional_warehouses_and_suppliers(demo: Demo) -> None:
    assert number(demo, "SELECT count(*) FROM warehouses") >= 4
    assert number(demo, "SELECT count(DISTINCT region) FROM warehouses") >= 4
    assert number(demo, "SELECT count(*) FROM suppliers") >= 1
    assert number(demo, "SELECT count(*) FROM locations WHERE kind = 'storage'") >= 4


def test_demo_has_200_products_whose_gtins_validate(demo: Demo) -> None:
    gtins = column(demo, "SELECT gtin FROM products")
    assert len(gtins) >= 200
    assert all(isinstance(g, str) and normalise_gtin(g) == g for g in gtins)
    assert len(set(gtins)) == len(gtins)


def test_demo_has_lot_tracked_products_with_expiring_lots(demo: Demo) -> None:
    tracked = number(demo, "SELECT count(*) FROM products WHERE lot_tracked")
    assert tracked > 0
    with_expiry = number(
        demo,
        "SELECT count(DISTINCT p.id) FROM products p JOIN lots l ON l.product_id = p.id "
        "WHERE p.lot_tracked AND l.expiry_date IS NOT NULL",
    )
    assert with_expiry == tracked
    untracked_lots = number(
        demo,
        "SELECT count(*) FROM lots l JOIN products p ON p.id = l.product_id "
        "WHERE NOT p.lot_tracked",
    )
    assert untracked_lots == 0


def test_demo_history_spreads_over_about_ninety_days(demo: Demo) -> None:
    first = utc(scalar(demo, "SELECT min(occurred_at) FROM moves"))
    last = utc(scalar(demo, "SELECT max(occurred_at) FROM moves"))
    assert timedelta(days=85) <= last - first <= timedelta(days=92)
    assert number(demo, "SELECT count(DISTINCT date(occurred_at)) FROM moves") >= 85
    reasons = set(column(demo, "SELECT DISTINCT reason FROM moves"))
    assert {"receipt", "shipment"} <= reasons
    assert any(str(r).startswith("adjustment:") for r in reasons)


def test_no_demo_move_is_dated_after_the_demo_was_built(demo: Demo) -> None:
    last = utc(scalar(demo, "SELECT max(occurred_at) FROM moves"))
    assert last <= demo.finished_at


def test_check_passes_on_the_demo_database(demo: Demo) -> None:
    result = run_wms("check", cwd=demo.directory)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_check_names_a_quant_altered_in_the_sqlite_file(demo: Demo, tmp_path: Path) -> None:
    database = copy_of(demo, tmp_path)
    with closing(sqlite3.connect(database)) as connection, connection:
        row_id, sku, place, quantity = connection.execute(
            "SELECT q.id, p.sku, w.code || '/' || l.code, q.quantity FROM quants q "
            "JOIN products p ON p.id = q.product_id JOIN locations l ON l.id = q.location_id "
            "JOIN warehouses w ON w.id = l.warehouse_id "
            "WHERE q.lot_id IS NULL AND q.quantity > 0 ORDER BY q.id LIMIT 1"
        ).fetchone()
        connection.execute("UPDATE quants SET quantity = quantity + 1 WHERE id = ?", (row_id,))
    result = run_wms("check", cwd=tmp_path)
    assert result.returncode == 1, result.stdout
    expected = (
        f"quants #{row_id} (SKU {sku} at {place}): quantity is {quantity + 1}, "
        f"the ledger says {quantity}"
    )
    assert [line.strip() for line in result.stderr.splitlines()[1:]] == [expected]


def test_running_demo_again_reuses_the_database(demo: Demo) -> None:
    moves = number(demo, "SELECT count(*) FROM moves")
    result = run_wms("demo", "--no-serve", cwd=demo.directory)
    assert result.returncode == 0, result.stderr
    assert "using the existing demo database" in result.stdout
    assert "warehouses: " in result.stdout
    assert "fulfilments to pick: " in result.stdout
    assert "Storefront API key: create one with" in result.stdout
    assert number(demo, "SELECT count(*) FROM moves") == moves


def test_demo_has_a_quality_history_lots_on_hold_and_a_product_off_sale(demo: Demo) -> None:
    decided = number(demo, "SELECT count(*) FROM inspections WHERE verdict IS NOT NULL")
    rejected = number(demo, "SELECT count(*) FROM inspections WHERE verdict = 'rejected'")
    assert decided >= 20
    assert rejected >= 1
    held = number(
        demo,
        "SELECT coalesce(sum(quality_control), 0) FROM stock_levels sl "
        "JOIN warehouses w ON w.id = sl.warehouse_id WHERE w.code = 'SHA'",
    )
    waiting = number(demo, "SELECT count(*) FROM inspections WHERE status = 'open'")
    assert held == 300 * waiting
    assert waiting >= 1
    assert f"waiting for inspection: SHA {waiting}" in demo.output
    blocked = column(
        demo,
        "SELECT DISTINCT p.sku FROM stock_levels sl JOIN products p ON p.id = sl.product_id WHERE sl.blocked",
    )
    assert len(blocked) == 1
    assert f"off sale: {blocked[0]}" in demo.output
    assert number(demo, "SELECT count(*) FROM supplier_returns") == rejected
    statuses = column(demo, "SELECT DISTINCT quality_status FROM suppliers ORDER BY 1")
    assert statuses == ["approved", "conditional"]
