"""Master data services: warehouses with their location trees, bins, products and lots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.db.upsert import insert_for
from wms.errors import AlreadyExists, ValidationFailed
from wms.inventory.errors import (
    LotExpiryMismatch,
    LotNotTracked,
    LotRequired,
    UnknownLocation,
    UnknownLot,
    UnknownSku,
    UnknownWarehouse,
)
from wms.inventory.gtin import normalise_gtin
from wms.inventory.models import (
    STOCK_KINDS,
    VIRTUAL_KINDS,
    Location,
    LocationKind,
    Lot,
    Product,
    ProductPack,
    StockLevel,
    Warehouse,
)

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
SKU_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
LOCATION_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_./-]{0,63}$")

# The locations every warehouse gets, besides its storage bins.
STANDARD_LOCATIONS: tuple[tuple[str, str, LocationKind], ...] = (
    ("RECV", "Receiving dock", LocationKind.RECEIVING),
    ("QC", "Quality hold", LocationKind.QC_HOLD),
    ("STOCK", "Storage", LocationKind.VIEW),
    ("PACK", "Packing", LocationKind.PACKING),
    ("SHIP", "Shipping dock", LocationKind.SHIPPING),
    ("DMG", "Damaged goods", LocationKind.DAMAGED),
)


@dataclass(frozen=True)
class WarehouseRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class LocationRef:
    id: int
    code: str
    kind: LocationKind
    warehouse_id: int | None
    holds_stock: bool
    active: bool
    barcode: str | None


@dataclass(frozen=True)
class ProductRef:
    id: int
    sku: str
    lot_tracked: bool
    shelf_life_days: int | None


@dataclass(frozen=True)
class PackSpec:
    name: str
    quantity: int
    gtin: str | None = None


_LOCATION_COLUMNS = (
    Location.id,
    Location.code,
    Location.kind,
    Location.warehouse_id,
    Location.holds_stock,
    Location.active,
    Location.barcode,
)


def _location_ref(row: Any) -> LocationRef:
    return LocationRef(
        id=row.id,
        code=row.code,
        kind=LocationKind(row.kind),
        warehouse_id=row.warehouse_id,
        holds_stock=row.holds_stock,
        active=row.active,
        barcode=row.barcode,
    )


def _remember(session: Session, ref: LocationRef) -> LocationRef:
    _cache(session, "location_id")[ref.id] = ref
    return ref


def locations_by_id(session: Session, ids: set[int]) -> dict[int, LocationRef]:
    """Locations by id, from those already resolved in this unit of work or in one query."""
    cache = _cache(session, "location_id")
    missing = [i for i in ids if i not in cache]
    if missing:
        for row in session.execute(select(*_LOCATION_COLUMNS).where(Location.id.in_(missing))):
            _remember(session, _location_ref(row))
    unknown = [i for i in ids if i not in cache]
    if unknown:
        raise ValueError(f"unknown location ids {sorted(unknown)}")
    return {i: cache[i] for i in ids}  # type: ignore[misc]


def create_warehouse(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    region: str,
    address: str,
    latitude: float,
    longitude: float,
    time_zone: str,
) -> WarehouseRef:
    """Create a warehouse with its standard locations and an empty stock level per product."""
    session = uow.session
    _validate_warehouse(code=code, latitude=latitude, longitude=longitude, time_zone=time_zone)
    if session.scalar(select(Warehouse.id).where(Warehouse.code == code)) is not None:
        raise AlreadyExists(f"warehouse {code} already exists", field="code", warehouse=code)
    warehouse = Warehouse(
        code=code,
        name=name,
        region=region,
        address=address,
        latitude=latitude,
        longitude=longitude,
        time_zone=time_zone,
    )
    session.add(warehouse)
    session.flush()
    root = Location(
        warehouse_id=warehouse.id,
        code=code,
        name=name,
        kind=LocationKind.VIEW,
        holds_stock=False,
    )
    session.add(root)
    session.flush()
    for loc_code, loc_name, kind in STANDARD_LOCATIONS:
        session.add(
            Location(
                warehouse_id=warehouse.id,
                parent_id=root.id,
                code=loc_code,
                name=loc_name,
                kind=kind,
                holds_stock=kind in STOCK_KINDS,
                barcode=f"{code}-{loc_code}" if kind in STOCK_KINDS else None,
                # The receiving dock is the origin of the floor plan that putaway measures from.
                x=0.0 if kind is LocationKind.RECEIVING else None,
                y=0.0 if kind is LocationKind.RECEIVING else None,
            )
        )
    session.flush()
    product_ids = session.scalars(select(Product.id)).all()
    ensure_levels(session, [(pid, warehouse.id) for pid in product_ids])
    return WarehouseRef(id=warehouse.id, code=warehouse.code, name=warehouse.name)


def _validate_warehouse(*, code: str, latitude: float, longitude: float, time_zone: str) -> None:
    if not CODE_PATTERN.match(code):
        raise ValidationFailed(
            "a warehouse code has 1-16 capitals, digits, '-' or '_'", field="code", value=code
        )
    if not -90 <= latitude <= 90:
        raise ValidationFailed("latitude must be between -90 and 90", field="latitude")
    if not -180 <= longitude <= 180:
        raise ValidationFailed("longitude must be between -180 and 180", field="longitude")
    try:
        ZoneInfo(time_zone)
    # A region's folder ("Asia") is no zone: the tzdata package answers with IsADirectoryError.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationFailed(
            f"unknown time zone {time_zone!r}", field="time_zone", value=time_zone
        ) from exc


def create_location(
    uow: UnitOfWork,
    *,
    warehouse: str,
    code: str,
    name: str,
    kind: LocationKind,
    parent: str | None = None,
    barcode: str | None = None,
    capacity: int | None = None,
    x: float | None = None,
    y: float | None = None,
) -> LocationRef:
    """Add a location (a zone, an aisle or a bin) under ``parent`` in a warehouse.

    ``x`` and ``y`` place it on the floor plan, in metres from the receiving dock.
    """
    session = uow.session
    wh = get_warehouse(session, warehouse)
    if kind in VIRTUAL_KINDS:
        raise ValidationFailed(
            f"{kind} locations are virtual, not inside a warehouse", field="kind"
        )
    if not LOCATION_CODE_PATTERN.match(code):
        raise ValidationFailed("a location code has capitals, digits and - _ . /", field="code")
    if capacity is not None and capacity <= 0:
        raise ValidationFailed("capacity must be positive", field="capacity")
    parent_ref = get_location(
        session, parent or wh.code, warehouse_id=wh.id, warehouse_code=wh.code
    )
    if parent_ref.kind is not LocationKind.VIEW:
        raise ValidationFailed(
            f"parent {parent_ref.code} is a {parent_ref.kind}, not a grouping", field="parent"
        )
    row = Location(
        warehouse_id=wh.id,
        parent_id=parent_ref.id,
        code=code,
        name=name,
        kind=kind,
        holds_stock=kind in STOCK_KINDS,
        barcode=barcode,
        capacity=capacity,
        x=x,
        y=y,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(
            f"location {code} or barcode {barcode} already exists", field="code"
        ) from exc
    return _location_ref(row)


def create_product(
    uow: UnitOfWork,
    *,
    sku: str,
    name: str,
    gtin: str | None = None,
    base_unit: str = "EA",
    weight_g: int | None = None,
    volume_cm3: int | None = None,
    lot_tracked: bool = False,
    shelf_life_days: int | None = None,
    description: str = "",
    packs: list[PackSpec] | None = None,
) -> ProductRef:
    """Create a product, validating its GTINs, with an empty stock level in every warehouse."""
    session = uow.session
    if not SKU_PATTERN.match(sku):
        raise ValidationFailed(
            "a SKU has 1-64 letters, digits and . _ / -, starting with a letter or digit",
            field="sku",
            value=sku,
        )
    gtin14 = normalise_gtin(gtin) if gtin else None
    if shelf_life_days is not None and shelf_life_days <= 0:
        raise ValidationFailed(
            "shelf life must be a positive number of days", field="shelf_life_days"
        )
    if shelf_life_days is not None and not lot_tracked:
        raise ValidationFailed(
            "a product with a shelf life must be lot-tracked to follow expiry",
            field="shelf_life_days",
        )
    for label, value in (("weight_g", weight_g), ("volume_cm3", volume_cm3)):
        if value is not None and value < 0:
            raise ValidationFailed(f"{label} cannot be negative", field=label)
    pack_rows = [_pack_row(pack, index) for index, pack in enumerate(packs or [])]
    if session.scalar(select(Product.id).where(Product.sku == sku)) is not None:
        raise AlreadyExists(f"SKU {sku} already exists", field="sku", sku=sku)
    gtins = [g for g in [gtin14, *(p.gtin for p in pack_rows)] if g]
    if len(set(gtins)) != len(gtins):
        raise ValidationFailed("each pack needs its own GTIN", field="packs")
    if gtins and session.scalar(select(Product.sku).where(Product.gtin.in_(gtins))) is not None:
        raise AlreadyExists(f"GTIN {gtin14} is already used", field="gtin")
    product = Product(
        sku=sku,
        gtin=gtin14,
        name=name,
        description=description,
        base_unit=base_unit,
        weight_g=weight_g,
        volume_cm3=volume_cm3,
        lot_tracked=lot_tracked,
        shelf_life_days=shelf_life_days,
        packs=pack_rows,
    )
    try:
        with session.begin_nested():
            session.add(product)
            session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"SKU {sku} or one of its GTINs already exists", field="sku") from exc
    warehouse_ids = session.scalars(select(Warehouse.id)).all()
    ensure_levels(session, [(product.id, wid) for wid in warehouse_ids])
    return ProductRef(product.id, product.sku, product.lot_tracked, product.shelf_life_days)


def _pack_row(pack: PackSpec, index: int) -> ProductPack:
    if pack.quantity <= 1:
        raise ValidationFailed("a pack holds more than one unit", field=f"packs[{index}].quantity")
    gtin = normalise_gtin(pack.gtin, field=f"packs[{index}].gtin") if pack.gtin else None
    return ProductPack(name=pack.name, quantity=pack.quantity, gtin=gtin)


def ensure_levels(session: Session, keys: list[tuple[int, int]]) -> None:
    """Create missing stock level rows for (product, warehouse) keys, in key order."""
    if not keys:
        return
    stmt = insert_for(session, StockLevel.__table__).on_conflict_do_nothing(
        index_elements=["product_id", "warehouse_id"]
    )
    blocked = set(
        session.scalars(
            select(Product.id).where(
                Product.id.in_({p for p, _ in keys}), Product.sales_blocked.is_(True)
            )
        )
    )
    session.execute(
        stmt,
        [{"product_id": p, "warehouse_id": w, "blocked": p in blocked} for p, w in sorted(keys)],
    )


def codes(
    session: Session, product_ids: set[int], warehouse_ids: set[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """SKUs and warehouse codes for ids, to name things in errors, views and events.

    Every posting names the levels it changed in its events, so the answers are kept for the
    unit of work, and ids that ``get_product``/``get_warehouse`` resolved are not asked again."""
    return (
        _codes_by_id(session, "sku", Product.id, Product.sku, product_ids),
        _codes_by_id(session, "warehouse_code", Warehouse.id, Warehouse.code, warehouse_ids),
    )


def _codes_by_id(
    session: Session, name: str, id_col: Any, code_col: Any, ids: set[int]
) -> dict[int, str]:
    cache = _cache(session, name)
    missing = [i for i in ids if i not in cache]
    if missing:
        cache.update(session.execute(select(id_col, code_col).where(id_col.in_(missing))).all())
    return {i: cache[i] for i in ids if i in cache}  # type: ignore[misc]


def _cache(session: Session, name: str) -> dict[object, object]:
    # Lookups are cached for one unit of work (a session): master data does not change
    # under a single transaction, and a posting of many lines resolves the same codes often.
    cache: dict[object, object] = session.info.setdefault(f"catalog:{name}", {})
    return cache


def get_warehouse(session: Session, code: str, *, field: str = "warehouse") -> WarehouseRef:
    cache = _cache(session, "warehouse")
    if code in cache:
        return cache[code]  # type: ignore[return-value]
    ref = _load_warehouse(session, code, field=field)
    cache[code] = ref
    _cache(session, "warehouse_code")[ref.id] = ref.code
    return ref


def _load_warehouse(session: Session, code: str, *, field: str) -> WarehouseRef:
    row = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.name).where(Warehouse.code == code)
    ).first()
    if row is None:
        raise UnknownWarehouse(code, field=field)
    return WarehouseRef(row.id, row.code, row.name)


def get_product(session: Session, sku: str, *, field: str = "sku") -> ProductRef:
    cache = _cache(session, "product")
    if sku in cache:
        return cache[sku]  # type: ignore[return-value]
    ref = _load_product(session, sku, field=field)
    cache[sku] = ref
    _cache(session, "sku")[ref.id] = ref.sku
    return ref


def _load_product(session: Session, sku: str, *, field: str) -> ProductRef:
    row = session.execute(
        select(Product.id, Product.sku, Product.lot_tracked, Product.shelf_life_days).where(
            Product.sku == sku
        )
    ).first()
    if row is None:
        raise UnknownSku(sku, field=field)
    return ProductRef(row.id, row.sku, row.lot_tracked, row.shelf_life_days)


def get_location(
    session: Session,
    code_or_barcode: str,
    *,
    warehouse_id: int,
    warehouse_code: str,
    field: str = "location",
) -> LocationRef:
    """A location of the warehouse by its code or its barcode."""
    (ref,) = get_locations(
        session,
        [(code_or_barcode, field)],
        warehouse_id=warehouse_id,
        warehouse_code=warehouse_code,
    )
    return ref


def get_locations(
    session: Session,
    wanted: list[tuple[str, str]],
    *,
    warehouse_id: int,
    warehouse_code: str,
) -> list[LocationRef]:
    """Locations of one warehouse by code or barcode, in one query; ``wanted`` is (code, field)."""
    cache = _cache(session, "location")
    missing = [code for code, _ in wanted if (warehouse_id, code) not in cache]
    if missing:
        rows = session.execute(
            select(*_LOCATION_COLUMNS).where(
                Location.warehouse_id == warehouse_id,
                Location.code.in_(missing) | Location.barcode.in_(missing),
            )
        ).all()
        by_barcode = {r.barcode: r for r in rows if r.barcode}
        by_code = {r.code: r for r in rows}
        for code in missing:
            row = by_code.get(code) or by_barcode.get(code)
            if row is not None:
                cache[(warehouse_id, code)] = _remember(session, _location_ref(row))
    result = []
    for code, field in wanted:
        if (warehouse_id, code) not in cache:
            raise UnknownLocation(code, warehouse=warehouse_code, field=field)
        result.append(cache[(warehouse_id, code)])
    return result  # type: ignore[return-value]


def get_virtual_location(session: Session, kind: LocationKind) -> LocationRef:
    """One of the virtual locations created by the first migration."""
    cache: dict[LocationKind, LocationRef] = session.info.setdefault("virtual_locations", {})
    if kind not in cache:
        row = session.scalar(
            select(Location).where(Location.kind == kind, Location.warehouse_id.is_(None))
        )
        if row is None:
            raise RuntimeError(f"virtual location {kind} is missing; run `wms db upgrade`")
        cache[kind] = _remember(session, _location_ref(row))
    return cache[kind]


def storage_location_of_kind(
    session: Session, warehouse_id: int, kind: LocationKind
) -> LocationRef:
    """The first active location of ``kind`` in a warehouse (its receiving dock, say)."""
    row = session.scalar(
        select(Location)
        .where(Location.warehouse_id == warehouse_id, Location.kind == kind, Location.active)
        .order_by(Location.id)
        .limit(1)
    )
    if row is None:
        raise UnknownLocation(kind.value, warehouse=str(warehouse_id))
    return _remember(session, _location_ref(row))


def resolve_lot(
    session: Session,
    product: ProductRef,
    lot_code: str | None,
    *,
    expiry_date: date | None = None,
    create: bool = False,
) -> int | None:
    """The lot id for ``lot_code`` of a product, created on receipt; validates lot tracking."""
    if not product.lot_tracked:
        if lot_code:
            raise LotNotTracked(product.sku)
        return None
    if not lot_code:
        raise LotRequired(product.sku)
    lot = session.scalar(select(Lot).where(Lot.product_id == product.id, Lot.code == lot_code))
    if lot is not None:
        if expiry_date is not None and lot.expiry_date != expiry_date:
            known = lot.expiry_date.isoformat() if lot.expiry_date else None
            raise LotExpiryMismatch(product.sku, lot_code, known, expiry_date.isoformat())
        return lot.id
    if not create:
        raise UnknownLot(product.sku, lot_code)
    if product.shelf_life_days is not None and expiry_date is None:
        raise LotRequired(product.sku, what="an expiry date", field="expiry_date")
    stmt = (
        insert_for(session, Lot.__table__)
        .values(product_id=product.id, code=lot_code, expiry_date=expiry_date)
        .on_conflict_do_nothing(index_elements=["product_id", "code"])
    )
    session.execute(stmt)
    lot_id = session.scalar(
        select(Lot.id).where(Lot.product_id == product.id, Lot.code == lot_code)
    )
    assert lot_id is not None
    return lot_id
