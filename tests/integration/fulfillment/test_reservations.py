"""Reservations on PostgreSQL: all or nothing, expiry, transitions, owners and their events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import Database
from tests.integration.fulfillment.support import (
    GUANGZHOU,
    OTHER,
    OWNER,
    events,
    level,
    levels_picture,
)
from wms.db.base import utcnow
from wms.errors import InvalidTransition, ValidationFailed
from wms.events.jobs import job
from wms.fulfillment import reservations
from wms.fulfillment.reservations import UnknownReservation
from wms.fulfillment.views import LineRequest, ReservationView
from wms.inventory import levels
from wms.inventory.errors import InsufficientStock, UnknownSku
from wms.inventory.levels import LevelLine
from wms.routing.allocation import DEFAULT_POLICY, AllocationProblem, AllocationResult

SHANGHAI = (31.2, 121.5)


def reserve(
    db: Database,
    *lines: tuple[str, int],
    owner: str = OWNER,
    ttl: int = 900,
    **options: object,
) -> ReservationView:
    options.setdefault("ship_to", SHANGHAI)
    with db.uow() as uow:
        view = reservations.create_reservation(
            uow,
            owner=owner,
            external_ref="cart-1",
            lines=[LineRequest(sku, qty) for sku, qty in lines],
            ttl_seconds=ttl,
            **options,  # type: ignore[arg-type]
        )
        uow.commit()
    return view


def test_a_reservation_holds_every_line_at_the_nearest_warehouse_with_the_whole_order(
    stocked: Database,
) -> None:
    before = utcnow()
    view = reserve(stocked, ("MUG", 2), ("TEA", 3), ship_to=GUANGZHOU)
    assert view.id.startswith("res_")
    assert view.status == "active"
    assert [(ln.sku, ln.quantity, ln.warehouse) for ln in view.lines] == [
        ("MUG", 2, "CAN"),
        ("TEA", 3, "CAN"),
    ]
    assert before + timedelta(seconds=899) < view.expires_at <= utcnow() + timedelta(seconds=900)
    assert level(stocked, "MUG", "CAN")["reserved"] == 2
    assert level(stocked, "TEA", "CAN")["reserved"] == 3
    assert level(stocked, "MUG", "SHA")["reserved"] == 0


def test_the_created_event_carries_the_reservations_full_state(stocked: Database) -> None:
    view = reserve(stocked, ("MUG", 2), ship_to=SHANGHAI)
    ((type_, subject, data),) = events(stocked, "reservation.")
    assert (type_, subject) == ("reservation.created", view.id)
    assert data["id"] == view.id
    assert data["external_ref"] == "cart-1"
    assert data["status"] == "active"
    assert data["expires_at"] == view.expires_at.isoformat()
    assert data["lines"] == [{"sku": "MUG", "quantity": 2, "warehouse": "SHA"}]


def test_a_reservation_not_committed_leaves_neither_hold_nor_event(stocked: Database) -> None:
    picture = levels_picture(stocked)
    written = stocked.count("outbox_events")
    with stocked.uow() as uow:
        reservations.create_reservation(
            uow, owner=OWNER, external_ref="c", lines=[LineRequest("MUG", 1)]
        )
    assert stocked.count("reservations") == 0
    assert stocked.count("outbox_events") == written
    assert levels_picture(stocked) == picture


def test_a_short_line_refuses_the_whole_reservation_naming_every_short_sku(
    stocked: Database,
) -> None:
    picture = levels_picture(stocked)
    written = stocked.count("outbox_events")
    with stocked.uow() as uow:
        with pytest.raises(InsufficientStock) as caught:
            reservations.create_reservation(
                uow,
                owner=OWNER,
                external_ref="c",
                lines=[
                    LineRequest("MUG", 2),
                    LineRequest("TEA", 21),
                    LineRequest("PAN", 5),
                    LineRequest("TEA", 1),
                ],
            )
        uow.commit()  # even a caller that commits anyway finds nothing held
    assert caught.value.to_dict()["lines"] == [
        {"sku": "TEA", "requested": 22, "available": 20},
        {"sku": "PAN", "requested": 5, "available": 4},
    ]
    assert stocked.count("reservations") == 0
    assert stocked.count("outbox_events") == written
    assert levels_picture(stocked) == picture


def test_a_line_is_never_split_across_warehouses(stocked: Database) -> None:
    # 20 MUG exist, but no single warehouse has 15.
    with stocked.uow() as uow, pytest.raises(InsufficientStock) as caught:
        reservations.create_reservation(
            uow, owner=OWNER, external_ref="c", lines=[LineRequest("MUG", 15)]
        )
    assert caught.value.to_dict()["lines"] == [{"sku": "MUG", "requested": 15, "available": 10}]


def test_lines_no_warehouse_has_together_are_held_in_as_few_warehouses_as_possible(
    stocked: Database,
) -> None:
    view = reserve(stocked, ("MUG", 1), ("PAN", 1), ship_to=SHANGHAI)
    assert {(ln.sku, ln.warehouse) for ln in view.lines} == {("MUG", "SHA"), ("PAN", "PEK")}


def test_a_named_warehouse_is_the_only_one_considered(stocked: Database) -> None:
    with stocked.uow() as uow, pytest.raises(InsufficientStock) as caught:
        reservations.create_reservation(
            uow, owner=OWNER, external_ref="c", lines=[LineRequest("TEA", 6)], warehouse="SHA"
        )
    assert caught.value.to_dict()["lines"] == [{"sku": "TEA", "requested": 6, "available": 5}]
    view = reserve(stocked, ("TEA", 5), warehouse="SHA", ship_to=GUANGZHOU)
    assert view.lines[0].warehouse == "SHA"


@pytest.mark.parametrize("ttl", [0, -5, 86_401])
def test_a_ttl_outside_the_bounds_is_refused(stocked: Database, ttl: int) -> None:
    with stocked.uow() as uow, pytest.raises(ValidationFailed) as caught:
        reservations.create_reservation(
            uow, owner=OWNER, external_ref="c", lines=[LineRequest("MUG", 1)], ttl_seconds=ttl
        )
    assert caught.value.field == "ttl_seconds"


def test_a_ttl_above_the_configured_maximum_is_refused(stocked: Database) -> None:
    with stocked.uow() as uow, pytest.raises(ValidationFailed) as caught:
        reservations.create_reservation(
            uow,
            owner=OWNER,
            external_ref="c",
            lines=[LineRequest("MUG", 1)],
            ttl_seconds=3601,
            max_ttl_seconds=3600,
        )
    assert caught.value.field == "ttl_seconds"


def test_bad_lines_are_refused_naming_the_line(stocked: Database) -> None:
    with stocked.uow() as uow, pytest.raises(UnknownSku) as unknown:
        reservations.create_reservation(
            uow,
            owner=OWNER,
            external_ref="c",
            lines=[LineRequest("MUG", 1), LineRequest("NOPE", 1)],
        )
    assert unknown.value.field == "lines[1].sku"
    with stocked.uow() as uow, pytest.raises(ValidationFailed) as zero:
        reservations.create_reservation(
            uow, owner=OWNER, external_ref="c", lines=[LineRequest("MUG", 0)]
        )
    assert zero.value.field == "lines[0].quantity"
    with stocked.uow() as uow, pytest.raises(ValidationFailed) as empty:
        reservations.create_reservation(uow, owner=OWNER, external_ref="c", lines=[])
    assert empty.value.field == "lines"


def test_a_lost_race_is_allocated_again_on_fresh_numbers(stocked: Database) -> None:
    class RacedPolicy:
        """Decides on the numbers it was given, after another checkout took SHA's mugs."""

        name = "raced"
        calls = 0

        def allocate(self, problem: AllocationProblem) -> AllocationResult:
            RacedPolicy.calls += 1
            if RacedPolicy.calls == 1:
                with stocked.uow() as other:
                    levels.reserve(other, lines=[LevelLine("MUG", "SHA", 10)])
                    other.commit()
            return DEFAULT_POLICY.allocate(problem)

    view = reserve(stocked, ("MUG", 3), ship_to=SHANGHAI, policy=RacedPolicy())
    assert RacedPolicy.calls == 2
    assert view.lines[0].warehouse == "CAN"
    assert level(stocked, "MUG", "SHA")["reserved"] == 10
    assert level(stocked, "MUG", "CAN")["reserved"] == 3


