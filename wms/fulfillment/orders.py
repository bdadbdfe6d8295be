"""Storefront orders: receive, allocate (or convert a reservation), backorder, cancel, re-allocate.

An order's lines are allocated through the allocation policy with its ship-to as destination and
their stock committed at once (``levels.commit``), or they take over a reservation's held stock
(``levels.commit_reserved``). Each warehouse's allocated lines become one fulfilment order,
released for picking. Short stock is refused (nothing written) or backordered, per settings or per
order; a scheduled job allocates backordered lines oldest order first when stock appears.

Events, in the same transaction and each with the order's full state: ``order.received``, then
``order.allocated`` and/or ``order.backordered``; ``order.cancelled``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.outbox import record_event, record_events
from wms.db.pagination import decode_cursor, encode_cursor
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.fulfillment.models import (
    Order,
    OrderLine,
    OrderLineStatus,
    OrderStatus,
)
from wms.fulfillment.order_state import (
    OPEN_FULFILMENT,
    UnknownOrder,
    fulfilments,
    level_lines,
    new_order_id,
    order_lines,
    order_view,
    product_of,
    record_change,
    release_fulfilments,
    settle_fulfilment,
    sync_status,
)
from wms.fulfillment.placement import ORDER_POLICY, PlacedLine, place
from wms.fulfillment.reallocation import UnknownOrderLine, backorder, reallocate
from wms.fulfillment.reservations import commit_reserved, resolve_lines
from wms.fulfillment.views import (
    DeliveryWindow,
    LineRequest,
    OrderView,
    ReservationView,
    ShipTo,
    as_data,
)
from wms.inventory import levels
from wms.inventory.catalog import ProductRef, get_warehouse
from wms.inventory.models import StockLevel, Warehouse
from wms.inventory.queries import Page
from wms.routing.allocation import AllocationPolicy

__all__ = [
    "DuplicateOrder",
    "ShortStock",
    "UnknownOrder",
    "UnknownOrderLine",
    "allocate_backordered",
    "backorder",
    "backordered_order_ids",
    "cancel_order",
    "create_order",
    "get_order",
    "list_orders",
    "reallocate",
    "sync_status",
]


class ShortStock(StrEnum):
    """What an order does with lines no warehouse can cover."""

    REJECT = "reject"  # refuse the order, naming every short line; nothing is written
    BACKORDER = "backorder"  # accept it; short lines wait for stock


class DuplicateOrder(Conflict):
    code = "duplicate_order"

    def __init__(self, external_ref: str, order_id: str) -> None:
        super().__init__(
            f"an order with external_ref {external_ref!r} already exists: {order_id}",
            field="external_ref",
            external_ref=external_ref,
            order_id=order_id,
        )


def create_order(
    uow: UnitOfWork,
    *,
    owner: str,
    external_ref: str,
    lines: Sequence[LineRequest],
    ship_to: ShipTo,
    reservation_id: str | None = None,
    promised_by: date | None = None,
    backorder: bool | None = None,
    short_stock: ShortStock = ShortStock.REJECT,
    policy: AllocationPolicy = ORDER_POLICY,
    now: datetime | None = None,
    delivery_window: DeliveryWindow | None = None,
) -> OrderView:
    """Receive an order and allocate it: from its reservation, or through the policy."""
    session = uow.session
    now = now or utcnow()
    external_ref = external_ref.strip()
    if not 1 <= len(external_ref) <= 128:
        raise ValidationFailed("external_ref must be 1 to 128 characters", field="external_ref")
    products = resolve_lines(session, lines)
    _check_ship_to(ship_to)
    _check_window(delivery_window)
    allow_backorder = backorder if backorder is not None else short_stock == ShortStock.BACKORDER
    # A savepoint: a refusal leaves nothing behind even for a caller that commits anyway.
    with session.begin_nested():
        return _receive(
            uow,
            owner=owner,
            external_ref=external_ref,
            lines=lines,
            products=products,
            ship_to=ship_to,
            reservation_id=reservation_id,
            promised_by=promised_by,
            allow_backorder=allow_backorder,
            policy=policy,
            now=now,
            delivery_window=delivery_window,
        )


def _receive(
    uow: UnitOfWork,
    *,
    owner: str,
    external_ref: str,
    lines: Sequence[LineRequest],
    products: Sequence[ProductRef],
    ship_to: ShipTo,
    reservation_id: str | None,
    promised_by: date | None,
    allow_backorder: bool,
    policy: AllocationPolicy,
    now: datetime,
    delivery_window: DeliveryWindow | None,
) -> OrderView:
    session = uow.session
    order = _insert_order(session, owner, external_ref, ship_to, promised_by, now, delivery_window)
    if reservation_id is not None:
        order.reservation_id, held = commit_reserved(
            uow,
            owner=owner,
            reservation_id=reservation_id,
            lines=lines,
            order_id=order.public_id,
            now=now,
        )
        warehouses: list[str | None] = list(_match(lines, held))
    else:
        placement = place(
            uow,
            lines=[
                PlacedLine(i, p, ln.quantity)
                for i, (p, ln) in enumerate(zip(products, lines, strict=True))
            ],
            hold=levels.commit,
            policy=policy,
            destination=(ship_to.latitude, ship_to.longitude),
            promised_by=promised_by,
            partial=allow_backorder,
        )
        warehouses = [placement.warehouses[i] for i in range(len(lines))]
    placed = []
    for index, (product, line) in enumerate(zip(products, lines, strict=True)):
        code = warehouses[index]
        warehouse_id = get_warehouse(session, code).id if code is not None else None
        row = OrderLine(
            line_no=index + 1,
            product_id=product.id,
            quantity=line.quantity,
            status=OrderLineStatus.ALLOCATED if code else OrderLineStatus.BACKORDERED,
            warehouse_id=warehouse_id,
        )
        order.lines.append(row)
        if warehouse_id is not None:
            placed.append((row, warehouse_id, line.quantity))
    session.flush()
    release_fulfilments(session, order, placed)
    sync_status(session, order.id)
    view = order_view(session, order)
    data = as_data(view)
    events = [("order.received", view.id, data)]
    if placed:
        events.append(("order.allocated", view.id, data))
    if len(placed) < len(lines):
        events.append(("order.backordered", view.id, data))
    record_events(session, events)
    return view


def get_order(session: Session, *, owner: str, order_id: str) -> OrderView:
    """The caller's order; another owner's is as unknown as a missing one."""
    return order_view(session, _load(session, owner, order_id))


def list_orders(
    session: Session,
    *,
    owner: str,
    status: OrderStatus | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[OrderView]:
    """The caller's orders, oldest first, page by page."""
    query = select(Order).where(Order.owner == owner, Order.id > decode_cursor(cursor))
    if status is not None:
        query = query.where(Order.status == status)
    rows = session.scalars(query.order_by(Order.id).limit(limit + 1)).all()
    items = [order_view(session, row) for row in rows[:limit]]
    return Page(items, encode_cursor(rows[limit - 1].id) if len(rows) > limit else None)


