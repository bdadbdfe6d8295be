"""Tables of the outbound side: checkout reservations, orders, fulfilment orders, picks and packages.

State machines are written as CHECK constraints on their status columns and as transition tables
in the services; quantities per line are kept consistent by constraints so no code path can ship
more than was ordered or pick more than a task asked for.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db.base import Base, BigId, utcnow


def _known(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class ReservationStatus(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    COMMITTED = "committed"


class Reservation(Base):
    """A checkout hold: stock taken out of ``available`` until it expires, is released or ordered."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint(_known("status", ReservationStatus), name="status_known"),
        Index("ix_reservations_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[str] = mapped_column(String(64))  # the API key (or user) that holds it
    external_ref: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=ReservationStatus.ACTIVE)
    expires_at: Mapped[datetime] = mapped_column()
    ship_to_latitude: Mapped[float | None] = mapped_column(Float)
    ship_to_longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[ReservationLine]] = relationship(
        order_by="ReservationLine.line_no", cascade="all, delete-orphan"
    )


class ReservationLine(Base):
    __tablename__ = "reservation_lines"
    __table_args__ = (
        UniqueConstraint("reservation_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class OrderStatus(StrEnum):
    RECEIVED = "received"  # accepted, not yet allocated
    ALLOCATED = "allocated"  # every open line has a warehouse and committed stock
    BACKORDERED = "backordered"  # some lines wait for stock
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Order(Base):
    """A storefront order: what the customer bought, where it goes, and by when it was promised."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(_known("status", OrderStatus), name="status_known"),
        UniqueConstraint("owner", "external_ref"),
        CheckConstraint(
            "(delivery_window_from IS NULL) = (delivery_window_to IS NULL) "
            "AND (delivery_window_from IS NULL OR delivery_window_from < delivery_window_to)",
            name="delivery_window_valid",
        ),
        Index("ix_orders_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    owner: Mapped[str] = mapped_column(String(64))
    external_ref: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.RECEIVED)
    ship_to: Mapped[dict[str, object]] = mapped_column(JSON)  # name and postal address
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    promised_by: Mapped[date | None] = mapped_column(Date)
    # When the customer takes deliveries, local time at the shipping warehouse; both or neither.
    delivery_window_from: Mapped[time | None] = mapped_column(Time)
    delivery_window_to: Mapped[time | None] = mapped_column(Time)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )


class OrderLineStatus(StrEnum):
    ALLOCATED = "allocated"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class OrderLine(Base):
    """One SKU of an order. ``warehouse_id`` is where it ships from once allocated.

    ``shipped + cancelled <= quantity``; whatever is neither is open: committed at its warehouse
    while allocated, waiting for stock while backordered.
    """

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint(_known("status", OrderLineStatus), name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "shipped_quantity >= 0 AND cancelled_quantity >= 0 "
            "AND shipped_quantity + cancelled_quantity <= quantity",
            name="quantities_within_line",
        ),
        CheckConstraint(
            "status <> 'allocated' OR warehouse_id IS NOT NULL", name="allocated_has_warehouse"
        ),
        Index("ix_order_lines_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouses.id"))
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.shipped_quantity - self.cancelled_quantity


class FulfillmentStatus(StrEnum):
    RELEASED = "released"  # ready to pick
    PICKING = "picking"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class FulfillmentOrder(Base):
    """The part of an order one warehouse ships: picked, packed and shipped as a unit."""

    __tablename__ = "fulfillment_orders"
    __table_args__ = (
        CheckConstraint(_known("status", FulfillmentStatus), name="status_known"),
        Index("ix_fulfillment_orders_warehouse_status", "warehouse_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # also its barcode
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), default=FulfillmentStatus.RELEASED)
    carrier: Mapped[str | None] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    eta: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    picked_at: Mapped[datetime | None] = mapped_column()
    packed_at: Mapped[datetime | None] = mapped_column()
    shipped_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()

    lines: Mapped[list[FulfillmentLine]] = relationship(
        order_by="FulfillmentLine.id", cascade="all, delete-orphan"
    )


class FulfillmentLine(Base):
    """An order line's quantity to ship from this fulfilment order's warehouse."""

    __tablename__ = "fulfillment_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "picked_quantity >= 0 AND packed_quantity >= 0 AND cancelled_quantity >= 0 "
            "AND packed_quantity <= picked_quantity "
            "AND picked_quantity + cancelled_quantity <= quantity",
            name="quantities_within_line",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fulfillment_order_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillment_orders.id", ondelete="CASCADE")
    )
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    packed_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Taken off this fulfilment by a short pick's resolution (re-allocated or backordered).
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class PickTaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SHORT = "short"  # the bin held less; an exception records the rest
    CANCELLED = "cancelled"


class PickTask(Base):
    """One stop of a pick list: take ``quantity`` of a lot from a bin, in walking order ``seq``."""

    __tablename__ = "pick_tasks"
    __table_args__ = (
        CheckConstraint(_known("status", PickTaskStatus), name="status_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within_task"
        ),
        Index("ix_pick_tasks_fulfillment_seq", "fulfillment_order_id", "seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fulfillment_order_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillment_orders.id", ondelete="CASCADE")
    )
    fulfillment_line_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_lines.id"))
    seq: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default=PickTaskStatus.OPEN)
    picked_by: Mapped[str | None] = mapped_column(String(64))
    picked_at: Mapped[datetime | None] = mapped_column()


class ExceptionStatus(StrEnum):
    OPEN = "open"
    REALLOCATED = "reallocated"
    BACKORDERED = "backordered"


class PickException(Base):
    """A short pick: the bin held less than the pick list asked for; a supervisor resolves it."""

    __tablename__ = "pick_exceptions"
    __table_args__ = (
        CheckConstraint(_known("status", ExceptionStatus), name="status_known"),
        CheckConstraint("short_quantity > 0", name="short_positive"),
        Index("ix_pick_exceptions_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    pick_task_id: Mapped[int] = mapped_column(ForeignKey("pick_tasks.id"))
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    short_quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ExceptionStatus.OPEN)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column()
    note: Mapped[str] = mapped_column(String(255), default="", server_default="")


class Package(Base):
    """A shipping unit with its SSCC (GS1 serial shipping container code, AI 00)."""

    __tablename__ = "packages"
    __table_args__ = (
        CheckConstraint("length(sscc) = 18", name="sscc_length"),
        CheckConstraint("weight_g IS NULL OR weight_g > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fulfillment_order_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_orders.id"))
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    weight_g: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, closed
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()

    items: Mapped[list[PackageItem]] = relationship(
        order_by="PackageItem.id", cascade="all, delete-orphan"
    )


class PackageItem(Base):
    __tablename__ = "package_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    fulfillment_line_id: Mapped[int] = mapped_column(ForeignKey("fulfillment_lines.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class SsccCounter(Base):
    """The serial reference of the last SSCC issued per company prefix (one row, locked to issue)."""

    __tablename__ = "sscc_counters"

    company_prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_serial: Mapped[int] = mapped_column(BigId, default=0)
