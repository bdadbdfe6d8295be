"""Stock services: receive, move, adjust, scrap and transfers. Every change is a posting."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from wms.inventory.catalog import (
    LocationRef,
    ProductRef,
    WarehouseRef,
    get_locations,
    get_product,
    get_virtual_location,
    get_warehouse,
    resolve_lot,
    storage_location_of_kind,
)
from wms.inventory.errors import (
    InsufficientStock,
    InvalidQuantity,
    LocationNotUsable,
    ShortLine,
)
from wms.inventory.ledger import MoveLine, Posting, post_moves
from wms.inventory.models import (
    Location,
    LocationKind,
    Lot,
    Quant,
    Transfer,
    TransferLine,
    Warehouse,
)


class AdjustmentReason(StrEnum):
    OPENING_BALANCE = "opening_balance"
    CYCLE_COUNT = "cycle_count"
    FOUND = "found"
    LOST = "lost"
    THEFT = "theft"
    CORRECTION = "correction"


# Where stock can be taken from by an adjustment that names no location: sellable places only.
SELLABLE_KINDS = (
    LocationKind.STORAGE,
    LocationKind.RECEIVING,
    LocationKind.PACKING,
    LocationKind.SHIPPING,
)


# One operation moves at most this many base units; counters are 32-bit in the database.
MAX_QUANTITY = 1_000_000_000


def positive_quantity(quantity: int, *, field: str = "quantity") -> int:
    """``quantity`` if it is a positive whole number; raises ``InvalidQuantity`` otherwise."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(quantity, "is not a whole number", field=field)
    if quantity <= 0:
        raise InvalidQuantity(quantity, "must be positive", field=field)
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity(
            quantity, f"is more than {MAX_QUANTITY} in one operation", field=field
        )
    return quantity


def _stock_locations(
    session: Session, warehouse: WarehouseRef, wanted: list[tuple[str, str]]
) -> list[LocationRef]:
    """Locations that can hold stock, resolved in one query; ``wanted`` is (code, field)."""
    refs = get_locations(session, wanted, warehouse_id=warehouse.id, warehouse_code=warehouse.code)
    for loc, (_, field) in zip(refs, wanted, strict=True):
        _usable(warehouse, loc, field)
    return refs


def _usable(warehouse: WarehouseRef, loc: LocationRef, field: str) -> None:
    if not loc.holds_stock:
        raise LocationNotUsable(
            f"{warehouse.code}/{loc.code}", "is a grouping and holds no stock", field=field
        )
    if not loc.active:
        raise LocationNotUsable(f"{warehouse.code}/{loc.code}", "is inactive", field=field)


def _stock_location(
    session: Session, warehouse: WarehouseRef, code: str, *, field: str = "location"
) -> LocationRef:
    (loc,) = _stock_locations(session, warehouse, [(code, field)])
    return loc


def receive(
    uow: UnitOfWork,
    *,
    sku: str,
    quantity: int,
    warehouse: str,
    location: str | None = None,
    lot: str | None = None,
    expiry_date: date | None = None,
    reference: str = "",
    actor: str,
    occurred_at: datetime | None = None,
) -> Posting:
    """Receive stock from the supplier into a location (the receiving dock by default)."""
    session = uow.session
    positive_quantity(quantity)
    product = get_product(session, sku)
    wh = get_warehouse(session, warehouse)
    loc = (
        _stock_location(session, wh, location)
        if location
        else storage_location_of_kind(session, wh.id, LocationKind.RECEIVING)
    )
    lot_id = resolve_lot(session, product, lot, expiry_date=expiry_date, create=True)
    supplier = get_virtual_location(session, LocationKind.SUPPLIER)
    return post_moves(
        session,
        [MoveLine(product.id, lot_id, supplier.id, loc.id, quantity)],
        reason="receipt",
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
    )


