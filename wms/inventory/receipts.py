"""Expected receipts: create the inbound document, receive against it line by line, close it.

Creating a receipt adds its lines to the warehouse's ``incoming``; each booking moves stock from the
supplier into the receiving dock (one posting) and takes what it covers off ``incoming``; closing
releases what never came and reports shortages and overages. Receiving more than a line's expected
quantity plus the receipt's tolerance needs a supervisor, whose name the caller passes in after
checking the credential.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, Conflict, InvalidTransition, NotFound, ValidationFailed
from wms.inventory.catalog import (
    LocationRef,
    codes,
    ensure_levels,
    get_product,
    get_virtual_location,
    get_warehouse,
    resolve_lot,
    storage_location_of_kind,
)
from wms.inventory.documents import document_code, placeholder_code
from wms.inventory.ledger import MoveLine, Posting, apply_level_deltas, post_moves
from wms.inventory.models import (
    Location,
    LocationKind,
    Lot,
    Move,
    Product,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
    Warehouse,
)
from wms.inventory.stock import positive_quantity
from wms.procurement.models import Supplier

RECEIPT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,31}$")
DEFAULT_TOLERANCE_PCT = 10
CODE_PREFIX = "RC"
MAX_LINES = 500
OPEN_STATUSES = (ReceiptStatus.OPEN, ReceiptStatus.RECEIVING)


class UnknownReceipt(NotFound):
    code = "unknown_receipt"

    def __init__(self, receipt: str, *, field: str | None = "receipt") -> None:
        super().__init__(f"no receipt {receipt!r}", field=field, receipt=receipt)


class ReceiptClosed(Conflict):
    code = "receipt_closed"

    def __init__(self, receipt: str, status: str) -> None:
        super().__init__(
            f"receipt {receipt} is {status}; nothing more can be received on it",
            field="receipt",
            receipt=receipt,
            status=status,
        )


class NotOnReceipt(ValidationFailed):
    code = "not_on_receipt"

    def __init__(self, sku: str, receipt: str, expected: list[str]) -> None:
        super().__init__(
            f"SKU {sku} is not on receipt {receipt}; expected one of {', '.join(expected)}",
            field="sku",
            sku=sku,
            receipt=receipt,
            expected=expected,
        )


class OverTolerance(Conflict):
    code = "over_tolerance"

    def __init__(
        self, sku: str, *, expected: int, received: int, adding: int, allowed: int
    ) -> None:
        super().__init__(
            f"SKU {sku}: {received} + {adding} would exceed the {expected} expected by more than "
            f"the tolerance (at most {allowed}); a supervisor must approve",
            field="quantity",
            sku=sku,
            expected=expected,
            received=received,
            adding=adding,
            allowed=allowed,
        )
        self.allowed = allowed


@dataclass(frozen=True)
class ReceiptLineRequest:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ReceiptLineView:
    line_no: int
    sku: str
    name: str
    lot_tracked: bool
    expected: int
    received: int

    @property
    def outstanding(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def over(self) -> int:
        return max(0, self.received - self.expected)


@dataclass(frozen=True)
class ReceiptView:
    code: str
    warehouse: str
    supplier: str
    supplier_name: str
    supplier_reference: str
    expected_date: date
    status: str
    over_tolerance_pct: int
    created_at: datetime
    closed_at: datetime | None
    lines: list[ReceiptLineView] = field(default_factory=list)

    @property
    def expected_total(self) -> int:
        return sum(line.expected for line in self.lines)

    @property
    def received_total(self) -> int:
        return sum(line.received for line in self.lines)


def allowed_quantity(expected: int, tolerance_pct: int) -> int:
    """The most a line may receive without a supervisor: expected plus the tolerance, rounded down."""
    return expected + expected * tolerance_pct // 100


def create_receipt(
    uow: UnitOfWork,
    *,
    warehouse: str,
    supplier: str,
    expected_date: date,
    lines: Sequence[ReceiptLineRequest],
    actor: str,
    supplier_reference: str = "",
    over_tolerance_pct: int = DEFAULT_TOLERANCE_PCT,
    code: str | None = None,
    origin: str = "",
) -> ReceiptView:
    """Record an expected delivery; its quantities count as the warehouse's ``incoming``."""
    session = uow.session
    wh = get_warehouse(session, warehouse)
    supplier_row = session.scalar(select(Supplier).where(Supplier.code == supplier))
    if supplier_row is None:
        raise NotFound(f"no supplier {supplier!r}", field="supplier", supplier=supplier)
    if not supplier_row.active:
        raise Conflict(f"supplier {supplier} is inactive", field="supplier")
    if not lines:
        raise ValidationFailed("a receipt needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"a receipt has at most {MAX_LINES} lines", field="lines")
    if not 0 <= over_tolerance_pct <= 1000:
        raise ValidationFailed("tolerance is 0 to 1000 percent", field="over_tolerance_pct")
    if code is not None and not RECEIPT_CODE.match(code):
        raise ValidationFailed(
            "a receipt code has capitals, digits and - _ . / (at most 32)", field="code"
        )
    seen: dict[int, int] = {}
    rows: list[ReceiptLine] = []
    for index, req in enumerate(lines):
        positive_quantity(req.quantity, field=f"lines[{index}].quantity")
        product = get_product(session, req.sku, field=f"lines[{index}].sku")
        if product.id in seen:
            raise ValidationFailed(
                f"SKU {req.sku} appears on lines {seen[product.id] + 1} and {index + 1}; "
                "give each product one line",
                field=f"lines[{index}].sku",
            )
        seen[product.id] = index
        rows.append(
            ReceiptLine(line_no=index + 1, product_id=product.id, expected_quantity=req.quantity)
        )
    receipt = Receipt(
        code=code or placeholder_code(CODE_PREFIX),
        warehouse_id=wh.id,
        supplier_id=supplier_row.id,
        supplier_reference=supplier_reference,
        expected_date=expected_date,
        status=ReceiptStatus.OPEN,
        over_tolerance_pct=over_tolerance_pct,
        origin=origin,
        created_by=actor,
        lines=rows,
    )
    try:
        # Added inside the savepoint: a duplicate code then rolls back to it and leaves the
        # caller's transaction usable (an object added outside would deactivate it).
        with session.begin_nested():
            session.add(receipt)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"receipt {code} already exists", field="code") from exc
    if code is None:
        receipt.code = document_code(CODE_PREFIX, wh.code, receipt.id)
    keys = [(row.product_id, wh.id) for row in rows]
    ensure_levels(session, keys)
    apply_level_deltas(
        session, {(row.product_id, wh.id): {"incoming": row.expected_quantity} for row in rows}
    )
    session.flush()
    return receipt_view(session, receipt.code)


