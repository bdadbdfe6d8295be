"""The demo database: five regional warehouses, a catalogue, suppliers, users and 90 days of history.

Everything is written through the domain services, so the demo ledger is as trustworthy as a real one.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select

from wms.auth.services import api_key_owner, create_api_key, create_user
from wms.auth.sessions import set_badge, set_pin
from wms.db.base import utcnow
from wms.db.engine import make_session_factory
from wms.db.uow import UnitOfWork
from wms.demo_procurement import build_procurement_demo
from wms.demo_quality import build_quality_demo
from wms.demo_routes import build_routes_demo
from wms.fulfillment import orders, packing, picking, reservations
from wms.fulfillment.delivery_views import list_route_plans
from wms.fulfillment.models import (
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderStatus,
    Reservation,
    ReservationStatus,
)
from wms.fulfillment.views import LineRequest, ShipTo
from wms.inventory import catalog, counts, receipts, stock
from wms.inventory.gtin import make_gtin
from wms.inventory.models import LocationKind, Move, Product, Warehouse
from wms.procurement.models import Supplier
from wms.quality.models import Inspection, QualityBlock

Progress = Callable[[int, str], AbstractContextManager[Callable[[int], None]]]

WAREHOUSES = (
    (
        "SHA",
        "Shanghai Jiading DC",
        "East China",
        "1188 Xingxian Road, Jiading District, Shanghai",
        31.3747,
        121.2655,
        1.00,
    ),
    (
        "CAN",
        "Guangzhou Baiyun DC",
        "South China",
        "28 Airport Logistics Park, Baiyun District, Guangzhou",
        23.3924,
        113.2988,
        0.85,
    ),
    (
        "PEK",
        "Beijing Daxing DC",
        "North China",
        "9 Jinghai Road, Daxing District, Beijing",
        39.7267,
        116.3413,
        0.80,
    ),
    (
        "CTU",
        "Chengdu Shuangliu DC",
        "Southwest China",
        "66 Airport Road, Shuangliu District, Chengdu",
        30.5785,
        103.9471,
        0.55,
    ),
    (
        "WUH",
        "Wuhan Dongxihu DC",
        "Central China",
        "18 Jinyintan Avenue, Dongxihu District, Wuhan",
        30.6502,
        114.2087,
        0.45,
    ),
)

SUPPLIERS = (
    ("SZ-ANKE", "Shenzhen Anke Electronics Co., Ltd.", "Shenzhen"),
    ("DG-HUAXIN", "Dongguan Huaxin Plastics Co., Ltd.", "Dongguan"),
    ("YW-JINHUA", "Yiwu Jinhua Household Goods Co., Ltd.", "Yiwu"),
    ("HZ-LONGJING", "Hangzhou Longjing Tea Co., Ltd.", "Hangzhou"),
    ("NB-HAITIAN", "Ningbo Haitian Kitchenware Co., Ltd.", "Ningbo"),
    ("GZ-MEILI", "Guangzhou Meili Cosmetics Co., Ltd.", "Guangzhou"),
    ("SH-BAOBEI", "Shanghai Baobei Infant Nutrition Co., Ltd.", "Shanghai"),
    ("XM-YUNDONG", "Xiamen Yundong Sporting Goods Co., Ltd.", "Xiamen"),
    ("CD-SHUFENG", "Chengdu Shufeng Foods Co., Ltd.", "Chengdu"),
    ("QD-HAIER", "Qingdao Haiyang Textiles Co., Ltd.", "Qingdao"),
    ("SZ-LUMEN", "Shenzhen Lumen Lighting Co., Ltd.", "Shenzhen"),
    ("SU-MIANFANG", "Suzhou Mianfang Home Textiles Co., Ltd.", "Suzhou"),
)

# category code, name stems, variants, (lot tracked, shelf life days), (weight g, volume cm3), daily demand range
CATEGORIES = (
    (
        "ELC",
        (
            "USB-C Fast Charger 20W",
            "Braided USB-C Cable 1m",
            "Wireless Earbuds",
            "Power Bank 10000mAh",
            "Phone Case",
            "Screen Protector",
            "Bluetooth Speaker",
            "Smart Plug",
        ),
        ("Black", "White", "Blue", "Pink"),
        (False, None),
        (120, 450),
        (0.2, 9.0),
    ),
    (
        "HOM",
        (
            "Ceramic Mug 350ml",
            "Bamboo Cutting Board",
            "Storage Box 12L",
            "Cotton Bath Towel",
            "Stainless Water Bottle 500ml",
            "LED Desk Lamp",
        ),
        ("Grey", "Green", "Natural", "Navy"),
        (False, None),
        (400, 3000),
        (0.1, 5.0),
    ),
    (
        "BEA",
        (
            "Hydrating Face Cream 50ml",
            "Herbal Shampoo 400ml",
            "Sunscreen SPF50 60ml",
            "Sheet Mask 10-pack",
        ),
        ("Standard", "Sensitive", "Travel Size"),
        (True, 730),
        (150, 300),
        (0.3, 6.0),
    ),
    (
        "FOD",
        (
            "West Lake Longjing Tea 100g",
            "Sichuan Pepper Snacks",
            "Wildflower Honey 500g",
            "Instant Noodles 5-pack",
            "Dried Shiitake 200g",
        ),
        ("Classic", "Spicy", "Family Pack"),
        (True, 270),
        (250, 900),
        (0.5, 12.0),
    ),
    (
        "BAB",
        ("Infant Formula Stage 1 800g", "Infant Formula Stage 2 800g", "Rice Cereal 250g"),
        ("Original", "Organic"),
        (True, 540),
        (950, 2200),
        (0.4, 4.0),
    ),
    (
        "SPT",
        ("Yoga Mat 6mm", "Resistance Band Set", "Running Socks 3-pair", "Jump Rope"),
        ("S", "M", "L"),
        (False, None),
        (200, 2500),
        (0.05, 3.0),
    ),
)

DEMO_USERS = (
    ("admin", "Ada Admin", "admin", "admin-demo"),
    ("planner", "Pei Planner", "planner", "planner-demo"),
    ("inspector", "Ivy Inspector", "inspector", "inspector-demo"),
    ("supervisor", "Sui Supervisor", "supervisor", "supervisor-demo"),
    ("operator", "Oscar Operator", "operator", "operator-demo"),
)
# Handheld sign-in: user and PIN, or a badge scan.
DEMO_PINS = {"operator": "1234", "supervisor": "4321", "admin": "9999"}
DEMO_BADGES = {"operator": "BADGE-OSCAR-7F3K", "supervisor": "BADGE-SUI-9Q2M"}
HISTORY_DAYS = 90
AISLES, POSITIONS, LEVELS = 4, 8, 3

# Storefront customers near three of the warehouses, so that the nearest-warehouse policy sends
# each order to that warehouse. Per warehouse: (orders through a reservation, plain orders).
STOREFRONT_ORDERS = {"SHA": (1, 3), "CAN": (1, 2), "PEK": (0, 2)}
CUSTOMERS: dict[str, tuple[ShipTo, ...]] = {
    "SHA": (
        ShipTo(
            "Li Na",
            ("Room 1203, 88 Century Avenue", "Pudong New Area"),
            "Shanghai",
            "200120",
            "CN",
            31.2354,
            121.5058,
            "Shanghai",
        ),
        ShipTo(
            "Wang Wei",
            ("Apt 5-402, 45 Wulumuqi Middle Road", "Xuhui District"),
            "Shanghai",
            "200031",
            "CN",
            31.2165,
            121.4450,
            "Shanghai",
        ),
        ShipTo(
            "Zhang Min",
            ("500 Bole Road", "Jiading District"),
            "Shanghai",
            "201800",
            "CN",
            31.3830,
            121.2500,
            "Shanghai",
        ),
        ShipTo(
            "Chen Jie",
            ("Unit 1701, 1 Huaihai Middle Road", "Huangpu District"),
            "Shanghai",
            "200021",
            "CN",
            31.2247,
            121.4797,
            "Shanghai",
        ),
        ShipTo(
            "Xu Ting",
            ("Building 7, 2000 Gonghexin Road", "Jing'an District"),
            "Shanghai",
            "200072",
            "CN",
            31.2856,
            121.4590,
            "Shanghai",
        ),
    ),
    "CAN": (
        ShipTo(
            "Huang Mei",
            ("Room 1806, 5 Zhujiang West Road", "Tianhe District"),
            "Guangzhou",
            "510623",
            "CN",
            23.1200,
            113.3210,
            "Guangdong",
        ),
        ShipTo(
            "Liang Hao",
            ("18 Dongfeng Middle Road", "Yuexiu District"),
            "Guangzhou",
            "510030",
            "CN",
            23.1290,
            113.2640,
            "Guangdong",
        ),
        ShipTo(
            "Lin Xiaoyu",
            ("Apt 3-1102, 233 Xingang East Road", "Haizhu District"),
            "Guangzhou",
            "510310",
            "CN",
            23.1020,
            113.3340,
            "Guangdong",
        ),
    ),
    "PEK": (
        ShipTo(
            "Zhao Lei",
            ("Apt 2-301, 16 Jianguomenwai Avenue", "Chaoyang District"),
            "Beijing",
            "100022",
            "CN",
            39.9087,
            116.4600,
            "Beijing",
        ),
        ShipTo(
            "Sun Yue",
            ("27 Zhongguancun Street", "Haidian District"),
            "Beijing",
            "100080",
            "CN",
            39.9830,
            116.3160,
            "Beijing",
        ),
        ShipTo(
            "Guo Fang",
            ("Room 608, 9 Financial Street", "Xicheng District"),
            "Beijing",
            "100033",
            "CN",
            39.9152,
            116.3590,
            "Beijing",
        ),
    ),
}
PICKED_AND_PACKED_IN = "SHA"  # one fulfilment picked (ready to pack), one packed (ready to ship)
OPEN_ORDER = (OrderStatus.RECEIVED, OrderStatus.ALLOCATED, OrderStatus.BACKORDERED)
OUTBOUND_STEPS = (  # what the handheld tasks wait on, as the summary names them
    ("to pick", (FulfillmentStatus.RELEASED, FulfillmentStatus.PICKING)),
    ("to pack", (FulfillmentStatus.PICKED,)),
    ("to ship", (FulfillmentStatus.PACKED,)),
)


@dataclass
class DemoSummary:
    database_url: str
    warehouses: list[str]
    products: int
    lot_tracked: int
    suppliers: int
    moves: int
    api_key: str | None = None
    storefront_key: str | None = None
    open_orders: int = 0
    active_reservations: int = 0
    # step ("to pick", "to pack", "to ship") -> warehouse -> fulfilment orders waiting there
    outbound: dict[str, dict[str, int]] = field(default_factory=dict)
    # inspections waiting at each warehouse, inspections decided, products off sale
    inspections_waiting: dict[str, int] = field(default_factory=dict)
    inspections_decided: int = 0
    delisted: list[str] = field(default_factory=list)
    # route plans, latest first: (id, status, stops routed, vehicles used, stops dropped)
    route_plans: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    users: tuple[tuple[str, str, str, str], ...] = DEMO_USERS

    def render(self, *, host: str, port: int) -> str:
        base = f"http://{host}:{port}"
        lines = [
            f"[bold]Demo database[/bold] {self.database_url}",
            f"  warehouses: {', '.join(self.warehouses)}",
            f"  products: {self.products} ({self.lot_tracked} lot-tracked with expiry)",
            f"  suppliers: {self.suppliers}",
            f"  ledger: {self.moves} moves over {HISTORY_DAYS} days",
            "[bold]Logins[/bold] (user / password):",
            *[f"  {u} / {pw}  ({role})" for u, _, role, pw in self.users],
            "[bold]Handheld[/bold] (user / PIN, or scan the badge code):",
            *[
                f"  {u} / {pin}" + (f"  badge {DEMO_BADGES[u]}" if u in DEMO_BADGES else "")
                for u, pin in DEMO_PINS.items()
            ],
        ]
        if self.api_key:
            lines += ["[bold]API key[/bold] (admin scope, shown once):", f"  {self.api_key}"]
        else:
            lines += [
                "[bold]API key[/bold]: create one with `wms apikey create NAME --scope admin`"
            ]
        if self.storefront_key:
            lines += [
                "[bold]Storefront API key[/bold] (storefront scope, shown once):",
                f"  {self.storefront_key}",
            ]
        else:
            lines += [
                "[bold]Storefront API key[/bold]: create one with "
                "`wms apikey create NAME --scope storefront`"
            ]
        lines += [
            "[bold]Outbound[/bold] (storefront orders; handheld Pick, Pack and Ship):",
            f"  open orders: {self.open_orders}, active reservations: {self.active_reservations}",
        ]
        for step, _statuses in OUTBOUND_STEPS:
            waiting = self.outbound.get(step, {})
            where = ", ".join(f"{wh} {n}" for wh, n in sorted(waiting.items())) or "none"
            lines.append(f"  fulfilments {step}: {where}")
        held = ", ".join(f"{wh} {n}" for wh, n in sorted(self.inspections_waiting.items()))
        lines += [
            "[bold]Quality[/bold] (handheld Inspect; planner Suppliers, NCRs):",
            f"  lots inspected: {self.inspections_decided}, waiting for inspection: "
            f"{held or 'none'}",
            f"  off sale: {', '.join(self.delisted) or 'none'}",
        ]
        lines.append("[bold]Delivery routes[/bold] (planner Routes and Fleet; `wms dispatch`):")
        lines += [
            f"  {plan}: {status}, {routed} stops on {used} vehicle{'' if used == 1 else 's'}"
            + (f", {dropped} not routed" if dropped else "")
            for plan, status, routed, used, dropped in self.route_plans
        ] or ["  none yet: `wms dispatch plan --warehouse SHA --date YYYY-MM-DD`"]
        lines += [
            "[bold]URLs[/bold]",
            f"  handheld      {base}/handheld",
            f"  planner       {base}/planner",
            f"  routes        {base}/planner/routes",
            f"  API docs      {base}/docs",
            f"  OpenAPI       {base}/openapi.json",
            f"  stock levels  {base}/api/v1/inventory-levels",
            f"  orders        {base}/api/v1/orders  (storefront key)",
            f"  events        {base}/api/v1/events",
            f"  health        {base}/healthz",
        ]
        return "\n".join(lines)


def describe_existing(engine: Engine) -> DemoSummary | None:
    """A summary of a database that already holds data, or None if it is empty."""
    with UnitOfWork(make_session_factory(engine)) as uow:
        s = uow.session
        warehouses = s.scalars(select(Warehouse.code).order_by(Warehouse.id)).all()
        if not warehouses:
            return None
        return DemoSummary(
            database_url=engine.url.render_as_string(hide_password=True),
            warehouses=list(warehouses),
            products=s.scalar(select(func.count()).select_from(Product)) or 0,
            lot_tracked=s.scalar(
                select(func.count()).select_from(Product).where(Product.lot_tracked)
            )
            or 0,
            suppliers=s.scalar(select(func.count()).select_from(Supplier)) or 0,
            moves=s.scalar(select(func.count()).select_from(Move)) or 0,
            open_orders=s.scalar(
                select(func.count()).select_from(Order).where(Order.status.in_(OPEN_ORDER))
            )
            or 0,
            active_reservations=s.scalar(
                select(func.count())
                .select_from(Reservation)
                .where(
                    Reservation.status == ReservationStatus.ACTIVE,
                    Reservation.expires_at > utcnow(),
                )
            )
            or 0,
            outbound=_outbound(uow),
            inspections_waiting=dict(
                s.execute(
                    select(Warehouse.code, func.count())
                    .join(Inspection, Inspection.warehouse_id == Warehouse.id)
                    .where(Inspection.status.in_(("open", "inspecting")))
                    .group_by(Warehouse.code)
                ).all()
            ),
            inspections_decided=s.scalar(
                select(func.count()).select_from(Inspection).where(Inspection.verdict.is_not(None))
            )
            or 0,
            delisted=list(
                s.scalars(
                    select(Product.sku)
                    .join(QualityBlock, QualityBlock.product_id == Product.id)
                    .where(QualityBlock.status == "active")
                    .order_by(Product.sku)
                )
            ),
            route_plans=[
                (
                    r.plan.id,
                    r.plan.status,
                    r.stops_routed,
                    r.plan.vehicles_used or 0,
                    r.stops_dropped,
                )
                for r in list_route_plans(s, limit=5)
            ],
        )


def _outbound(uow: UnitOfWork) -> dict[str, dict[str, int]]:
    rows = uow.session.execute(
        select(FulfillmentOrder.status, Warehouse.code, func.count())
        .join(Warehouse, Warehouse.id == FulfillmentOrder.warehouse_id)
        .group_by(FulfillmentOrder.status, Warehouse.code)
    ).all()
    waiting: dict[str, dict[str, int]] = {}
    for step, statuses in OUTBOUND_STEPS:
        for status, code, n in rows:
            if status in statuses:
                waiting.setdefault(step, {})
                waiting[step][code] = waiting[step].get(code, 0) + int(n)
    return waiting


@dataclass
class _Item:
    sku: str
    lot_tracked: bool
    shelf_life: int | None
    rate: float  # mean units a day in a warehouse of weight 1.0
    intermittent: bool
    stocked_in: list[str] = field(default_factory=list)


@dataclass
class _Piece:
    bin: str
    lot: str | None
    expiry: date | None
    qty: int


@dataclass
class _World:
    """The generator's own picture of where stock is, so that it only asks for what exists."""

    rng: random.Random
    items: list[_Item]
    bins: dict[str, list[str]]
    stock: defaultdict[tuple[str, str], list[_Piece]] = field(
        default_factory=lambda: defaultdict(list)
    )
    lot_seq: int = 0

    def put(self, wh: str, sku: str, piece: _Piece) -> None:
        for have in self.stock[(wh, sku)]:
            if (have.bin, have.lot) == (piece.bin, piece.lot):
                have.qty += piece.qty
                return
        self.stock[(wh, sku)].append(piece)

    def take(self, wh: str, sku: str, qty: int) -> list[_Piece]:
        """Take up to ``qty`` first-expiry-first-out; returns the pieces taken."""
        taken = []
        for have in sorted(self.stock[(wh, sku)], key=lambda p: (p.expiry or date.max, -p.qty)):
            if qty == 0:
                break
            n = min(have.qty, qty)
            taken.append(_Piece(have.bin, have.lot, have.expiry, n))
            have.qty -= n
            qty -= n
        self.stock[(wh, sku)] = [p for p in self.stock[(wh, sku)] if p.qty > 0]
        return taken

    def on_hand(self, wh: str, sku: str) -> int:
        return sum(p.qty for p in self.stock[(wh, sku)])


