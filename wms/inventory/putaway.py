"""Put away: suggest a bin for goods in receiving by the putaway rules, then move them there.

Rules, in order:
1. the product's fixed bin in the warehouse, when it has room;
2. a storage bin already holding the same product and lot, with room (the nearest first);
3. the nearest empty storage bin with room, measured from the receiving dock on the floor plan
   (rectilinear distance: aisles run in straight lines).

Capacity is counted in base units; a bin without a capacity always has room. Putting away to
another bin than the suggestion is refused unless the operator confirms an override.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.errors import Conflict
from wms.inventory.catalog import (
    LocationRef,
    ProductRef,
    WarehouseRef,
    get_location,
    get_product,
    get_warehouse,
    locations_by_id,
    resolve_lot,
    storage_location_of_kind,
)
from wms.inventory.errors import LocationNotUsable
from wms.inventory.ledger import MoveLine, Posting, post_moves
from wms.inventory.models import FixedBin, Location, LocationKind, Quant
from wms.inventory.stock import positive_quantity

Rule = Literal["fixed_bin", "same_lot", "nearest_empty"]
RULE_LABELS: dict[str, str] = {
    "fixed_bin": "the product's fixed bin",
    "same_lot": "a bin already holding this product and lot",
    "nearest_empty": "the nearest empty bin with room",
}


class NoBinAvailable(Conflict):
    code = "no_bin_available"

    def __init__(self, sku: str, quantity: int, warehouse: str) -> None:
        super().__init__(
            f"no storage bin in {warehouse} has room for {quantity} of {sku}",
            field="quantity",
            sku=sku,
            quantity=quantity,
            warehouse=warehouse,
        )


class WrongBin(Conflict):
    code = "wrong_bin"

    def __init__(self, scanned: str, expected: str) -> None:
        super().__init__(
            f"scanned bin {scanned}, expected {expected}; scan {expected} or confirm an override",
            field="location",
            scanned=scanned,
            expected=expected,
        )


class BinFull(Conflict):
    code = "bin_full"

    def __init__(self, location: str, free: int, quantity: int) -> None:
        super().__init__(
            f"bin {location} has room for {free} more, not {quantity}",
            field="location",
            location=location,
            free=free,
            quantity=quantity,
        )


@dataclass(frozen=True)
class Suggestion:
    location: LocationRef
    rule: Rule
    free: int | None  # room left before this putaway; None without a capacity


def _origin(session: Session, warehouse_id: int) -> tuple[float, float]:
    dock = storage_location_of_kind(session, warehouse_id, LocationKind.RECEIVING)
    row = session.execute(select(Location.x, Location.y).where(Location.id == dock.id)).one()
    return (row.x or 0.0, row.y or 0.0)


def suggest_bin(
    session: Session,
    *,
    warehouse: WarehouseRef,
    product: ProductRef,
    lot_id: int | None,
    quantity: int,
) -> Suggestion:
    """The bin the putaway rules pick for ``quantity`` of a product (and lot)."""
    ox, oy = _origin(session, warehouse.id)
    held = (
        select(Quant.location_id, func.sum(Quant.quantity).label("held"))
        .where(Quant.quantity > 0)
        .group_by(Quant.location_id)
        .subquery()
    )
    used = func.coalesce(held.c.held, 0)
    fits = (Location.capacity.is_(None)) | (Location.capacity - used >= quantity)
    distance = func.abs(func.coalesce(Location.x, 0.0) - ox) + func.abs(
        func.coalesce(Location.y, 0.0) - oy
    )
    base = (
        select(Location.id, Location.capacity, used.label("used"))
        .outerjoin(held, held.c.location_id == Location.id)
        .where(
            Location.warehouse_id == warehouse.id,
            Location.kind == LocationKind.STORAGE,
            Location.active,
            fits,
        )
    )
    fixed = session.execute(
        base.join(
            FixedBin,
            and_(
                FixedBin.location_id == Location.id,
                FixedBin.product_id == product.id,
                FixedBin.warehouse_id == warehouse.id,
            ),
        )
    ).first()
    if fixed is not None:
        return _suggestion(session, fixed, "fixed_bin")
    lot_match = Quant.lot_id.is_(None) if lot_id is None else Quant.lot_id == lot_id
    same = session.execute(
        base.where(
            select(Quant.id)
            .where(
                Quant.location_id == Location.id,
                Quant.product_id == product.id,
                lot_match,
                Quant.quantity > 0,
            )
            .exists()
        )
        .order_by(distance, Location.code)
        .limit(1)
    ).first()
    if same is not None:
        return _suggestion(session, same, "same_lot")
    empty = session.execute(
        base.where(used == 0).order_by(distance, Location.code).limit(1)
    ).first()
    if empty is not None:
        return _suggestion(session, empty, "nearest_empty")
    raise NoBinAvailable(product.sku, quantity, warehouse.code)


def _suggestion(session: Session, row: object, rule: Rule) -> Suggestion:
    location_id: int = row.id  # type: ignore[attr-defined]
    capacity: int | None = row.capacity  # type: ignore[attr-defined]
    used: int = row.used  # type: ignore[attr-defined]
    loc = locations_by_id(session, {location_id})[location_id]
    return Suggestion(loc, rule, None if capacity is None else capacity - int(used))


def suggest(
    session: Session, *, warehouse: str, sku: str, lot: str | None, quantity: int
) -> Suggestion:
    """``suggest_bin`` by codes."""
    wh = get_warehouse(session, warehouse)
    product = get_product(session, sku)
    lot_id = resolve_lot(session, product, lot)
    return suggest_bin(session, warehouse=wh, product=product, lot_id=lot_id, quantity=quantity)


@dataclass(frozen=True)
class PutawayResult:
    sku: str
    lot: str | None
    quantity: int
    from_location: str
    to_location: str
    suggested: str
    overridden: bool
    posting: Posting


def putaway(
    uow: UnitOfWork,
    *,
    warehouse: str,
    sku: str,
    quantity: int,
    to_location: str,
    actor: str,
    lot: str | None = None,
    from_location: str | None = None,
    override: bool = False,
    occurred_at: datetime | None = None,
) -> PutawayResult:
    """Move goods from receiving to a storage bin: the suggested one, or another on override."""
    session = uow.session
    positive_quantity(quantity)
    wh = get_warehouse(session, warehouse)
    product = get_product(session, sku)
    lot_id = resolve_lot(session, product, lot)
    source = (
        get_location(
            session, from_location, warehouse_id=wh.id, warehouse_code=wh.code, field="from"
        )
        if from_location
        else storage_location_of_kind(session, wh.id, LocationKind.RECEIVING)
    )
    target = get_location(session, to_location, warehouse_id=wh.id, warehouse_code=wh.code)
    if target.kind is not LocationKind.STORAGE or not target.active:
        raise LocationNotUsable(
            f"{wh.code}/{target.code}",
            f"is a {target.kind} location; put away into an active storage bin",
        )
    suggestion = suggest_bin(
        session, warehouse=wh, product=product, lot_id=lot_id, quantity=quantity
    )
    if target.id != suggestion.location.id and not override:
        raise WrongBin(_label(target), _label(suggestion.location))
    if target.id != suggestion.location.id:
        free = _free(session, target)
        if free is not None and free < quantity:
            raise BinFull(target.code, free, quantity)
    posting = post_moves(
        session,
        [MoveLine(product.id, lot_id, source.id, target.id, quantity)],
        reason="putaway",
        reference="override" if target.id != suggestion.location.id else suggestion.rule,
        actor=actor,
        occurred_at=occurred_at,
    )
    return PutawayResult(
        sku=product.sku,
        lot=lot if product.lot_tracked else None,
        quantity=quantity,
        from_location=source.code,
        to_location=target.code,
        suggested=suggestion.location.code,
        overridden=target.id != suggestion.location.id,
        posting=posting,
    )


def _label(loc: LocationRef) -> str:
    return loc.barcode or loc.code


def _free(session: Session, loc: LocationRef) -> int | None:
    capacity = session.scalar(select(Location.capacity).where(Location.id == loc.id))
    if capacity is None:
        return None
    used = session.scalar(
        select(func.coalesce(func.sum(Quant.quantity), 0)).where(Quant.location_id == loc.id)
    )
    return capacity - int(used or 0)


def set_fixed_bin(uow: UnitOfWork, *, warehouse: str, sku: str, location: str) -> None:
    """Make ``location`` the product's fixed bin in the warehouse (replacing any other)."""
    session = uow.session
    wh = get_warehouse(session, warehouse)
    product = get_product(session, sku)
    loc = get_location(session, location, warehouse_id=wh.id, warehouse_code=wh.code)
    if loc.kind is not LocationKind.STORAGE:
        raise LocationNotUsable(f"{wh.code}/{loc.code}", "is not a storage bin")
    row = session.scalar(
        select(FixedBin).where(FixedBin.product_id == product.id, FixedBin.warehouse_id == wh.id)
    )
    if row is None:
        session.add(FixedBin(product_id=product.id, warehouse_id=wh.id, location_id=loc.id))
    else:
        row.location_id = loc.id
    session.flush()