def move(
    uow: UnitOfWork,
    *,
    sku: str,
    quantity: int,
    warehouse: str,
    from_location: str,
    to_location: str,
    lot: str | None = None,
    reason: str = "move",
    reference: str = "",
    actor: str,
    occurred_at: datetime | None = None,
) -> Posting:
    """Move stock between two locations of one warehouse."""
    session = uow.session
    positive_quantity(quantity)
    product = get_product(session, sku)
    wh = get_warehouse(session, warehouse)
    source, target = _stock_locations(
        session, wh, [(from_location, "from_location"), (to_location, "to_location")]
    )
    if source.id == target.id:
        raise ValidationFailed("source and destination are the same location", field="to_location")
    lot_id = resolve_lot(session, product, lot)
    return post_moves(
        session,
        [MoveLine(product.id, lot_id, source.id, target.id, quantity)],
        reason=reason,
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
    )


def adjust(
    uow: UnitOfWork,
    *,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: AdjustmentReason | str,
    location: str | None = None,
    lot: str | None = None,
    expiry_date: date | None = None,
    reference: str = "",
    actor: str,
    occurred_at: datetime | None = None,
) -> Posting:
    """Add (positive) or remove (negative) stock against the adjustment location, with a reason."""
    session = uow.session
    try:
        reason_code = AdjustmentReason(reason)
    except ValueError as exc:
        allowed = ", ".join(r.value for r in AdjustmentReason)
        raise ValidationFailed(
            f"unknown reason {reason!r}; use one of {allowed}", field="reason"
        ) from exc
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity == 0:
        raise InvalidQuantity(quantity, "must be a non-zero whole number (negative removes stock)")
    positive_quantity(abs(quantity))
    product = get_product(session, sku)
    wh = get_warehouse(session, warehouse)
    counterpart = get_virtual_location(session, LocationKind.ADJUSTMENT)
    if quantity > 0:
        loc = (
            _stock_location(session, wh, location)
            if location
            else storage_location_of_kind(session, wh.id, LocationKind.RECEIVING)
        )
        lot_id = resolve_lot(session, product, lot, expiry_date=expiry_date, create=True)
        lines = [MoveLine(product.id, lot_id, counterpart.id, loc.id, quantity)]
    else:
        lines = _draw_lines(
            session,
            product,
            wh,
            -quantity,
            location=location,
            lot=lot,
            to_location_id=counterpart.id,
        )
    return post_moves(
        session,
        lines,
        reason=f"adjustment:{reason_code.value}",
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
    )


def _draw_lines(
    session: Session,
    product: ProductRef,
    wh: WarehouseRef,
    quantity: int,
    *,
    location: str | None,
    lot: str | None,
    to_location_id: int,
) -> list[MoveLine]:
    """Lines that take ``quantity`` from one location, or from sellable ones (first expiry first)."""
    lot_id = resolve_lot(session, product, lot) if lot else None
    if location:
        loc = _stock_location(session, wh, location)
        if product.lot_tracked and lot_id is None:
            return _draw_from(session, product, wh, quantity, [loc.id], None, to_location_id)
        return [MoveLine(product.id, lot_id, loc.id, to_location_id, quantity)]
    loc_ids = session.scalars(
        select(Location.id).where(Location.warehouse_id == wh.id, Location.kind.in_(SELLABLE_KINDS))
    ).all()
    return _draw_from(session, product, wh, quantity, list(loc_ids), lot_id, to_location_id)


