"""Pick exceptions: short picks waiting for a supervisor, and their resolution.

A short pick (``picking.report_short``) leaves the unfound quantity on an open exception. The
supervisor either re-allocates it (the order services find it elsewhere: another warehouse, or this
one later) or backorders it (the order line waits for stock). Either way the quantity comes off this
fulfilment (``FulfillmentLine.cancelled_quantity``); once nothing is left to pick, the fulfilment is
``picked``, or ``cancelled`` if nothing at all was picked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.fulfillment import orders
from wms.fulfillment.models import (
    ExceptionStatus,
    FulfillmentLine,
    FulfillmentOrder,
    Order,
    PickException,
    PickTask,
)
from wms.fulfillment.picking import settle
from wms.fulfillment.workflow import id_candidates, lock_fulfillment_by_id, lock_order_of
from wms.inventory.models import Location, Lot, Product, Warehouse

Action = Literal["reallocate", "backorder"]
ACTIONS: tuple[str, ...] = get_args(Action)
MAX_ROWS = 500
_RESOLVED_AS = {"reallocate": ExceptionStatus.REALLOCATED, "backorder": ExceptionStatus.BACKORDERED}


class UnknownPickException(NotFound):
    code = "unknown_pick_exception"

    def __init__(self, exception_id: int) -> None:
        super().__init__(f"no pick exception {exception_id}", exception=exception_id)


class AlreadyResolved(Conflict):
    code = "pick_exception_resolved"

    def __init__(self, row: PickException) -> None:
        super().__init__(
            f"pick exception {row.id} was already resolved ({row.status} by {row.resolved_by})",
            field="action",
            exception=row.id,
            current=row.status,
        )


@dataclass(frozen=True)
class ExceptionView:
    id: int
    status: str
    fulfillment: str
    fulfillment_status: str
    order_ref: str
    warehouse: str
    location: str
    location_barcode: str | None
    sku: str
    name: str
    lot: str | None
    task_quantity: int
    picked: int
    short_quantity: int
    reported_by: str
    reported_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    note: str


def _select() -> Select[*tuple[Any, ...]]:
    return (
        select(
            PickException,
            FulfillmentOrder.public_id,
            FulfillmentOrder.status,
            Order.external_ref,
            Warehouse.code,
            Location.code,
            Location.barcode,
            Product.sku,
            Product.name,
            Lot.code,
            PickTask.quantity,
            PickTask.picked_quantity,
        )
        .join(PickTask, PickTask.id == PickException.pick_task_id)
        .join(FulfillmentOrder, FulfillmentOrder.id == PickException.fulfillment_order_id)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .join(Warehouse, Warehouse.id == FulfillmentOrder.warehouse_id)
        .join(Location, Location.id == PickTask.location_id)
        .join(Product, Product.id == PickTask.product_id)
        .outerjoin(Lot, Lot.id == PickTask.lot_id)
    )


def _views(
    session: Session, *where: ColumnElement[bool], limit: int = MAX_ROWS
) -> list[ExceptionView]:
    stmt = _select().where(*where).order_by(PickException.id).limit(limit)
    return [
        ExceptionView(
            id=row.id,
            status=row.status,
            fulfillment=public_id,
            fulfillment_status=fo_status,
            order_ref=order_ref,
            warehouse=warehouse,
            location=location,
            location_barcode=barcode,
            sku=sku,
            name=name,
            lot=lot,
            task_quantity=task_quantity,
            picked=picked,
            short_quantity=row.short_quantity,
            reported_by=row.reported_by,
            reported_at=row.reported_at,
            resolved_by=row.resolved_by,
            resolved_at=row.resolved_at,
            note=row.note,
        )
        for (
            row,
            public_id,
            fo_status,
            order_ref,
            warehouse,
            location,
            barcode,
            sku,
            name,
            lot,
            task_quantity,
            picked,
        ) in session.execute(stmt)
    ]


def list_exceptions(
    session: Session,
    *,
    status: str | None = ExceptionStatus.OPEN,
    warehouse: str | None = None,
    fulfillment: str | None = None,
    limit: int = MAX_ROWS,
) -> list[ExceptionView]:
    """Pick exceptions, oldest first: open ones by default, of one warehouse or fulfilment."""
    where: list[ColumnElement[bool]] = []
    if status is not None:
        if status not in {s.value for s in ExceptionStatus}:
            known = ", ".join(s.value for s in ExceptionStatus)
            raise ValidationFailed(f"unknown status {status!r}; use {known}", field="status")
        where.append(PickException.status == status)
    if warehouse is not None:
        where.append(Warehouse.code == warehouse)
    if fulfillment is not None:
        where.append(FulfillmentOrder.public_id.in_(id_candidates(fulfillment)))
    return _views(session, *where, limit=limit)


def get_exception(session: Session, exception_id: int) -> ExceptionView:
    found = _views(session, PickException.id == exception_id, limit=1)
    if not found:
        raise UnknownPickException(exception_id)
    return found[0]


def resolve(uow: UnitOfWork, exception_id: int, *, action: str, actor: str) -> ExceptionView:
    """Re-allocate or backorder a short pick's missing quantity (a supervisor's decision)."""
    session = uow.session
    if action not in ACTIONS:
        raise ValidationFailed(
            f"action is {' or '.join(ACTIONS)}, not {action!r}", field="action", action=action
        )
    row = session.get(PickException, exception_id)
    if row is None:
        raise UnknownPickException(exception_id)
    fulfillment = session.get(FulfillmentOrder, row.fulfillment_order_id)
    assert fulfillment is not None
    order = lock_order_of(session, fulfillment)
    fulfillment = lock_fulfillment_by_id(session, fulfillment.id)
    row = session.scalar(
        select(PickException)
        .where(PickException.id == exception_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if row.status != ExceptionStatus.OPEN:
        raise AlreadyResolved(row)
    task = session.get(PickTask, row.pick_task_id)
    assert task is not None
    line = session.get(FulfillmentLine, task.fulfillment_line_id)
    assert line is not None
    session.flush()
    unpicked = line.quantity - line.cancelled_quantity - line.picked_quantity
    if unpicked >= row.short_quantity:
        # The order services take the quantity off this fulfilment line and release it here.
        move = orders.reallocate if action == "reallocate" else orders.backorder
        move(uow, order_line_id=line.order_line_id, quantity=row.short_quantity, actor=actor)
    else:
        row.note = f"{row.note}; the order was cancelled meanwhile"[:255]
    row.status = _RESOLVED_AS[action].value
    row.resolved_by = actor
    row.resolved_at = utcnow()
    settle(session, fulfillment)
    orders.sync_status(session, order.id)
    return get_exception(session, row.id)
