"""An order's derived state: its view, its fulfilment orders, and its status from its lines.

Shared by the order services (create, cancel, re-allocate) and by picking and shipping, which
change quantities on lines and fulfilments and then call ``sync_status``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from wms.db.base import utcnow
from wms.db.outbox import record_event
from wms.errors import NotFound
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderLineStatus,
    OrderStatus,
    PickTask,
    PickTaskStatus,
    Reservation,
)
from wms.fulfillment.views import (
    DeliveryWindow,
    FulfillmentLineView,
    FulfillmentView,
    OrderLineView,
    OrderView,
    as_data,
)
from wms.inventory.catalog import ProductRef, codes, get_product
from wms.inventory.levels import LevelLine

# Fulfilments not yet gone: their unpicked quantity can still be cancelled or moved elsewhere.
OPEN_FULFILMENT = (
    FulfillmentStatus.RELEASED,
    FulfillmentStatus.PICKING,
    FulfillmentStatus.PICKED,
    FulfillmentStatus.PACKED,
)


class UnknownOrder(NotFound):
    code = "unknown_order"

    def __init__(self, order_id: str, *, field: str | None = None) -> None:
        super().__init__(f"no order {order_id!r}", field=field, order_id=order_id)


def new_order_id() -> str:
    return "ord_" + secrets.token_hex(12)


def new_fulfillment_id() -> str:
    return "ful_" + secrets.token_hex(12)


def fulfilments(session: Session, order_id: int, *, lock: bool = False) -> list[FulfillmentOrder]:
    """The order's fulfilment orders with their lines, oldest first, fresh from the database."""
    session.flush()  # reloading must not drop changes not yet flushed
    query = (
        select(FulfillmentOrder)
        .options(selectinload(FulfillmentOrder.lines))
        .where(FulfillmentOrder.order_id == order_id)
        .order_by(FulfillmentOrder.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update(of=FulfillmentOrder)
    return list(session.scalars(query).all())


def release_fulfilments(
    session: Session, order: Order, placed: Sequence[tuple[OrderLine, int, int]]
) -> list[FulfillmentOrder]:
    """One new fulfilment order (released for picking) per warehouse of ``placed``, which lists
    (order line, warehouse id, quantity) of stock already committed there."""
    by_warehouse: dict[int, list[tuple[OrderLine, int]]] = {}
    for line, warehouse_id, quantity in placed:
        by_warehouse.setdefault(warehouse_id, []).append((line, quantity))
    created = []
    for warehouse_id, items in by_warehouse.items():
        fulfilment = FulfillmentOrder(
            public_id=new_fulfillment_id(),
            order_id=order.id,
            warehouse_id=warehouse_id,
            status=FulfillmentStatus.RELEASED,
            created_at=utcnow(),
        )
        for line, quantity in items:
            fulfilment.lines.append(
                FulfillmentLine(
                    order_line_id=line.id, product_id=line.product_id, quantity=quantity
                )
            )
        session.add(fulfilment)
        created.append(fulfilment)
    session.flush()
    return created


def settle_fulfilment(session: Session, fulfilment: FulfillmentOrder) -> None:
    """After quantities were taken off a fulfilment: its open picks for lines with nothing left
    to pick are cancelled, and a fulfilment with nothing left at all is cancelled."""
    done = [
        fl.id
        for fl in fulfilment.lines
        if fl.quantity - fl.cancelled_quantity - fl.picked_quantity == 0
    ]
    if done:
        session.execute(
            update(PickTask)
            .where(PickTask.fulfillment_line_id.in_(done), PickTask.status == PickTaskStatus.OPEN)
            .values(status=PickTaskStatus.CANCELLED)
        )
    if all(fl.cancelled_quantity == fl.quantity for fl in fulfilment.lines):
        fulfilment.status = FulfillmentStatus.CANCELLED
    session.flush()


def sync_status(session: Session, order_id: int) -> None:
    """Recompute an order's status (and its closed lines') from its lines and fulfilments.

    Nothing open: ``cancelled`` if nothing shipped, ``delivered`` once every fulfilment that
    shipped was delivered, ``shipped`` otherwise. Something open: ``partially_shipped`` once
    anything shipped, else ``backordered`` while a line waits for stock, else ``allocated``.
    """
    session.flush()
    order = session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise UnknownOrder(str(order_id))
    lines = order_lines(session, order_id)
    for line in lines:
        if line.open_quantity == 0 and line.status in (
            OrderLineStatus.ALLOCATED,
            OrderLineStatus.BACKORDERED,
        ):
            line.status = (
                OrderLineStatus.SHIPPED if line.shipped_quantity else OrderLineStatus.CANCELLED
            )
    order.status = _status(lines, fulfilments(session, order_id))
    order.updated_at = utcnow()
    session.flush()


def _status(lines: Sequence[OrderLine], shipments: Sequence[FulfillmentOrder]) -> OrderStatus:
    shipped = sum(line.shipped_quantity for line in lines)
    if all(line.open_quantity == 0 for line in lines):
        if not shipped:
            return OrderStatus.CANCELLED
        went = [
            f
            for f in shipments
            if f.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.DELIVERED)
        ]
        if went and all(f.status == FulfillmentStatus.DELIVERED for f in went):
            return OrderStatus.DELIVERED
        return OrderStatus.SHIPPED
    if shipped:
        return OrderStatus.PARTIALLY_SHIPPED
    if any(line.status == OrderLineStatus.BACKORDERED and line.open_quantity > 0 for line in lines):
        return OrderStatus.BACKORDERED
    return OrderStatus.ALLOCATED


def order_lines(session: Session, order_id: int) -> list[OrderLine]:
    """The order's lines by line number, fresh from the database."""
    session.flush()  # reloading must not drop changes not yet flushed
    return list(
        session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id == order_id)
            .order_by(OrderLine.line_no)
            .execution_options(populate_existing=True)
        ).all()
    )