def _draw_from(
    session: Session,
    product: ProductRef,
    wh: WarehouseRef,
    quantity: int,
    location_ids: list[int],
    lot_id: int | None,
    to_location_id: int,
) -> list[MoveLine]:
    stmt = (
        select(Quant.location_id, Quant.lot_id, Quant.quantity)
        .outerjoin(Lot, Lot.id == Quant.lot_id)
        .where(
            Quant.product_id == product.id, Quant.location_id.in_(location_ids), Quant.quantity > 0
        )
        .order_by(Lot.expiry_date.is_(None), Lot.expiry_date, Quant.quantity.desc(), Quant.id)
    )
    if lot_id is not None:
        stmt = stmt.where(Quant.lot_id == lot_id)
    lines: list[MoveLine] = []
    remaining = quantity
    for row in session.execute(stmt):
        take = min(remaining, row.quantity)
        lines.append(MoveLine(product.id, row.lot_id, row.location_id, to_location_id, take))
        remaining -= take
        if remaining == 0:
            return lines
    raise InsufficientStock(
        [
            ShortLine(
                sku=product.sku,
                requested=quantity,
                available=quantity - remaining,
                warehouse=wh.code,
            )
        ]
    )


def scrap(
    uow: UnitOfWork,
    *,
    sku: str,
    quantity: int,
    warehouse: str,
    location: str,
    lot: str | None = None,
    reference: str = "",
    actor: str,
    occurred_at: datetime | None = None,
) -> Posting:
    """Write stock off to the scrap location (destroyed, expired, unsellable)."""
    session = uow.session
    positive_quantity(quantity)
    product = get_product(session, sku)
    wh = get_warehouse(session, warehouse)
    source = _stock_location(session, wh, location)
    lot_id = resolve_lot(session, product, lot)
    target = get_virtual_location(session, LocationKind.SCRAP)
    return post_moves(
        session,
        [MoveLine(product.id, lot_id, source.id, target.id, quantity)],
        reason="scrap",
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
    )


@dataclass(frozen=True)
class PickedLine:
    """Stock taken from one location of a warehouse (a picked or shipped line)."""

    sku: str
    quantity: int
    location: str
    lot: str | None = None


def deliver(
    uow: UnitOfWork,
    *,
    warehouse: str,
    lines: list[PickedLine],
    reference: str = "",
    actor: str,
    consume_committed: bool = False,
    occurred_at: datetime | None = None,
) -> Posting:
    """Ship stock out of a warehouse to the customer; with ``consume_committed`` the order's
    committed quantity is released by what leaves, in the same posting."""
    session = uow.session
    if not lines:
        raise ValidationFailed("a shipment needs at least one line", field="lines")
    wh = get_warehouse(session, warehouse)
    customer = get_virtual_location(session, LocationKind.CUSTOMER)
    move_lines: list[MoveLine] = []
    committed: dict[tuple[int, int], dict[str, int]] = {}
    for index, req in enumerate(lines):
        positive_quantity(req.quantity, field=f"lines[{index}].quantity")
        product = get_product(session, req.sku, field=f"lines[{index}].sku")
        loc = _stock_location(session, wh, req.location, field=f"lines[{index}].location")
        lot_id = resolve_lot(session, product, req.lot)
        move_lines.append(MoveLine(product.id, lot_id, loc.id, customer.id, req.quantity))
        if consume_committed:
            counters = committed.setdefault((product.id, wh.id), {"committed": 0})
            counters["committed"] -= req.quantity
    return post_moves(
        session,
        move_lines,
        reason="shipment",
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
        counter_deltas=committed,
    )


@dataclass(frozen=True)
class TransferLineRequest:
    sku: str
    quantity: int
    location: str
    lot: str | None = None


@dataclass(frozen=True)
class TransferResult:
    reference: str
    status: str
    posting: Posting


