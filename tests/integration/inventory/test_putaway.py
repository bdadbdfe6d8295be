"""Putaway on PostgreSQL: the fixed bin, then a bin with the same lot, then the nearest empty bin.

The floor plan: the receiving dock at (10, 0); B01 at (0, 0) is 10 m away, B02 at (13, 3) is 6 m
away walking the aisles (4.2 m as the crow flies), B03 at (15, 0) is 5 m away, B04 at (40, 40) is
70 m away. So rectilinear distance from the dock picks B03, straight-line distance would pick B02,
and distance from the origin instead of the dock would pick B01.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import pytest

from tests import factories
from tests.conftest import Database
from wms.db.uow import UnitOfWork
from wms.inventory import putaway, stock
from wms.inventory.errors import InsufficientStock, LocationNotUsable, UnknownLocation
from wms.inventory.integrity import check_ledger
from wms.inventory.putaway import BinFull, NoBinAvailable, Suggestion, WrongBin

E = TypeVar("E", bound=BaseException)
FLOOR_PLAN = {"RECV": (10.0, 0.0), "B01": (0.0, 0.0), "B02": (13.0, 3.0), "B03": (15.0, 0.0)}
FLOOR_PLAN["B04"] = (40.0, 40.0)
TEA_EXPIRY = date(2027, 3, 31)


def place(
    db: Database,
    code: str,
    *,
    x: float | None = None,
    y: float | None = None,
    capacity: int | None = None,
    active: bool = True,
    warehouse: str = "SHA",
) -> None:
    """Put a location of a warehouse on the floor plan, with a capacity."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "UPDATE locations SET x = %(x)s, y = %(y)s, capacity = %(capacity)s, "
            "active = %(active)s WHERE code = %(code)s "
            "AND warehouse_id = (SELECT id FROM warehouses WHERE code = %(wh)s)",
            {"x": x, "y": y, "capacity": capacity, "active": active, "code": code, "wh": warehouse},
        )


