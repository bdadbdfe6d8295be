"""Purchase orders: draft, approve, send, receive, close or cancel.

    draft ──approve──> approved ──send──> sent
      │                   │                │   (receiving, on either)
      │                   ├────────────────┴──> partially_received ──> received
      └──cancel──> cancelled <──cancel (nothing received)        close │        │ close
                                                                       └──> closed <┘

A draft counts nowhere. Approval asks the quality module whether the supplier may be bought from
and creates the expected receipt at the warehouse (``origin`` and supplier reference = the PO
code), so its quantities count as ``incoming`` and the handheld receives against it. Each booking
on that receipt calls ``record_receipt``, which copies the received quantities onto the order,
moves it on, and teaches the supplier product the lead time it took (approval or sending to the
first unit of a line). Cancelling cancels the receipt and closing closes it: either way what
never came leaves ``incoming``. When every receipt of an order has been closed on the floor,
``record_receipt`` closes the order too (or cancels it if nothing came).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, ValidationFailed
from wms.inventory import receipts
from wms.inventory.catalog import get_product, get_warehouse
from wms.inventory.documents import document_code, placeholder_code
from wms.inventory.models import Receipt, ReceiptLine, ReceiptStatus
from wms.inventory.stock import positive_quantity
from wms.procurement import lead_times
from wms.procurement import suppliers as supplier_service
from wms.procurement.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from wms.procurement.purchase_order_views import (
    PurchaseOrderSummary,
    PurchaseOrderView,
    UnknownPurchaseOrder,
    list_purchase_orders,
    purchase_order_view,
)
from wms.quality.suppliers import ensure_can_purchase, get_supplier

__all__ = [
    "OrderLineRequest",
    "PurchaseOrderSummary",
    "PurchaseOrderView",
    "UnknownPurchaseOrder",
    "approve_purchase_order",
    "cancel_purchase_order",
    "close_purchase_order",
    "create_purchase_order",
    "edit_purchase_order_lines",
    "list_purchase_orders",
    "purchase_order_view",
    "record_receipt",
    "send_purchase_order",
]
CODE_PREFIX = "PO"
DEFAULT_LEAD_TIME_DAYS = 14
LATEST_EXPECTED_DAYS = 730
Status = PurchaseOrderStatus
RECEIVING = (Status.APPROVED, Status.SENT, Status.PARTIALLY_RECEIVED, Status.RECEIVED)


@dataclass(frozen=True)
class OrderLineRequest:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # None: the supplier's price break for the quantity


@dataclass(frozen=True)
class _Line:
    product_id: int
    quantity: int
    unit_price: Decimal
    currency: str | None
    lead_time_days: int | None


def _offer(session: Session, supplier_id: int, product_id: int) -> SupplierProduct | None:
    return session.scalar(
        select(SupplierProduct).where(
            SupplierProduct.supplier_id == supplier_id,
            SupplierProduct.product_id == product_id,
            SupplierProduct.active,
        )
    )


def _resolve_lines(
    session: Session, supplier_id: int, supplier: str, lines: Sequence[OrderLineRequest]
) -> list[_Line]:
    if not lines:
        raise ValidationFailed("a purchase order needs at least one line", field="lines")
    if len(lines) > receipts.MAX_LINES:
        raise ValidationFailed(f"at most {receipts.MAX_LINES} lines", field="lines")
    resolved: list[_Line] = []
    seen: set[int] = set()
    for index, req in enumerate(lines):
        where = f"lines[{index}]"
        positive_quantity(req.quantity, field=f"{where}.quantity")
        product = get_product(session, req.sku, field=f"{where}.sku")
        if product.id in seen:
            raise ValidationFailed(
                f"SKU {req.sku} appears twice; give each product one line", field=f"{where}.sku"
            )
        seen.add(product.id)
        offer = _offer(session, supplier_id, product.id)
        if req.unit_price is not None:
            price = supplier_service.parse_money(req.unit_price, f"{where}.unit_price")
        elif offer is None:
            raise ValidationFailed(
                f"supplier {supplier} has no price for SKU {req.sku}; give a unit price",
                field=f"{where}.unit_price",
            )
        else:
            breaks = [
                supplier_service.PriceBreakView(b.min_quantity, b.unit_price)
                for b in offer.price_breaks
            ]
            price = supplier_service.unit_price_for(breaks, req.quantity)
        resolved.append(
            _Line(
                product.id,
                req.quantity,
                price,
                offer.currency if offer else None,
                offer.lead_time_days if offer else None,
            )
        )
    return resolved


def _currency(lines: list[_Line], currency: str | None) -> str:
    offered = {line.currency for line in lines if line.currency}
    chosen = currency or (min(offered) if len(offered) == 1 else None)
    if chosen is None:
        why = "its lines are priced in several" if offered else "no line has a supplier price"
        raise ValidationFailed(f"give the order's currency: {why}", field="currency")
    if not supplier_service.CURRENCY.match(chosen):
        raise ValidationFailed(
            f"currency {chosen!r} is not an ISO 4217 code of three capitals", field="currency"
        )
    for index, line in enumerate(lines):
        if line.currency and line.currency != chosen:
            raise ValidationFailed(
                f"the supplier prices this SKU in {line.currency}, not {chosen}",
                field=f"lines[{index}].sku",
            )
    return chosen


def _expected(lines: list[_Line], expected_date: date | None, today: date) -> date:
    if expected_date is None:
        days = max(
            (ln.lead_time_days for ln in lines if ln.lead_time_days is not None), default=None
        )
        return today + timedelta(days=DEFAULT_LEAD_TIME_DAYS if days is None else days)
    if not today <= expected_date <= today + timedelta(days=LATEST_EXPECTED_DAYS):
        raise ValidationFailed(
            f"expected date {expected_date} must be from today to {LATEST_EXPECTED_DAYS} days on",
            field="expected_date",
        )
    return expected_date


def _line_rows(lines: list[_Line]) -> list[PurchaseOrderLine]:
    return [
        PurchaseOrderLine(
            line_no=i + 1, product_id=ln.product_id, quantity=ln.quantity, unit_price=ln.unit_price
        )
        for i, ln in enumerate(lines)
    ]


def create_purchase_order(
    uow: UnitOfWork,
    *,
    supplier: str,
    warehouse: str,
    lines: Sequence[OrderLineRequest],
    actor: str,
    expected_date: date | None = None,
    currency: str | None = None,
    notes: str = "",
    plan_run_id: int | None = None,
) -> PurchaseOrderView:
    """Write a draft purchase order, priced from the supplier's price breaks unless given."""
    session = uow.session
    supplier_row = get_supplier(session, supplier)
    wh = get_warehouse(session, warehouse)
    resolved = _resolve_lines(session, supplier_row.id, supplier_row.code, lines)
    chosen = _currency(resolved, currency)
    if len(notes) > 2000:
        raise ValidationFailed("notes have at most 2000 characters", field="notes")
    order = PurchaseOrder(
        code=placeholder_code(CODE_PREFIX)[:32],
        supplier_id=supplier_row.id,
        warehouse_id=wh.id,
        status=Status.DRAFT,
        currency=chosen,
        expected_date=_expected(resolved, expected_date, utcnow().date()),
        notes=notes.strip(),
        created_by=actor,
        plan_run_id=plan_run_id,
        lines=_line_rows(resolved),
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError as exc:  # a plan run that does not exist
        raise ValidationFailed("the order names an unknown plan run", field="plan_run_id") from exc
    order.code = document_code(CODE_PREFIX, wh.code, order.id)
    session.flush()
    return purchase_order_view(session, order.code)


def _lock(session: Session, code: str, *, with_receipts: bool = False) -> PurchaseOrder:
    """The order locked for update; with ``with_receipts`` its receipts are locked first, in the
    order a booking locks them (receipt, then order), so that the two never deadlock."""
    code = code.strip().upper()
    if with_receipts:
        session.execute(
            select(Receipt.id).where(Receipt.origin == code).order_by(Receipt.id).with_for_update()
        ).all()
    order = session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.code == code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise UnknownPurchaseOrder(code)
    return order


def _refuse(order: PurchaseOrder, target: str) -> InvalidTransition:
    return InvalidTransition(f"purchase order {order.code}", order.status, target)


def edit_purchase_order_lines(
    uow: UnitOfWork, *, code: str, lines: Sequence[OrderLineRequest], actor: str
) -> PurchaseOrderView:
    """Replace the lines of a draft order (prices from the supplier's breaks unless given)."""
    session = uow.session
    order = _lock(session, code)
    if order.status != Status.DRAFT:
        raise InvalidTransition(f"purchase order {order.code}", order.status, "edited")
    supplier = session.get(Supplier, order.supplier_id)
    assert supplier is not None
    resolved = _resolve_lines(session, order.supplier_id, supplier.code, lines)
    _currency(resolved, order.currency)
    order.lines.clear()
    session.flush()
    order.lines.extend(_line_rows(resolved))
    session.flush()
    return purchase_order_view(session, order.code)


def approve_purchase_order(
    uow: UnitOfWork, *, code: str, actor: str, now: datetime | None = None
) -> PurchaseOrderView:
    """Approve a draft: the supplier must be qualified; its receipt makes the lines ``incoming``."""
    session = uow.session
    order = _lock(session, code)
    if order.status != Status.DRAFT:
        raise _refuse(order, Status.APPROVED)
    supplier = session.get(Supplier, order.supplier_id)
    assert supplier is not None
    ensure_can_purchase(session, supplier.code)
    view = purchase_order_view(session, order.code)
    receipts.create_receipt(
        uow,
        warehouse=view.warehouse,
        supplier=supplier.code,
        expected_date=order.expected_date,
        lines=[receipts.ReceiptLineRequest(line.sku, line.quantity) for line in view.lines],
        actor=actor,
        supplier_reference=order.code,
        origin=order.code,
    )
    order.status = Status.APPROVED
    order.approved_by = actor
    order.approved_at = now or utcnow()
    session.flush()
    return purchase_order_view(session, order.code)


def send_purchase_order(
    uow: UnitOfWork, *, code: str, actor: str, now: datetime | None = None
) -> PurchaseOrderView:
    """Mark an approved order as sent to the supplier (its lead time counts from now)."""
    session = uow.session
    order = _lock(session, code)
    if order.status != Status.APPROVED:
        raise _refuse(order, Status.SENT)
    order.status = Status.SENT
    order.sent_at = now or utcnow()
    session.flush()
    return purchase_order_view(session, order.code)


def _open_receipts(session: Session, code: str) -> list[str]:
    return list(
        session.scalars(
            select(Receipt.code)
            .where(Receipt.origin == code, Receipt.status.in_(receipts.OPEN_STATUSES))
            .order_by(Receipt.id)
        )
    )


def cancel_purchase_order(uow: UnitOfWork, *, code: str, actor: str) -> PurchaseOrderView:
    """Cancel an order nothing was received on; its receipt is cancelled and leaves ``incoming``."""
    session = uow.session
    order = _lock(session, code, with_receipts=True)
    if order.status not in (Status.DRAFT, Status.APPROVED, Status.SENT):
        raise _refuse(order, Status.CANCELLED)
    for receipt in _open_receipts(session, order.code):
        receipts.cancel_receipt(uow, receipt=receipt, actor=actor)
    order.status = Status.CANCELLED
    order.closed_by = actor
    order.closed_at = utcnow()
    session.flush()
    return purchase_order_view(session, order.code)


def close_purchase_order(uow: UnitOfWork, *, code: str, actor: str) -> PurchaseOrderView:
    """Close a (partly) received order; what never came leaves ``incoming`` with its receipt."""
    session = uow.session
    order = _lock(session, code, with_receipts=True)
    if order.status not in (Status.PARTIALLY_RECEIVED, Status.RECEIVED):
        raise _refuse(order, Status.CLOSED)
    for receipt in _open_receipts(session, order.code):
        receipts.close_receipt(uow, receipt=receipt, actor=actor)
    order.status = Status.CLOSED
    order.closed_by = actor
    order.closed_at = utcnow()
    session.flush()
    return purchase_order_view(session, order.code)


def record_receipt(
    uow: UnitOfWork, *, receipt: str, occurred_at: datetime | None = None
) -> PurchaseOrderView | None:
    """Bring a purchase order up to date with what its receipt booked; learn lead times from
    first bookings. A receipt that no purchase order created is left alone (None)."""
    session = uow.session
    head = session.execute(
        select(Receipt.origin, Receipt.closed_by).where(Receipt.code == receipt.strip().upper())
    ).first()
    if head is None or not head.origin.startswith(f"{CODE_PREFIX}-"):
        return None
    if session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.code == head.origin)) is None:
        return None
    order = _lock(session, head.origin)
    if order.status not in RECEIVING:
        return purchase_order_view(session, order.code)
    received = {
        product_id: int(quantity or 0)
        for product_id, quantity in session.execute(
            select(ReceiptLine.product_id, func.sum(ReceiptLine.received_quantity))
            .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
            .where(Receipt.origin == order.code, Receipt.status != ReceiptStatus.CANCELLED)
            .group_by(ReceiptLine.product_id)
        )
    }
    when = occurred_at or utcnow()
    started = order.sent_at or order.approved_at or order.created_at
    for line in order.lines:
        quantity = received.get(line.product_id, 0)
        if quantity > 0 and line.first_received_at is None:
            line.first_received_at = when
            lead_times.learn_lead_time(
                session,
                supplier_id=order.supplier_id,
                product_id=line.product_id,
                days=max(0.0, (when - started).total_seconds() / 86400),
            )
        line.received_quantity = quantity
    if all(line.received_quantity >= line.quantity for line in order.lines):
        order.status = Status.RECEIVED
    elif any(line.received_quantity for line in order.lines):
        order.status = Status.PARTIALLY_RECEIVED
    if not _open_receipts(session, order.code):
        # Every receipt was closed on the floor: the order is finished too.
        anything = any(line.received_quantity for line in order.lines)
        order.status = Status.CLOSED if anything else Status.CANCELLED
        order.closed_by = head.closed_by or "system"
        order.closed_at = when
    session.flush()
    return purchase_order_view(session, order.code)
