"""Moving allocated quantity: a short pick's missing units re-allocated elsewhere or backordered.

Both take the quantity off the line's current fulfilment (releasing its committed stock there and
adding it to the fulfilment line's ``cancelled_quantity``). A partial move splits the order line:
the original keeps the rest and a new line (the next line number) carries the moved quantity.
The order row is locked first, then its fulfilments, as every order service does.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, NotFound
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    Order,
    OrderLine,
    OrderLineStatus,
)
from wms.fulfillment.order_state import (
    OPEN_FULFILMENT,
    fulfilments,
    level_lines,
    order_lines,
    product_of,
    record_change,
    release_fulfilments,
    settle_fulfilment,
)
from wms.fulfillment.placement import ORDER_POLICY, PlacedLine, place
from wms.inventory import levels
from wms.inventory.stock import positive_quantity
from wms.routing.allocation import AllocationPolicy


class UnknownOrderLine(NotFound):
    code = "unknown_order_line"

    def __init__(self, order_line_id: int) -> None:
        super().__init__(f"no order line {order_line_id}", order_line_id=order_line_id)


def reallocate(
    uow: UnitOfWork,
    *,
    order_line_id: int,
    quantity: int,
    actor: str,
    policy: AllocationPolicy = ORDER_POLICY,
) -> None:
    """Move ``quantity`` of an allocated line to another warehouse (a short pick's resolution).

    The stock is committed elsewhere through the allocation policy (excluding the line's current
    warehouse) on a new fulfilment order; only then is it released where it was and taken off
    that fulfilment. A partial move splits the line. No other warehouse: ``InsufficientStock``,
    and nothing changes.
    """
    session = uow.session
    order, line, shipment, fl = _allocated_line(session, order_line_id, quantity)
    assert line.warehouse_id is not None
    product = product_of(session, line)
    placement = place(
        uow,
        lines=[PlacedLine(0, product, quantity)],
        hold=levels.commit,
        policy=policy,
        destination=(order.latitude, order.longitude),
        promised_by=order.promised_by,
        exclude={line.warehouse_id},
    )
    code = placement.warehouses[0]
    assert code is not None
    _take_off(uow, line, shipment, fl, quantity)
    warehouse_id = placement.warehouse_ids[code]
    moved = split_line(session, order, line, quantity, OrderLineStatus.ALLOCATED, warehouse_id)
    release_fulfilments(session, order, [(moved, warehouse_id, quantity)])
    record_change(session, order, "order.allocated", actor)


def backorder(uow: UnitOfWork, *, order_line_id: int, quantity: int, actor: str) -> None:
    """Take ``quantity`` of an allocated line off its warehouse and let it wait for stock."""
    session = uow.session
    order, line, shipment, fl = _allocated_line(session, order_line_id, quantity)
    _take_off(uow, line, shipment, fl, quantity)
    split_line(session, order, line, quantity, OrderLineStatus.BACKORDERED, None)
    record_change(session, order, "order.backordered", actor)


def _allocated_line(
    session: Session, order_line_id: int, quantity: int
) -> tuple[Order, OrderLine, FulfillmentOrder, FulfillmentLine]:
    """The locked order of an allocated line, the line, and the fulfilment line it ships on."""
    positive_quantity(quantity)
    order = session.scalar(
        select(Order)
        .where(
            Order.id
            == select(OrderLine.order_id).where(OrderLine.id == order_line_id).scalar_subquery()
        )
        .with_for_update()
    )
    if order is None:
        raise UnknownOrderLine(order_line_id)
    line = next(ln for ln in order_lines(session, order.id) if ln.id == order_line_id)
    if line.status != OrderLineStatus.ALLOCATED or line.warehouse_id is None:
        raise InvalidTransition("order line", line.status, "moved")
    candidates = [
        (shipment, fl)
        for shipment in fulfilments(session, order.id, lock=True)
        if shipment.status in OPEN_FULFILMENT and shipment.warehouse_id == line.warehouse_id
        for fl in shipment.lines
        if fl.order_line_id == line.id
    ]
    # The newest fulfilment line at the line's warehouse is the one still shipping it.
    fl = candidates[-1][1] if candidates else None
    unpicked = fl.quantity - fl.cancelled_quantity - fl.picked_quantity if fl else 0
    if quantity > unpicked:
        raise Conflict(
            f"only {unpicked} of order line {line.line_no} is left to pick; cannot move {quantity}",
            field="quantity",
            order_line_id=order_line_id,
            unpicked=unpicked,
        )
    return order, line, *candidates[-1]


def _take_off(
    uow: UnitOfWork,
    line: OrderLine,
    shipment: FulfillmentOrder,
    fl: FulfillmentLine,
    quantity: int,
) -> None:
    """Release ``quantity`` committed at the line's warehouse and take it off its fulfilment."""
    session = uow.session
    levels.release_committed(
        uow, lines=level_lines(session, [(line.product_id, shipment.warehouse_id, quantity)])
    )
    fl.cancelled_quantity += quantity
    settle_fulfilment(session, shipment)


def split_line(
    session: Session,
    order: Order,
    line: OrderLine,
    quantity: int,
    status: OrderLineStatus,
    warehouse_id: int | None,
) -> OrderLine:
    """The line that now carries ``quantity``: the line itself if all of it moves, else a new
    line (the next line number) split off it."""
    if quantity == line.quantity and not line.shipped_quantity and not line.cancelled_quantity:
        line.status = status
        line.warehouse_id = warehouse_id
        session.flush()
        return line
    line.quantity -= quantity
    moved = OrderLine(
        order_id=order.id,
        line_no=max(ln.line_no for ln in order_lines(session, order.id)) + 1,
        product_id=line.product_id,
        quantity=quantity,
        status=status,
        warehouse_id=warehouse_id,
    )
    session.add(moved)
    session.flush()
    return moved
