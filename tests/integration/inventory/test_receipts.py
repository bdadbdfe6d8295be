"""Expected receipts on PostgreSQL: incoming, bookings into the dock, tolerance, close and cancel.

Every refusal is checked against a picture of the ledger, quants, levels and receipt lines taken
before, after the caller commits anyway (the handheld commits its session state after a refused
scan), so a service that wrote half a booking before refusing would show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from tests import factories
from tests.concurrency import race
from tests.conftest import Database
from wms.db.uow import UnitOfWork
from wms.errors import (
    AlreadyExists,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from wms.inventory import catalog, receipts
from wms.inventory.errors import InvalidQuantity, LotRequired, UnknownSku, UnknownWarehouse
from wms.inventory.integrity import check_ledger
from wms.inventory.receipts import (
    NotOnReceipt,
    OverTolerance,
    ReceiptClosed,
    ReceiptLineRequest,
    UnknownReceipt,
)
from wms.inventory.scanning import UnknownBarcode, resolve_product

E = TypeVar("E", bound=BaseException)
EXPECTED_DAY = date(2026, 5, 4)


@pytest.fixture
def inbound(pg: Database) -> Database:
    """SHA and CAN, supplier SUP-1, and products with and without lots and shelf life."""
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.warehouse(uow, "CAN")
        factories.supplier(uow, "SUP-1")
        factories.product(uow, "MUG-1")
        factories.product(uow, "SPOON-1")
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        factories.product(uow, "BOLT-1", lot_tracked=True)
        uow.commit()
    return pg


def create(
    db: Database,
    lines: dict[str, int],
    *,
    warehouse: str = "SHA",
    tolerance: int = 10,
    code: str | None = None,
) -> str:
    with db.uow() as uow:
        view = receipts.create_receipt(
            uow,
            warehouse=warehouse,
            supplier="SUP-1",
            expected_date=EXPECTED_DAY,
            lines=[ReceiptLineRequest(sku, qty) for sku, qty in lines.items()],
            over_tolerance_pct=tolerance,
            code=code,
            actor="planner",
        )
        uow.commit()
    return view.code


def receive(db: Database, code: str, sku: str, quantity: int, **kwargs: Any) -> receipts.Booking:
    with db.uow() as uow:
        booking = receipts.receive_line(
            uow, receipt=code, sku=sku, quantity=quantity, actor="ola", **kwargs
        )
        uow.commit()
    return booking


def level(db: Database, sku: str, warehouse: str = "SHA") -> dict[str, int]:
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT on_hand, incoming, version FROM stock_levels s "
            "JOIN products p ON p.id = s.product_id JOIN warehouses w ON w.id = s.warehouse_id "
            "WHERE p.sku = %(sku)s AND w.code = %(wh)s",
            {"sku": sku, "wh": warehouse},
        ).one()
    return {"on_hand": row.on_hand, "incoming": row.incoming, "version": row.version}


def line(db: Database, code: str, sku: str) -> tuple[int, str | None]:
    """(received, over_approved_by) of a receipt line."""
    with db.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT l.received_quantity, l.over_approved_by FROM receipt_lines l "
            "JOIN receipts r ON r.id = l.receipt_id JOIN products p ON p.id = l.product_id "
            "WHERE r.code = %(code)s AND p.sku = %(sku)s",
            {"code": code, "sku": sku},
        ).one()
    return (row.received_quantity, row.over_approved_by)


def quant(db: Database, sku: str, location: str, warehouse: str = "SHA") -> int:
    value = db.scalar(
        "SELECT coalesce(sum(q.quantity), 0) FROM quants q "
        "JOIN products p ON p.id = q.product_id JOIN locations l ON l.id = q.location_id "
        "JOIN warehouses w ON w.id = l.warehouse_id "
        "WHERE p.sku = :sku AND l.code = :loc AND w.code = :wh",
        sku=sku,
        loc=location,
        wh=warehouse,
    )
    return int(str(value))


def picture(db: Database) -> dict[str, object]:
    """Everything a receipt operation could write."""
    queries = {
        "moves": "SELECT count(*) FROM moves",
        "lots": "SELECT string_agg(code, ',' ORDER BY id) FROM lots",
        "quants": "SELECT string_agg(id || ':' || quantity, ',' ORDER BY id) FROM quants",
        "levels": "SELECT string_agg(concat_ws(':', id, version, on_hand, incoming), ',' "
        "ORDER BY id) FROM stock_levels",
        "receipts": "SELECT string_agg(concat_ws(':', code, status, closed_by), ',' "
        "ORDER BY id) FROM receipts",
        "lines": "SELECT string_agg(concat_ws(':', id, received_quantity, over_approved_by), ',' "
        "ORDER BY id) FROM receipt_lines",
    }
    return {name: db.scalar(sql) for name, sql in queries.items()}


def refused(db: Database, error: type[E], work: Callable[[UnitOfWork], object]) -> E:
    """Run ``work``, expect ``error``, commit anyway, and check that nothing was written."""
    before = picture(db)
    with db.uow() as uow:
        with pytest.raises(error) as caught:
            work(uow)
        uow.commit()
    assert picture(db) == before
    return caught.value


def assert_ledger_agrees(db: Database) -> None:
    with db.uow() as uow:
        report = check_ledger(uow.session)
    assert report.ok, [d.describe() for d in report.discrepancies]


# Creating a receipt


def test_creating_a_receipt_adds_its_lines_to_incoming_and_moves_nothing(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10, "SPOON-1": 5})
    assert code == "RC-SHA-000001"
    assert level(inbound, "MUG-1") == {"on_hand": 0, "incoming": 10, "version": 1}
    assert level(inbound, "SPOON-1")["incoming"] == 5
    assert level(inbound, "MUG-1", "CAN")["incoming"] == 0
    assert inbound.count("moves") == 0
    with inbound.uow() as uow:
        view = receipts.receipt_view(uow.session, code)
    assert (view.status, view.supplier, view.warehouse) == ("open", "SUP-1", "SHA")
    assert [(ln.line_no, ln.sku, ln.expected, ln.received) for ln in view.lines] == [
        (1, "MUG-1", 10, 0),
        (2, "SPOON-1", 5, 0),
    ]


def test_generated_codes_count_up_per_receipt(inbound: Database) -> None:
    assert create(inbound, {"MUG-1": 1}) == "RC-SHA-000001"
    assert create(inbound, {"MUG-1": 2}, warehouse="CAN") == "RC-CAN-000002"
    assert create(inbound, {"MUG-1": 3}) == "RC-SHA-000003"
    assert level(inbound, "MUG-1")["incoming"] == 4
    assert level(inbound, "MUG-1", "CAN")["incoming"] == 2


def test_a_given_code_is_kept_and_reusing_it_is_refused(inbound: Database) -> None:
    assert create(inbound, {"MUG-1": 4}, code="PO-7/1") == "PO-7/1"
    exc = refused(
        inbound,
        AlreadyExists,
        lambda uow: receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier="SUP-1",
            expected_date=EXPECTED_DAY,
            lines=[ReceiptLineRequest("MUG-1", 9)],
            code="PO-7/1",
            actor="planner",
        ),
    )
    assert exc.field == "code"
    assert level(inbound, "MUG-1")["incoming"] == 4


def _create(**overrides: Any) -> Callable[[UnitOfWork], object]:
    args: dict[str, Any] = {
        "warehouse": "SHA",
        "supplier": "SUP-1",
        "expected_date": EXPECTED_DAY,
        "lines": [ReceiptLineRequest("MUG-1", 3), ReceiptLineRequest("SPOON-1", 2)],
        "actor": "planner",
    }
    args.update(overrides)
    return lambda uow: receipts.create_receipt(uow, **args)


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        pytest.param({"warehouse": "XXX"}, UnknownWarehouse, "warehouse", id="unknown-warehouse"),
        pytest.param({"supplier": "NOPE"}, NotFound, "supplier", id="unknown-supplier"),
        pytest.param(
            {"lines": [ReceiptLineRequest("MUG-1", 3), ReceiptLineRequest("NOPE-1", 1)]},
            UnknownSku,
            "lines[1].sku",
            id="unknown-sku",
        ),
        pytest.param(
            {"lines": [ReceiptLineRequest("MUG-1", 3), ReceiptLineRequest("MUG-1", 1)]},
            ValidationFailed,
            "lines[1].sku",
            id="sku-on-two-lines",
        ),
        pytest.param(
            {"lines": [ReceiptLineRequest("MUG-1", 0)]},
            InvalidQuantity,
            "lines[0].quantity",
            id="zero-quantity",
        ),
        pytest.param({"lines": []}, ValidationFailed, "lines", id="no-lines"),
        pytest.param({"over_tolerance_pct": -1}, ValidationFailed, "over_tolerance_pct", id="tol"),
        pytest.param({"code": "rc 1"}, ValidationFailed, "code", id="bad-code"),
    ],
)
def test_a_bad_receipt_is_refused_naming_the_field_and_writes_nothing(
    inbound: Database, overrides: dict[str, Any], error: type[Exception], field: str
) -> None:
    exc = refused(inbound, error, _create(**overrides))
    assert isinstance(exc, ValidationFailed | NotFound)
    assert exc.field == field
    assert inbound.count("receipts") == 0
    assert level(inbound, "MUG-1")["incoming"] == 0


def test_a_duplicate_line_says_which_lines_repeat_the_sku(inbound: Database) -> None:
    lines = [ReceiptLineRequest("MUG-1", 3), ReceiptLineRequest("MUG-1", 1)]
    exc = refused(inbound, ValidationFailed, _create(lines=lines))
    assert "MUG-1 appears on lines 1 and 2" in exc.message


def test_an_inactive_supplier_is_refused(inbound: Database) -> None:
    with inbound.uow() as uow:
        factories.supplier(uow, "OLD", active=False)
        uow.commit()
    exc = refused(inbound, Conflict, _create(supplier="OLD"))
    assert exc.field == "supplier"


# Receiving against a receipt


def test_receiving_books_supplier_to_dock_and_takes_it_off_incoming(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10, "SPOON-1": 5})
    booking = receive(inbound, code, "MUG-1", 4)
    assert (booking.location, booking.received, booking.expected) == ("RECV", 4, 10)
    with inbound.engine.connect() as connection:
        moves = connection.exec_driver_sql(
            "SELECT f.kind, t.code, m.quantity, m.reason, m.reference, m.actor FROM moves m "
            "JOIN locations f ON f.id = m.from_location_id "
            "JOIN locations t ON t.id = m.to_location_id"
        ).all()
    assert [tuple(m) for m in moves] == [("supplier", "RECV", 4, "receipt", code, "ola")]
    assert quant(inbound, "MUG-1", "RECV") == 4
    assert level(inbound, "MUG-1") == {"on_hand": 4, "incoming": 6, "version": 2}
    assert line(inbound, code, "MUG-1") == (4, None)
    assert line(inbound, code, "SPOON-1") == (0, None)
    assert inbound.scalar("SELECT status FROM receipts") == "receiving"

    receive(inbound, code.lower(), "MUG-1", 6)  # the code may be typed in lower case
    assert level(inbound, "MUG-1") == {"on_hand": 10, "incoming": 0, "version": 3}
    assert line(inbound, code, "MUG-1") == (10, None)
    receive(inbound, code, "SPOON-1", 5)
    assert_ledger_agrees(inbound)


def test_the_ledger_check_counts_what_open_receipts_still_expect_as_incoming(
    inbound: Database,
) -> None:
    code = create(inbound, {"MUG-1": 10})
    receive(inbound, code, "MUG-1", 4)
    assert level(inbound, "MUG-1")["incoming"] == 6
    assert_ledger_agrees(inbound)


def test_receiving_over_expected_takes_only_the_expected_off_incoming(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10, "SPOON-1": 5})
    receive(inbound, code, "MUG-1", 8)
    receive(inbound, code, "MUG-1", 3)  # 11: exactly the 10 % tolerance
    assert level(inbound, "MUG-1") == {"on_hand": 11, "incoming": 0, "version": 3}
    assert line(inbound, code, "MUG-1") == (11, None)
    assert level(inbound, "SPOON-1")["incoming"] == 5


def test_the_tolerance_rounds_down_and_its_boundary_is_allowed(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 15})  # 10 % of 15 is 1.5: at most 16 without approval
    assert receive(inbound, code, "MUG-1", 16).received == 16
    exc = refused(
        inbound,
        OverTolerance,
        lambda uow: receipts.receive_line(uow, receipt=code, sku="MUG-1", quantity=1, actor="ola"),
    )
    assert exc.allowed == 16
    assert exc.context["received"] == 16
    assert line(inbound, code, "MUG-1") == (16, None)


def test_a_zero_tolerance_refuses_even_one_unit_over(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 5}, tolerance=0)
    refused(
        inbound,
        OverTolerance,
        lambda uow: receipts.receive_line(uow, receipt=code, sku="MUG-1", quantity=6, actor="ola"),
    )
    assert receive(inbound, code, "MUG-1", 5).received == 5


def test_receiving_beyond_tolerance_without_a_supervisor_writes_nothing(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10})
    receive(inbound, code, "MUG-1", 9)
    exc = refused(
        inbound,
        OverTolerance,
        lambda uow: receipts.receive_line(uow, receipt=code, sku="MUG-1", quantity=3, actor="ola"),
    )
    assert "a supervisor must approve" in exc.message
    assert exc.field == "quantity"
    assert line(inbound, code, "MUG-1") == (9, None)
    assert level(inbound, "MUG-1") == {"on_hand": 9, "incoming": 1, "version": 2}


def test_a_supervisor_approves_receiving_beyond_tolerance(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10})
    receive(inbound, code, "MUG-1", 9)
    booking = receive(inbound, code, "MUG-1", 6, approved_by="sam")
    assert (booking.received, booking.approved_by) == (15, "sam")
    assert line(inbound, code, "MUG-1") == (15, "sam")
    assert level(inbound, "MUG-1") == {"on_hand": 15, "incoming": 0, "version": 3}
    assert quant(inbound, "MUG-1", "RECV") == 15
    assert_ledger_agrees(inbound)


def test_a_lot_tracked_product_without_a_lot_is_refused_and_writes_nothing(
    inbound: Database,
) -> None:
    code = create(inbound, {"TEA-1": 10})
    before = level(inbound, "TEA-1")
    exc = refused(
        inbound,
        LotRequired,
        lambda uow: receipts.receive_line(uow, receipt=code, sku="TEA-1", quantity=2, actor="ola"),
    )
    assert exc.field == "lot"
    assert level(inbound, "TEA-1") == before
    assert line(inbound, code, "TEA-1") == (0, None)
    assert inbound.count("moves") == 0
    assert inbound.count("quants") == 0
    assert inbound.scalar("SELECT status FROM receipts") == "open"


def test_a_new_lot_of_a_shelf_life_product_needs_an_expiry_date(inbound: Database) -> None:
    code = create(inbound, {"TEA-1": 10})
    exc = refused(
        inbound,
        LotRequired,
        lambda uow: receipts.receive_line(
            uow, receipt=code, sku="TEA-1", quantity=2, lot="L1", actor="ola"
        ),
    )
    assert exc.field == "expiry_date"
    assert inbound.count("lots") == 0
    assert line(inbound, code, "TEA-1") == (0, None)


def test_lots_are_created_on_receipt_and_reused_without_repeating_the_expiry(
    inbound: Database,
) -> None:
    code = create(inbound, {"TEA-1": 10, "BOLT-1": 4})
    receive(inbound, code, "TEA-1", 6, lot="L1", expiry_date=date(2027, 1, 31))
    receive(inbound, code, "TEA-1", 4, lot="L1")  # the lot is known: its expiry stands
    receive(inbound, code, "BOLT-1", 4, lot="B7")  # lot-tracked without a shelf life
    with inbound.uow() as uow:
        lots = receipts.received_lots(uow.session, code)
    assert [(r.sku, r.lot, r.expiry_date, r.quantity) for r in lots] == [
        ("BOLT-1", "B7", None, 4),
        ("TEA-1", "L1", date(2027, 1, 31), 10),
    ]
    assert inbound.count("lots") == 2
    assert level(inbound, "TEA-1") == {"on_hand": 10, "incoming": 0, "version": 3}
    assert_ledger_agrees(inbound)


def test_a_product_not_on_the_receipt_is_refused_listing_what_is(inbound: Database) -> None:
    code = create(inbound, {"TEA-1": 10, "MUG-1": 3})
    exc = refused(
        inbound,
        NotOnReceipt,
        lambda uow: receipts.receive_line(
            uow, receipt=code, sku="SPOON-1", quantity=1, actor="ola"
        ),
    )
    assert exc.context["expected"] == ["MUG-1", "TEA-1"]
    assert "expected one of MUG-1, TEA-1" in exc.message
    assert level(inbound, "SPOON-1") == {"on_hand": 0, "incoming": 0, "version": 0}


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        pytest.param({"quantity": 0}, InvalidQuantity, id="zero"),
        pytest.param({"quantity": -3}, InvalidQuantity, id="negative"),
        pytest.param({"sku": "NOPE-1"}, UnknownSku, id="unknown-sku"),
        pytest.param({"receipt": "RC-NOPE"}, UnknownReceipt, id="unknown-receipt"),
    ],
)
def test_bad_bookings_are_refused_and_write_nothing(
    inbound: Database, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    code = create(inbound, {"MUG-1": 10})
    args: dict[str, Any] = {"receipt": code, "sku": "MUG-1", "quantity": 1, "actor": "ola"}
    args.update(kwargs)
    refused(inbound, error, lambda uow: receipts.receive_line(uow, **args))


# Closing and cancelling


def test_closing_reports_shortages_and_overages_and_releases_incoming(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10, "SPOON-1": 5, "BOLT-1": 2})
    receive(inbound, code, "MUG-1", 13, approved_by="sam")
    receive(inbound, code, "SPOON-1", 3)
    receive(inbound, code, "BOLT-1", 2, lot="B1")
    assert level(inbound, "SPOON-1")["incoming"] == 2
    with inbound.uow() as uow:
        report = receipts.close_receipt(uow, receipt=code, actor="sam")
        uow.commit()
    assert report.status == "closed"
    assert [(ln.sku, ln.expected, ln.received, ln.outstanding) for ln in report.shortages] == [
        ("SPOON-1", 5, 3, 2)
    ]
    assert [(ln.sku, ln.over) for ln in report.overages] == [("MUG-1", 3)]
    for sku, on_hand in (("MUG-1", 13), ("SPOON-1", 3), ("BOLT-1", 2)):
        assert level(inbound, sku)["incoming"] == 0
        assert level(inbound, sku)["on_hand"] == on_hand
    assert inbound.scalar("SELECT closed_by FROM receipts") == "sam"
    assert inbound.scalar("SELECT closed_at IS NOT NULL FROM receipts") is True
    assert_ledger_agrees(inbound)


def test_nothing_more_is_received_on_a_closed_receipt(inbound: Database) -> None:
    code = create(inbound, {"MUG-1": 10})
    receive(inbound, code, "MUG-1", 4)
    with inbound.uow() as uow:
        receipts.close_receipt(uow, receipt=code, actor="sam")
        uow.commit()
    exc = refused(
        inbound,
        ReceiptClosed,
        lambda uow: receipts.receive_line(uow, receipt=code, sku="MUG-1", quantity=1, actor="ola"),
    )
    assert exc.context == {"receipt": code, "status": "closed"}
    refused(
        inbound,
        InvalidTransition,
        lambda uow: receipts.close_receipt(uow, receipt=code, actor="sam"),
    )
    assert level(inbound, "MUG-1") == {"on_hand": 4, "incoming": 0, "version": 3}


def test_a_receipt_is_cancelled_only_while_nothing_was_received(inbound: Database) -> None:
    untouched = create(inbound, {"MUG-1": 10, "SPOON-1": 5})
    started = create(inbound, {"MUG-1": 7})
    assert level(inbound, "MUG-1")["incoming"] == 17
    receive(inbound, started, "MUG-1", 1)
    refused(
        inbound,
        InvalidTransition,
        lambda uow: receipts.cancel_receipt(uow, receipt=started, actor="sam"),
    )
    with inbound.uow() as uow:
        view = receipts.cancel_receipt(uow, receipt=untouched, actor="sam")
        uow.commit()
    assert view.status == "cancelled"
    assert level(inbound, "MUG-1")["incoming"] == 6
    assert level(inbound, "SPOON-1")["incoming"] == 0
    refused(
        inbound,
        ReceiptClosed,
        lambda uow: receipts.receive_line(
            uow, receipt=untouched, sku="MUG-1", quantity=1, actor="ola"
        ),
    )


def test_receipts_are_listed_by_status_earliest_expected_first(inbound: Database) -> None:
    first = create(inbound, {"MUG-1": 10, "SPOON-1": 2})
    second = create(inbound, {"MUG-1": 1})
    create(inbound, {"MUG-1": 1}, warehouse="CAN")
    receive(inbound, first, "MUG-1", 4)
    with inbound.uow() as uow:
        receipts.close_receipt(uow, receipt=second, actor="sam")
        uow.commit()
    with inbound.uow() as uow:
        open_ones = receipts.list_receipts(uow.session, warehouse="SHA")
        closed = receipts.list_receipts(uow.session, warehouse="SHA", statuses=["closed"])
    assert [(r.code, r.status, r.lines, r.expected, r.received) for r in open_ones] == [
        (first, "receiving", 2, 12, 4)
    ]
    assert [r.code for r in closed] == [second]


# Racing for the last units a line may take


@pytest.mark.parametrize("workers", [2, 8])
def test_operators_racing_for_the_last_allowed_units_cannot_all_book(
    inbound: Database, workers: int
) -> None:
    code = create(inbound, {"MUG-1": 10})  # at most 11 without a supervisor
    receive(inbound, code, "MUG-1", 8)  # each may add 3 alone; any two together are over

    def book(uow: UnitOfWork, _index: int) -> None:
        receipts.receive_line(uow, receipt=code, sku="MUG-1", quantity=3, actor="ola")

    outcomes = race(inbound, workers, book, refusals=(OverTolerance,), within=60)
    assert outcomes == Counter({"ok": 1, "OverTolerance": workers - 1})
    assert line(inbound, code, "MUG-1") == (11, None)
    assert level(inbound, "MUG-1") == {"on_hand": 11, "incoming": 0, "version": 3}
    assert inbound.count("moves") == 2
    assert_ledger_agrees(inbound)


# Scanning a product to receive it


@pytest.fixture
def scannable(pg: Database) -> Database:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA")
        factories.product(uow, "MUG-1", packs=[catalog.PackSpec("case", 12, factories.new_gtin())])
        factories.product(uow, "TEA-1", lot_tracked=True, shelf_life_days=365)
        uow.commit()
    return pg


def gtin_of(db: Database, sku: str) -> str:
    return str(db.scalar("SELECT gtin FROM products WHERE sku = :sku", sku=sku))


def pack_gtin_of(db: Database, sku: str) -> str:
    return str(
        db.scalar(
            "SELECT k.gtin FROM product_packs k JOIN products p ON p.id = k.product_id "
            "WHERE p.sku = :sku",
            sku=sku,
        )
    )


def test_a_product_is_found_by_its_gtin_in_any_length(scannable: Database) -> None:
    gtin14 = gtin_of(scannable, "MUG-1")
    with scannable.uow() as uow:
        for raw in (gtin14, gtin14[1:], f"]E0{gtin14[1:]}"):
            found = resolve_product(uow.session, raw)
            assert (found.product.sku, found.gtin, found.count, found.pack_quantity) == (
                "MUG-1",
                gtin14,
                None,
                1,
            )


def test_a_gs1_scan_brings_lot_and_expiry_with_the_product(scannable: Database) -> None:
    gtin14 = gtin_of(scannable, "TEA-1")
    with scannable.uow() as uow:
        found = resolve_product(uow.session, f"]d201{gtin14}17270131\x1d10L-9\x1d3004")
    assert (found.product.sku, found.lot, found.expiry_date, found.count) == (
        "TEA-1",
        "L-9",
        date(2027, 1, 31),
        4,
    )


def test_a_pack_gtin_counts_the_units_in_the_pack(scannable: Database) -> None:
    pack = pack_gtin_of(scannable, "MUG-1")
    with scannable.uow() as uow:
        one_case = resolve_product(uow.session, pack)
        three_cases = resolve_product(uow.session, f"(01){pack}(30)3")
    assert (one_case.product.sku, one_case.count, one_case.pack_quantity) == ("MUG-1", 12, 12)
    assert one_case.gtin == gtin_of(scannable, "MUG-1")  # the base unit's GTIN
    assert (three_cases.count, three_cases.pack_quantity) == (36, 12)


@pytest.mark.parametrize("typed", ["MUG-1", "mug-1", " MUG-1\r\n"])
def test_a_typed_sku_finds_the_product(scannable: Database, typed: str) -> None:
    with scannable.uow() as uow:
        found = resolve_product(uow.session, typed)
    assert (found.product.sku, found.lot, found.count) == ("MUG-1", None, None)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("4006381333931", "4006381333931", id="unknown-gtin"),
        pytest.param(
            "0104006381333931\x1d10X\x1d3001", "0104006381333931<GS>10X<GS>3001", id="gs1"
        ),
        pytest.param("NOPE-1", "NOPE-1", id="unknown-sku"),
    ],
)
def test_an_unknown_barcode_says_what_was_scanned(
    scannable: Database, raw: str, shown: str
) -> None:
    with scannable.uow() as uow, pytest.raises(UnknownBarcode) as caught:
        resolve_product(uow.session, raw)
    assert caught.value.message == f"scanned {shown}: no product has this barcode"
    assert caught.value.context["scanned"] == shown
    assert caught.value.field == "scan"
