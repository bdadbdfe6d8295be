"""Shipping: a packed fulfilment leaves with a carrier and a tracking number, then is delivered.

Shipping moves the packed stock, lot by lot, from the packing location to the ``customer``
location and releases the order's committed quantity in the same posting (``stock.deliver`` with
``consume_committed``). The order lines count what shipped, and the order services recompute the
order's status (``orders.sync_status``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.fulfillment import orders
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentStatus,
    OrderLine,
    Package,
    PackageItem,
)
from wms.fulfillment.workflow import (
    check_warehouse,
    find_fulfillment,
    fulfillment_payload,
    lock_fulfillment_by_id,
    lock_order_of,
    move_to,
    record_fulfillment_event,
    warehouse_code,
)
from wms.inventory import stock
from wms.inventory.catalog import storage_location_of_kind
from wms.inventory.models import LocationKind, Lot, Product

MAX_FIELD = 64
# A delivery reported a little ahead of our clock is the carrier's clock, not the future.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Shipment:
    """A fulfilment's state after shipping or delivery, as its event carries it."""

    data: dict[str, Any]

    @property
    def status(self) -> str:
        return str(self.data["status"])


def _text(value: str, field: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValidationFailed(f"{field.replace('_', ' ')} is empty", field=field)
    if len(cleaned) > MAX_FIELD:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} has more than {MAX_FIELD} characters", field=field
        )
    if not cleaned.isprintable():
        raise ValidationFailed(f"{field.replace('_', ' ')} has control characters", field=field)
    return cleaned


def ship(
    uow: UnitOfWork,
    fulfillment_public_id: str,
    *,
    carrier: str,
    tracking_number: str,
    actor: str,
    warehouse: str | None = None,
) -> Shipment:
    """Ship a packed fulfilment: its stock leaves to the customer; the order counts it shipped."""
    session = uow.session
    carrier = _text(carrier, "carrier")
    tracking_number = _text(tracking_number, "tracking_number")
    found = find_fulfillment(session, fulfillment_public_id)
    check_warehouse(session, found, warehouse)
    order = lock_order_of(session, found)
    fulfillment = lock_fulfillment_by_id(session, found.id)
    move_to(fulfillment, FulfillmentStatus.SHIPPED)
    lines = _packed_lines(uow, fulfillment.id, fulfillment.warehouse_id)
    stock.deliver(
        uow,
        warehouse=warehouse_code(session, fulfillment.warehouse_id),
        lines=lines,
        reference=fulfillment.public_id,
        actor=actor,
        consume_committed=True,
    )
    for line in session.scalars(
        select(FulfillmentLine).where(FulfillmentLine.fulfillment_order_id == fulfillment.id)
    ):
        order_line = session.get(OrderLine, line.order_line_id, with_for_update=True)
        assert order_line is not None
        order_line.shipped_quantity += line.packed_quantity
    fulfillment.carrier = carrier
    fulfillment.tracking_number = tracking_number
    fulfillment.shipped_at = utcnow()
    session.flush()
    orders.sync_status(session, order.id)
    record_fulfillment_event(session, "shipped", fulfillment)
    return Shipment(fulfillment_payload(session, fulfillment))


def _packed_lines(
    uow: UnitOfWork, fulfillment_id: int, warehouse_id: int
) -> list[stock.PickedLine]:
    """What the fulfilment's packages hold, by SKU and lot, taken from the packing location."""
    session = uow.session
    packing = storage_location_of_kind(session, warehouse_id, LocationKind.PACKING)
    rows = session.execute(
        select(Product.sku, Lot.code, PackageItem.quantity)
        .join(Package, Package.id == PackageItem.package_id)
        .join(Product, Product.id == PackageItem.product_id)
        .outerjoin(Lot, Lot.id == PackageItem.lot_id)
        .where(Package.fulfillment_order_id == fulfillment_id)
        .order_by(Product.sku, Lot.code)
    ).all()
    totals: defaultdict[tuple[str, str | None], int] = defaultdict(int)
    for sku, lot, quantity in rows:
        totals[(sku, lot)] += quantity
    return [
        stock.PickedLine(sku=sku, quantity=quantity, location=packing.code, lot=lot)
        for (sku, lot), quantity in totals.items()
    ]


def mark_delivered(
    uow: UnitOfWork, fulfillment_public_id: str, *, delivered_at: datetime | None = None
) -> Shipment:
    """Record that the carrier delivered a shipped fulfilment (now, or when it says)."""
    session = uow.session
    now = utcnow()
    when = delivered_at or now
    if when.tzinfo is None:
        raise ValidationFailed("delivered_at needs a time zone", field="delivered_at")
    try:
        when = when.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValidationFailed("delivered_at is out of range", field="delivered_at") from exc
    if when > now + CLOCK_SKEW:
        raise ValidationFailed("delivered_at is in the future", field="delivered_at")
    found = find_fulfillment(session, fulfillment_public_id)
    order = lock_order_of(session, found)
    fulfillment = lock_fulfillment_by_id(session, found.id)
    move_to(fulfillment, FulfillmentStatus.DELIVERED)
    if fulfillment.shipped_at is not None and when < fulfillment.shipped_at:
        raise ValidationFailed(
            f"delivered_at {when.isoformat()} is before the shipment left "
            f"({fulfillment.shipped_at.isoformat()})",
            field="delivered_at",
        )
    fulfillment.delivered_at = when
    session.flush()
    orders.sync_status(session, order.id)
    record_fulfillment_event(session, "delivered", fulfillment)
    return Shipment(fulfillment_payload(session, fulfillment))
