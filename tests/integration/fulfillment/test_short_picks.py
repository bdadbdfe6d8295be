"""Short picks on PostgreSQL: what was found is picked, the rest waits for a supervisor's decision."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import Database
from tests.integration.fulfillment import floor
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.fulfillment import exceptions, picking
from wms.fulfillment.exceptions import AlreadyResolved
from wms.inventory.integrity import check_ledger


def _short_order(pg: Database, *, found: int, quantity: int = 5, held: int = 5) -> tuple[str, int]:
    """MUG: ``held`` in SHA/B01, an order of ``quantity``; the picker finds ``found`` there."""
    with pg.uow() as uow:
        floor.warehouse(uow)
        floor.warehouse(uow, "CAN")
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", held)
        floor.put(uow, "MUG", "B01", 20, warehouse="CAN")
        fid = floor.order(uow, ("MUG", quantity))
        task_id = picking.pick_list(uow, fid, actor="op").stops[0].task_id
        picking.report_short(uow, task_id, found=found, actor="op")
        uow.commit()
    return fid, _open_exception(pg)


def _open_exception(pg: Database) -> int:
    return int(str(pg.scalar("SELECT id FROM pick_exceptions WHERE status = 'open'")))


def test_a_short_pick_books_what_was_found_and_asks_for_a_count(pg: Database) -> None:
    fid, exception_id = _short_order(pg, found=2)
    assert floor.quant(pg, "MUG", "PACK") == 2
    assert pg.scalar("SELECT status FROM pick_tasks") == "short"
    assert pg.scalar("SELECT short_quantity FROM pick_exceptions") == 3
    assert pg.scalar("SELECT origin || ':' || status FROM count_tasks") == "on_demand:open"
    assert floor.fulfillment_status(pg, fid) == "picking"  # waits for the supervisor
    assert floor.events(pg) == []
    with pg.uow() as uow:
        (view,) = exceptions.list_exceptions(uow.session, warehouse="SHA")
    assert view.id == exception_id
    assert (view.sku, view.location, view.picked, view.short_quantity) == ("MUG", "B01", 2, 3)
    assert view.fulfillment == fid


def test_a_short_pick_of_the_full_quantity_or_more_is_refused(pg: Database) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 5)
        fid = floor.order(uow, ("MUG", 5))
        task_id = picking.pick_list(uow, fid, actor="op").stops[0].task_id
        uow.commit()
    with pg.uow() as uow:
        with pytest.raises(ValidationFailed, match="not short; confirm the pick"):
            picking.report_short(uow, task_id, found=5, actor="op")
        with pytest.raises(ValidationFailed, match="0 or more"):
            picking.report_short(uow, task_id, found=-1, actor="op")
    assert pg.count("pick_exceptions") == 0


def test_backordering_the_rest_releases_it_and_picks_the_fulfilment(pg: Database) -> None:
    fid, exception_id = _short_order(pg, found=2)
    assert floor.level(pg, "MUG")["committed"] == 5
    with pg.uow() as uow:
        resolved = exceptions.resolve(uow, exception_id, action="backorder", actor="boss")
        uow.commit()
    assert resolved.status == "backordered"
    assert resolved.resolved_by == "boss"
    assert floor.fulfillment_status(pg, fid) == "picked"
    assert floor.level(pg, "MUG")["committed"] == 2  # the found units stay the order's
    assert pg.scalar("SELECT status FROM orders") == "backordered"
    (picked,) = floor.events(pg)
    assert picked[1]["lines"][0] == {
        "line_no": 1,
        "sku": "MUG",
        "quantity": 5,
        "picked": 2,
        "packed": 0,
        "cancelled": 3,
        "shipped": 0,
    }
    assert [t for t, _ in floor.events(pg, "order.")][-1] == "order.backordered"
    with pg.uow() as uow, pytest.raises(AlreadyResolved):
        exceptions.resolve(uow, exception_id, action="reallocate", actor="boss")


def test_reallocating_the_rest_sends_it_to_another_warehouse(pg: Database) -> None:
    fid, exception_id = _short_order(pg, found=1)
    with pg.uow() as uow:
        exceptions.resolve(uow, exception_id, action="reallocate", actor="boss")
        uow.commit()
    assert floor.fulfillment_status(pg, fid) == "picked"
    assert floor.level(pg, "MUG")["committed"] == 1
    assert floor.level(pg, "MUG", "CAN")["committed"] == 4
    assert (
        pg.scalar(
            "SELECT string_agg(w.code || ':' || f.status, ',' ORDER BY f.id) "
            "FROM fulfillment_orders f JOIN warehouses w ON w.id = f.warehouse_id"
        )
        == "SHA:picked,CAN:released"
    )
    assert pg.scalar("SELECT status FROM orders") == "allocated"


def test_nothing_found_and_backordered_cancels_the_fulfilment(pg: Database) -> None:
    fid, exception_id = _short_order(pg, found=0)
    with pg.uow() as uow:
        exceptions.resolve(uow, exception_id, action="backorder", actor="boss")
        uow.commit()
    assert floor.fulfillment_status(pg, fid) == "cancelled"
    assert floor.level(pg, "MUG")["committed"] == 0
    assert pg.scalar("SELECT status FROM orders") == "backordered"
    assert floor.events(pg) == []
    with pg.uow() as uow:
        assert check_ledger(uow.session).ok


def test_a_resolution_needs_a_known_action_and_exception(pg: Database) -> None:
    _, exception_id = _short_order(pg, found=2)
    with pg.uow() as uow:
        with pytest.raises(ValidationFailed, match="reallocate or backorder"):
            exceptions.resolve(uow, exception_id, action="ignore", actor="boss")
        with pytest.raises(exceptions.UnknownPickException):
            exceptions.resolve(uow, exception_id + 100, action="backorder", actor="boss")
    assert pg.scalar("SELECT status FROM pick_exceptions") == "open"


def test_a_short_pick_on_a_bin_already_being_counted_still_records_the_exception(
    pg: Database,
) -> None:
    with pg.uow() as uow:
        floor.warehouse(uow)
        factories.product(uow, "MUG")
        floor.put(uow, "MUG", "B01", 3)
        floor.put(uow, "MUG", "B02", 3)
        fid = floor.order(uow, ("MUG", 6))
        stops = picking.pick_list(uow, fid, actor="op").stops
        uow.commit()

    def short(uow: UnitOfWork, task_id: int) -> None:
        picking.report_short(uow, task_id, found=1, actor="op")

    with pg.uow() as uow:
        from wms.inventory import counts

        counts.create_count(uow, warehouse="SHA", location="B01", actor="boss")
        for stop in stops:
            short(uow, stop.task_id)
        uow.commit()
    assert pg.count("pick_exceptions") == 2
    assert pg.count("count_tasks") == 2  # B01's existing count, and one for B02