def build_demo(engine: Engine, *, seed: int = 7, progress: Progress) -> DemoSummary:
    """Fill an empty database with the demo data set."""
    factory = make_session_factory(engine)
    rng = random.Random(seed)
    with UnitOfWork(factory) as uow:
        bins = _master_data(uow)
        items = _catalogue(uow, rng)
        for username, name, role, password in DEMO_USERS:
            create_user(uow, username=username, display_name=name, role=role, password=password)
        for username, pin in DEMO_PINS.items():
            set_pin(uow, username=username, pin=pin)
        for username, badge in DEMO_BADGES.items():
            set_badge(uow, username=username, badge=badge)
        api_key = create_api_key(uow, name="demo", scopes=["admin"]).key
        shop = create_api_key(uow, name="demo-storefront", scopes=["storefront"])
        uow.commit()
    world = _World(rng=rng, items=items, bins=bins)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=HISTORY_DAYS + 1)  # the last simulated day is yesterday
    with progress(HISTORY_DAYS + 1, "history") as advance:
        with UnitOfWork(factory) as uow:
            _opening_stock(uow, world, start)
            uow.commit()
        advance(1)
        for day in range(1, HISTORY_DAYS + 1):
            with UnitOfWork(factory) as uow:
                _simulate_day(uow, world, start + timedelta(days=day), day)
                uow.commit()
            advance(1)
    with UnitOfWork(factory) as uow:
        _handheld_work(uow, world, today.date())
        uow.commit()
    with UnitOfWork(factory) as uow:
        # Orders belong to the key that sent them (``owner_of`` in the API): the storefront key.
        _storefront_work(uow, world, owner=api_key_owner(shop.id), today=today.date())
        uow.commit()
    with UnitOfWork(factory) as uow:
        build_quality_demo(uow, rng, today.date())
        uow.commit()
    with UnitOfWork(factory) as uow:
        build_procurement_demo(uow, rng, today.date())
        uow.commit()
    with UnitOfWork(factory) as uow:
        build_routes_demo(uow, rng, today.date(), owner=api_key_owner(shop.id))
        uow.commit()
    summary = describe_existing(engine)
    assert summary is not None
    summary.api_key = api_key
    summary.storefront_key = shop.key
    return summary


