"""What picking, packing and shipping share: the fulfilment state machine, lookups and events.

A fulfilment order moves ``released -> picking -> picked -> packed -> shipped -> delivered``; a
fulfilment whose every unit was taken off by short picks ends ``cancelled`` instead of ``picked``.
Every service locks the fulfilment row (``SELECT ... FOR UPDATE``) before anything under it, so two
devices working on one fulfilment take turns, and its tasks, packages and lines stay consistent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.outbox import record_event
from wms.db.pagination import decode_cursor, encode_cursor
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.fulfillment.floor_errors import UnknownFulfillment, WrongWarehouse
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderLine,
    Package,
)
from wms.inventory.models import Lot, Product, Warehouse
from wms.inventory.queries import Page

S = FulfillmentStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RELEASED: frozenset({S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.PICKED, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKED}),
    S.PACKED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
}


def move_to(fulfillment: FulfillmentOrder, target: FulfillmentStatus) -> None:
    """Set the fulfilment's status, refusing a transition the state machine does not allow."""
    if target not in TRANSITIONS[fulfillment.status]:
        raise InvalidTransition(f"fulfilment {fulfillment.public_id}", fulfillment.status, target)
    fulfillment.status = target.value


def require_status(fulfillment: FulfillmentOrder, *allowed: FulfillmentStatus, doing: str) -> None:
    """Refuse ``doing`` unless the fulfilment is in one of ``allowed``."""
    if fulfillment.status not in allowed:
        wanted = " or ".join(a.value for a in allowed)
        raise Conflict(
            f"fulfilment {fulfillment.public_id} is {fulfillment.status}; {doing} needs it {wanted}",
            field="fulfillment",
            fulfillment=fulfillment.public_id,
            current=fulfillment.status,
        )


def id_candidates(public_id: str) -> list[str]:
    """A fulfilment id as scanned or typed: exactly, or in capitals (as scanners may send it)."""
    return list(dict.fromkeys([public_id.strip(), public_id.strip().lower()]))


def find_fulfillment(session: Session, public_id: str, *, lock: bool = False) -> FulfillmentOrder:
    """The fulfilment by its public id (its barcode), locked for update when asked."""
    stmt = select(FulfillmentOrder).where(FulfillmentOrder.public_id.in_(id_candidates(public_id)))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    row = session.scalar(stmt)
    if row is None:
        raise UnknownFulfillment(public_id)
    return row


