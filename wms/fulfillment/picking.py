"""Picking: the pick list of a fulfilment, confirmed stop by stop, and short picks.

The first call of ``pick_list`` plans the tasks (first expiry first out over the warehouse's storage
bins, in walking order: see ``pickplan``). A confirmed pick moves the stock from the bin to the warehouse's
packing location (reason ``pick``, the fulfilment's id as reference); it stays committed to the order
until it ships. A short pick books what was found, records an exception for the rest and asks for a
count of the bin: the system believed the bin held more than it does.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, ValidationFailed
from wms.fulfillment.floor_errors import BinShort, TaskClosed, UnknownPickTask
from wms.fulfillment.models import (
    ExceptionStatus,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    PickException,
    PickTask,
    PickTaskStatus,
)
from wms.fulfillment.pickplan import plan_tasks
from wms.fulfillment.pickscan import check_bin, check_item, check_lot
from wms.fulfillment.workflow import (
    check_warehouse,
    find_fulfillment,
    lock_fulfillment_by_id,
    move_to,
    record_fulfillment_event,
    require_status,
    warehouse_code,
)
from wms.inventory import counts
from wms.inventory.catalog import storage_location_of_kind
from wms.inventory.errors import InsufficientStock
from wms.inventory.ledger import MoveLine, post_moves
from wms.inventory.models import Location, LocationKind, Lot, Product
from wms.inventory.stock import positive_quantity

PICK_REASON = "pick"


@dataclass(frozen=True)
class PickStop:
    """One task of a pick list, as the picker sees it."""

    task_id: int
    seq: int
    location: str
    location_barcode: str | None
    sku: str
    name: str
    gtin: str | None
    lot_tracked: bool
    lot: str | None
    expiry_date: date | None
    quantity: int
    picked: int
    status: str

    @property
    def bin_label(self) -> str:
        return self.location_barcode or self.location

    @property
    def remaining(self) -> int:
        return self.quantity - self.picked


@dataclass(frozen=True)
class PickList:
    fulfillment: str
    warehouse: str
    status: str
    stops: list[PickStop]
    open_exceptions: int

    @property
    def next_stop(self) -> PickStop | None:
        return next((s for s in self.stops if s.status == PickTaskStatus.OPEN), None)


def pick_list(
    uow: UnitOfWork, fulfillment_public_id: str, *, warehouse: str | None = None, actor: str = ""
) -> PickList:
    """The fulfilment's pick list; planned on the first call (released -> picking)."""
    session = uow.session
    fulfillment = find_fulfillment(session, fulfillment_public_id)
    check_warehouse(session, fulfillment, warehouse)
    if fulfillment.status == FulfillmentStatus.RELEASED:
        fulfillment = lock_fulfillment_by_id(session, fulfillment.id)
        if fulfillment.status == FulfillmentStatus.RELEASED:
            plan_tasks(session, fulfillment)
            move_to(fulfillment, FulfillmentStatus.PICKING)
            session.flush()
    elif fulfillment.status == FulfillmentStatus.PICKING:
        # Tasks can end elsewhere (an order cancelled mid-pick cancels them): close picking then.
        listed = view(session, fulfillment)
        if listed.next_stop is None and not listed.open_exceptions:
            settle(session, lock_fulfillment_by_id(session, fulfillment.id))
    return view(session, fulfillment)