def _master_data(uow: UnitOfWork) -> dict[str, list[str]]:
    for code, sup_name, city in SUPPLIERS:
        uow.session.add(
            Supplier(
                code=code,
                name=sup_name,
                country="CN",
                city=city,
                email=f"sales@{code.lower().split('-')[1]}.example.cn",
                phone=f"+86 {zlib.crc32(code.encode()) % 900 + 100} {zlib.crc32(city.encode()) % 9000 + 1000} 0000",
            )
        )
    bins: dict[str, list[str]] = {}
    for code, name, region, address, lat, lon, _ in WAREHOUSES:
        catalog.create_warehouse(
            uow,
            code=code,
            name=name,
            region=region,
            address=address,
            latitude=lat,
            longitude=lon,
            time_zone="Asia/Shanghai",
        )
        bins[code] = []
        for aisle in range(1, AISLES + 1):
            aisle_code = f"A{aisle:02d}"
            catalog.create_location(
                uow,
                warehouse=code,
                code=aisle_code,
                name=f"Aisle {aisle}",
                kind=LocationKind.VIEW,
                parent="STOCK",
            )
            for pos in range(1, POSITIONS + 1):
                for level in range(1, LEVELS + 1):
                    bin_code = f"{aisle_code}-{pos:02d}-{level}"
                    catalog.create_location(
                        uow,
                        warehouse=code,
                        code=bin_code,
                        name=f"Bin {bin_code}",
                        kind=LocationKind.STORAGE,
                        parent=aisle_code,
                        barcode=f"{code}-{bin_code}",
                        capacity=400 if level == 1 else 250,
                        # Aisles 3 m apart, bays 1.2 m deep, measured from the receiving dock.
                        x=3.0 * aisle,
                        y=1.2 * pos,
                    )
                    bins[code].append(bin_code)
    return bins


