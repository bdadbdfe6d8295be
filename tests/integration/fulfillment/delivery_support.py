"""A delivery day at a warehouse, seeded through the real services: a parcel product in stock,
storefront orders around Shanghai (some with delivery windows) and a fleet of two vans."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from sqlalchemy import text

from tests import factories
from tests.conftest import Database
from wms.fulfillment import fleet, orders
from wms.fulfillment.delivery_problem import RouteParameters
from wms.fulfillment.views import DeliveryWindow, LineRequest, ShipTo
from wms.inventory import catalog, stock

OWNER = "apikey:shop"
DAY = date(2030, 5, 6)  # a Monday
PARCEL = "PARCEL-M"  # 1.5 kg, 6 litres
HEAVY = "PALLET-X"  # 500 kg: more than any van carries
FAST = RouteParameters(time_limit_seconds=1.0, seed=3)

# Customers around Shanghai: name, latitude, longitude, delivery window (local time) or None.
CUSTOMERS: tuple[tuple[str, float, float, tuple[str, str] | None], ...] = (
    ("Li Na", 31.2354, 121.5058, ("09:00", "12:00")),
    ("Wang Wei", 31.2165, 121.4450, None),
    ("Zhang Min", 31.3830, 121.2500, ("13:00", "17:00")),
    ("Chen Jie", 31.2247, 121.4797, None),
    ("Xu Ting", 31.2856, 121.4590, ("09:00", "11:30")),
    ("Zhao Lei", 31.1930, 121.3360, None),
    ("Sun Yue", 31.3120, 121.5230, ("14:00", "18:00")),
    ("Guo Fang", 31.2580, 121.3950, None),
    ("Huang Mei", 31.1500, 121.4300, ("10:00", "15:00")),
    ("Lin Hao", 31.3400, 121.3800, None),
)


def ship_to(name: str, latitude: float, longitude: float) -> ShipTo:
    return ShipTo(
        name=name,
        address_lines=(f"{len(name) * 11} Test Road",),
        city="Shanghai",
        postal_code="200000",
        country="CN",
        latitude=latitude,
        longitude=longitude,
    )


def window(pair: tuple[str, str] | None) -> DeliveryWindow | None:
    if pair is None:
        return None
    return DeliveryWindow(time.fromisoformat(pair[0]), time.fromisoformat(pair[1]))


def seed_products(db: Database, warehouse: str = "SHA") -> None:
    """The parcel (1.5 kg, 6 litres) and the heavy pallet, in stock at ``warehouse``'s B01."""
    with db.uow() as uow:
        for sku, grams, cm3, name in (
            (PARCEL, 1500, 6000, "Parcel, medium"),
            (HEAVY, 500_000, 1_200_000, "Pallet of tiles"),
        ):
            catalog.create_product(
                uow,
                sku=sku,
                name=name,
                gtin=factories.new_gtin(),
                weight_g=grams,
                volume_cm3=cm3,
            )
            stock.receive(
                uow, sku=sku, quantity=400, warehouse=warehouse, location="B01", actor="seed"
            )
        uow.commit()


def place_order(
    db: Database,
    ref: str,
    customer: tuple[str, float, float, tuple[str, str] | None],
    *,
    sku: str = PARCEL,
    quantity: int = 4,
) -> str:
    """An order of ``quantity`` of ``sku`` for ``customer``; returns its fulfilment id."""
    name, lat, lon, pair = customer
    with db.uow() as uow:
        view = orders.create_order(
            uow,
            owner=OWNER,
            external_ref=ref,
            lines=[LineRequest(sku, quantity)],
            ship_to=ship_to(name, lat, lon),
            delivery_window=window(pair),
        )
        uow.commit()
    (fulfilment,) = view.allocation
    return fulfilment.fulfillment_id


def add_vans(db: Database, warehouse: str = "SHA", *, capacity_kg: float = 40.0) -> None:
    """Two vans, 08:00 to 18:00, 40 kg and 400 litres each, 2.5 a km and 60 a day."""
    with db.uow() as uow:
        for code in ("VAN-1", "VAN-2"):
            fleet.add_vehicle(
                uow,
                warehouse=warehouse,
                code=code,
                name=f"Van {code[-1]}",
                capacity_weight_kg=capacity_kg,
                capacity_volume_cm3=400_000,
                shift_start="08:00",
                shift_end="18:00",
                cost_per_km="2.5",
                fixed_cost="60",
                actor="seed",
            )
        uow.commit()


def delivery_day(db: Database, *, warehouse: str = "SHA", new_warehouse: bool = True) -> list[str]:
    """The warehouse with stock, ten orders of 6 kg (60 kg: more than one van) and two vans;
    returns the fulfilment ids in order."""
    if new_warehouse:
        with db.uow() as uow:
            factories.warehouse(uow, warehouse, bins=2)
            uow.commit()
    seed_products(db, warehouse)
    ids = [place_order(db, f"SHOP-{n:03d}", c) for n, c in enumerate(CUSTOMERS, start=1)]
    add_vans(db, warehouse)
    return ids


def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def eta_events(db: Database) -> list[dict[str, Any]]:
    """The data of every ``fulfillment.eta_updated`` event, in write order."""
    found = rows(
        db, "SELECT data FROM outbox_events WHERE type = 'fulfillment.eta_updated' ORDER BY id"
    )
    return [r.data for r in found]


def routes_picture(db: Database) -> str:
    """Every row planning or dispatching could write, to prove that a refusal wrote nothing."""
    return str(
        db.scalar(
            "SELECT concat_ws('|', "
            "(SELECT string_agg(concat_ws(':', public_id, status, coalesce(dispatched_by, '')), ',' "
            "ORDER BY id) FROM route_plans), (SELECT count(*) FROM route_stops), "
            "(SELECT count(*) FROM route_trips), (SELECT count(*) FROM route_dropped_stops), "
            "(SELECT string_agg(concat_ws(':', code, capacity_weight_kg, shift_start_minute), ',' "
            "ORDER BY id) FROM vehicles), "
            "(SELECT string_agg(concat_ws(':', public_id, coalesce(eta::text, '')), ',' "
            "ORDER BY id) FROM fulfillment_orders), (SELECT count(*) FROM outbox_events))"
        )
    )
