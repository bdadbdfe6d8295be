"""Tables of the stock model: warehouses, locations, products, lots, the move ledger, quants, levels.

Invariants that no code path may break are written here as constraints:
quantities in stock-holding locations are never negative, moves are positive and go somewhere else,
lots belong to their product, and a stock level never commits or reserves more than is sellable.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db.base import Base, BigId, utcnow


class LocationKind(StrEnum):
    """What a location is for; the first group lives inside a warehouse, the second is virtual."""

    VIEW = "view"  # a grouping node (warehouse root, zone, aisle); holds no stock
    RECEIVING = "receiving"
    STORAGE = "storage"
    QC_HOLD = "qc_hold"
    PACKING = "packing"
    SHIPPING = "shipping"
    DAMAGED = "damaged"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"
    TRANSIT = "transit"


WAREHOUSE_KINDS = frozenset(
    {
        LocationKind.VIEW,
        LocationKind.RECEIVING,
        LocationKind.STORAGE,
        LocationKind.QC_HOLD,
        LocationKind.PACKING,
        LocationKind.SHIPPING,
        LocationKind.DAMAGED,
    }
)
VIRTUAL_KINDS = frozenset(
    {
        LocationKind.SUPPLIER,
        LocationKind.CUSTOMER,
        LocationKind.ADJUSTMENT,
        LocationKind.SCRAP,
        LocationKind.TRANSIT,
    }
)
# Locations whose stock is tracked as quants and may never go negative. The other virtual
# locations are the ledger's counterparties: their balance is the negative of what they sent.
STOCK_KINDS = (WAREHOUSE_KINDS - {LocationKind.VIEW}) | {LocationKind.TRANSIT}


def _in(column: str, values: frozenset[LocationKind]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in sorted(values))})"


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint(
            "storage_capacity_m3 IS NULL OR storage_capacity_m3 > 0",
            name="storage_capacity_positive",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    time_zone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Cubic metres of stock the warehouse can hold; replenishment plans stay within it.
    storage_capacity_m3: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (
        CheckConstraint(
            f"({_in('kind', VIRTUAL_KINDS)}) = (warehouse_id IS NULL)",
            name="virtual_iff_no_warehouse",
        ),
        CheckConstraint(
            f"holds_stock = ({_in('kind', STOCK_KINDS)})", name="holds_stock_matches_kind"
        ),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        UniqueConstraint("warehouse_id", "code"),
        UniqueConstraint("id", "holds_stock", name="uq_locations_id_holds_stock"),
        Index(
            "uq_locations_virtual_code",
            "code",
            unique=True,
            sqlite_where=text("warehouse_id IS NULL"),
            postgresql_where=text("warehouse_id IS NULL"),
        ),
        Index("ix_locations_warehouse_kind", "warehouse_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    holds_stock: Mapped[bool] = mapped_column(Boolean)
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Position on the warehouse floor plan in metres (x along the dock, y down the aisles),
    # used to find the nearest free bin and, later, to sequence pick paths.
    x: Mapped[float | None] = mapped_column(Float)
    y: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))

    warehouse: Mapped[Warehouse | None] = relationship()


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("gtin IS NULL OR length(gtin) = 14", name="gtin_14_digits"),
        CheckConstraint("length(sku) > 0", name="sku_not_empty"),
        CheckConstraint(
            "shelf_life_days IS NULL OR shelf_life_days > 0", name="shelf_life_positive"
        ),
        CheckConstraint("weight_g IS NULL OR weight_g >= 0", name="weight_not_negative"),
        CheckConstraint("volume_cm3 IS NULL OR volume_cm3 >= 0", name="volume_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    base_unit: Mapped[str] = mapped_column(String(16), default="EA", server_default="EA")
    weight_g: Mapped[int | None] = mapped_column(Integer)
    volume_cm3: Mapped[int | None] = mapped_column(Integer)
    lot_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    shelf_life_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Pulled from sale (a quality block): every level of the product shows available 0.
    sales_blocked: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    packs: Mapped[list[ProductPack]] = relationship(
        back_populates="product", order_by="ProductPack.quantity", cascade="all, delete-orphan"
    )


class ProductPack(Base):
    """A pack size of a product (inner, case, pallet), often with its own GTIN."""

    __tablename__ = "product_packs"
    __table_args__ = (
        CheckConstraint("quantity > 1", name="quantity_above_one"),
        CheckConstraint("gtin IS NULL OR length(gtin) = 14", name="gtin_14_digits"),
        UniqueConstraint("product_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)

    product: Mapped[Product] = relationship(back_populates="packs")


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        UniqueConstraint("id", "product_id", name="uq_lots_id_product_id"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    code: Mapped[str] = mapped_column(String(64))
    expiry_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Move(Base):
    """One row of the append-only ledger: ``quantity`` units went from one location to another."""

    __tablename__ = "moves"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="distinct_locations"),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_moves_lot_product"
        ),
        Index("ix_moves_product_occurred", "product_id", "occurred_at"),
        Index("ix_moves_reference", "reference"),
        Index("ix_moves_from_location", "from_location_id"),
        Index("ix_moves_to_location", "to_location_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(128), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quant(Base):
    """Current quantity per (product, lot, location): a projection of the ledger."""

    __tablename__ = "quants"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("holds_stock", name="stock_location_only"),
        ForeignKeyConstraint(
            ["location_id", "holds_stock"],
            ["locations.id", "locations.holds_stock"],
            name="fk_quants_stock_location",
        ),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_quants_lot_product"
        ),
        Index(
            "uq_quants_product_location_nolot",
            "product_id",
            "location_id",
            unique=True,
            sqlite_where=text("lot_id IS NULL"),
            postgresql_where=text("lot_id IS NULL"),
        ),
        Index(
            "uq_quants_product_lot_location",
            "product_id",
            "lot_id",
            "location_id",
            unique=True,
            sqlite_where=text("lot_id IS NOT NULL"),
            postgresql_where=text("lot_id IS NOT NULL"),
        ),
        Index("ix_quants_location", "location_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(Integer)
    holds_stock: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    quantity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


AVAILABLE_SQL = (
    "CASE WHEN blocked THEN 0 "
    "ELSE on_hand - committed - reserved - quality_control - damaged - safety_stock END"
)


class StockLevel(Base):
    """Per (product, warehouse) counters in the storefront's vocabulary, versioned on every change."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "warehouse_id"),
        CheckConstraint(
            "on_hand >= 0 AND committed >= 0 AND reserved >= 0 AND quality_control >= 0 "
            "AND damaged >= 0 AND safety_stock >= 0 AND incoming >= 0",
            name="counters_not_negative",
        ),
        CheckConstraint("quality_control + damaged <= on_hand", name="held_within_on_hand"),
        CheckConstraint(
            "committed + reserved <= on_hand - quality_control - damaged",
            name="never_oversold",
        ),
        CheckConstraint("version >= 0", name="version_not_negative"),
        Index("ix_stock_levels_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    committed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quality_control: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    damaged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    safety_stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    incoming: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A product pulled from sale keeps its stock and commitments but sells nothing more.
    blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    available: Mapped[int] = mapped_column(
        Integer,
        Computed(AVAILABLE_SQL, persisted=True),
    )
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Transfer(Base):
    """Stock shipped from one warehouse to another through the transit location."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("from_warehouse_id <> to_warehouse_id", name="distinct_warehouses"),
        CheckConstraint(
            "status IN ('in_transit', 'partially_received', 'received')", name="status_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    from_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(24))
    shipped_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[TransferLine]] = relationship(order_by="TransferLine.id")


class TransferLine(Base):
    __tablename__ = "transfer_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "received_quantity >= 0 AND received_quantity <= quantity",
            name="received_within_shipped",
        ),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_transfer_lines_lot"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class FixedBin(Base):
    """A product's home bin in a warehouse: putaway goes there first."""

    __tablename__ = "fixed_bins"
    __table_args__ = (UniqueConstraint("product_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceiptStatus(StrEnum):
    OPEN = "open"  # expected, nothing received yet
    RECEIVING = "receiving"  # at least one line booked
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Receipt(Base):
    """An expected inbound delivery: what a supplier will bring to a warehouse, and by when."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'receiving', 'closed', 'cancelled')", name="status_known"
        ),
        CheckConstraint(
            "over_tolerance_pct >= 0 AND over_tolerance_pct <= 1000", name="tolerance_range"
        ),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        Index("ix_receipts_warehouse_status", "warehouse_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # also its barcode
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    supplier_reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    expected_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=ReceiptStatus.OPEN)
    over_tolerance_pct: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    origin: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[ReceiptLine]] = relationship(
        order_by="ReceiptLine.line_no", cascade="all, delete-orphan"
    )


class ReceiptLine(Base):
    __tablename__ = "receipt_lines"
    __table_args__ = (
        CheckConstraint("expected_quantity > 0", name="expected_positive"),
        CheckConstraint("received_quantity >= 0", name="received_not_negative"),
        UniqueConstraint("receipt_id", "product_id"),
        UniqueConstraint("receipt_id", "line_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    expected_quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The supervisor who last let this line go past the receipt's over-receipt tolerance.
    over_approved_by: Mapped[str | None] = mapped_column(String(64))


class CountStatus(StrEnum):
    OPEN = "open"  # waiting for a counter
    RECOUNT = "recount"  # the first count was far off: count again, blind
    PENDING_APPROVAL = "pending_approval"  # variance above the threshold: a supervisor decides
    POSTED = "posted"  # adjustments (if any) are in the ledger
    REJECTED = "rejected"  # a supervisor refused the count; nothing posted
    CANCELLED = "cancelled"


class CountTask(Base):
    """A cycle count of one location: counted blind, compared with the quants, then posted."""

    __tablename__ = "count_tasks"
    __table_args__ = (
        CheckConstraint(
            "status IN ('open', 'recount', 'pending_approval', 'posted', 'rejected', 'cancelled')",
            name="status_known",
        ),
        CheckConstraint("origin IN ('on_demand', 'scheduled')", name="origin_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_count_tasks_warehouse_status", "warehouse_id", "status"),
        Index("ix_count_tasks_location", "location_id"),
        # At most one unfinished count per location.
        Index(
            "uq_count_tasks_active_location",
            "location_id",
            unique=True,
            sqlite_where=text("status IN ('open', 'recount', 'pending_approval')"),
            postgresql_where=text("status IN ('open', 'recount', 'pending_approval')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    status: Mapped[str] = mapped_column(String(20), default=CountStatus.OPEN)
    origin: Mapped[str] = mapped_column(String(16))
    velocity_class: Mapped[str | None] = mapped_column(String(1))  # A, B or C when scheduled
    due_date: Mapped[date] = mapped_column(Date)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_by: Mapped[str | None] = mapped_column(String(64))
    counted_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[CountLine]] = relationship(
        order_by="CountLine.id", cascade="all, delete-orphan"
    )


class CountLine(Base):
    """One product (and lot) found, or expected, in the counted location on one attempt."""

    __tablename__ = "count_lines"
    __table_args__ = (
        CheckConstraint("attempt > 0", name="attempt_positive"),
        CheckConstraint("expected_quantity >= 0", name="expected_not_negative"),
        CheckConstraint("counted_quantity >= 0", name="counted_not_negative"),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_count_lines_lot"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("count_tasks.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    expected_quantity: Mapped[int] = mapped_column(
        Integer
    )  # the quant when the count was submitted
    counted_quantity: Mapped[int] = mapped_column(Integer)
