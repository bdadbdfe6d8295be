"""Stock services on PostgreSQL: every change is a balanced posting, and refusals write nothing."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy.exc

from tests import factories
from tests.conftest import Database
from wms.errors import ValidationFailed
from wms.inventory import levels, stock
from wms.inventory.errors import (
    InsufficientStock,
    InvalidQuantity,
    LocationNotUsable,
    LotRequired,
    StockAllocated,
    UnknownLocation,
    UnknownSku,
)
from wms.inventory.integrity import check_ledger
from wms.inventory.levels import LevelLine
from wms.inventory.queries import list_levels


@pytest.fixture
def shanghai(pg: Database) -> Database:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        factories.product(uow, "MUG-1")
        uow.commit()
    return pg


def level(db: Database, sku: str, warehouse: str) -> dict[str, int]:
    with db.uow() as uow:
        (row,) = list_levels(uow.session, skus=[sku], warehouse=warehouse).items
    return {k: v for k, v in row.__dict__.items() if isinstance(v, int)}


def assert_ledger_agrees(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]


def test_receiving_puts_stock_on_hand_and_bumps_the_version(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=12, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    got = level(shanghai, "MUG-1", "SHA")
    assert got["on_hand"] == 12
    assert got["available"] == 12
    assert got["version"] == 1
    assert_ledger_agrees(shanghai)


def test_receiving_a_lot_tracked_product_requires_a_lot_and_expiry(shanghai: Database) -> None:
    with shanghai.uow() as uow, pytest.raises(LotRequired):
        stock.receive(uow, sku="TEA-1", quantity=5, warehouse="SHA", actor="t")
    with shanghai.uow() as uow, pytest.raises(LotRequired, match="expiry"):
        stock.receive(uow, sku="TEA-1", quantity=5, warehouse="SHA", lot="L1", actor="t")
    assert shanghai.count("moves") == 0
    assert shanghai.count("lots") == 0


def test_a_move_within_a_warehouse_keeps_on_hand_and_version(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=10, warehouse="SHA", actor="t")
        stock.move(
            uow,
            sku="MUG-1",
            quantity=4,
            warehouse="SHA",
            from_location="RECV",
            to_location="SHA-B02",
            actor="t",
        )
        uow.commit()
    got = level(shanghai, "MUG-1", "SHA")
    assert got["on_hand"] == 10
    assert got["version"] == 1  # the move changed no counter, so the level did not change
    assert (
        shanghai.scalar(
            "SELECT quantity FROM quants q JOIN locations l ON l.id = q.location_id "
            "WHERE l.code = 'B02'"
        )
        == 4
    )
    assert_ledger_agrees(shanghai)


def test_moving_more_than_is_there_is_refused_and_writes_nothing(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=3, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with shanghai.uow() as uow, pytest.raises(InsufficientStock) as caught:
        stock.move(
            uow,
            sku="MUG-1",
            quantity=5,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            actor="t",
        )
    assert caught.value.lines[0].requested == 5
    assert caught.value.lines[0].available == 3
    assert shanghai.count("moves") == 1
    assert level(shanghai, "MUG-1", "SHA")["version"] == 1


def test_stock_moved_into_damaged_or_quality_hold_is_not_available(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=10, warehouse="SHA", location="B01", actor="t")
        stock.move(
            uow,
            sku="MUG-1",
            quantity=2,
            warehouse="SHA",
            from_location="B01",
            to_location="DMG",
            actor="t",
        )
        stock.move(
            uow,
            sku="MUG-1",
            quantity=3,
            warehouse="SHA",
            from_location="B01",
            to_location="QC",
            actor="t",
        )
        uow.commit()
    got = level(shanghai, "MUG-1", "SHA")
    assert (got["on_hand"], got["damaged"], got["quality_control"], got["available"]) == (
        10,
        2,
        3,
        5,
    )


def test_adjustments_add_and_remove_first_expiry_first(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(
            uow,
            sku="TEA-1",
            quantity=5,
            warehouse="SHA",
            location="B01",
            lot="LATE",
            expiry_date=date(2031, 1, 1),
            actor="t",
        )
        stock.receive(
            uow,
            sku="TEA-1",
            quantity=5,
            warehouse="SHA",
            location="B02",
            lot="SOON",
            expiry_date=date(2030, 1, 1),
            actor="t",
        )
        stock.adjust(uow, sku="TEA-1", warehouse="SHA", quantity=-7, reason="lost", actor="t")
        uow.commit()
    remaining = shanghai.scalar(
        "SELECT string_agg(l.code || ':' || q.quantity, ',' ORDER BY l.code) "
        "FROM quants q JOIN lots l ON l.id = q.lot_id WHERE q.quantity > 0"
    )
    assert remaining == "LATE:3"
    assert_ledger_agrees(shanghai)


def test_adjustment_refuses_zero_and_unknown_reasons(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        with pytest.raises(InvalidQuantity):
            stock.adjust(uow, sku="MUG-1", warehouse="SHA", quantity=0, reason="found", actor="t")
        with pytest.raises(ValidationFailed, match="unknown reason"):
            stock.adjust(uow, sku="MUG-1", warehouse="SHA", quantity=1, reason="whim", actor="t")
        with pytest.raises(UnknownSku):
            stock.adjust(uow, sku="NOPE", warehouse="SHA", quantity=1, reason="found", actor="t")
    assert shanghai.count("moves") == 0


def test_scrap_takes_stock_out_of_the_warehouse(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=4, warehouse="SHA", location="B01", actor="t")
        stock.scrap(uow, sku="MUG-1", quantity=1, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    assert level(shanghai, "MUG-1", "SHA")["on_hand"] == 3
    assert_ledger_agrees(shanghai)


def test_a_transfer_is_incoming_at_the_target_until_received(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=8, warehouse="SHA", location="B01", actor="t")
        result = stock.ship_transfer(
            uow,
            from_warehouse="SHA",
            to_warehouse="CAN",
            lines=[stock.TransferLineRequest("MUG-1", 5, "B01")],
            actor="t",
        )
        uow.commit()
    assert level(shanghai, "MUG-1", "SHA")["on_hand"] == 3
    assert level(shanghai, "MUG-1", "CAN")["incoming"] == 5
    assert_ledger_agrees(shanghai)
    with shanghai.uow() as uow:
        stock.receive_transfer(uow, reference=result.reference, location="B02", actor="t")
        uow.commit()
    can = level(shanghai, "MUG-1", "CAN")
    assert (can["on_hand"], can["incoming"]) == (5, 0)
    assert_ledger_agrees(shanghai)


def test_stock_cannot_be_put_in_a_grouping_or_unknown_location(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        with pytest.raises(LocationNotUsable):
            stock.receive(
                uow, sku="MUG-1", quantity=1, warehouse="SHA", location="STOCK", actor="t"
            )
        with pytest.raises(UnknownLocation):
            stock.receive(uow, sku="MUG-1", quantity=1, warehouse="SHA", location="Z99", actor="t")


def test_reserving_takes_from_available_all_lines_or_none(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    with shanghai.uow() as uow, pytest.raises(InsufficientStock) as caught:
        levels.reserve(uow, lines=[LevelLine("MUG-1", "SHA", 3), LevelLine("MUG-1", "CAN", 1)])
    assert [(ln.warehouse, ln.available) for ln in caught.value.lines] == [("CAN", 0)]
    assert level(shanghai, "MUG-1", "SHA")["reserved"] == 0
    with shanghai.uow() as uow:
        levels.reserve(uow, lines=[LevelLine("MUG-1", "SHA", 3)])
        levels.commit_reserved(uow, lines=[LevelLine("MUG-1", "SHA", 2)])
        uow.commit()
    got = level(shanghai, "MUG-1", "SHA")
    assert (got["reserved"], got["committed"], got["available"]) == (1, 2, 2)


def test_safety_stock_lowers_available_but_not_what_may_leave(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        levels.set_safety_stock(uow, sku="MUG-1", warehouse="SHA", quantity=4)
        uow.commit()
    assert level(shanghai, "MUG-1", "SHA")["available"] == 1
    with shanghai.uow() as uow, pytest.raises(InsufficientStock):
        levels.reserve(uow, lines=[LevelLine("MUG-1", "SHA", 2)])


def test_committed_stock_cannot_be_adjusted_away(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        levels.commit(uow, lines=[LevelLine("MUG-1", "SHA", 4)])
        uow.commit()
    with shanghai.uow() as uow, pytest.raises(StockAllocated):
        stock.adjust(uow, sku="MUG-1", warehouse="SHA", quantity=-2, reason="lost", actor="t")
    assert shanghai.count("moves") == 1


def test_delivering_committed_stock_consumes_the_commitment(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        levels.commit(uow, lines=[LevelLine("MUG-1", "SHA", 4)])
        stock.deliver(
            uow,
            warehouse="SHA",
            lines=[stock.PickedLine("MUG-1", 4, "B01")],
            actor="t",
            consume_committed=True,
        )
        uow.commit()
    got = level(shanghai, "MUG-1", "SHA")
    assert (got["on_hand"], got["committed"], got["available"]) == (1, 0, 1)


def test_the_ledger_refuses_updates_deletes_and_truncation(shanghai: Database) -> None:
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    for statement in (
        "UPDATE moves SET quantity = 50",
        "DELETE FROM moves",
        "TRUNCATE moves CASCADE",
    ):
        with (
            shanghai.engine.begin() as connection,
            pytest.raises(sqlalchemy.exc.DBAPIError, match="append-only"),
        ):
            connection.exec_driver_sql(statement)
    assert shanghai.scalar("SELECT sum(quantity) FROM moves") == 5


def test_a_refused_posting_leaves_the_callers_transaction_untouched(shanghai: Database) -> None:
    """B01 sorts before B02: the increment is written first, then the shortage is found."""
    with shanghai.uow() as uow:
        stock.receive(uow, sku="MUG-1", quantity=2, warehouse="SHA", location="B02", actor="t")
        uow.commit()
    with shanghai.uow() as uow:
        with pytest.raises(InsufficientStock):
            stock.move(
                uow,
                sku="MUG-1",
                quantity=5,
                warehouse="SHA",
                from_location="B02",
                to_location="B01",
                actor="t",
            )
        stock.receive(uow, sku="MUG-1", quantity=1, warehouse="SHA", location="B03", actor="t")
        uow.commit()  # a caller that catches the refusal and goes on commits only its own work
    assert (
        shanghai.scalar(
            "SELECT count(*) FROM quants q JOIN locations l ON l.id = q.location_id "
            "WHERE l.code = 'B01' AND q.quantity > 0"
        )
        == 0
    )
    assert_ledger_agrees(shanghai)