def _catalogue(uow: UnitOfWork, rng: random.Random) -> list[_Item]:
    items: list[_Item] = []
    item_ref = 0
    for cat, stems, variants, (lot_tracked, shelf), (w_lo, w_hi), (d_lo, d_hi) in CATEGORIES:
        for s_index, stem in enumerate(stems):
            for v_index, variant in enumerate(variants):
                for edition in ("", " Pro"):
                    item_ref += 1
                    sku = f"{cat}-{s_index + 1:02d}{v_index + 1:01d}{'P' if edition else 'S'}"
                    ean_body = f"0690{12345:05d}{item_ref:04d}"  # indicator 0, GS1 China prefix 690
                    gtin = make_gtin(ean_body)
                    case_gtin = make_gtin("1" + ean_body[1:])
                    weight = rng.randint(w_lo, w_hi)
                    catalog.create_product(
                        uow,
                        sku=sku,
                        name=f"{stem}{edition} - {variant}",
                        gtin=gtin,
                        weight_g=weight,
                        volume_cm3=int(weight * rng.uniform(1.5, 4.0)),
                        lot_tracked=lot_tracked,
                        shelf_life_days=shelf,
                        packs=[catalog.PackSpec("case", rng.choice((6, 12, 24)), case_gtin)],
                    )
                    rate = math.exp(rng.uniform(math.log(d_lo), math.log(d_hi)))
                    items.append(_Item(sku, lot_tracked, shelf, rate, intermittent=rate < 0.6))
    return items