def _lock_receipt(session: Session, code: str) -> Receipt:
    receipt = session.scalar(
        select(Receipt).where(Receipt.code == code.strip().upper()).with_for_update()
    )
    if receipt is None:
        raise UnknownReceipt(code)
    return receipt


@dataclass(frozen=True)
class Booking:
    """What one receive call booked, and where the line stands afterwards."""

    receipt: str
    sku: str
    lot: str | None
    quantity: int
    location: str
    expected: int
    received: int
    approved_by: str | None
    posting: Posting
    # Ids for the caller that follows up the booking (the quality module opens an inspection).
    receipt_id: int = 0
    supplier_id: int = 0
    warehouse_id: int = 0
    product_id: int = 0
    lot_id: int | None = None
    location_id: int = 0


def receive_line(
    uow: UnitOfWork,
    *,
    receipt: str,
    sku: str,
    quantity: int,
    actor: str,
    lot: str | None = None,
    expiry_date: date | None = None,
    approved_by: str | None = None,
    occurred_at: datetime | None = None,
    hold: bool = False,
) -> Booking:
    """Book ``quantity`` of a receipt line into the receiving dock, or with ``hold`` into the
    quality hold where it counts as ``quality_control`` until inspected (one posting)."""
    session = uow.session
    row = _lock_receipt(session, receipt)
    if row.status not in OPEN_STATUSES:
        raise ReceiptClosed(row.code, row.status)
    positive_quantity(quantity)
    product = get_product(session, sku)
    line = next((ln for ln in row.lines if ln.product_id == product.id), None)
    if line is None:
        skus, _ = codes(session, {ln.product_id for ln in row.lines}, set())
        raise NotOnReceipt(product.sku, row.code, sorted(skus.values()))
    allowed = allowed_quantity(line.expected_quantity, row.over_tolerance_pct)
    if line.received_quantity + quantity > allowed and approved_by is None:
        raise OverTolerance(
            product.sku,
            expected=line.expected_quantity,
            received=line.received_quantity,
            adding=quantity,
            allowed=allowed,
        )
    lot_id = resolve_lot(session, product, lot, expiry_date=expiry_date, create=True)
    dock = (
        storage_location_of_kind(session, row.warehouse_id, LocationKind.QC_HOLD)
        if hold
        else receiving_location(session, row.warehouse_id)
    )
    supplier = get_virtual_location(session, LocationKind.SUPPLIER)
    covered = min(quantity, max(0, line.expected_quantity - line.received_quantity))
    posting = post_moves(
        session,
        [MoveLine(product.id, lot_id, supplier.id, dock.id, quantity)],
        reason="receipt",
        reference=row.code,
        actor=actor,
        occurred_at=occurred_at,
        counter_deltas={(product.id, row.warehouse_id): {"incoming": -covered}},
    )
    line.received_quantity += quantity
    if line.received_quantity > allowed:
        line.over_approved_by = approved_by
    row.status = ReceiptStatus.RECEIVING
    session.flush()
    return Booking(
        receipt=row.code,
        sku=product.sku,
        lot=lot if product.lot_tracked else None,
        quantity=quantity,
        location=dock.code,
        expected=line.expected_quantity,
        received=line.received_quantity,
        approved_by=approved_by,
        posting=posting,
        receipt_id=row.id,
        supplier_id=row.supplier_id,
        warehouse_id=row.warehouse_id,
        product_id=product.id,
        lot_id=lot_id,
        location_id=dock.id,
    )


