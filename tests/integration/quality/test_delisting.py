"""Delisting on PostgreSQL: a quality block takes a product off sale everywhere in one transaction,
and closing its corrective action puts it back."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from tests.integration.fulfillment.support import events, ship_to
from tests.integration.quality.support import level, picture
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, ValidationFailed
from wms.fulfillment import orders, reservations
from wms.fulfillment.views import LineRequest
from wms.inventory import stock
from wms.inventory.errors import InsufficientStock
from wms.quality import ncr
from wms.quality.ncr import AlreadyDelisted


@pytest.fixture
def on_sale(pg: Database) -> Database:
    """KETTLE on sale in SHA (30) and CAN (12)."""
    with pg.uow() as uow:
        for code in ("SHA", "CAN"):
            factories.warehouse(uow, code, bins=1)
        factories.product(uow, "KETTLE")
        stock.receive(uow, sku="KETTLE", quantity=30, warehouse="SHA", location="B01", actor="t")
        stock.receive(uow, sku="KETTLE", quantity=12, warehouse="CAN", location="B01", actor="t")
        uow.commit()
    return pg


def delist(db: Database) -> ncr.Delisting:
    with db.uow() as uow:
        result = ncr.delist(
            uow,
            sku="KETTLE",
            reason="lid seal leaks (3 customer complaints)",
            action="replace the seal supplier and re-test",
            owner="qa.lead",
            due_date=utcnow().date() + timedelta(days=10),
            actor="qa",
        )
        uow.commit()
    return result


def _action_of(db: Database, ncr_code: str) -> int:
    return int(
        str(
            db.scalar(
                "SELECT a.id FROM corrective_actions a JOIN nonconformance_reports n "
                "ON n.id = a.ncr_id WHERE n.code = :c",
                c=ncr_code,
            )
        )
    )


def test_delisting_takes_the_product_off_sale_in_every_warehouse_at_once(on_sale: Database) -> None:
    before = len(events(on_sale))
    result = delist(on_sale)
    assert level(on_sale, "KETTLE", "SHA")["available"] == 0
    assert level(on_sale, "KETTLE", "CAN")["available"] == 0
    assert level(on_sale, "KETTLE", "SHA")["on_hand"] == 30  # the stock stays where it is
    written = events(on_sale)[before:]
    kinds = [kind for kind, _, _ in written]
    assert kinds.count("product.delisted") == 1
    assert kinds.count("inventory.item.out_of_stock") == 2
    updates = [data for kind, _, data in written if kind == "inventory.level.updated"]
    assert {(d["warehouse"], d["available"], d["blocked"]) for d in updates} == {
        ("SHA", 0, True),
        ("CAN", 0, True),
    }
    delisted = next(data for kind, _, data in written if kind == "product.delisted")
    assert delisted["ncr"] == result.ncr


def test_a_delisted_product_cannot_be_reserved_or_ordered_even_in_parallel(
    on_sale: Database,
) -> None:
    delist(on_sale)

    def attempt(uow: UnitOfWork, index: int) -> None:
        if index % 2:
            orders.create_order(
                uow,
                owner="apikey:1",
                external_ref=f"web-{index}",
                lines=[LineRequest("KETTLE", 1)],
                ship_to=ship_to(),
            )
        else:
            reservations.create_reservation(
                uow, owner="apikey:1", external_ref=f"c-{index}", lines=[LineRequest("KETTLE", 1)]
            )

    assert race(on_sale, 10, attempt, refusals=(InsufficientStock,)) == Counter(
        {"InsufficientStock": 10}
    )


def test_closing_the_corrective_action_relists_the_product(on_sale: Database) -> None:
    result = delist(on_sale)
    before = len(events(on_sale))
    with on_sale.uow() as uow:
        ncr.close_corrective_action(
            uow, action_id=_action_of(on_sale, result.ncr), resolution="new seals", actor="qa"
        )
        uow.commit()
    assert level(on_sale, "KETTLE", "SHA")["available"] == 30
    assert level(on_sale, "KETTLE", "CAN")["available"] == 12
    kinds = [kind for kind, _, _ in events(on_sale)[before:]]
    assert kinds.count("product.relisted") == 1
    assert kinds.count("inventory.item.back_in_stock") == 2
    assert on_sale.scalar("SELECT status FROM nonconformance_reports") == "closed"
    with on_sale.uow() as uow:
        reservations.create_reservation(
            uow, owner="apikey:1", external_ref="after", lines=[LineRequest("KETTLE", 5)]
        )
        uow.commit()


def test_stock_received_while_delisted_stays_off_sale(on_sale: Database) -> None:
    delist(on_sale)
    with on_sale.uow() as uow:
        factories.warehouse(uow, "PEK", bins=1)
        stock.receive(uow, sku="KETTLE", quantity=7, warehouse="PEK", location="B01", actor="t")
        stock.receive(uow, sku="KETTLE", quantity=5, warehouse="SHA", location="B01", actor="t")
        uow.commit()
    assert level(on_sale, "KETTLE", "PEK")["available"] == 0
    assert level(on_sale, "KETTLE", "SHA") | {"version": 0} == {
        "on_hand": 35,
        "committed": 0,
        "reserved": 0,
        "quality_control": 0,
        "available": 0,
        "blocked": True,
        "version": 0,
    }


def test_delisting_twice_is_refused_and_writes_nothing(on_sale: Database) -> None:
    delist(on_sale)
    before = picture(on_sale)
    with pytest.raises(AlreadyDelisted):
        delist(on_sale)
    assert picture(on_sale) == before


def test_a_corrective_action_closes_once(on_sale: Database) -> None:
    result = delist(on_sale)
    action_id = _action_of(on_sale, result.ncr)
    with on_sale.uow() as uow:
        ncr.close_corrective_action(uow, action_id=action_id, resolution="done", actor="qa")
        uow.commit()
    with on_sale.uow() as uow, pytest.raises(InvalidTransition):
        ncr.close_corrective_action(uow, action_id=action_id, resolution="again", actor="qa")


def test_a_corrective_action_needs_an_owner_and_a_future_date(on_sale: Database) -> None:
    with on_sale.uow() as uow:
        report = ncr.create_ncr(uow, title="Scratched housings", sku="KETTLE", actor="qa")
        uow.commit()
    before = picture(on_sale)
    with on_sale.uow() as uow, pytest.raises(ValidationFailed) as error:
        ncr.request_corrective_action(
            uow,
            ncr=report.code,
            description="fix it",
            owner="qa",
            due_date=utcnow().date() - timedelta(days=1),
            actor="qa",
        )
    assert error.value.field == "due_date"
    with on_sale.uow() as uow, pytest.raises(ValidationFailed) as error:
        ncr.request_corrective_action(
            uow,
            ncr=report.code,
            description="fix it",
            owner="  ",
            due_date=utcnow().date(),
            actor="qa",
        )
    assert error.value.field == "owner"
    assert picture(on_sale) == before