def _new_lot(world: _World, when: datetime, item: _Item) -> tuple[str | None, date | None]:
    if not item.lot_tracked:
        return None, None
    world.lot_seq += 1
    expiry = (when + timedelta(days=item.shelf_life or 365)).date()
    return f"L{when:%y%m%d}-{world.lot_seq:04d}", expiry


def _receive(
    uow: UnitOfWork, world: _World, wh: str, item: _Item, qty: int, when: datetime, ref: str
) -> None:
    lot, expiry = _new_lot(world, when, item)
    bin_code = world.rng.choice(world.bins[wh])
    stock.receive(
        uow,
        sku=item.sku,
        quantity=qty,
        warehouse=wh,
        location=bin_code,
        lot=lot,
        expiry_date=expiry,
        reference=ref,
        actor="demo",
        occurred_at=when,
    )
    world.put(wh, item.sku, _Piece(bin_code, lot, expiry, qty))


def _opening_stock(uow: UnitOfWork, world: _World, start: datetime) -> None:
    for item in world.items:
        for code, *_rest, weight in WAREHOUSES:
            if world.rng.random() < 0.35 * (1.2 - weight):  # smaller DCs carry fewer lines
                continue
            item.stocked_in.append(code)
            qty = max(10, round(item.rate * weight * world.rng.uniform(20, 35)))
            _receive(uow, world, code, item, qty, start, f"OPEN-{code}")