def lock_fulfillment_by_id(session: Session, fulfillment_id: int) -> FulfillmentOrder:
    row = session.scalar(
        select(FulfillmentOrder)
        .where(FulfillmentOrder.id == fulfillment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


def lock_order_of(session: Session, fulfillment: FulfillmentOrder) -> Order:
    """Lock the fulfilment's order (orders before fulfilments: the order services' lock order)."""
    order = session.scalar(
        select(Order)
        .where(Order.id == fulfillment.order_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert order is not None
    return order


def warehouse_code(session: Session, warehouse_id: int) -> str:
    code = session.scalar(select(Warehouse.code).where(Warehouse.id == warehouse_id))
    assert code is not None
    return code


def check_warehouse(session: Session, fulfillment: FulfillmentOrder, warehouse: str | None) -> None:
    """Refuse a fulfilment of another warehouse than the device's."""
    if warehouse is None:
        return
    ships_from = warehouse_code(session, fulfillment.warehouse_id)
    if ships_from != warehouse:
        raise WrongWarehouse(fulfillment.public_id, ships_from, warehouse)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def fulfillment_payload(session: Session, fulfillment: FulfillmentOrder) -> dict[str, Any]:
    """The fulfilment's absolute state as events and views carry it."""
    order = session.get(Order, fulfillment.order_id)
    assert order is not None
    lines = session.execute(
        select(FulfillmentLine, OrderLine.line_no, Product.sku)
        .join(OrderLine, OrderLine.id == FulfillmentLine.order_line_id)
        .join(Product, Product.id == FulfillmentLine.product_id)
        .where(FulfillmentLine.fulfillment_order_id == fulfillment.id)
        .order_by(OrderLine.line_no, FulfillmentLine.id)
    ).all()
    gone = fulfillment.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED)
    return {
        "fulfillment_id": fulfillment.public_id,
        "order_id": order.public_id,
        "external_ref": order.external_ref,
        "warehouse": warehouse_code(session, fulfillment.warehouse_id),
        "status": fulfillment.status,
        "lines": [
            {
                "line_no": line_no,
                "sku": sku,
                "quantity": line.quantity,
                "picked": line.picked_quantity,
                "packed": line.packed_quantity,
                "cancelled": line.cancelled_quantity,
                "shipped": line.packed_quantity if gone else 0,
            }
            for line, line_no, sku in lines
        ],
        "packages": packages_payload(session, fulfillment.id),
        "carrier": fulfillment.carrier,
        "tracking_number": fulfillment.tracking_number,
        "picked_at": _iso(fulfillment.picked_at),
        "packed_at": _iso(fulfillment.packed_at),
        "shipped_at": _iso(fulfillment.shipped_at),
        "delivered_at": _iso(fulfillment.delivered_at),
        "eta": _iso(fulfillment.eta),
    }


def packages_payload(session: Session, fulfillment_id: int) -> list[dict[str, Any]]:
    packages = session.scalars(
        select(Package).where(Package.fulfillment_order_id == fulfillment_id).order_by(Package.id)
    ).all()
    product_ids = {item.product_id for p in packages for item in p.items}
    lot_ids = {item.lot_id for p in packages for item in p.items if item.lot_id is not None}
    skus = (
        dict(
            session.execute(
                select(Product.id, Product.sku).where(Product.id.in_(product_ids))
            ).all()
        )
        if product_ids
        else {}
    )
    lots = (
        dict(session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(lot_ids))).all())
        if lot_ids
        else {}
    )
    return [
        {
            "sscc": package.sscc,
            "status": package.status,
            "weight_g": package.weight_g,
            "items": [
                {
                    "sku": skus[item.product_id],
                    "lot": lots.get(item.lot_id) if item.lot_id is not None else None,
                    "quantity": item.quantity,
                }
                for item in package.items
            ],
        }
        for package in packages
    ]


def record_fulfillment_event(session: Session, type_: str, fulfillment: FulfillmentOrder) -> None:
    """Write ``fulfillment.<type_>`` with the fulfilment's state; its subject is the order id."""
    session.flush()
    data = fulfillment_payload(session, fulfillment)
    record_event(session, f"fulfillment.{type_}", data["order_id"], data)


@dataclass(frozen=True)
class FulfillmentSummary:
    fulfillment_id: str
    order_id: str
    external_ref: str
    warehouse: str
    status: str
    lines: int
    units: int
    created_at: datetime
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None


def list_fulfillments(
    session: Session,
    *,
    warehouse: str | None = None,
    statuses: Sequence[str] = (),
    cursor: str | None = None,
    limit: int = 50,
) -> Page[FulfillmentSummary]:
    """Fulfilment orders, oldest first, of one warehouse and some statuses if given."""
    known = {s.value for s in FulfillmentStatus}
    unknown = [s for s in statuses if s not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown status {unknown[0]!r}; use {', '.join(sorted(known))}", field="status"
        )
    units = (
        select(
            FulfillmentLine.fulfillment_order_id.label("fid"),
            func.count(FulfillmentLine.id).label("lines"),
            func.sum(FulfillmentLine.quantity - FulfillmentLine.cancelled_quantity).label("units"),
        )
        .group_by(FulfillmentLine.fulfillment_order_id)
        .subquery()
    )
    stmt = (
        select(FulfillmentOrder, Order.public_id, Order.external_ref, Warehouse.code, units)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .join(Warehouse, Warehouse.id == FulfillmentOrder.warehouse_id)
        .outerjoin(units, units.c.fid == FulfillmentOrder.id)
        .where(FulfillmentOrder.id > decode_cursor(cursor))
        .order_by(FulfillmentOrder.id)
        .limit(limit + 1)
    )
    if warehouse is not None:
        stmt = stmt.where(Warehouse.code == warehouse)
    if statuses:
        stmt = stmt.where(FulfillmentOrder.status.in_(list(statuses)))
    rows = session.execute(stmt).all()
    items = []
    for row in rows[:limit]:
        fo: FulfillmentOrder = row[0]
        items.append(
            FulfillmentSummary(
                fulfillment_id=fo.public_id,
                order_id=row[1],
                external_ref=row[2],
                warehouse=row[3],
                status=fo.status,
                lines=int(row.lines or 0),
                units=int(row.units or 0),
                created_at=fo.created_at,
                carrier=fo.carrier,
                tracking_number=fo.tracking_number,
                shipped_at=fo.shipped_at,
            )
        )
    next_cursor = encode_cursor(rows[limit - 1][0].id) if len(rows) > limit else None
    return Page(items, next_cursor)