def test_releasing_gives_the_stock_back_and_records_the_released_state(stocked: Database) -> None:
    view = reserve(stocked, ("MUG", 4), ship_to=SHANGHAI)
    with stocked.uow() as uow:
        released = reservations.release_reservation(uow, owner=OWNER, reservation_id=view.id)
        uow.commit()
    assert released.status == "released"
    assert level(stocked, "MUG", "SHA")["reserved"] == 0
    assert [(t, d["status"]) for t, _, d in events(stocked, "reservation.")] == [
        ("reservation.created", "active"),
        ("reservation.released", "released"),
    ]
    with stocked.uow() as uow, pytest.raises(InvalidTransition) as again:
        reservations.release_reservation(uow, owner=OWNER, reservation_id=view.id)
    assert again.value.context == {
        "entity": "reservation",
        "current": "released",
        "target": "released",
    }


def test_extending_moves_the_expiry_from_now(stocked: Database) -> None:
    view = reserve(stocked, ("MUG", 1), ttl=60)
    with stocked.uow() as uow:
        extended = reservations.extend_reservation(
            uow, owner=OWNER, reservation_id=view.id, ttl_seconds=3600
        )
        uow.commit()
    assert extended.expires_at > view.expires_at + timedelta(seconds=3000)
    with stocked.uow() as uow:
        seen = reservations.get_reservation(uow.session, owner=OWNER, reservation_id=view.id)
    assert seen.expires_at == extended.expires_at
    assert level(stocked, "MUG", "SHA")["reserved"] == 1


