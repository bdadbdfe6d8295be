"""Builders for the fulfilment floor's tests: stocked bins and orders through the real services."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, text

from tests import factories
from tests.conftest import Database
from wms.db.uow import UnitOfWork
from wms.fulfillment import orders
from wms.fulfillment.models import FulfillmentOrder, Order
from wms.fulfillment.views import LineRequest, ShipTo
from wms.inventory import catalog, stock
from wms.inventory.models import LocationKind

# A customer in Shanghai: the SHA warehouse is the nearest.
CUSTOMER = ShipTo(
    name="Li Wei",
    address_lines=("88 Century Avenue", "Apt 1203"),
    city="Shanghai",
    postal_code="200120",
    country="CN",
    latitude=31.23,
    longitude=121.50,
)


def warehouse(uow: UnitOfWork, code: str = "SHA", *, bins: int = 4) -> list[str]:
    return factories.warehouse(uow, code, bins=bins)


def placed_bin(uow: UnitOfWork, code: str, x: float, y: float, *, warehouse: str = "SHA") -> str:
    """A storage bin at (x, y) on the floor plan; its barcode is ``<warehouse>-<code>``."""
    catalog.create_location(
        uow,
        warehouse=warehouse,
        code=code,
        name=f"Bin {code}",
        kind=LocationKind.STORAGE,
        parent="STOCK",
        barcode=f"{warehouse}-{code}",
        x=x,
        y=y,
    )
    return code


def put(
    uow: UnitOfWork,
    sku: str,
    location: str,
    quantity: int,
    *,
    lot: str | None = None,
    expiry: date | None = None,
    warehouse: str = "SHA",
) -> None:
    """Stock received straight into a location."""
    stock.receive(
        uow,
        sku=sku,
        quantity=quantity,
        warehouse=warehouse,
        location=location,
        lot=lot,
        expiry_date=expiry,
        actor="seed",
    )


def order(
    uow: UnitOfWork, *lines: tuple[str, int], ref: str = "WEB-1", ship_to: ShipTo = CUSTOMER
) -> str:
    """An order allocated through the order services; returns its first fulfilment's id."""
    view = orders.create_order(
        uow,
        owner="storefront",
        external_ref=ref,
        lines=[LineRequest(sku, quantity) for sku, quantity in lines],
        ship_to=ship_to,
    )
    assert view.allocation, view
    return view.allocation[0].fulfillment_id


def fulfillment_status(db: Database, public_id: str) -> str:
    return str(db.scalar("SELECT status FROM fulfillment_orders WHERE public_id = :p", p=public_id))


def order_of(uow: UnitOfWork, public_id: str) -> Order:
    fo = uow.session.scalar(select(FulfillmentOrder).where(FulfillmentOrder.public_id == public_id))
    assert fo is not None
    row = uow.session.get(Order, fo.order_id)
    assert row is not None
    return row


def events(db: Database, prefix: str = "fulfillment.") -> list[tuple[str, dict[str, Any]]]:
    """Outbox events whose type starts with ``prefix``, in the order they were written."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type, data FROM outbox_events WHERE type LIKE :p ORDER BY id"),
            {"p": prefix + "%"},
        ).all()
    return [(row.type, row.data) for row in rows]


def level(db: Database, sku: str, warehouse: str = "SHA") -> dict[str, int]:
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT on_hand, committed, reserved, available FROM stock_levels sl "
                "JOIN products p ON p.id = sl.product_id JOIN warehouses w ON w.id = sl.warehouse_id "
                "WHERE p.sku = :sku AND w.code = :wh"
            ),
            {"sku": sku, "wh": warehouse},
        ).one()
    return dict(row._mapping)


def quant(db: Database, sku: str, location: str, warehouse: str = "SHA") -> int:
    value = db.scalar(
        "SELECT coalesce(sum(q.quantity), 0) FROM quants q JOIN products p ON p.id = q.product_id "
        "JOIN locations l ON l.id = q.location_id LEFT JOIN warehouses w ON w.id = l.warehouse_id "
        "WHERE p.sku = :sku AND l.code = :loc AND (w.code = :wh OR l.warehouse_id IS NULL)",
        sku=sku,
        loc=location,
        wh=warehouse,
    )
    return int(str(value))