def order_view(session: Session, order: Order) -> OrderView:
    """The order as the storefront sees it: lines, status, and each warehouse's fulfilment."""
    session.flush()
    shipments = fulfilments(session, order.id)
    lines = order_lines(session, order.id)
    skus, warehouses = codes(
        session,
        {ln.product_id for ln in lines},
        {ln.warehouse_id for ln in lines if ln.warehouse_id is not None}
        | {f.warehouse_id for f in shipments},
    )
    line_no = {ln.id: ln.line_no for ln in lines}
    reservation = (
        session.scalar(select(Reservation.public_id).where(Reservation.id == order.reservation_id))
        if order.reservation_id is not None
        else None
    )
    return OrderView(
        id=order.public_id,
        external_ref=order.external_ref,
        status=order.status,
        ship_to={**order.ship_to, "latitude": order.latitude, "longitude": order.longitude},
        promised_by=order.promised_by,
        reservation_id=reservation,
        created_at=order.created_at,
        updated_at=order.updated_at,
        lines=[
            OrderLineView(
                line_no=ln.line_no,
                sku=skus[ln.product_id],
                quantity=ln.quantity,
                status=ln.status,
                warehouse=warehouses[ln.warehouse_id] if ln.warehouse_id is not None else None,
                shipped_quantity=ln.shipped_quantity,
                cancelled_quantity=ln.cancelled_quantity,
            )
            for ln in lines
        ],
        allocation=[
            FulfillmentView(
                fulfillment_id=f.public_id,
                warehouse=warehouses[f.warehouse_id],
                status=f.status,
                carrier=f.carrier,
                tracking_number=f.tracking_number,
                shipped_at=f.shipped_at,
                delivered_at=f.delivered_at,
                eta=f.eta,
                lines=[
                    FulfillmentLineView(
                        line_no=line_no[fl.order_line_id],
                        sku=skus[fl.product_id],
                        quantity=fl.quantity - fl.cancelled_quantity,
                        picked_quantity=fl.picked_quantity,
                        packed_quantity=fl.packed_quantity,
                    )
                    for fl in f.lines
                ],
            )
            for f in shipments
        ],
        delivery_window=_window(order),
    )


def _window(order: Order) -> dict[str, str] | None:
    start, end = order.delivery_window_from, order.delivery_window_to
    if start is None or end is None:
        return None
    return DeliveryWindow(start, end).as_data()


def product_of(session: Session, line: OrderLine) -> ProductRef:
    """The product an order line is for."""
    skus, _ = codes(session, {line.product_id}, set())
    return get_product(session, skus[line.product_id])


def level_lines(session: Session, items: Sequence[tuple[int, int, int]]) -> list[LevelLine]:
    """(product id, warehouse id, quantity) as the level counters' lines."""
    skus, warehouses = codes(session, {p for p, _, _ in items}, {w for _, w, _ in items})
    return [LevelLine(skus[p], warehouses[w], q) for p, w, q in items]


def record_change(session: Session, order: Order, event: str, actor: str) -> None:
    """Recompute the order's status and record ``event`` with its full state and who did it."""
    sync_status(session, order.id)
    view = order_view(session, order)
    record_event(session, event, view.id, {**as_data(view), "actor": actor})