def cancel_order(
    uow: UnitOfWork, *, owner: str, order_id: str, now: datetime | None = None
) -> OrderView:
    """Cancel what has been neither picked nor shipped and release its committed stock."""
    session = uow.session
    order = _load(session, owner, order_id, lock=True)
    if order.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        raise InvalidTransition("order", order.status, OrderStatus.CANCELLED)
    shipments = fulfilments(session, order.id, lock=True)
    warehouse_of = {f.id: f.warehouse_id for f in shipments}
    release: list[tuple[int, int, int]] = []  # product, warehouse, quantity
    cancelled = 0
    lines = {line.id: line for line in order_lines(session, order.id)}
    for line in lines.values():
        if line.status == OrderLineStatus.BACKORDERED and line.open_quantity > 0:
            cancelled += line.open_quantity
            line.cancelled_quantity += line.open_quantity
    for shipment in shipments:
        if shipment.status not in OPEN_FULFILMENT:
            continue
        for fl in shipment.lines:
            unpicked = fl.quantity - fl.cancelled_quantity - fl.picked_quantity
            if unpicked > 0:
                fl.cancelled_quantity += unpicked
                lines[fl.order_line_id].cancelled_quantity += unpicked
                release.append((fl.product_id, warehouse_of[shipment.id], unpicked))
                cancelled += unpicked
        settle_fulfilment(session, shipment)
    if not cancelled:
        raise InvalidTransition("order", order.status, OrderStatus.CANCELLED)
    if release:
        levels.release_committed(uow, lines=level_lines(session, release))
    sync_status(session, order.id)
    view = order_view(session, order)
    record_event(session, "order.cancelled", view.id, as_data(view))
    return view


