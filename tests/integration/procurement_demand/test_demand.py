"""Weekly demand from the ledger: shipments to the customer, bucketed by UTC ISO week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests import factories
from tests.conftest import Database
from wms.errors import ValidationFailed
from wms.inventory import stock
from wms.inventory.stock import PickedLine
from wms.procurement.demand import weekly_demand

# Wednesday; the four whole weeks before its week run Monday 9 February to Sunday 8 March 2026.
UNTIL = date(2026, 3, 11)
MONDAY = datetime(2026, 2, 9, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def ship(db: Database, sku: str, warehouse: str, quantity: int, when: datetime) -> None:
    with db.uow() as uow:
        stock.deliver(
            uow,
            warehouse=warehouse,
            lines=[PickedLine(sku=sku, quantity=quantity, location="B01")],
            actor="t",
            occurred_at=when,
        )
        uow.commit()


def history(db: Database) -> Database:
    """Two warehouses, three products, shipments in, around and outside the window."""
    with db.uow() as uow:
        for code in ("SHA", "CAN"):
            factories.warehouse(uow, code)
        for sku in ("MUG-1", "TEA-1", "CUP-1"):
            factories.product(uow, sku)
            for code in ("SHA", "CAN"):
                stock.receive(
                    uow,
                    sku=sku,
                    quantity=500,
                    warehouse=code,
                    location="B01",
                    actor="t",
                    occurred_at=MONDAY - timedelta(days=60),
                )
        # Within one warehouse: stock moves, nothing leaves for the customer.
        stock.move(
            uow,
            sku="CUP-1",
            quantity=5,
            warehouse="SHA",
            from_location="B01",
            to_location="B02",
            actor="t",
            occurred_at=MONDAY + timedelta(days=1),
        )
        uow.commit()
    ship(db, "MUG-1", "SHA", 100, MONDAY - timedelta(seconds=1))  # the Sunday before: outside
    ship(db, "MUG-1", "SHA", 3, MONDAY)  # first instant of week 0
    ship(db, "MUG-1", "SHA", 2, MONDAY + timedelta(days=7) - timedelta(seconds=1))  # its last
    # Monday 01:00 in Shanghai is still Sunday in UTC: week 0, not week 1.
    ship(db, "MUG-1", "SHA", 6, datetime(2026, 2, 16, 1, 0, tzinfo=SHANGHAI))
    ship(db, "MUG-1", "SHA", 4, datetime(2026, 3, 8, 23, 30, tzinfo=UTC))  # week 3
    ship(db, "MUG-1", "SHA", 1, datetime(2026, 3, 8, 23, 45, tzinfo=UTC))  # same day, summed
    ship(db, "MUG-1", "SHA", 100, datetime(2026, 3, 9, tzinfo=UTC))  # the week of UNTIL: out
    ship(db, "MUG-1", "CAN", 7, datetime(2026, 2, 25, 12, tzinfo=UTC))  # week 2
    ship(db, "TEA-1", "SHA", 1, datetime(2026, 3, 3, 9, tzinfo=UTC))  # week 3
    return db


@pytest.fixture
def shipped(pg: Database) -> Database:
    return history(pg)


def demand(
    db: Database, *, skus: list[str] | None = None, warehouse: str | None = None
) -> dict[tuple[str, str], list[int]]:
    with db.uow() as uow:
        return weekly_demand(uow.session, weeks=4, until=UNTIL, skus=skus, warehouse=warehouse)


EXPECTED = {
    ("MUG-1", "CAN"): [0, 0, 7, 0],
    ("MUG-1", "SHA"): [11, 0, 0, 5],
    ("TEA-1", "SHA"): [0, 0, 0, 1],
}


def test_buckets_shipments_by_utc_iso_week_with_zero_weeks(shipped: Database) -> None:
    assert demand(shipped) == EXPECTED


def test_pairs_without_shipments_to_the_customer_are_absent(shipped: Database) -> None:
    got = demand(shipped)
    assert ("CUP-1", "SHA") not in got
    assert ("TEA-1", "CAN") not in got


def test_a_monday_until_gives_the_same_window_as_later_in_its_week(shipped: Database) -> None:
    with shipped.uow() as uow:
        on_monday = weekly_demand(uow.session, weeks=4, until=date(2026, 3, 9))
        on_sunday = weekly_demand(uow.session, weeks=4, until=date(2026, 3, 15))
    assert on_monday == on_sunday == EXPECTED


def test_a_longer_window_reaches_back_and_pads_with_zeros(shipped: Database) -> None:
    with shipped.uow() as uow:
        got = weekly_demand(uow.session, weeks=6, until=UNTIL)
    assert got[("MUG-1", "SHA")] == [0, 100, 11, 0, 0, 5]
    assert got[("MUG-1", "CAN")] == [0, 0, 0, 0, 7, 0]


def test_filters_by_sku_and_by_warehouse(shipped: Database) -> None:
    assert demand(shipped, skus=["MUG-1"]) == {
        ("MUG-1", "CAN"): [0, 0, 7, 0],
        ("MUG-1", "SHA"): [11, 0, 0, 5],
    }
    assert demand(shipped, warehouse="SHA") == {
        ("MUG-1", "SHA"): [11, 0, 0, 5],
        ("TEA-1", "SHA"): [0, 0, 0, 1],
    }
    assert demand(shipped, skus=["TEA-1"], warehouse="CAN") == {}
    assert demand(shipped, skus=[]) == {}


def test_rejects_a_window_of_no_weeks(shipped: Database) -> None:
    with shipped.uow() as uow, pytest.raises(ValidationFailed) as caught:
        weekly_demand(uow.session, weeks=0, until=UNTIL)
    assert caught.value.field == "weeks"


def test_sqlite_buckets_the_same_way(sqlite_db: Database) -> None:
    assert demand(history(sqlite_db)) == EXPECTED