def _demand(world: _World, item: _Item, weight: float, when: datetime, day: int) -> int:
    weekly = 1.25 if when.weekday() >= 5 else 0.92
    trend = 1.0 + 0.004 * day
    mean = item.rate * weight * weekly * trend
    if item.intermittent:
        return _poisson(world.rng, mean * 4) if world.rng.random() < 0.25 else 0
    return _poisson(world.rng, mean)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _simulate_day(uow: UnitOfWork, world: _World, when: datetime, day: int) -> None:
    rng = world.rng
    weights = {code: w for code, *_rest, w in WAREHOUSES}
    for code, weight in weights.items():
        lines = []
        for item in world.items:
            if code not in item.stocked_in:
                continue
            wanted = _demand(world, item, weight, when, day)
            for piece in world.take(code, item.sku, wanted):
                lines.append(stock.PickedLine(item.sku, piece.qty, piece.bin, piece.lot))
        if lines:
            stock.deliver(
                uow,
                warehouse=code,
                lines=lines,
                reference=f"SO-{code}-{when:%Y%m%d}",
                actor="demo",
                occurred_at=when + timedelta(hours=rng.randint(9, 20)),
            )
        _replenish(uow, world, code, weight, when)
    if day % 7 == 3:
        _cycle_count(uow, world, when)
    if day % 11 == 5:
        _transfer(uow, world, when)