def backordered_order_ids(session: Session, *, limit: int = 500) -> list[int]:
    """Orders (oldest first) with a backordered line some active warehouse now has stock for."""
    open_quantity = OrderLine.quantity - OrderLine.shipped_quantity - OrderLine.cancelled_quantity
    stocked = exists().where(
        StockLevel.product_id == OrderLine.product_id,
        StockLevel.available >= open_quantity,
        StockLevel.warehouse_id == Warehouse.id,
        Warehouse.active,
    )
    rows = session.execute(
        select(Order.id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            OrderLine.status == OrderLineStatus.BACKORDERED,
            open_quantity > 0,
            Order.status != OrderStatus.CANCELLED,
            stocked,
        )
        .group_by(Order.id, Order.created_at)
        .order_by(Order.created_at, Order.id)
        .limit(limit)
    ).all()
    return [row.id for row in rows]


def allocate_backordered(
    uow: UnitOfWork, *, order_id: int, policy: AllocationPolicy = ORDER_POLICY
) -> bool:
    """Allocate what the policy can of an order's backordered lines; True if any was."""
    session = uow.session
    order = session.scalar(
        select(Order).where(Order.id == order_id).with_for_update(skip_locked=True)
    )
    if order is None or order.status == OrderStatus.CANCELLED:
        return False
    waiting = [
        line
        for line in order_lines(session, order.id)
        if line.status == OrderLineStatus.BACKORDERED and line.open_quantity > 0
    ]
    if not waiting:
        return False
    placement = place(
        uow,
        lines=[
            PlacedLine(line.id, product_of(session, line), line.open_quantity) for line in waiting
        ],
        hold=levels.commit,
        policy=policy,
        destination=(order.latitude, order.longitude),
        promised_by=order.promised_by,
        partial=True,
    )
    placed = []
    for line in waiting:
        code = placement.warehouses[line.id]
        if code is not None:
            line.status = OrderLineStatus.ALLOCATED
            line.warehouse_id = placement.warehouse_ids[code]
            placed.append((line, line.warehouse_id, line.open_quantity))
    if not placed:
        return False
    release_fulfilments(session, order, placed)
    record_change(session, order, "order.allocated", "system:backorders")
    return True


def _insert_order(
    session: Session,
    owner: str,
    external_ref: str,
    ship_to: ShipTo,
    promised_by: date | None,
    now: datetime,
    delivery_window: DeliveryWindow | None = None,
) -> Order:
    def existing() -> str | None:
        return session.scalar(
            select(Order.public_id).where(Order.owner == owner, Order.external_ref == external_ref)
        )

    if (found := existing()) is not None:
        raise DuplicateOrder(external_ref, found)
    order = Order(
        public_id=new_order_id(),
        owner=owner,
        external_ref=external_ref,
        status=OrderStatus.RECEIVED,
        ship_to=ship_to.address(),
        latitude=ship_to.latitude,
        longitude=ship_to.longitude,
        promised_by=promised_by,
        delivery_window_from=delivery_window.start if delivery_window else None,
        delivery_window_to=delivery_window.end if delivery_window else None,
        created_at=now,
        updated_at=now,
    )
    try:
        # A concurrent order with the same reference waits here on the unique index, then fails.
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError as exc:
        raise DuplicateOrder(external_ref, existing() or "(being created)") from exc
    return order


def _check_ship_to(ship_to: ShipTo) -> None:
    if not -90 <= ship_to.latitude <= 90:
        raise ValidationFailed("latitude must be between -90 and 90", field="ship_to.latitude")
    if not -180 <= ship_to.longitude <= 180:
        raise ValidationFailed("longitude must be between -180 and 180", field="ship_to.longitude")
    if not ship_to.name.strip():
        raise ValidationFailed("a recipient name is required", field="ship_to.name")


def _check_window(window: DeliveryWindow | None) -> None:
    if window is not None and not window.start < window.end:
        raise ValidationFailed(
            f"the delivery window must end after it starts, not "
            f"{window.start:%H:%M} to {window.end:%H:%M}",
            field="delivery_window",
        )


def _match(lines: Sequence[LineRequest], held: ReservationView) -> list[str]:
    """Each order line's warehouse: that of a reservation line with its SKU and quantity."""
    unused = list(held.lines)
    warehouses = []
    for line in lines:
        match = next(r for r in unused if (r.sku, r.quantity) == (line.sku, line.quantity))
        unused.remove(match)
        warehouses.append(match.warehouse)
    return warehouses


def _load(session: Session, owner: str, order_id: str, *, lock: bool = False) -> Order:
    query = select(Order).where(Order.public_id == order_id, Order.owner == owner)
    if lock:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise UnknownOrder(order_id)
    return order
