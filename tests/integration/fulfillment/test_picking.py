"""Pick lists on PostgreSQL: first expiry first out, walking order, scans checked, stock moved once."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment import floor
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.fulfillment import picking
from wms.fulfillment.floor_errors import TaskClosed, WrongBin, WrongItem, WrongLot, WrongWarehouse
from wms.fulfillment.models import PickTask
from wms.inventory.errors import InsufficientStock
from wms.inventory.integrity import check_ledger
from wms.inventory.models import Product

SOON = utcnow().date() + timedelta(days=30)
LATER = utcnow().date() + timedelta(days=200)


def _gtin(uow: UnitOfWork, sku: str) -> str:
    gtin = uow.session.scalar(select(Product.gtin).where(Product.sku == sku))
    assert gtin is not None
    return gtin


def test_the_pick_list_takes_the_earliest_expiry_first_and_splits_across_bins(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        floor.put(uow, "TEA", "B01", 10, lot="L-LATE", expiry=LATER)
        floor.put(uow, "TEA", "B02", 3, lot="L-SOON", expiry=SOON)
        floor.put(uow, "TEA", "B03", 2, lot="L-SOON", expiry=SOON)
        floor.put(uow, "TEA", "B04", 4, lot="L-OLD", expiry=date(2020, 1, 1))  # expired
        floor.put(uow, "TEA", "RECV", 50, lot="L-FIRST", expiry=date(2021, 1, 1))  # not put away
        fid = floor.order(uow, ("TEA", 7))
        uow.commit()
    with pg.uow() as uow:
        listed = picking.pick_list(uow, fid, warehouse="SHA", actor="op")
        uow.commit()
    assert listed.status == "picking"
    taken = sorted((s.location, s.lot, s.quantity) for s in listed.stops)
    assert taken == [("B01", "L-LATE", 2), ("B02", "L-SOON", 3), ("B03", "L-SOON", 2)]
    assert [s.seq for s in listed.stops] == [1, 2, 3]
    assert [s.location for s in listed.stops] == ["B01", "B02", "B03"]  # no coordinates: by code
    assert floor.fulfillment_status(pg, fid) == "picking"
    with pg.uow() as uow:  # a second call shows the same list
        again = picking.pick_list(uow, fid)
    assert again == listed


def test_stops_follow_the_shortest_walk_through_the_aisles(pg: Database) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow, bins=0)
        for code, x, y in (
            ("A1-01", 2.0, 2.0),
            ("A1-05", 2.0, 10.0),
            ("A2-01", 6.0, 2.0),
            ("A2-05", 6.0, 10.0),
            ("A3-03", 10.0, 6.0),
        ):
            floor.placed_bin(uow, code, x, y)
        floor.placed_bin(uow, "FLOOR", 0.0, 0.0)
        for index, code in enumerate(["A2-05", "A1-05", "A2-01", "A1-01", "A3-03"]):
            factories.product(uow, f"P{index}")
            floor.put(uow, f"P{index}", code, 1)
        fid = floor.order(uow, *((f"P{i}", 1) for i in range(5)))
        uow.commit()
    with pg.uow() as uow:
        listed = picking.pick_list(uow, fid, actor="op")
        uow.commit()
    # Up aisle x=2, across the back into aisle x=6, on to A3-03 and back down aisle x=6 to the
    # front: 32 m, where the serpentine (up x=2, down x=6, up x=10 and back) walks 40 m.
    assert [s.location for s in listed.stops] == ["A1-01", "A1-05", "A2-05", "A3-03", "A2-01"]


def test_stock_outside_the_storage_bins_is_not_picked_and_nothing_is_planned(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 2)
        floor.put(uow, "MUG", "RECV", 8)
        fid = floor.order(uow, ("MUG", 5))
        uow.commit()
    with pg.uow() as uow, pytest.raises(InsufficientStock) as refused:
        picking.pick_list(uow, fid, actor="op")
    assert refused.value.lines[0].requested == 5
    assert refused.value.lines[0].available == 2
    assert pg.count("pick_tasks") == 0
    assert floor.fulfillment_status(pg, fid) == "released"


def test_a_pick_moves_the_stock_to_packing_and_it_stays_committed(pg: Database) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B02", 10)
        fid = floor.order(uow, ("MUG", 4))
        gtin = _gtin(uow, "MUG")
        uow.commit()
    before = floor.level(pg, "MUG")
    assert before["committed"] == 4
    with pg.uow() as uow:
        stop = picking.pick_list(uow, fid, actor="op").stops[0]
        after_first = picking.confirm_pick(
            uow, stop.task_id, bin_barcode="SHA-B02", item=gtin, quantity=3, actor="op"
        )
        assert after_first.status == "picking"
        assert after_first.stops[0].picked == 3
        assert after_first.stops[0].status == "open"
        done = picking.confirm_pick(
            uow, stop.task_id, bin_barcode="B02", item="MUG", quantity=1, actor="op"
        )
        uow.commit()
    assert done.status == "picked"
    assert done.stops[0].status == "done"
    assert floor.quant(pg, "MUG", "B02") == 6
    assert floor.quant(pg, "MUG", "PACK") == 4
    assert floor.level(pg, "MUG") == before  # on hand and committed unchanged: still ours
    moves = pg.scalar(
        "SELECT string_agg(reason || ':' || reference || ':' || quantity, ',' ORDER BY id) "
        "FROM moves WHERE reason = 'pick'"
    )
    assert moves == f"pick:{fid}:3,pick:{fid}:1"
    (event,) = floor.events(pg)
    assert event[0] == "fulfillment.picked"
    assert event[1]["fulfillment_id"] == fid
    assert event[1]["status"] == "picked"
    assert event[1]["lines"] == [
        {
            "line_no": 1,
            "sku": "MUG",
            "quantity": 4,
            "picked": 4,
            "packed": 0,
            "cancelled": 0,
            "shipped": 0,
        }
    ]
    with pg.uow() as uow:
        assert check_ledger(uow.session).ok


def test_wrong_scans_name_what_was_scanned_and_expected_and_change_nothing(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "TEA", lot_tracked=True, shelf_life_days=365)
        factories.product(uow, "MUG")
        floor.put(uow, "TEA", "B01", 5, lot="L1", expiry=SOON)
        floor.put(uow, "TEA", "B02", 5, lot="L2", expiry=LATER)
        floor.put(uow, "MUG", "B03", 5)
        fid = floor.order(uow, ("TEA", 2))
        picking.pick_list(uow, fid, actor="op")
        uow.commit()
        task_id = picking.pick_list(uow, fid).stops[0].task_id
    moves = pg.count("moves")
    with pg.uow() as uow:
        with pytest.raises(WrongBin, match="scanned bin SHA-B02, expected SHA-B01"):
            picking.confirm_pick(
                uow, task_id, bin_barcode="SHA-B02", item="TEA", lot="L1", quantity=2, actor="op"
            )
        with pytest.raises(WrongItem, match=r"scanned item MUG .*expected TEA"):
            picking.confirm_pick(
                uow, task_id, bin_barcode="SHA-B01", item="MUG", lot="L1", quantity=2, actor="op"
            )
        with pytest.raises(WrongLot, match="scanned lot L2, expected L1"):
            picking.confirm_pick(
                uow, task_id, bin_barcode="SHA-B01", item="TEA", lot="L2", quantity=2, actor="op"
            )
        with pytest.raises(WrongLot, match=r"scanned lot \(nothing\), expected L1"):
            picking.confirm_pick(
                uow, task_id, bin_barcode="SHA-B01", item="TEA", quantity=2, actor="op"
            )
        with pytest.raises(WrongWarehouse):
            picking.pick_list(uow, fid, warehouse="CAN")
        uow.commit()
    assert pg.count("moves") == moves
    assert pg.scalar("SELECT picked_quantity FROM pick_tasks") == 0


def test_two_pickers_confirming_the_same_task_book_it_once(pg: Database) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 10)
        fid = floor.order(uow, ("MUG", 5))
        task_id = picking.pick_list(uow, fid, actor="op").stops[0].task_id
        uow.commit()

    def confirm(uow: UnitOfWork, index: int) -> None:
        picking.confirm_pick(
            uow, task_id, bin_barcode="SHA-B01", item="MUG", quantity=5, actor=f"picker{index}"
        )

    outcomes = race(pg, 6, confirm)
    assert outcomes == {"ok": 1, TaskClosed.__name__: 5}
    assert pg.count("moves") == 2  # the receipt and one pick
    assert floor.quant(pg, "MUG", "PACK") == 5
    assert pg.scalar("SELECT picked_quantity FROM pick_tasks") == 5
    assert [t for t, _ in floor.events(pg)] == ["fulfillment.picked"]


def test_pick_lists_planned_in_parallel_are_planned_once_and_never_share_units(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 6)
        floor.put(uow, "MUG", "B02", 6)
        ids = [floor.order(uow, ("MUG", 4), ref=f"WEB-{i}") for i in range(3)]
        uow.commit()

    # Each fulfilment opened on two devices at once: planned once, and never on the same units.
    outcomes = race(pg, 6, lambda uow, i: picking.pick_list(uow, ids[i % 3], actor="op"))
    assert outcomes == {"ok": 6}
    with pg.uow() as uow:
        tasks = uow.session.scalars(select(PickTask)).all()
        claimed: dict[int, int] = {}
        for task in tasks:
            claimed[task.location_id] = claimed.get(task.location_id, 0) + task.quantity
        assert sum(t.quantity for t in tasks) == 12
    assert sorted(claimed.values()) == [6, 6]