def view(session: Session, fulfillment: FulfillmentOrder) -> PickList:
    """The pick list of a fulfilment as it stands."""
    rows = session.execute(
        select(
            PickTask,
            Location.code,
            Location.barcode,
            Product.sku,
            Product.name,
            Product.gtin,
            Product.lot_tracked,
            Lot.code,
            Lot.expiry_date,
        )
        .join(Location, Location.id == PickTask.location_id)
        .join(Product, Product.id == PickTask.product_id)
        .outerjoin(Lot, Lot.id == PickTask.lot_id)
        .where(PickTask.fulfillment_order_id == fulfillment.id)
        .order_by(PickTask.seq, PickTask.id)
    ).all()
    stops = [
        PickStop(
            task_id=task.id,
            seq=task.seq,
            location=code,
            location_barcode=barcode,
            sku=sku,
            name=name,
            gtin=gtin,
            lot_tracked=lot_tracked,
            lot=lot,
            expiry_date=expiry,
            quantity=task.quantity,
            picked=task.picked_quantity,
            status=task.status,
        )
        for task, code, barcode, sku, name, gtin, lot_tracked, lot, expiry in rows
    ]
    open_exceptions = session.scalar(
        select(func.count(PickException.id)).where(
            PickException.fulfillment_order_id == fulfillment.id,
            PickException.status == ExceptionStatus.OPEN,
        )
    )
    return PickList(
        fulfillment=fulfillment.public_id,
        warehouse=warehouse_code(session, fulfillment.warehouse_id),
        status=fulfillment.status,
        stops=stops,
        open_exceptions=int(open_exceptions or 0),
    )


@dataclass(frozen=True)
class _Task:
    """A locked task with the names the checks print."""

    row: PickTask
    fulfillment: FulfillmentOrder
    location: str
    location_barcode: str | None
    sku: str
    lot_tracked: bool
    lot: str | None


