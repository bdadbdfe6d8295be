"""The demo's deliveries: a fleet at each warehouse, a morning's storefront orders around Shanghai
with the customers' delivery windows, and tomorrow's route plans of Shanghai and Guangzhou, solved
and waiting in the planner (Routes) to be dispatched.

One Shanghai customer only takes deliveries late in the evening, after every shift, so the plan
shows a stop it could not route, with the reason, as real days do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select

from wms.db.uow import UnitOfWork
from wms.fulfillment import fleet, orders
from wms.fulfillment.delivery_problem import RouteParameters
from wms.fulfillment.delivery_routes import plan_routes
from wms.fulfillment.views import DeliveryWindow, LineRequest, ShipTo
from wms.inventory.models import Product, StockLevel, Warehouse

# warehouse: (code, name, capacity kg, volume litres or None, shift, cost per km, fixed cost)
FLEETS: dict[str, tuple[tuple[str, str, float, int | None, tuple[str, str], str, str], ...]] = {
    "SHA": (
        ("VAN-1", "Morning run", 900, 8_000, ("08:00", "13:00"), "2.40", "120"),
        ("VAN-2", "Afternoon run", 900, 8_000, ("12:30", "18:00"), "2.40", "120"),
        ("TRK-1", "Box truck", 3_000, 24_000, ("06:30", "15:30"), "4.10", "420"),
    ),
    "CAN": (
        ("VAN-1", "Baiyun van 1", 900, 8_000, ("08:00", "18:00"), "2.30", "170"),
        ("VAN-2", "Baiyun van 2", 900, 8_000, ("09:00", "19:00"), "2.30", "170"),
    ),
    "PEK": (("VAN-1", "Daxing van", 900, 8_000, ("08:00", "18:00"), "2.50", "190"),),
    "CTU": (("VAN-1", "Shuangliu van", 900, 8_000, ("08:30", "18:30"), "2.20", "160"),),
    "WUH": (("VAN-1", "Dongxihu van", 900, 8_000, ("08:30", "18:30"), "2.20", "160"),),
}

# Shanghai customers of the morning: name, street, district, postcode, lat, lon, window or None.
SHANGHAI: tuple[tuple[str, str, str, str, float, float, tuple[str, str] | None], ...] = (
    ("He Jing", "1 Lujiazui Ring Road", "Pudong", "200120", 31.2397, 121.4998, ("09:00", "12:00")),
    ("Ma Lin", "300 Huaihai Middle Road", "Huangpu", "200021", 31.2207, 121.4740, None),
    ("Luo Qing", "1600 Shiji Avenue", "Pudong", "200122", 31.2295, 121.5260, ("14:00", "18:00")),
    ("Tang Yu", "88 Caobao Road", "Xuhui", "200235", 31.1690, 121.4330, None),
    ("Song Jia", "1000 Lanxi Road", "Putuo", "200062", 31.2420, 121.4030, ("10:00", "13:00")),
    ("Feng Rui", "2200 Yan'an West Road", "Changning", "200336", 31.2080, 121.3960, None),
    ("Cao Xin", "58 Guoshun Road", "Yangpu", "200433", 31.3010, 121.5080, ("13:00", "17:00")),
    ("Deng Hui", "1288 Gonghexin Road", "Jing'an", "200072", 31.2790, 121.4560, None),
    ("Peng Lu", "4000 Humin Road", "Minhang", "201102", 31.1150, 121.3830, ("09:00", "11:00")),
    ("Xie Fan", "6 Baoyang Road", "Baoshan", "201900", 31.3890, 121.4890, None),
    ("Yuan Hao", "888 Huyi Highway", "Jiading", "201821", 31.3460, 121.2970, ("15:00", "18:00")),
    ("Wei Ting", "35 Songjiang New Town", "Songjiang", "201620", 31.0320, 121.2270, None),
    ("Night Owl Bar", "12 Yongkang Road", "Xuhui", "200031", 31.2125, 121.4600, ("21:00", "23:30")),
)
ORDERS_AT = "SHA"
PLANNED = (("SHA", 2.0), ("CAN", 1.0))  # warehouse, seconds of search


@dataclass
class RoutesSummary:
    vehicles: int
    orders: int
    plans: list[str]


def _fleets(uow: UnitOfWork) -> int:
    known = set(uow.session.scalars(select(Warehouse.code)))
    added = 0
    for warehouse, vehicles in FLEETS.items():
        if warehouse not in known:
            continue
        for code, name, kg, litres, (start, end), per_km, fixed in vehicles:
            fleet.add_vehicle(
                uow,
                warehouse=warehouse,
                code=code,
                name=name,
                capacity_weight_kg=kg,
                capacity_volume_cm3=None if litres is None else litres * 1000,
                shift_start=start,
                shift_end=end,
                cost_per_km=per_km,
                fixed_cost=fixed,
                actor="demo",
            )
            added += 1
    return added


def _stocked(uow: UnitOfWork, warehouse: str, *, at_least: int) -> list[str]:
    """SKUs the warehouse can sell plenty of."""
    return list(
        uow.session.scalars(
            select(Product.sku)
            .join(StockLevel, StockLevel.product_id == Product.id)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .where(Warehouse.code == warehouse, StockLevel.available >= at_least)
            .order_by(Product.sku)
        )
    )


def _orders(uow: UnitOfWork, rng: random.Random, today: date, *, owner: str) -> int:
    skus = _stocked(uow, ORDERS_AT, at_least=60)
    if len(skus) < 3:
        return 0
    for n, (name, street, district, postcode, lat, lon, window) in enumerate(SHANGHAI, 1):
        orders.create_order(
            uow,
            owner=owner,
            external_ref=f"SHOP-{today:%y%m%d}-R{n:02d}",
            lines=[
                LineRequest(sku, rng.choice((1, 1, 2, 3)))
                for sku in rng.sample(skus, rng.randint(1, 3))
            ],
            ship_to=ShipTo(
                name,
                (street, f"{district} District"),
                "Shanghai",
                postcode,
                "CN",
                lat,
                lon,
                "Shanghai",
            ),
            promised_by=today + timedelta(days=1),
            delivery_window=None
            if window is None
            else DeliveryWindow(time.fromisoformat(window[0]), time.fromisoformat(window[1])),
        )
    return len(SHANGHAI)


def build_routes_demo(
    uow: UnitOfWork, rng: random.Random, today: date, *, owner: str
) -> RoutesSummary:
    """Fleets, the Shanghai orders with delivery windows, and tomorrow's solved route plans."""
    vehicles = _fleets(uow)
    placed = _orders(uow, rng, today, owner=owner)
    known = set(uow.session.scalars(select(Warehouse.code)))
    plans = []
    for warehouse, seconds in PLANNED:
        if warehouse not in known:
            continue
        summary = plan_routes(
            uow,
            warehouse=warehouse,
            on=today + timedelta(days=1),
            time_limit_seconds=seconds,
            seed=7,
            actor="demo",
            parameters=RouteParameters(),
        )
        plans.append(summary.id)
    return RoutesSummary(vehicles, placed, plans)
