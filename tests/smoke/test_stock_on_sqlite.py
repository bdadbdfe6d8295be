"""The embedded default: the same stock services and invariants on a SQLite file."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy.exc

from tests import factories
from tests.conftest import Database
from wms.inventory import levels, stock
from wms.inventory.errors import InsufficientStock
from wms.inventory.integrity import check_ledger
from wms.inventory.levels import LevelLine


def test_stock_operations_balance_on_sqlite(sqlite_db: Database) -> None:
    with sqlite_db.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=300)
        stock.receive(
            uow,
            sku="TEA",
            quantity=20,
            warehouse="SHA",
            location="B01",
            lot="L1",
            expiry_date=date(2030, 1, 1),
            actor="t",
        )
        stock.move(
            uow,
            sku="TEA",
            quantity=5,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            lot="L1",
            actor="t",
        )
        transfer = stock.ship_transfer(
            uow,
            from_warehouse="SHA",
            to_warehouse="CAN",
            actor="t",
            lines=[stock.TransferLineRequest("TEA", 3, "B02", "L1")],
        )
        stock.receive_transfer(uow, reference=transfer.reference, actor="t")
        levels.reserve(uow, lines=[LevelLine("TEA", "SHA", 2)])
        uow.commit()
    with sqlite_db.uow() as uow, pytest.raises(InsufficientStock):
        stock.move(
            uow,
            sku="TEA",
            quantity=50,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            lot="L1",
            actor="t",
        )
    with sqlite_db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]
    assert report.moves == 4


def test_the_ledger_is_append_only_on_sqlite(sqlite_db: Database) -> None:
    with sqlite_db.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG")
        stock.receive(uow, sku="MUG", quantity=1, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with (
        sqlite_db.engine.begin() as connection,
        pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"),
    ):
        connection.exec_driver_sql("DELETE FROM moves")
    assert sqlite_db.count("moves") == 1