@pytest.fixture
def dock(pg: Database) -> Database:
    """SHA laid out as above (CAN has a bin right next to its own dock), with stock to put away."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=4)
        factories.warehouse(uow, "CAN", bins=1)
        factories.product(uow, "MUG-1")
        factories.product(uow, "SPOON-1")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        stock.receive(uow, sku="MUG-1", quantity=10, warehouse="SHA", actor="t")
        uow.commit()
    for code, (x, y) in FLOOR_PLAN.items():
        place(pg, code, x=x, y=y)
    place(pg, "B01", x=10.0, y=0.0, warehouse="CAN")
    return pg


def receive_into(db: Database, sku: str, quantity: int, location: str, lot: str | None) -> None:
    with db.uow() as uow:
        stock.receive(
            uow,
            sku=sku,
            quantity=quantity,
            warehouse="SHA",
            location=location,
            lot=lot,
            expiry_date=TEA_EXPIRY if lot else None,
            actor="t",
        )
        uow.commit()


def suggest(db: Database, sku: str = "MUG-1", quantity: int = 5, lot: str | None = None) -> str:
    with db.uow() as uow:
        found: Suggestion = putaway.suggest(
            uow.session, warehouse="SHA", sku=sku, lot=lot, quantity=quantity
        )
    return f"{found.location.code} {found.rule}"


def quant(db: Database, sku: str, location: str) -> int:
    value = db.scalar(
        "SELECT coalesce(sum(q.quantity), 0) FROM quants q "
        "JOIN products p ON p.id = q.product_id JOIN locations l ON l.id = q.location_id "
        "JOIN warehouses w ON w.id = l.warehouse_id "
        "WHERE p.sku = :sku AND l.code = :loc AND w.code = 'SHA'",
        sku=sku,
        loc=location,
    )
    return int(str(value))


def picture(db: Database) -> dict[str, object]:
    return {
        "moves": db.count("moves"),
        "quants": db.scalar(
            "SELECT string_agg(id || ':' || quantity, ',' ORDER BY id) FROM quants"
        ),
        "levels": db.scalar(
            "SELECT string_agg(concat_ws(':', id, version, on_hand), ',' ORDER BY id) "
            "FROM stock_levels"
        ),
    }


def refused(db: Database, error: type[E], work: Callable[[UnitOfWork], object]) -> E:
    """Run ``work``, expect ``error``, commit anyway, and check that nothing was written."""
    before = picture(db)
    with db.uow() as uow:
        with pytest.raises(error) as caught:
            work(uow)
        uow.commit()
    assert picture(db) == before
    return caught.value


def put(to: str, quantity: int = 5, *, override: bool = False) -> Callable[[UnitOfWork], object]:
    return lambda uow: putaway.putaway(
        uow,
        warehouse="SHA",
        sku="MUG-1",
        quantity=quantity,
        to_location=to,
        actor="ola",
        override=override,
    )


def assert_ledger_agrees(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]


# Suggestions


def test_the_nearest_empty_bin_is_measured_along_the_aisles_from_the_dock(dock: Database) -> None:
    assert suggest(dock) == "B03 nearest_empty"


def test_the_dock_without_coordinates_counts_as_the_origin(dock: Database) -> None:
    place(dock, "RECV")
    assert suggest(dock) == "B01 nearest_empty"


def test_a_bin_holding_the_same_product_comes_before_a_nearer_empty_one(dock: Database) -> None:
    receive_into(dock, "MUG-1", 2, "B04", None)
    assert suggest(dock) == "B04 same_lot"


def test_only_a_bin_holding_the_same_lot_counts_as_same_lot(dock: Database) -> None:
    receive_into(dock, "TEA-1", 2, "B04", "L1")
    receive_into(dock, "TEA-1", 2, "B01", "L2")
    receive_into(dock, "TEA-1", 2, "RECV", "L3")
    assert suggest(dock, "TEA-1", lot="L1") == "B04 same_lot"
    assert suggest(dock, "TEA-1", lot="L2") == "B01 same_lot"
    assert suggest(dock, "TEA-1", lot="L3") == "B03 nearest_empty"


def test_of_several_bins_with_the_same_lot_the_nearest_is_suggested(dock: Database) -> None:
    receive_into(dock, "MUG-1", 1, "B04", None)
    receive_into(dock, "MUG-1", 1, "B01", None)
    receive_into(dock, "MUG-1", 1, "B02", None)
    assert suggest(dock) == "B02 same_lot"


def test_a_bin_holding_another_product_is_not_empty(dock: Database) -> None:
    receive_into(dock, "SPOON-1", 1, "B03", None)
    assert suggest(dock) == "B02 nearest_empty"


def test_the_fixed_bin_comes_first(dock: Database) -> None:
    receive_into(dock, "MUG-1", 2, "B02", None)
    with dock.uow() as uow:
        putaway.set_fixed_bin(uow, warehouse="SHA", sku="MUG-1", location="SHA-B04")
        uow.commit()
    assert suggest(dock) == "B04 fixed_bin"
    with dock.uow() as uow:
        putaway.set_fixed_bin(uow, warehouse="SHA", sku="MUG-1", location="B01")
        uow.commit()
    assert suggest(dock) == "B01 fixed_bin"
    assert dock.count("fixed_bins") == 1
    assert suggest(dock, "SPOON-1") == "B03 nearest_empty"  # another product's fixed bin


def test_a_fixed_bin_must_be_a_storage_bin(dock: Database) -> None:
    with dock.uow() as uow, pytest.raises(LocationNotUsable):
        putaway.set_fixed_bin(uow, warehouse="SHA", sku="MUG-1", location="QC")
    assert dock.count("fixed_bins") == 0


def test_bins_without_room_are_skipped(dock: Database) -> None:
    with dock.uow() as uow:
        putaway.set_fixed_bin(uow, warehouse="SHA", sku="MUG-1", location="B01")
        uow.commit()
    receive_into(dock, "SPOON-1", 3, "B01", None)
    place(dock, "B01", x=0.0, y=0.0, capacity=8)  # 5 free: room for 5, not 6
    receive_into(dock, "MUG-1", 1, "B04", None)
    place(dock, "B04", x=40.0, y=40.0, capacity=6)  # 5 free
    place(dock, "B03", x=15.0, y=0.0, capacity=4)  # empty, but smaller than the putaway
    assert suggest(dock, quantity=5) == "B01 fixed_bin"
    assert suggest(dock, quantity=6) == "B02 nearest_empty"
    assert suggest(dock, quantity=4) == "B01 fixed_bin"
    assert suggest(dock, "SPOON-1", quantity=6) == "B02 nearest_empty"
    place(dock, "B03", x=15.0, y=0.0, capacity=6)
    assert suggest(dock, quantity=6) == "B03 nearest_empty"  # exactly fits


def test_inactive_bins_and_other_warehouses_are_never_suggested(dock: Database) -> None:
    place(dock, "B03", x=15.0, y=0.0, active=False)
    assert suggest(dock) == "B02 nearest_empty"


def test_no_bin_available_when_nothing_has_room(dock: Database) -> None:
    for code in ("B01", "B02", "B03", "B04"):
        x, y = FLOOR_PLAN[code]
        place(dock, code, x=x, y=y, capacity=4)
    with dock.uow() as uow, pytest.raises(NoBinAvailable) as caught:
        putaway.suggest(uow.session, warehouse="SHA", sku="MUG-1", lot=None, quantity=5)
    assert caught.value.message == "no storage bin in SHA has room for 5 of MUG-1"
    refused(dock, NoBinAvailable, put("B01"))


# Putting away


def test_putting_away_to_the_suggested_bin_moves_stock_out_of_receiving(dock: Database) -> None:
    with dock.uow() as uow:
        result = putaway.putaway(
            uow, warehouse="SHA", sku="MUG-1", quantity=6, to_location="SHA-B03", actor="ola"
        )
        uow.commit()
    assert (result.from_location, result.to_location, result.suggested) == ("RECV", "B03", "B03")
    assert not result.overridden
    with dock.engine.connect() as connection:
        moves = connection.exec_driver_sql(
            "SELECT f.code, t.code, m.quantity, m.reason, m.reference, m.actor FROM moves m "
            "JOIN locations f ON f.id = m.from_location_id "
            "JOIN locations t ON t.id = m.to_location_id WHERE m.reason = 'putaway'"
        ).all()
    assert [tuple(m) for m in moves] == [("RECV", "B03", 6, "putaway", "nearest_empty", "ola")]
    assert (quant(dock, "MUG-1", "RECV"), quant(dock, "MUG-1", "B03")) == (4, 6)
    assert dock.scalar("SELECT on_hand FROM stock_levels WHERE on_hand > 0") == 10
    assert_ledger_agrees(dock)


def test_a_lot_is_put_away_next_to_the_same_lot(dock: Database) -> None:
    receive_into(dock, "TEA-1", 2, "B04", "L1")
    receive_into(dock, "TEA-1", 5, "RECV", "L1")
    with dock.uow() as uow:
        result = putaway.putaway(
            uow,
            warehouse="SHA",
            sku="TEA-1",
            lot="L1",
            quantity=5,
            to_location="SHA-B04",
            actor="ola",
        )
        uow.commit()
    assert (result.lot, result.to_location) == ("L1", "B04")
    assert quant(dock, "TEA-1", "B04") == 7
    assert quant(dock, "TEA-1", "RECV") == 0
    assert_ledger_agrees(dock)


def test_another_bin_than_the_suggestion_is_refused_naming_both(dock: Database) -> None:
    exc = refused(dock, WrongBin, put("SHA-B01"))
    assert exc.context == {"scanned": "SHA-B01", "expected": "SHA-B03"}
    assert exc.message.startswith("scanned bin SHA-B01, expected SHA-B03")
    assert quant(dock, "MUG-1", "RECV") == 10


def test_an_override_books_to_the_other_bin(dock: Database) -> None:
    with dock.uow() as uow:
        result = putaway.putaway(
            uow,
            warehouse="SHA",
            sku="MUG-1",
            quantity=5,
            to_location="B01",
            actor="ola",
            override=True,
        )
        uow.commit()
    assert (result.to_location, result.suggested, result.overridden) == ("B01", "B03", True)
    assert dock.scalar("SELECT reference FROM moves WHERE reason = 'putaway'") == "override"
    assert (quant(dock, "MUG-1", "B01"), quant(dock, "MUG-1", "B03")) == (5, 0)
    assert_ledger_agrees(dock)


def test_an_override_into_a_bin_without_room_is_refused(dock: Database) -> None:
    receive_into(dock, "SPOON-1", 3, "B01", None)
    place(dock, "B01", x=0.0, y=0.0, capacity=7)
    exc = refused(dock, BinFull, put("B01", 5, override=True))
    assert (exc.context["free"], exc.context["quantity"]) == (4, 5)
    assert "room for 4 more, not 5" in exc.message
    with dock.uow() as uow:  # exactly the room left is fine
        put("B01", 4, override=True)(uow)
        uow.commit()
    assert quant(dock, "MUG-1", "B01") == 4


@pytest.mark.parametrize("target", ["QC", "SHIP", "DMG", "STOCK", "RECV"])
def test_only_a_storage_bin_takes_a_putaway(dock: Database, target: str) -> None:
    exc = refused(dock, LocationNotUsable, put(target, override=True))
    assert exc.field == "location"
    assert f"SHA/{target}" in exc.message


def test_an_inactive_bin_takes_no_putaway(dock: Database) -> None:
    place(dock, "B03", x=15.0, y=0.0, active=False)
    refused(dock, LocationNotUsable, put("B03", override=True))


def test_a_bin_of_another_warehouse_is_unknown(dock: Database) -> None:
    refused(dock, UnknownLocation, put("CAN-B01", override=True))


def test_putting_away_more_than_is_in_receiving_writes_nothing(dock: Database) -> None:
    exc = refused(dock, InsufficientStock, put("B03", 11))
    assert exc.lines[0].available == 10