def _replenish(uow: UnitOfWork, world: _World, code: str, weight: float, when: datetime) -> None:
    """A min/max reorder: what the demo's planners did before the optimiser existed."""
    for item in world.items:
        if code not in item.stocked_in:
            continue
        daily = item.rate * weight
        if world.on_hand(code, item.sku) < daily * 7 and world.rng.random() < 0.5:
            qty = max(6, round(daily * world.rng.uniform(18, 28)))
            _receive(
                uow, world, code, item, qty, when + timedelta(hours=8), f"PO-{code}-{when:%Y%m%d}"
            )


def _cycle_count(uow: UnitOfWork, world: _World, when: datetime) -> None:
    rng = world.rng
    for _ in range(6):
        item = rng.choice(world.items)
        if not item.stocked_in:
            continue
        code = rng.choice(item.stocked_in)
        if rng.random() < 0.5 and world.on_hand(code, item.sku) > 3:
            changes = [(p, -p.qty) for p in world.take(code, item.sku, rng.randint(1, 3))]
        elif world.stock[(code, item.sku)]:
            first = world.stock[(code, item.sku)][0]
            found = _Piece(first.bin, first.lot, first.expiry, rng.randint(1, 2))
            world.put(code, item.sku, found)
            changes = [(found, found.qty)]
        else:
            continue
        for piece, delta in changes:
            stock.adjust(
                uow,
                sku=item.sku,
                warehouse=code,
                quantity=delta,
                reason="cycle_count" if delta < 0 else "found",
                location=piece.bin,
                lot=piece.lot,
                reference=f"CC-{when:%Y%m%d}",
                actor="demo",
                occurred_at=when + timedelta(hours=7),
            )


def _transfer(uow: UnitOfWork, world: _World, when: datetime) -> None:
    rng = world.rng
    source, target = "SHA", rng.choice(("CTU", "WUH"))
    lines = []
    for item in rng.sample(world.items, 5):
        if source in item.stocked_in and world.on_hand(source, item.sku) > 40:
            for piece in world.take(source, item.sku, 10):
                lines.append(stock.TransferLineRequest(item.sku, piece.qty, piece.bin, piece.lot))
    if not lines:
        return
    result = stock.ship_transfer(
        uow,
        from_warehouse=source,
        to_warehouse=target,
        lines=lines,
        reference=f"TR-{when:%Y%m%d}",
        actor="demo",
        occurred_at=when,
    )
    if when < datetime.now(UTC) - timedelta(days=4):
        stock.receive_transfer(
            uow, reference=result.reference, actor="demo", occurred_at=when + timedelta(days=2)
        )
        # received goods wait at the target's receiving dock in the demo's picture of the world
        for line in lines:
            item = next(i for i in world.items if i.sku == line.sku)
            if target not in item.stocked_in:
                item.stocked_in.append(target)
            world.put(target, line.sku, _Piece("RECV", line.lot, None, line.quantity))


def _handheld_work(uow: UnitOfWork, world: _World, today: date) -> None:
    """Work waiting on the floor: expected receipts for the coming days, cycle counts that are due."""
    rng = world.rng
    counts.schedule_counts(
        uow, today=today, policy=counts.CountPolicy(max_scheduled_per_warehouse=12)
    )
    codes = [w[0] for w in WAREHOUSES]
    suppliers = [s[0] for s in SUPPLIERS]
    for wh in codes:
        for n in range(3):
            picked = rng.sample(world.items, 4)
            receipts.create_receipt(
                uow,
                warehouse=wh,
                supplier=rng.choice(suppliers),
                expected_date=today + timedelta(days=n),
                supplier_reference=f"ASN-{wh}-{today:%y%m%d}-{n + 1}",
                lines=[
                    receipts.ReceiptLineRequest(item.sku, rng.choice((12, 24, 48, 60, 120)))
                    for item in picked
                ],
                actor="demo",
            )


