"""Orders on PostgreSQL: allocation, reservations converted, short stock, cancellation, events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import Database
from tests.integration.fulfillment.support import (
    GUANGZHOU,
    OTHER,
    OWNER,
    events,
    level,
    levels_picture,
    ship_to,
)
from wms.db.base import utcnow
from wms.errors import InvalidTransition
from wms.fulfillment import orders, reservations
from wms.fulfillment.models import FulfillmentLine, FulfillmentOrder, OrderLine, OrderStatus
from wms.fulfillment.orders import DuplicateOrder, ShortStock, UnknownOrder
from wms.fulfillment.reservations import ReservationMismatch, UnknownReservation
from wms.fulfillment.views import LineRequest, OrderView, ShipTo
from wms.inventory.errors import InsufficientStock


def order(
    db: Database,
    *lines: tuple[str, int],
    ref: str = "order-1",
    to: ShipTo | None = None,
    owner: str = OWNER,
    **options: object,
) -> OrderView:
    with db.uow() as uow:
        view = orders.create_order(
            uow,
            owner=owner,
            external_ref=ref,
            lines=[LineRequest(sku, qty) for sku, qty in lines],
            ship_to=to or ship_to(),
            **options,  # type: ignore[arg-type]
        )
        uow.commit()
    return view


def reserve(db: Database, *lines: tuple[str, int], **options: object) -> str:
    with db.uow() as uow:
        view = reservations.create_reservation(
            uow,
            owner=OWNER,
            external_ref="cart-1",
            lines=[LineRequest(sku, qty) for sku, qty in lines],
            **options,  # type: ignore[arg-type]
        )
        uow.commit()
    return view.id


def test_an_order_is_allocated_at_the_nearest_warehouse_and_its_stock_committed(
    stocked: Database,
) -> None:
    view = order(stocked, ("MUG", 2), ("TEA", 3), promised_by=date(2030, 1, 2))
    assert view.id.startswith("ord_")
    assert view.status == "allocated"
    assert view.promised_by == date(2030, 1, 2)
    assert [(ln.line_no, ln.sku, ln.quantity, ln.warehouse, ln.status) for ln in view.lines] == [
        (1, "MUG", 2, "SHA", "allocated"),
        (2, "TEA", 3, "SHA", "allocated"),
    ]
    (shipment,) = view.allocation
    assert shipment.fulfillment_id.startswith("ful_")
    assert (shipment.warehouse, shipment.status) == ("SHA", "released")
    assert [(fl.line_no, fl.sku, fl.quantity) for fl in shipment.lines] == [
        (1, "MUG", 2),
        (2, "TEA", 3),
    ]
    assert level(stocked, "MUG", "SHA")["committed"] == 2
    assert level(stocked, "TEA", "SHA")["committed"] == 3
    assert view.ship_to["city"] == "Shanghai"
    assert view.ship_to["latitude"] == 31.2


def test_order_events_are_received_then_allocated_with_the_allocation(stocked: Database) -> None:
    view = order(stocked, ("MUG", 1), ("PAN", 1))
    written = events(stocked, "order.")
    assert [(t, s) for t, s, _ in written] == [
        ("order.received", view.id),
        ("order.allocated", view.id),
    ]
    data = written[-1][2]
    assert data["status"] == "allocated"
    assert {(a["warehouse"], a["fulfillment_id"]) for a in data["allocation"]} == {
        (a.warehouse, a.fulfillment_id) for a in view.allocation
    }
    assert {a["warehouse"]: [ln["sku"] for ln in a["lines"]] for a in data["allocation"]} == {
        "SHA": ["MUG"],
        "PEK": ["PAN"],
    }


def test_a_far_customer_is_served_from_the_warehouse_near_them(stocked: Database) -> None:
    view = order(stocked, ("MUG", 2), to=ship_to(*GUANGZHOU))
    assert view.lines[0].warehouse == "CAN"


def test_an_order_from_a_reservation_commits_its_held_stock_where_it_is_held(
    stocked: Database,
) -> None:
    reservation = reserve(stocked, ("MUG", 2), ("TEA", 3), ship_to=GUANGZHOU)
    assert level(stocked, "MUG", "CAN")["reserved"] == 2
    view = order(stocked, ("TEA", 3), ("MUG", 2), reservation_id=reservation)  # ships to SHA
    assert view.reservation_id == reservation
    assert [(ln.sku, ln.warehouse) for ln in view.lines] == [("TEA", "CAN"), ("MUG", "CAN")]
    assert level(stocked, "MUG", "CAN") | {"version": 0} == {
        "on_hand": 10,
        "committed": 2,
        "reserved": 0,
        "available": 8,
        "version": 0,
    }
    assert level(stocked, "TEA", "CAN")["committed"] == 3
    committed = events(stocked, "reservation.committed")
    assert [(s, d["status"], d["order_id"]) for _, s, d in committed] == [
        (reservation, "committed", view.id)
    ]
    with stocked.uow() as uow:
        seen = reservations.get_reservation(uow.session, owner=OWNER, reservation_id=reservation)
    assert seen.status == "committed"


def test_an_order_must_carry_its_reservations_lines(stocked: Database) -> None:
    reservation = reserve(stocked, ("MUG", 2))
    picture = levels_picture(stocked)
    with stocked.uow() as uow, pytest.raises(ReservationMismatch) as caught:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref="o",
            lines=[LineRequest("MUG", 3)],
            ship_to=ship_to(),
            reservation_id=reservation,
        )
    assert caught.value.field == "lines"
    assert caught.value.context["reserved"] == [{"sku": "MUG", "quantity": 2}]
    assert levels_picture(stocked) == picture


def test_a_released_or_expired_reservation_cannot_be_ordered(stocked: Database) -> None:
    released = reserve(stocked, ("MUG", 1))
    with stocked.uow() as uow:
        reservations.release_reservation(uow, owner=OWNER, reservation_id=released)
        uow.commit()
    overdue = reserve(stocked, ("MUG", 1), ttl_seconds=1, now=utcnow() - timedelta(seconds=9))
    for reservation, status in ((released, "released"), (overdue, "expired")):
        with stocked.uow() as uow, pytest.raises(InvalidTransition) as caught:
            orders.create_order(
                uow,
                owner=OWNER,
                external_ref="o",
                lines=[LineRequest("MUG", 1)],
                ship_to=ship_to(),
                reservation_id=reservation,
            )
        assert caught.value.context["current"] == status


def test_another_owners_reservation_is_unknown_to_an_order(stocked: Database) -> None:
    reservation = reserve(stocked, ("MUG", 1))
    with stocked.uow() as uow, pytest.raises(UnknownReservation) as caught:
        orders.create_order(
            uow,
            owner=OTHER,
            external_ref="o",
            lines=[LineRequest("MUG", 1)],
            ship_to=ship_to(),
            reservation_id=reservation,
        )
    assert caught.value.field == "reservation_id"


def test_an_external_ref_orders_once_per_owner(stocked: Database) -> None:
    first = order(stocked, ("MUG", 1), ref="web-77")
    with stocked.uow() as uow, pytest.raises(DuplicateOrder) as caught:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref="web-77",
            lines=[LineRequest("MUG", 1)],
            ship_to=ship_to(),
        )
    assert caught.value.context["order_id"] == first.id
    other = order(stocked, ("MUG", 1), ref="web-77", owner=OTHER)
    assert other.id != first.id


def test_short_stock_rejects_the_order_naming_every_short_line_and_writes_nothing(
    stocked: Database,
) -> None:
    picture = levels_picture(stocked)
    written = stocked.count("outbox_events")
    with stocked.uow() as uow:
        with pytest.raises(InsufficientStock) as caught:
            orders.create_order(
                uow,
                owner=OWNER,
                external_ref="o",
                lines=[LineRequest("MUG", 11), LineRequest("TEA", 1), LineRequest("PAN", 9)],
                ship_to=ship_to(),
            )
        uow.commit()
    assert caught.value.to_dict()["lines"] == [
        {"sku": "MUG", "requested": 11, "available": 10},
        {"sku": "PAN", "requested": 9, "available": 4},
    ]
    assert stocked.count("orders") == 0
    assert stocked.count("fulfillment_orders") == 0
    assert stocked.count("outbox_events") == written
    assert levels_picture(stocked) == picture


def test_with_backorders_configured_short_lines_wait_and_the_rest_is_allocated(
    stocked: Database,
) -> None:
    view = order(stocked, ("MUG", 11), ("TEA", 1), short_stock=ShortStock.BACKORDER)
    assert view.status == "backordered"
    assert [(ln.sku, ln.status, ln.warehouse) for ln in view.lines] == [
        ("MUG", "backordered", None),
        ("TEA", "allocated", "SHA"),
    ]
    assert [[fl.sku for fl in a.lines] for a in view.allocation] == [["TEA"]]
    assert level(stocked, "MUG", "SHA")["committed"] == 0
    assert level(stocked, "TEA", "SHA")["committed"] == 1
    assert [t for t, _, _ in events(stocked, "order.")] == [
        "order.received",
        "order.allocated",
        "order.backordered",
    ]


def test_an_order_overrides_the_configured_short_stock_handling(stocked: Database) -> None:
    view = order(stocked, ("PAN", 5), backorder=True, short_stock=ShortStock.REJECT)
    assert view.status == "backordered"
    assert view.allocation == []
    assert [t for t, _, _ in events(stocked, "order.")] == ["order.received", "order.backordered"]
    with stocked.uow() as uow, pytest.raises(InsufficientStock):
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref="o-2",
            lines=[LineRequest("PAN", 5)],
            ship_to=ship_to(),
            backorder=False,
            short_stock=ShortStock.BACKORDER,
        )


def test_cancelling_releases_the_committed_stock_and_the_fulfilments(stocked: Database) -> None:
    view = order(stocked, ("MUG", 2), ("PAN", 1), ("TEA", 21), backorder=True)
    assert level(stocked, "MUG", "SHA")["committed"] == 2
    with stocked.uow() as uow:
        cancelled = orders.cancel_order(uow, owner=OWNER, order_id=view.id)
        uow.commit()
    assert cancelled.status == "cancelled"
    assert {ln.sku: (ln.status, ln.cancelled_quantity) for ln in cancelled.lines} == {
        "MUG": ("cancelled", 2),
        "PAN": ("cancelled", 1),
        "TEA": ("cancelled", 21),
    }
    assert {a.status for a in cancelled.allocation} == {"cancelled"}
    assert level(stocked, "MUG", "SHA")["committed"] == 0
    assert level(stocked, "PAN", "PEK")["committed"] == 0
    assert events(stocked, "order.")[-1][0] == "order.cancelled"
    assert events(stocked, "order.")[-1][2]["status"] == "cancelled"
    with stocked.uow() as uow, pytest.raises(InvalidTransition):
        orders.cancel_order(uow, owner=OWNER, order_id=view.id)


def test_cancelling_keeps_what_is_already_picked(stocked: Database) -> None:
    view = order(stocked, ("MUG", 5))
    with stocked.uow() as uow:
        fl = uow.session.scalars(select(FulfillmentLine)).one()
        fl.picked_quantity = 3  # the picker has taken three
        fulfilment = uow.session.get(FulfillmentOrder, fl.fulfillment_order_id)
        assert fulfilment is not None
        fulfilment.status = "picking"
        uow.commit()
    with stocked.uow() as uow:
        cancelled = orders.cancel_order(uow, owner=OWNER, order_id=view.id)
        uow.commit()
    assert cancelled.status == "allocated"  # the three picked still ship
    assert (cancelled.lines[0].cancelled_quantity, cancelled.lines[0].status) == (2, "allocated")
    assert cancelled.allocation[0].status == "picking"
    assert cancelled.allocation[0].lines[0].quantity == 3
    assert level(stocked, "MUG", "SHA")["committed"] == 3
    with stocked.uow() as uow, pytest.raises(InvalidTransition):
        orders.cancel_order(uow, owner=OWNER, order_id=view.id)  # nothing left to cancel


def test_a_shipped_order_cannot_be_cancelled(stocked: Database) -> None:
    view = order(stocked, ("MUG", 1))
    with stocked.uow() as uow:
        line = uow.session.scalars(select(OrderLine)).one()
        line.shipped_quantity = 1
        fulfilment = uow.session.scalars(select(FulfillmentOrder)).one()
        fulfilment.status = "shipped"
        orders.sync_status(uow.session, line.order_id)
        uow.commit()
    with stocked.uow() as uow:
        assert orders.get_order(uow.session, owner=OWNER, order_id=view.id).status == "shipped"
        with pytest.raises(InvalidTransition) as caught:
            orders.cancel_order(uow, owner=OWNER, order_id=view.id)
    assert caught.value.context["current"] == "shipped"


def test_orders_are_seen_only_by_their_owner(stocked: Database) -> None:
    mine = order(stocked, ("MUG", 1), ref="a")
    order(stocked, ("MUG", 1), ref="b", owner=OTHER)
    with stocked.uow() as uow:
        with pytest.raises(UnknownOrder):
            orders.get_order(uow.session, owner=OTHER, order_id=mine.id)
        with pytest.raises(UnknownOrder):
            orders.cancel_order(uow, owner=OTHER, order_id=mine.id)
        page = orders.list_orders(uow.session, owner=OWNER)
    assert [v.id for v in page.items] == [mine.id]


def test_orders_are_listed_page_by_page(stocked: Database) -> None:
    made = [order(stocked, ("TEA", 1), ref=f"r{i}").id for i in range(5)]
    seen: list[str] = []
    cursor = None
    with stocked.uow() as uow:
        while True:
            page = orders.list_orders(uow.session, owner=OWNER, cursor=cursor, limit=2)
            seen += [v.id for v in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert (
            orders.list_orders(uow.session, owner=OWNER, status=OrderStatus.CANCELLED).items == []
        )
    assert seen == made
