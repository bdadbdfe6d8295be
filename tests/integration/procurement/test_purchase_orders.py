"""Purchase orders on PostgreSQL: the state machine, approval's receipt and incoming, receiving on
the handheld's use case with lead times learned, cancellation, and refusals that write nothing."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.concurrency import race
from tests.conftest import Database
from tests.integration.procurement.support import (
    SUPPLIER,
    approved,
    days_ago,
    draft,
    incoming,
    picture,
    receive,
    setup_purchasing,
    status,
)
from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, ValidationFailed
from wms.inventory import receipts
from wms.procurement import purchase_orders as po
from wms.procurement import suppliers
from wms.quality import inbound
from wms.quality.suppliers import SupplierNotQualified, set_status


@pytest.fixture
def db(pg: Database) -> Database:
    return setup_purchasing(pg)


def test_a_new_order_is_a_draft_priced_from_the_breaks_that_counts_nowhere(db: Database) -> None:
    code = draft(db, {"MUG": 120, "TEA": 5})
    with db.uow() as uow:
        view = po.purchase_order_view(uow.session, code)
    assert code == "PO-SHA-000001"
    assert (view.status, view.currency, view.receipts) == ("draft", "CNY", ())
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in view.lines] == [
        ("MUG", 120, Decimal("11.80")),  # 120 reaches the break at 100
        ("TEA", 5, Decimal("30")),
    ]
    assert view.total == Decimal("1566")
    assert view.expected_date == utcnow().date() + timedelta(days=14)  # the longest lead time
    assert incoming(db, "MUG") == 0


def test_a_line_the_supplier_does_not_price_needs_a_price(db: Database) -> None:
    with db.uow() as uow:
        from tests import factories

        factories.product(uow, "SPOON")
        uow.commit()
    before = picture(db)
    with db.uow() as uow, pytest.raises(ValidationFailed) as refused:
        po.create_purchase_order(
            uow,
            supplier=SUPPLIER,
            warehouse="SHA",
            lines=[po.OrderLineRequest("SPOON", 10)],
            actor="pei",
        )
    assert refused.value.field == "lines[0].unit_price"
    assert picture(db) == before


def test_approval_creates_the_receipt_and_the_quantities_count_as_incoming(db: Database) -> None:
    code = approved(db, {"MUG": 120, "TEA": 5})
    with db.uow() as uow:
        view = po.purchase_order_view(uow.session, code)
        receipt = receipts.receipt_view(uow.session, view.receipts[0])
    assert (view.status, view.approved_by) == ("approved", "pei")
    assert receipt.supplier_reference == code
    assert receipt.expected_date == view.expected_date
    assert [(ln.sku, ln.expected) for ln in receipt.lines] == [("MUG", 120), ("TEA", 5)]
    assert db.scalar("SELECT origin FROM receipts") == code
    assert (incoming(db, "MUG"), incoming(db, "TEA")) == (120, 5)


def test_editing_a_draft_replaces_its_lines(db: Database) -> None:
    code = draft(db)
    with db.uow() as uow:
        view = po.edit_purchase_order_lines(
            uow,
            code=code,
            lines=[po.OrderLineRequest("MUG", 600), po.OrderLineRequest("TEA", 2, Decimal("28"))],
            actor="pei",
        )
        uow.commit()
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in view.lines] == [
        ("MUG", 600, Decimal("11.00")),
        ("TEA", 2, Decimal("28")),
    ]


def _approve(uow: UnitOfWork, code: str) -> None:
    po.approve_purchase_order(uow, code=code, actor="pei")


def _send(uow: UnitOfWork, code: str) -> None:
    po.send_purchase_order(uow, code=code, actor="pei")


def _cancel(uow: UnitOfWork, code: str) -> None:
    po.cancel_purchase_order(uow, code=code, actor="pei")


def _close(uow: UnitOfWork, code: str) -> None:
    po.close_purchase_order(uow, code=code, actor="pei")


def _edit(uow: UnitOfWork, code: str) -> None:
    po.edit_purchase_order_lines(uow, code=code, lines=[po.OrderLineRequest("MUG", 48)], actor="p")


ACTIONS: dict[str, Callable[[UnitOfWork, str], None]] = {
    "approve": _approve,
    "send": _send,
    "cancel": _cancel,
    "close": _close,
    "edit": _edit,
}


def _in_state(db: Database, state: str) -> str:
    """A PO for 120 MUG brought to ``state`` through the services."""
    code = draft(db)
    steps: dict[str, list[Callable[[], None]]] = {
        "draft": [],
        "approved": [lambda: _do(db, "approve", code)],
        "sent": [lambda: _do(db, "approve", code), lambda: _do(db, "send", code)],
        "partially_received": [
            lambda: _do(db, "approve", code),
            lambda: receive(db, code, "MUG", 50),
        ],
        "received": [lambda: _do(db, "approve", code), lambda: receive(db, code, "MUG", 120)],
        "closed": [
            lambda: _do(db, "approve", code),
            lambda: receive(db, code, "MUG", 50),
            lambda: _do(db, "close", code),
        ],
        "cancelled": [lambda: _do(db, "cancel", code)],
    }
    for step in steps[state]:
        step()
    assert status(db, code) == state
    return code


def _do(db: Database, action: str, code: str) -> None:
    with db.uow() as uow:
        ACTIONS[action](uow, code)
        uow.commit()


ALLOWED = {
    "draft": {"approve": "approved", "cancel": "cancelled", "edit": "draft"},
    "approved": {"send": "sent", "cancel": "cancelled"},
    "sent": {"cancel": "cancelled"},
    "partially_received": {"close": "closed"},
    "received": {"close": "closed"},
    "closed": {},
    "cancelled": {},
}


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [(s, a, t) for s, moves in ALLOWED.items() for a, t in moves.items()],
)
def test_every_allowed_transition_moves_the_order(
    db: Database, state: str, action: str, after: str
) -> None:
    code = _in_state(db, state)
    _do(db, action, code)
    assert status(db, code) == after


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s, moves in ALLOWED.items() for a in ACTIONS if a not in moves],
)
def test_a_refused_transition_raises_and_writes_nothing(
    db: Database, state: str, action: str
) -> None:
    code = _in_state(db, state)
    before = picture(db)
    with db.uow() as uow, pytest.raises(InvalidTransition) as refused:
        ACTIONS[action](uow, code)
    assert refused.value.context["current"] == state
    assert picture(db) == before


@pytest.mark.parametrize("quality_status", ["suspended", "disqualified"])
def test_approval_refuses_a_supplier_that_is_not_qualified(
    db: Database, quality_status: str
) -> None:
    code = draft(db)
    with db.uow() as uow:
        set_status(uow, supplier=SUPPLIER, status=quality_status, reason="failed audit", actor="qa")
        uow.commit()
    before = picture(db)
    with db.uow() as uow, pytest.raises(SupplierNotQualified) as refused:
        po.approve_purchase_order(uow, code=code, actor="pei")
    assert refused.value.field == "supplier"
    assert picture(db) == before
    assert status(db, code) == "draft"
    assert incoming(db, "MUG") == 0


def test_receiving_on_the_handheld_use_case_moves_the_order_and_takes_off_incoming(
    db: Database,
) -> None:
    code = approved(db, {"MUG": 120, "TEA": 5})
    receive(db, code, "MUG", 50)
    with db.uow() as uow:
        view = po.purchase_order_view(uow.session, code)
    assert view.status == "partially_received"
    assert [(ln.sku, ln.received, ln.outstanding) for ln in view.lines] == [
        ("MUG", 50, 70),
        ("TEA", 0, 5),
    ]
    assert incoming(db, "MUG") == 70
    receive(db, code, "MUG", 70)
    receive(db, code, "TEA", 5)
    assert status(db, code) == "received"
    assert (incoming(db, "MUG"), incoming(db, "TEA")) == (0, 0)


def test_the_first_booking_teaches_the_supplier_product_its_lead_time(db: Database) -> None:
    first = approved(db, {"MUG": 120}, at=days_ago(10))
    receive(db, first, "MUG", 60)
    receive(db, first, "MUG", 60)  # a later booking of the same line teaches nothing more
    second = draft(db, {"MUG": 48})
    with db.uow() as uow:
        po.approve_purchase_order(uow, code=second, actor="pei", now=days_ago(20))
        po.send_purchase_order(uow, code=second, actor="pei", now=days_ago(16))  # counts from here
        uow.commit()
    receive(db, second, "MUG", 48, at=days_ago(2))
    with db.uow() as uow:
        [stats] = suppliers.lead_time_stats(uow.session, supplier=SUPPLIER, sku="MUG")
    assert stats.planned_days == 14
    assert stats.samples == 2
    assert stats.mean_days == pytest.approx(12, abs=0.01)  # 10 and 14 days
    assert stats.sd_days == pytest.approx(math.sqrt(8), abs=0.01)
    assert (stats.deliveries, stats.on_time) == (2, 2)


def test_cancelling_an_approved_order_cancels_its_receipt_and_releases_incoming(
    db: Database,
) -> None:
    code = approved(db, {"MUG": 120})
    assert incoming(db, "MUG") == 120
    _do(db, "cancel", code)
    assert incoming(db, "MUG") == 0
    assert db.scalar("SELECT status FROM receipts WHERE origin = :c", c=code) == "cancelled"


def test_closing_a_partly_received_order_releases_what_never_came(db: Database) -> None:
    code = approved(db, {"MUG": 120})
    receive(db, code, "MUG", 50)
    _do(db, "close", code)
    assert incoming(db, "MUG") == 0
    assert db.scalar("SELECT status FROM receipts WHERE origin = :c", c=code) == "closed"


def test_closing_its_receipt_on_the_floor_closes_the_order(db: Database) -> None:
    code = approved(db, {"MUG": 120})
    receive(db, code, "MUG", 50)
    with db.uow() as uow:
        receipt = po.purchase_order_view(uow.session, code).receipts[0]
        inbound.close_receipt(uow, receipt=receipt, actor="ola")
        uow.commit()
        view = po.purchase_order_view(uow.session, code)
    assert (view.status, view.closed_by) == ("closed", "ola")
    assert incoming(db, "MUG") == 0


def test_a_receipt_no_order_created_is_left_alone(db: Database) -> None:
    with db.uow() as uow:
        plain = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier=SUPPLIER,
            expected_date=utcnow().date(),
            lines=[receipts.ReceiptLineRequest("MUG", 10)],
            actor="pei",
            origin="ASN-77",
        )
        inbound.receive_line(uow, receipt=plain.code, sku="MUG", quantity=10, actor="ola")
        assert po.record_receipt(uow, receipt=plain.code) is None
        uow.commit()
    assert db.count("purchase_orders") == 0
    assert db.scalar("SELECT lead_time_samples FROM supplier_products WHERE moq = 24") == 0


def test_parallel_approvals_of_one_order_approve_it_once(db: Database) -> None:
    code = draft(db, {"MUG": 120})
    outcomes = race(
        db,
        8,
        lambda uow, _i: po.approve_purchase_order(uow, code=code, actor="pei"),
        refusals=(InvalidTransition,),
    )
    assert outcomes == Counter({"ok": 1, "InvalidTransition": 7})
    assert db.count("receipts") == 1
    assert incoming(db, "MUG") == 120


def test_parallel_cancel_and_booking_never_both_win(db: Database) -> None:
    code = approved(db, {"MUG": 120})
    with db.uow() as uow:
        receipt = po.purchase_order_view(uow.session, code).receipts[0]

    def act(uow: UnitOfWork, index: int) -> None:
        if index % 2:
            po.cancel_purchase_order(uow, code=code, actor="pei")
        else:
            inbound.receive_line(uow, receipt=receipt, sku="MUG", quantity=10, actor="ola")

    outcomes = race(db, 6, act, refusals=(InvalidTransition, receipts.ReceiptClosed))
    final = status(db, code)
    assert final in {"cancelled", "partially_received"}
    booked = db.count("moves")
    if final == "cancelled":
        assert booked == 0
        assert incoming(db, "MUG") == 0
    else:
        assert booked == outcomes["ok"]
        assert incoming(db, "MUG") == 120 - 10 * booked