def receiving_location(session: Session, warehouse_id: int) -> LocationRef:
    """Where received goods land: the warehouse's receiving dock."""
    return storage_location_of_kind(session, warehouse_id, LocationKind.RECEIVING)


@dataclass(frozen=True)
class ReceiptReport:
    code: str
    status: str
    lines: list[ReceiptLineView]

    @property
    def shortages(self) -> list[ReceiptLineView]:
        return [line for line in self.lines if line.received < line.expected]

    @property
    def overages(self) -> list[ReceiptLineView]:
        return [line for line in self.lines if line.received > line.expected]


def close_receipt(uow: UnitOfWork, *, receipt: str, actor: str) -> ReceiptReport:
    """Close a receipt: what never came leaves ``incoming``; report shortages and overages."""
    session = uow.session
    row = _lock_receipt(session, receipt)
    if row.status not in OPEN_STATUSES:
        raise InvalidTransition(f"receipt {row.code}", row.status, ReceiptStatus.CLOSED)
    release = {
        (ln.product_id, row.warehouse_id): {
            "incoming": -(ln.expected_quantity - ln.received_quantity)
        }
        for ln in row.lines
        if ln.received_quantity < ln.expected_quantity
    }
    apply_level_deltas(session, release)
    row.status = ReceiptStatus.CLOSED
    row.closed_by = actor
    row.closed_at = utcnow()
    session.flush()
    view = receipt_view(session, row.code)
    return ReceiptReport(code=view.code, status=view.status, lines=view.lines)


def cancel_receipt(uow: UnitOfWork, *, receipt: str, actor: str) -> ReceiptView:
    """Cancel a receipt on which nothing was received; its ``incoming`` is released."""
    session = uow.session
    row = _lock_receipt(session, receipt)
    if row.status != ReceiptStatus.OPEN:
        raise InvalidTransition(f"receipt {row.code}", row.status, ReceiptStatus.CANCELLED)
    apply_level_deltas(
        session,
        {
            (ln.product_id, row.warehouse_id): {"incoming": -ln.expected_quantity}
            for ln in row.lines
        },
    )
    row.status = ReceiptStatus.CANCELLED
    row.closed_by = actor
    row.closed_at = utcnow()
    session.flush()
    return receipt_view(session, row.code)