def _lock_task(session: Session, task_id: int) -> _Task:
    """Lock the task's fulfilment, then the task (the fulfilment first, as every service does)."""
    fulfillment_id = session.scalar(
        select(PickTask.fulfillment_order_id).where(PickTask.id == task_id)
    )
    if fulfillment_id is None:
        raise UnknownPickTask(task_id)
    fulfillment = lock_fulfillment_by_id(session, fulfillment_id)
    task = session.scalar(
        select(PickTask)
        .where(PickTask.id == task_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert task is not None
    return _describe(session, task, fulfillment)


def _describe(session: Session, task: PickTask, fulfillment: FulfillmentOrder) -> _Task:
    row = session.execute(
        select(Location.code, Location.barcode, Product.sku, Product.lot_tracked, Lot.code)
        .select_from(PickTask)
        .join(Location, Location.id == PickTask.location_id)
        .join(Product, Product.id == PickTask.product_id)
        .outerjoin(Lot, Lot.id == PickTask.lot_id)
        .where(PickTask.id == task.id)
    ).one()
    return _Task(task, fulfillment, row[0], row[1], row[2], row[3], row[4])


def _require_open(task: _Task) -> None:
    if task.row.status != PickTaskStatus.OPEN:
        raise TaskClosed(task.row)
    require_status(task.fulfillment, FulfillmentStatus.PICKING, doing="picking")


def confirm_pick(
    uow: UnitOfWork,
    task_id: int,
    *,
    bin_barcode: str,
    item: str,
    lot: str | None = None,
    quantity: int,
    actor: str,
) -> PickList:
    """Book a pick after checking the scanned bin, item (SKU, GTIN or GS1) and lot against the task."""
    session = uow.session
    task = _lock_task(session, task_id)
    _require_open(task)
    check_bin(task, bin_barcode)
    carried = check_item(session, task, item, lot)
    if task.lot_tracked:
        check_lot(task, lot if lot is not None else (carried or ""))
    elif lot:
        check_lot(task, lot)
    positive_quantity(quantity)
    remaining = task.row.quantity - task.row.picked_quantity
    if quantity > remaining:
        raise ValidationFailed(
            f"entered {quantity}: the task asks for {remaining} more", field="quantity"
        )
    _book(session, task, quantity, actor)
    if task.row.picked_quantity == task.row.quantity:
        task.row.status = PickTaskStatus.DONE.value
    settle(session, task.fulfillment)
    return view(session, task.fulfillment)


def report_short(uow: UnitOfWork, task_id: int, *, found: int, actor: str) -> PickList:
    """The bin holds less than the task asks: pick what was found, raise an exception, count it."""
    session = uow.session
    task = _lock_task(session, task_id)
    _require_open(task)
    remaining = task.row.quantity - task.row.picked_quantity
    if isinstance(found, bool) or not isinstance(found, int) or found < 0:
        raise ValidationFailed(f"found {found}: a count is 0 or more", field="found")
    if found >= remaining:
        raise ValidationFailed(
            f"found {found}: the task asks for {remaining}, so it is not short; confirm the pick",
            field="found",
        )
    if found:
        _book(session, task, found, actor)
    task.row.status = PickTaskStatus.SHORT.value
    task.row.picked_by = task.row.picked_by or actor
    task.row.picked_at = task.row.picked_at or utcnow()
    session.add(
        PickException(
            pick_task_id=task.row.id,
            fulfillment_order_id=task.fulfillment.id,
            short_quantity=remaining - found,
            status=ExceptionStatus.OPEN.value,
            reported_by=actor,
            note=f"{task.location}: {task.sku}{' lot ' + task.lot if task.lot else ''} "
            f"found {found} of {remaining}",
        )
    )
    _ask_for_count(uow, task, actor)
    session.flush()
    return view(session, task.fulfillment)


def _ask_for_count(uow: UnitOfWork, task: _Task, actor: str) -> None:
    """A short pick is a stock discrepancy: count the bin (unless a count is already due)."""
    with contextlib.suppress(AlreadyExists):
        counts.create_count(
            uow,
            warehouse=warehouse_code(uow.session, task.fulfillment.warehouse_id),
            location=task.location,
            actor=actor,
        )


def _book(session: Session, task: _Task, quantity: int, actor: str) -> None:
    fulfillment = task.fulfillment
    packing = storage_location_of_kind(session, fulfillment.warehouse_id, LocationKind.PACKING)
    move = MoveLine(
        task.row.product_id, task.row.lot_id, task.row.location_id, packing.id, quantity
    )
    try:
        post_moves(
            session, [move], reason=PICK_REASON, reference=fulfillment.public_id, actor=actor
        )
    except InsufficientStock as exc:
        held = exc.lines[0].available if exc.lines else 0
        raise BinShort(task.location_barcode or task.location, task.sku, held, quantity) from exc
    line = session.get(FulfillmentLine, task.row.fulfillment_line_id)
    assert line is not None
    line.picked_quantity += quantity
    task.row.picked_quantity += quantity
    task.row.picked_by = actor
    task.row.picked_at = utcnow()


def settle(session: Session, fulfillment: FulfillmentOrder) -> bool:
    """Close picking once every task is done and every short pick resolved; True if it closed.

    A fulfilment that picked something becomes ``picked`` (event ``fulfillment.picked``); one whose
    every unit was taken off by resolved short picks becomes ``cancelled``.
    """
    session.flush()
    if fulfillment.status != FulfillmentStatus.PICKING:
        return False
    open_tasks = session.scalar(
        select(func.count(PickTask.id)).where(
            PickTask.fulfillment_order_id == fulfillment.id,
            PickTask.status == PickTaskStatus.OPEN,
        )
    )
    open_exceptions = session.scalar(
        select(func.count(PickException.id)).where(
            PickException.fulfillment_order_id == fulfillment.id,
            PickException.status == ExceptionStatus.OPEN,
        )
    )
    lines = session.scalars(
        select(FulfillmentLine).where(FulfillmentLine.fulfillment_order_id == fulfillment.id)
    ).all()
    settled = all(ln.picked_quantity + ln.cancelled_quantity == ln.quantity for ln in lines)
    if open_tasks or open_exceptions or not settled:
        return False
    if sum(ln.picked_quantity for ln in lines) == 0:
        move_to(fulfillment, FulfillmentStatus.CANCELLED)
        session.flush()
        return True
    move_to(fulfillment, FulfillmentStatus.PICKED)
    fulfillment.picked_at = utcnow()
    record_fulfillment_event(session, "picked", fulfillment)
    return True