def ship_transfer(
    uow: UnitOfWork,
    *,
    from_warehouse: str,
    to_warehouse: str,
    lines: list[TransferLineRequest],
    reference: str | None = None,
    actor: str,
    occurred_at: datetime | None = None,
) -> TransferResult:
    """Ship stock to another warehouse: it goes to transit and counts as the target's incoming."""
    session = uow.session
    if not lines:
        raise ValidationFailed("a transfer needs at least one line", field="lines")
    source_wh = get_warehouse(session, from_warehouse, field="from_warehouse")
    target_wh = get_warehouse(session, to_warehouse, field="to_warehouse")
    if source_wh.id == target_wh.id:
        raise ValidationFailed("a transfer goes to another warehouse", field="to_warehouse")
    reference = reference or f"TR-{utcnow():%Y%m%d}-{secrets.token_hex(3).upper()}"
    if session.scalar(select(Transfer.id).where(Transfer.reference == reference)) is not None:
        raise AlreadyExists(f"transfer {reference} already exists", field="reference")
    transit = get_virtual_location(session, LocationKind.TRANSIT)
    move_lines: list[MoveLine] = []
    incoming: dict[tuple[int, int], dict[str, int]] = {}
    for index, req in enumerate(lines):
        positive_quantity(req.quantity, field=f"lines[{index}].quantity")
        product = get_product(session, req.sku, field=f"lines[{index}].sku")
        loc = _stock_location(session, source_wh, req.location, field=f"lines[{index}].location")
        lot_id = resolve_lot(session, product, req.lot)
        move_lines.append(MoveLine(product.id, lot_id, loc.id, transit.id, req.quantity))
        counters = incoming.setdefault((product.id, target_wh.id), {"incoming": 0})
        counters["incoming"] += req.quantity
    when = occurred_at or utcnow()
    posting = post_moves(
        session,
        move_lines,
        reason="transfer_out",
        reference=reference,
        actor=actor,
        occurred_at=when,
        counter_deltas=incoming,
    )
    session.add(
        Transfer(
            reference=reference,
            from_warehouse_id=source_wh.id,
            to_warehouse_id=target_wh.id,
            status="in_transit",
            shipped_at=when,
            lines=[
                TransferLine(product_id=ml.product_id, lot_id=ml.lot_id, quantity=ml.quantity)
                for ml in move_lines
            ],
        )
    )
    session.flush()
    return TransferResult(reference=reference, status="in_transit", posting=posting)


def receive_transfer(
    uow: UnitOfWork,
    *,
    reference: str,
    location: str | None = None,
    actor: str,
    occurred_at: datetime | None = None,
) -> TransferResult:
    """Receive everything still in transit on a transfer into a location of the target warehouse."""
    session = uow.session
    transfer = session.scalar(
        select(Transfer).where(Transfer.reference == reference).with_for_update()
    )
    if transfer is None:
        raise NotFound(f"no transfer {reference}", field="reference", reference=reference)
    if transfer.status == "received":
        raise Conflict(f"transfer {reference} was already received", field="reference")
    target = _transfer_target(session, transfer.to_warehouse_id, location)
    transit = get_virtual_location(session, LocationKind.TRANSIT)
    move_lines: list[MoveLine] = []
    incoming: dict[tuple[int, int], dict[str, int]] = {}
    for line in transfer.lines:
        outstanding = line.quantity - line.received_quantity
        if outstanding <= 0:
            continue
        move_lines.append(
            MoveLine(line.product_id, line.lot_id, transit.id, target.id, outstanding)
        )
        counters = incoming.setdefault((line.product_id, transfer.to_warehouse_id), {"incoming": 0})
        counters["incoming"] -= outstanding
        line.received_quantity = line.quantity
    posting = post_moves(
        session,
        move_lines,
        reason="transfer_in",
        reference=reference,
        actor=actor,
        occurred_at=occurred_at,
        counter_deltas=incoming,
    )
    transfer.status = "received"
    transfer.received_at = occurred_at or utcnow()
    session.flush()
    return TransferResult(reference=reference, status="received", posting=posting)


def _transfer_target(session: Session, warehouse_id: int, location: str | None) -> LocationRef:
    if not location:
        return storage_location_of_kind(session, warehouse_id, LocationKind.RECEIVING)
    row = session.get(Warehouse, warehouse_id)
    assert row is not None
    return _stock_location(session, WarehouseRef(row.id, row.code, row.name), location)