def _pickable(world: _World, wh: str, *, at_least: int) -> list[_Item]:
    """Items the warehouse holds in its storage bins (not at the dock), plenty of each."""
    return [
        item
        for item in world.items
        if sum(p.qty for p in world.stock[(wh, item.sku)] if p.bin != "RECV") >= at_least
    ]


def _storefront_work(uow: UnitOfWork, world: _World, *, owner: str, today: date) -> None:
    """Storefront orders waiting on the floor, sent through the same services as the API's.

    In each of three warehouses a few open orders near it (some converted from a checkout
    reservation), released for picking; in one of them one order already picked (ready to pack)
    and one packed (ready to ship); and two checkout reservations still holding stock.
    """
    rng = world.rng
    number = 0
    released: dict[str, list[str]] = {}
    for wh, (reserved, plain) in STOREFRONT_ORDERS.items():
        pickable = _pickable(world, wh, at_least=20)
        customers = CUSTOMERS[wh]
        for n in range(reserved + plain):
            number += 1
            ship_to = customers[n % len(customers)]
            # Two or three lines where some are picked and packed, so that they show a walk.
            fewest = 2 if wh == PICKED_AND_PACKED_IN else 1
            lines = [
                LineRequest(item.sku, rng.choice((1, 1, 2, 3)))
                for item in rng.sample(pickable, rng.randint(fewest, 3))
            ]
            ref = f"SHOP-{today:%y%m%d}-{number:03d}"
            reservation_id = None
            if n < reserved:
                reservation_id = reservations.create_reservation(
                    uow,
                    owner=owner,
                    external_ref=f"cart-{ref}",
                    lines=lines,
                    ttl_seconds=1800,
                    ship_to=(ship_to.latitude, ship_to.longitude),
                ).id
            order = orders.create_order(
                uow,
                owner=owner,
                external_ref=ref,
                lines=lines,
                ship_to=ship_to,
                reservation_id=reservation_id,
                promised_by=today + timedelta(days=rng.randint(2, 4)),
            )
            for shipment in order.allocation:
                released.setdefault(shipment.warehouse, []).append(shipment.fulfillment_id)
    to_pack, to_ship = released[PICKED_AND_PACKED_IN][-2:]
    for fulfillment_id in (to_pack, to_ship):
        _pick(uow, fulfillment_id)
    _pack(uow, to_ship)
    for wh, hours in (("SHA", 12), ("PEK", 24)):
        ship_to = CUSTOMERS[wh][-1]
        item = rng.choice(_pickable(world, wh, at_least=20))
        reservations.create_reservation(
            uow,
            owner=owner,
            external_ref=f"cart-{wh.lower()}-{rng.randint(10000, 99999)}",
            lines=[LineRequest(item.sku, rng.randint(1, 2))],
            ttl_seconds=hours * 3600,  # long holds, so that they are still there to look at
            ship_to=(ship_to.latitude, ship_to.longitude),
        )


def _pick(uow: UnitOfWork, fulfillment_id: str) -> None:
    """Walk the pick list as the handheld does: scan each stop's bin, item and lot."""
    listed = picking.pick_list(uow, fulfillment_id, actor="operator")
    for stop in listed.stops:
        picking.confirm_pick(
            uow,
            stop.task_id,
            bin_barcode=stop.bin_label,
            item=stop.gtin or stop.sku,
            lot=stop.lot,
            quantity=stop.remaining,
            actor="operator",
        )


def _pack(uow: UnitOfWork, fulfillment_id: str) -> None:
    """Pack every picked unit into one carton and weigh it."""
    package = packing.open_package(uow, fulfillment_id, actor="operator")
    grams = 180  # the carton
    for left in packing.packing_view(uow.session, fulfillment_id).to_pack:
        packing.pack_item(
            uow,
            package.sscc,
            item=left.sku,
            lot=left.lot,
            quantity=left.remaining,
            actor="operator",
        )
        product = uow.session.scalar(select(Product).where(Product.sku == left.sku))
        grams += (product.weight_g if product and product.weight_g else 250) * left.remaining
    packing.close_package(uow, package.sscc, weight_g=grams, actor="operator")
