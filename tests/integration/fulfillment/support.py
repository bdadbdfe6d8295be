"""Stock in three warehouses for the outbound services, and ways to look at what they wrote."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests import factories
from tests.conftest import Database
from wms.fulfillment.views import ShipTo
from wms.inventory import stock

OWNER = "apikey:1"
OTHER = "apikey:2"

# SHA and CAN have MUG and TEA, PEK has PAN; the factories place SHA, CAN, PEK at their cities.
STOCK = {
    ("MUG", "SHA"): 10,
    ("MUG", "CAN"): 10,
    ("TEA", "SHA"): 5,
    ("TEA", "CAN"): 20,
    ("PAN", "PEK"): 4,
}


def ship_to(latitude: float = 31.2, longitude: float = 121.5) -> ShipTo:
    """An address in Shanghai unless told otherwise."""
    return ShipTo(
        name="Li Wei",
        address_lines=("88 Century Avenue",),
        city="Shanghai",
        postal_code="200120",
        country="CN",
        latitude=latitude,
        longitude=longitude,
    )


GUANGZHOU = (23.1, 113.3)


def stock_up(pg: Database) -> Database:
    """Warehouses SHA, CAN and PEK with the ``STOCK`` above in bin B01; SKU NONE has none."""
    with pg.uow() as uow:
        for code in ("SHA", "CAN", "PEK"):
            factories.warehouse(uow, code, bins=2)
        for sku in ("MUG", "TEA", "PAN", "NONE"):
            factories.product(uow, sku)
        for (sku, code), quantity in STOCK.items():
            stock.receive(
                uow, sku=sku, quantity=quantity, warehouse=code, location="B01", actor="test"
            )
        uow.commit()
    return pg


def level(db: Database, sku: str, warehouse: str) -> dict[str, int]:
    """The counters of one stock level."""
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT on_hand, committed, reserved, available, version FROM stock_levels sl "
                "JOIN products p ON p.id = sl.product_id JOIN warehouses w ON w.id = sl.warehouse_id "
                "WHERE p.sku = :sku AND w.code = :wh"
            ),
            {"sku": sku, "wh": warehouse},
        ).one()
    return dict(row._mapping)


def events(db: Database, prefix: str = "") -> list[tuple[str, str, dict[str, Any]]]:
    """Outbox events (type, subject, data) whose type starts with ``prefix``, in write order."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type, subject, data FROM outbox_events WHERE type LIKE :p ORDER BY id"),
            {"p": prefix + "%"},
        ).all()
    return [(r.type, r.subject, r.data) for r in rows]


def levels_picture(db: Database) -> str:
    """Every stock level's counters and version, to prove that nothing changed."""
    return str(
        db.scalar(
            "SELECT string_agg(concat_ws(':', id, version, on_hand, committed, reserved), ',' "
            "ORDER BY id) FROM stock_levels"
        )
    )
