"""Read side of inventory: warehouses, products and stock levels as plain values, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from wms.db.pagination import decode_cursor, encode_cursor
from wms.errors import NotFound, ValidationFailed
from wms.inventory.catalog import SKU_PATTERN, codes, get_warehouse
from wms.inventory.errors import UnknownSku, UnknownWarehouse
from wms.inventory.ledger import LevelSnapshot
from wms.inventory.models import Product, StockLevel, Warehouse

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class WarehouseView:
    code: str
    name: str
    region: str
    address: str
    latitude: float
    longitude: float
    time_zone: str
    active: bool


@dataclass(frozen=True)
class PackView:
    name: str
    quantity: int
    gtin: str | None


@dataclass(frozen=True)
class ProductView:
    sku: str
    gtin: str | None
    name: str
    description: str
    base_unit: str
    weight_g: int | None
    volume_cm3: int | None
    lot_tracked: bool
    shelf_life_days: int | None
    active: bool
    packs: list[PackView]


@dataclass(frozen=True)
class LevelView:
    sku: str
    warehouse: str
    on_hand: int
    committed: int
    reserved: int
    quality_control: int
    damaged: int
    safety_stock: int
    incoming: int
    available: int
    version: int
    updated_at: datetime
    blocked: bool = False


def _page(rows: Sequence[tuple[int, T]], limit: int) -> Page[T]:
    items = [item for _, item in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return Page(items, next_cursor)


def _warehouse_view(w: Warehouse) -> WarehouseView:
    return WarehouseView(
        w.code, w.name, w.region, w.address, w.latitude, w.longitude, w.time_zone, w.active
    )


def list_warehouses(
    session: Session, *, cursor: str | None = None, limit: int = 100
) -> Page[WarehouseView]:
    after = decode_cursor(cursor)
    rows = session.scalars(
        select(Warehouse).where(Warehouse.id > after).order_by(Warehouse.id).limit(limit + 1)
    ).all()
    return _page([(w.id, _warehouse_view(w)) for w in rows], limit)


def warehouse_detail(session: Session, code: str) -> WarehouseView:
    row = session.scalar(select(Warehouse).where(Warehouse.code == code))
    if row is None:
        raise UnknownWarehouse(code, field=None)
    return _warehouse_view(row)


def _product_view(p: Product) -> ProductView:
    return ProductView(
        sku=p.sku,
        gtin=p.gtin,
        name=p.name,
        description=p.description,
        base_unit=p.base_unit,
        weight_g=p.weight_g,
        volume_cm3=p.volume_cm3,
        lot_tracked=p.lot_tracked,
        shelf_life_days=p.shelf_life_days,
        active=p.active,
        packs=[PackView(k.name, k.quantity, k.gtin) for k in p.packs],
    )


def list_products(
    session: Session, *, cursor: str | None = None, limit: int = 100
) -> Page[ProductView]:
    after = decode_cursor(cursor)
    rows = session.scalars(
        select(Product)
        .options(selectinload(Product.packs))
        .where(Product.id > after)
        .order_by(Product.id)
        .limit(limit + 1)
    ).all()
    return _page([(p.id, _product_view(p)) for p in rows], limit)


def product_detail(session: Session, sku: str) -> ProductView:
    row = session.scalar(
        select(Product).options(selectinload(Product.packs)).where(Product.sku == sku)
    )
    if row is None:
        raise UnknownSku(sku, field=None)
    return _product_view(row)


MAX_SKUS = 500  # SKUs one level query may name


class UnknownSkus(UnknownSku):
    """Some SKUs of a list do not exist; the error names every one of them."""

    def __init__(self, skus: Sequence[str], *, field: str | None = "sku") -> None:
        NotFound.__init__(
            self,
            "no product with SKU " + ", ".join(repr(s) for s in skus),
            field=field,
            sku=skus[0],
            skus=list(skus),
        )


def product_ids(session: Session, skus: Sequence[str], *, field: str = "sku") -> list[int]:
    """Ids of ``skus`` (in order, without repeats) in one query; every unknown SKU is named."""
    wanted = list(dict.fromkeys(skus))
    if len(wanted) > MAX_SKUS:
        raise ValidationFailed(f"name at most {MAX_SKUS} SKUs", field=field, count=len(wanted))
    # A string no SKU could be (a control character, say) is unknown without asking the database.
    plausible = [sku for sku in wanted if SKU_PATTERN.fullmatch(sku)]
    found: dict[str, int] = {}
    for sku, id_ in session.execute(
        select(Product.sku, Product.id).where(Product.sku.in_(plausible))
    ):
        found[sku] = id_
    missing = [sku for sku in wanted if sku not in found]
    if missing:
        raise UnknownSkus(missing, field=field)
    return [found[sku] for sku in wanted]


def list_levels(
    session: Session,
    *,
    skus: Sequence[str] = (),
    warehouse: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
    sku_field: str = "sku",
) -> Page[LevelView]:
    """Stock levels, optionally for some SKUs (up to 500), one warehouse, or those changed since
    a time (strictly after it)."""
    after = decode_cursor(cursor)
    stmt = (
        select(StockLevel, Product.sku, Warehouse.code)
        .join(Product, Product.id == StockLevel.product_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.id > after)
        .order_by(StockLevel.id)
        .limit(limit + 1)
    )
    if skus:
        stmt = stmt.where(StockLevel.product_id.in_(product_ids(session, skus, field=sku_field)))
    if warehouse:
        stmt = stmt.where(StockLevel.warehouse_id == get_warehouse(session, warehouse).id)
    if updated_since is not None:
        stmt = stmt.where(StockLevel.updated_at > updated_since)
    rows = session.execute(stmt).all()
    return _page([(level.id, level_view(level, sku, wh)) for level, sku, wh in rows], limit)


def level_view(level: StockLevel, sku: str, warehouse: str) -> LevelView:
    return LevelView(
        sku=sku,
        warehouse=warehouse,
        on_hand=level.on_hand,
        committed=level.committed,
        reserved=level.reserved,
        quality_control=level.quality_control,
        damaged=level.damaged,
        safety_stock=level.safety_stock,
        incoming=level.incoming,
        available=max(0, level.available),
        version=level.version,
        updated_at=level.updated_at,
        blocked=level.blocked,
    )


def snapshot_views(session: Session, snapshots: Sequence[LevelSnapshot]) -> list[LevelView]:
    """Readable views of the levels a posting changed, from the values it wrote."""
    if not snapshots:
        return []
    skus, whs = codes(
        session, {s.product_id for s in snapshots}, {s.warehouse_id for s in snapshots}
    )
    return [
        LevelView(
            sku=skus[s.product_id],
            warehouse=whs[s.warehouse_id],
            on_hand=s.on_hand,
            committed=s.committed,
            reserved=s.reserved,
            quality_control=s.quality_control,
            damaged=s.damaged,
            safety_stock=s.safety_stock,
            incoming=s.incoming,
            available=s.available,
            version=s.version,
            updated_at=s.updated_at,
            blocked=s.blocked,
        )
        for s in snapshots
    ]
