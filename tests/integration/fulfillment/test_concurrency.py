"""Parallel sessions racing for the same stock through orders and reservations: none oversells."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment.support import OWNER, events, level, ship_to
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.fulfillment import orders, reservations
from wms.fulfillment.orders import DuplicateOrder
from wms.fulfillment.views import LineRequest
from wms.inventory.errors import InsufficientStock
from wms.inventory.integrity import check_ledger


def assert_consistent(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]


def test_forty_orders_for_the_last_four_pans_allocate_exactly_four(stocked: Database) -> None:
    def place(uow: UnitOfWork, index: int) -> None:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref=f"web-{index}",
            lines=[LineRequest("PAN", 1)],
            ship_to=ship_to(),
        )

    outcomes = race(stocked, 40, place, refusals=(InsufficientStock,))
    assert outcomes == Counter({"ok": 4, "InsufficientStock": 36})
    assert level(stocked, "PAN", "PEK")["committed"] == 4
    assert stocked.count("orders") == 4
    assert stocked.count("fulfillment_orders") == 4
    assert len(events(stocked, "order.received")) == 4
    assert_consistent(stocked)


def test_orders_spilling_over_to_a_second_warehouse_never_oversell_either(
    stocked: Database,
) -> None:
    # 20 mugs in SHA and CAN together; 30 orders of one each: the nearer runs out, then the other.
    def place(uow: UnitOfWork, index: int) -> None:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref=f"web-{index}",
            lines=[LineRequest("MUG", 1)],
            ship_to=ship_to(),
        )

    outcomes = race(stocked, 30, place, refusals=(InsufficientStock,))
    assert outcomes == Counter({"ok": 20, "InsufficientStock": 10})
    assert level(stocked, "MUG", "SHA")["committed"] == 10
    assert level(stocked, "MUG", "CAN")["committed"] == 10
    assert_consistent(stocked)


def test_the_same_external_ref_sent_in_parallel_makes_one_order(stocked: Database) -> None:
    def place(uow: UnitOfWork, index: int) -> None:
        orders.create_order(
            uow, owner=OWNER, external_ref="web-1", lines=[LineRequest("TEA", 1)], ship_to=ship_to()
        )

    outcomes = race(stocked, 10, place, refusals=(DuplicateOrder,))
    assert outcomes == Counter({"ok": 1, "DuplicateOrder": 9})
    assert level(stocked, "TEA", "SHA")["committed"] == 1


def test_a_reservation_ordered_in_parallel_is_converted_once(stocked: Database) -> None:
    with stocked.uow() as uow:
        held = reservations.create_reservation(
            uow, owner=OWNER, external_ref="cart", lines=[LineRequest("MUG", 3)]
        )
        uow.commit()

    def place(uow: UnitOfWork, index: int) -> None:
        orders.create_order(
            uow,
            owner=OWNER,
            external_ref=f"web-{index}",
            lines=[LineRequest("MUG", 3)],
            ship_to=ship_to(),
            reservation_id=held.id,
        )

    outcomes = race(stocked, 8, place)
    assert outcomes == Counter({"ok": 1, "InvalidTransition": 7})
    warehouse = held.lines[0].warehouse
    assert level(stocked, "MUG", warehouse)["committed"] == 3
    assert level(stocked, "MUG", warehouse)["reserved"] == 0


def test_expiry_and_release_racing_end_a_reservation_once(stocked: Database) -> None:
    with stocked.uow() as uow:
        held = reservations.create_reservation(
            uow,
            owner=OWNER,
            external_ref="cart",
            lines=[LineRequest("MUG", 2)],
            ttl_seconds=1,
            now=utcnow() - timedelta(seconds=5),
        )
        uow.commit()

    def end(uow: UnitOfWork, index: int) -> None:
        if index % 2:
            reservations.expire_due(uow, now=utcnow())
        else:
            reservations.release_reservation(uow, owner=OWNER, reservation_id=held.id)

    race(stocked, 6, end)
    assert level(stocked, "MUG", held.lines[0].warehouse)["reserved"] == 0
    assert [t for t, _, _ in events(stocked, "reservation.")] == [
        "reservation.created",
        "reservation.expired",
    ]
    assert_consistent(stocked)
