"""Receiving with incoming inspection: the receiving use case every surface calls.

A lot of a product that must be inspected (by its spec, or because its supplier is not fully
qualified) is booked into the quality hold instead of the dock, and an inspection opens for it
(or the open inspection of the same receipt, product and lot grows). Deliveries of a supplier's
product whose inspection was discontinued are refused until the corrective action is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from wms.db.uow import UnitOfWork
from wms.inventory import receipts
from wms.inventory.catalog import codes, get_product
from wms.inventory.models import Receipt
from wms.procurement.purchase_orders import record_receipt
from wms.quality.inspections import open_inspection, plans_for
from wms.quality.specs import EffectiveSpec, resolve_spec


@dataclass(frozen=True)
class InboundBooking:
    booking: receipts.Booking
    inspection: str | None  # the inspection that holds the lot, when it is inspected
    spec: EffectiveSpec


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
) -> InboundBooking:
    """Book a receipt line, into the quality hold with an inspection when the lot is inspected."""
    session = uow.session
    head = session.execute(
        select(Receipt.supplier_id, Receipt.warehouse_id).where(
            Receipt.code == receipt.strip().upper()
        )
    ).first()
    if head is None:
        raise receipts.UnknownReceipt(receipt)
    product = get_product(session, sku)
    spec = resolve_spec(session, supplier_id=head.supplier_id, product_id=product.id)
    if spec.required:
        # Refuse before booking when inspection of this supplier's product is discontinued.
        plans_for(
            session,
            supplier_id=head.supplier_id,
            product_id=product.id,
            lot_size=max(2, quantity),
            spec=spec,
        )
    booking = receipts.receive_line(
        uow,
        receipt=receipt,
        sku=sku,
        quantity=quantity,
        actor=actor,
        lot=lot,
        expiry_date=expiry_date,
        approved_by=approved_by,
        occurred_at=occurred_at,
        hold=spec.required,
    )
    record_receipt(uow, receipt=booking.receipt, occurred_at=occurred_at)  # no-op without a PO
    if not spec.required:
        return InboundBooking(booking, None, spec)
    _, whs = codes(session, set(), {booking.warehouse_id})
    inspection = open_inspection(
        uow,
        warehouse_id=booking.warehouse_id,
        warehouse=whs[booking.warehouse_id],
        supplier_id=booking.supplier_id,
        product_id=booking.product_id,
        lot_id=booking.lot_id,
        location_id=booking.location_id,
        quantity=quantity,
        spec=spec,
        actor=actor,
        receipt_id=booking.receipt_id,
    )
    return InboundBooking(booking, inspection.code, spec)


def close_receipt(uow: UnitOfWork, *, receipt: str, actor: str) -> receipts.ReceiptReport:
    """Close a receipt (what never came leaves ``incoming``) and bring its purchase order, if a
    purchase order created it, up to date: received, or closed short."""
    report = receipts.close_receipt(uow, receipt=receipt, actor=actor)
    record_receipt(uow, receipt=report.code)
    return report
