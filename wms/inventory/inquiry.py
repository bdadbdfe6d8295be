"""Stock inquiry: what is in a location, and where a product is (by location and lot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.inventory.catalog import LocationRef, ProductRef
from wms.inventory.models import Location, Lot, Product, Quant, Warehouse

MAX_ROWS = 200


@dataclass(frozen=True)
class StockRow:
    sku: str
    name: str
    lot: str | None
    expiry_date: date | None
    warehouse: str
    location: str
    location_kind: str
    barcode: str | None
    quantity: int


def _rows(session: Session, *where: object) -> list[StockRow]:
    rows = session.execute(
        select(
            Product.sku,
            Product.name,
            Lot.code.label("lot"),
            Lot.expiry_date,
            Warehouse.code.label("warehouse"),
            Location.code.label("location"),
            Location.kind.label("location_kind"),
            Location.barcode,
            Quant.quantity,
        )
        .join(Product, Product.id == Quant.product_id)
        .outerjoin(Lot, Lot.id == Quant.lot_id)
        .join(Location, Location.id == Quant.location_id)
        .join(Warehouse, Warehouse.id == Location.warehouse_id)
        .where(Quant.quantity > 0, *where)  # type: ignore[arg-type]
        .order_by(Warehouse.code, Location.code, Product.sku, Lot.expiry_date, Lot.code)
        .limit(MAX_ROWS)
    ).all()
    return [StockRow(**row._asdict()) for row in rows]


def location_contents(session: Session, location: LocationRef) -> list[StockRow]:
    """Every product and lot in a location, with quantities."""
    return _rows(session, Quant.location_id == location.id)


def product_whereabouts(
    session: Session, product: ProductRef, *, warehouse_id: int | None = None
) -> list[StockRow]:
    """Where a product is: each location and lot, in one warehouse or all of them."""
    where: list[object] = [Quant.product_id == product.id]
    if warehouse_id is not None:
        where.append(Location.warehouse_id == warehouse_id)
    return _rows(session, *where)


def quantity_at(session: Session, *, product_id: int, lot_id: int | None, location_id: int) -> int:
    """The quant of a product and lot in one location (0 when there is none)."""
    lot_match = Quant.lot_id.is_(None) if lot_id is None else Quant.lot_id == lot_id
    value = session.scalar(
        select(Quant.quantity).where(
            Quant.product_id == product_id, Quant.location_id == location_id, lot_match
        )
    )
    return int(value or 0)


@dataclass(frozen=True)
class LotQuantity:
    lot_id: int | None
    lot: str | None
    expiry_date: date | None
    quantity: int


def lots_at(session: Session, *, product_id: int, location_id: int) -> list[LotQuantity]:
    """The lots of a product in one location, earliest expiry first."""
    rows = session.execute(
        select(Quant.lot_id, Lot.code, Lot.expiry_date, Quant.quantity)
        .outerjoin(Lot, Lot.id == Quant.lot_id)
        .where(
            Quant.product_id == product_id,
            Quant.location_id == location_id,
            Quant.quantity > 0,
        )
        .order_by(Lot.expiry_date, Lot.code)
    ).all()
    return [LotQuantity(r.lot_id, r.code, r.expiry_date, r.quantity) for r in rows]