def test_an_overdue_reservation_reads_expired_and_can_be_neither_extended_nor_released(
    stocked: Database,
) -> None:
    view = reserve(stocked, ("MUG", 1), ttl=1, now=utcnow() - timedelta(seconds=5))
    with stocked.uow() as uow:
        seen = reservations.get_reservation(uow.session, owner=OWNER, reservation_id=view.id)
        assert seen.status == "expired"
        with pytest.raises(InvalidTransition):
            reservations.extend_reservation(
                uow, owner=OWNER, reservation_id=view.id, ttl_seconds=60
            )
    with stocked.uow() as uow:
        ended = reservations.release_reservation(uow, owner=OWNER, reservation_id=view.id)
        uow.commit()
    assert ended.status == "expired"
    assert level(stocked, "MUG", "SHA")["reserved"] == 0
    assert events(stocked, "reservation.")[-1][0] == "reservation.expired"


def test_the_expiry_job_releases_only_reservations_whose_time_is_up(stocked: Database) -> None:
    past = utcnow() - timedelta(hours=1)
    due = [reserve(stocked, ("MUG", 1), ttl=60, now=past) for _ in range(3)]
    kept = reserve(stocked, ("TEA", 2), ttl=600)
    assert level(stocked, "MUG", "SHA")["reserved"] == 3
    assert job("wms.expire_reservations").run(stocked.session_factory) == {"expired": 3}
    assert level(stocked, "MUG", "SHA")["reserved"] == 0
    assert level(stocked, "TEA", "SHA")["reserved"] == 2
    expired = [(s, d["status"]) for t, s, d in events(stocked, "reservation.expired")]
    assert sorted(expired) == sorted((v.id, "expired") for v in due)
    assert job("wms.expire_reservations").run(stocked.session_factory) == {"expired": 0}
    with stocked.uow() as uow:
        still = reservations.get_reservation(uow.session, owner=OWNER, reservation_id=kept.id)
    assert still.status == "active"


def test_an_ended_reservation_never_changes_again(stocked: Database) -> None:
    view = reserve(stocked, ("MUG", 1), ttl=1, now=utcnow() - timedelta(seconds=5))
    with stocked.uow() as uow:
        assert reservations.expire_due(uow, now=utcnow()) == 1
        uow.commit()
    with stocked.uow() as uow:
        for attempt in (
            lambda: reservations.release_reservation(uow, owner=OWNER, reservation_id=view.id),
            lambda: reservations.extend_reservation(
                uow, owner=OWNER, reservation_id=view.id, ttl_seconds=60
            ),
            lambda: reservations.commit_reserved(
                uow, owner=OWNER, reservation_id=view.id, lines=[LineRequest("MUG", 1)]
            ),
        ):
            with pytest.raises(InvalidTransition):
                attempt()


def test_another_owner_can_neither_see_nor_change_a_reservation(stocked: Database) -> None:
    view = reserve(stocked, ("MUG", 1))
    with stocked.uow() as uow:
        with pytest.raises(UnknownReservation):
            reservations.get_reservation(uow.session, owner=OTHER, reservation_id=view.id)
        with pytest.raises(UnknownReservation):
            reservations.release_reservation(uow, owner=OTHER, reservation_id=view.id)
        with pytest.raises(UnknownReservation):
            reservations.extend_reservation(
                uow, owner=OTHER, reservation_id=view.id, ttl_seconds=60
            )
    assert level(stocked, "MUG", "SHA")["reserved"] == 1
