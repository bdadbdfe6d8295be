"""After allocation: short picks moved or backordered, backorders filled, statuses recomputed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import Database
from tests.integration.fulfillment.support import OWNER, events, level, levels_picture, ship_to
from wms.db.base import utcnow
from wms.errors import Conflict, InvalidTransition
from wms.events.jobs import job
from wms.fulfillment import orders
from wms.fulfillment.models import FulfillmentLine, FulfillmentOrder, OrderLine
from wms.fulfillment.views import LineRequest, OrderView
from wms.inventory import stock
from wms.inventory.errors import InsufficientStock


def order(db: Database, *lines: tuple[str, int], ref: str = "o-1", **options: object) -> OrderView:
    with db.uow() as uow:
        view = orders.create_order(
            uow,
            owner=OWNER,
            external_ref=ref,
            lines=[LineRequest(sku, qty) for sku, qty in lines],
            ship_to=ship_to(),
            **options,  # type: ignore[arg-type]
        )
        uow.commit()
    return view


def line_id(db: Database, line_no: int = 1) -> int:
    return int(str(db.scalar("SELECT id FROM order_lines WHERE line_no = :n", n=line_no)))


def current(db: Database, view: OrderView) -> OrderView:
    with db.uow() as uow:
        return orders.get_order(uow.session, owner=OWNER, order_id=view.id)


def test_reallocating_a_whole_line_moves_it_to_another_warehouse(stocked: Database) -> None:
    view = order(stocked, ("MUG", 4))
    with stocked.uow() as uow:
        orders.reallocate(uow, order_line_id=line_id(stocked), quantity=4, actor="sup")
        uow.commit()
    after = current(stocked, view)
    assert [(ln.line_no, ln.quantity, ln.warehouse, ln.status) for ln in after.lines] == [
        (1, 4, "CAN", "allocated")
    ]
    assert [(a.warehouse, a.status) for a in after.allocation] == [
        ("SHA", "cancelled"),
        ("CAN", "released"),
    ]
    assert [fl.quantity for a in after.allocation for fl in a.lines] == [0, 4]
    assert level(stocked, "MUG", "SHA")["committed"] == 0
    assert level(stocked, "MUG", "CAN")["committed"] == 4
    last = events(stocked, "order.")[-1]
    assert (last[0], last[2]["actor"]) == ("order.allocated", "sup")
    assert after.status == "allocated"


def test_reallocating_part_of_a_line_splits_it(stocked: Database) -> None:
    view = order(stocked, ("MUG", 5), ("TEA", 1))
    with stocked.uow() as uow:
        fl = uow.session.scalars(
            select(FulfillmentLine).where(FulfillmentLine.order_line_id == line_id(stocked))
        ).one()
        fl.picked_quantity = 3  # the bin held three of five
        uow.commit()
    with stocked.uow() as uow:
        orders.reallocate(uow, order_line_id=line_id(stocked), quantity=2, actor="sup")
        uow.commit()
    after = current(stocked, view)
    assert [(ln.line_no, ln.sku, ln.quantity, ln.warehouse) for ln in after.lines] == [
        (1, "MUG", 3, "SHA"),
        (2, "TEA", 1, "SHA"),
        (3, "MUG", 2, "CAN"),
    ]
    sha, can = after.allocation
    assert sha.status == "released"
    assert [(fl.line_no, fl.quantity) for fl in sha.lines] == [(1, 3), (2, 1)]
    assert [(fl.line_no, fl.quantity) for fl in can.lines] == [(3, 2)]
    assert level(stocked, "MUG", "SHA")["committed"] == 3
    assert level(stocked, "MUG", "CAN")["committed"] == 2
    with stocked.uow() as uow:
        cancelled = uow.session.scalar(
            select(FulfillmentLine.cancelled_quantity).where(
                FulfillmentLine.order_line_id == line_id(stocked)
            )
        )
    assert cancelled == 2


def test_reallocating_with_no_other_warehouse_changes_nothing(stocked: Database) -> None:
    order(stocked, ("PAN", 3))
    picture = levels_picture(stocked)
    rows = stocked.count("order_lines"), stocked.count("fulfillment_orders")
    with stocked.uow() as uow:
        with pytest.raises(InsufficientStock) as caught:
            orders.reallocate(uow, order_line_id=line_id(stocked), quantity=1, actor="sup")
        uow.commit()
    assert caught.value.to_dict()["lines"] == [{"sku": "PAN", "requested": 1, "available": 0}]
    assert levels_picture(stocked) == picture
    assert (stocked.count("order_lines"), stocked.count("fulfillment_orders")) == rows
    assert stocked.scalar("SELECT sum(cancelled_quantity) FROM fulfillment_lines") == 0


def test_more_than_is_left_to_pick_cannot_be_moved(stocked: Database) -> None:
    order(stocked, ("MUG", 2))
    with stocked.uow() as uow, pytest.raises(Conflict) as caught:
        orders.reallocate(uow, order_line_id=line_id(stocked), quantity=3, actor="sup")
    assert caught.value.field == "quantity"


def test_backordering_part_of_a_line_splits_it_and_releases_the_stock(stocked: Database) -> None:
    view = order(stocked, ("MUG", 5))
    with stocked.uow() as uow:
        orders.backorder(uow, order_line_id=line_id(stocked), quantity=2, actor="sup")
        uow.commit()
    after = current(stocked, view)
    assert after.status == "backordered"
    assert [(ln.line_no, ln.quantity, ln.status, ln.warehouse) for ln in after.lines] == [
        (1, 3, "allocated", "SHA"),
        (2, 2, "backordered", None),
    ]
    assert level(stocked, "MUG", "SHA")["committed"] == 3
    last = events(stocked, "order.")[-1]
    assert (last[0], last[2]["status"]) == ("order.backordered", "backordered")


def test_a_backordered_line_cannot_be_moved_again(stocked: Database) -> None:
    order(stocked, ("MUG", 2))
    with stocked.uow() as uow:
        orders.backorder(uow, order_line_id=line_id(stocked), quantity=2, actor="sup")
        uow.commit()
    with stocked.uow() as uow, pytest.raises(InvalidTransition):
        orders.reallocate(uow, order_line_id=line_id(stocked), quantity=2, actor="sup")


def test_the_backorder_job_allocates_the_oldest_orders_first_when_stock_arrives(
    stocked: Database,
) -> None:
    older = order(stocked, ("PAN", 5), ref="older", backorder=True, now=utcnow() - timedelta(1))
    newer = order(stocked, ("PAN", 5), ref="newer", backorder=True)
    assert job("wms.allocate_backorders").run(stocked.session_factory) == {
        "candidates": 0,
        "allocated": 0,
    }
    with stocked.uow() as uow:
        stock.receive(uow, sku="PAN", quantity=2, warehouse="PEK", location="B01", actor="t")
        uow.commit()
    assert job("wms.allocate_backorders").run(stocked.session_factory)["allocated"] == 1
    assert current(stocked, older).status == "allocated"
    assert current(stocked, older).allocation[0].warehouse == "PEK"
    assert current(stocked, newer).status == "backordered"
    assert level(stocked, "PAN", "PEK")["committed"] == 5
    allocated = [s for t, s, _ in events(stocked, "order.allocated")]
    assert allocated == [older.id]


def test_the_backorder_job_leaves_cancelled_orders_alone(stocked: Database) -> None:
    view = order(stocked, ("PAN", 5), backorder=True)
    with stocked.uow() as uow:
        orders.cancel_order(uow, owner=OWNER, order_id=view.id)
        stock.receive(uow, sku="PAN", quantity=9, warehouse="PEK", location="B01", actor="t")
        uow.commit()
    assert job("wms.allocate_backorders").run(stocked.session_factory)["allocated"] == 0
    assert level(stocked, "PAN", "PEK")["committed"] == 0


def ship(db: Database, *, delivered: bool = False, quantity: int | None = None) -> None:
    """What shipping does to an order's first line and fulfilment, then ``sync_status``."""
    with db.uow() as uow:
        line = uow.session.scalars(select(OrderLine).order_by(OrderLine.id)).first()
        assert line is not None
        line.shipped_quantity = line.quantity if quantity is None else quantity
        fulfilment = uow.session.scalars(
            select(FulfillmentOrder).order_by(FulfillmentOrder.id)
        ).first()
        assert fulfilment is not None
        fulfilment.status = "delivered" if delivered else "shipped"
        orders.sync_status(uow.session, line.order_id)
        uow.commit()


def test_status_follows_shipping_and_delivery(stocked: Database) -> None:
    view = order(stocked, ("MUG", 1))
    ship(stocked)
    assert current(stocked, view).status == "shipped"
    assert current(stocked, view).lines[0].status == "shipped"
    ship(stocked, delivered=True)
    assert current(stocked, view).status == "delivered"


def test_an_order_shipped_in_part_is_partially_shipped(stocked: Database) -> None:
    view = order(stocked, ("MUG", 1), ("PAN", 1))
    ship(stocked)
    assert current(stocked, view).status == "partially_shipped"