def receipt_view(session: Session, code: str) -> ReceiptView:
    row = session.execute(
        select(Receipt, Warehouse.code, Supplier.code, Supplier.name)
        .join(Warehouse, Warehouse.id == Receipt.warehouse_id)
        .join(Supplier, Supplier.id == Receipt.supplier_id)
        .where(Receipt.code == code.strip().upper())
    ).first()
    if row is None:
        raise UnknownReceipt(code)
    receipt, wh_code, supplier_code, supplier_name = row
    lines = session.execute(
        select(ReceiptLine, Product.sku, Product.name, Product.lot_tracked)
        .join(Product, Product.id == ReceiptLine.product_id)
        .where(ReceiptLine.receipt_id == receipt.id)
        .order_by(ReceiptLine.line_no)
    ).all()
    return ReceiptView(
        code=receipt.code,
        warehouse=wh_code,
        supplier=supplier_code,
        supplier_name=supplier_name,
        supplier_reference=receipt.supplier_reference,
        expected_date=receipt.expected_date,
        status=receipt.status,
        over_tolerance_pct=receipt.over_tolerance_pct,
        created_at=receipt.created_at,
        closed_at=receipt.closed_at,
        lines=[
            ReceiptLineView(
                line_no=ln.line_no,
                sku=sku,
                name=name,
                lot_tracked=lot_tracked,
                expected=ln.expected_quantity,
                received=ln.received_quantity,
            )
            for ln, sku, name, lot_tracked in lines
        ],
    )


@dataclass(frozen=True)
class ReceiptSummary:
    code: str
    supplier: str
    supplier_name: str
    expected_date: date
    status: str
    lines: int
    expected: int
    received: int


def list_receipts(
    session: Session,
    *,
    warehouse: str,
    statuses: Sequence[str] = OPEN_STATUSES,
    limit: int = 50,
) -> list[ReceiptSummary]:
    """Receipts of a warehouse in the given states, the earliest expected first."""
    wh = get_warehouse(session, warehouse)
    rows = session.execute(
        select(
            Receipt.code,
            Supplier.code.label("supplier"),
            Supplier.name.label("supplier_name"),
            Receipt.expected_date,
            Receipt.status,
            func.count(ReceiptLine.id).label("lines"),
            func.coalesce(func.sum(ReceiptLine.expected_quantity), 0).label("expected"),
            func.coalesce(func.sum(ReceiptLine.received_quantity), 0).label("received"),
        )
        .join(Supplier, Supplier.id == Receipt.supplier_id)
        .join(ReceiptLine, ReceiptLine.receipt_id == Receipt.id)
        .where(Receipt.warehouse_id == wh.id, Receipt.status.in_(list(statuses)))
        .group_by(Receipt.id, Supplier.code, Supplier.name)
        .order_by(Receipt.expected_date, Receipt.id)
        .limit(limit)
    ).all()
    return [ReceiptSummary(**row._asdict()) for row in rows]


@dataclass(frozen=True)
class ReceivedLot:
    sku: str
    lot: str | None
    expiry_date: date | None
    quantity: int


def received_lots(session: Session, code: str) -> list[ReceivedLot]:
    """What the ledger says was received on a receipt, per product and lot."""
    rows = session.execute(
        select(Product.sku, Lot.code, Lot.expiry_date, func.sum(Move.quantity))
        .join(Product, Product.id == Move.product_id)
        .outerjoin(Lot, Lot.id == Move.lot_id)
        .join(Location, Location.id == Move.from_location_id)
        .where(Move.reference == code, Move.reason == "receipt", Location.kind == "supplier")
        .group_by(Product.sku, Lot.code, Lot.expiry_date)
        .order_by(Product.sku, Lot.code)
    ).all()
    return [ReceivedLot(sku, lot, expiry, int(qty)) for sku, lot, expiry, qty in rows]
