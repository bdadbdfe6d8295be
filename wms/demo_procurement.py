"""The demo's purchasing picture: what each supplier sells at which price (CNY, quantity breaks,
MOQs and the product's case as the pack), planned lead times with a history learned from past
deliveries, storage capacities of the warehouses, and purchase orders in every state.

Orders go through the purchasing services and are received through the handheld's receiving use
case, so their receipts, ``incoming`` and lead times are what the floor would have made.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from wms.db.uow import UnitOfWork
from wms.inventory.models import Product, ProductPack, StockLevel, Warehouse
from wms.procurement import purchase_orders as po
from wms.procurement import suppliers
from wms.procurement.models import PurchaseOrder, SupplierProduct
from wms.procurement.replenishment import set_storage_capacity
from wms.quality import inbound

# Category: who makes it, CNY base price range, planned lead time range in days.
CATEGORY_SOURCES = {
    "ELC": (("SZ-ANKE", "SZ-LUMEN"), (9.0, 129.0), (14, 28)),
    "HOM": (("YW-JINHUA", "NB-HAITIAN", "SU-MIANFANG", "DG-HUAXIN"), (6.5, 89.0), (10, 24)),
    "BEA": (("GZ-MEILI",), (18.0, 98.0), (10, 21)),
    "FOD": (("HZ-LONGJING", "CD-SHUFENG"), (12.0, 128.0), (7, 14)),
    "BAB": (("SH-BAOBEI",), (68.0, 268.0), (14, 35)),
    "SPT": (("XM-YUNDONG", "QD-HAIER"), (5.5, 96.0), (10, 30)),
}
# Approved suppliers without an inspection spec: their deliveries go to the dock, not to QC,
# so receiving them leaves the quality demo's held lots as they are.
RECEIVED_FROM = ("YW-JINHUA", "NB-HAITIAN", "XM-YUNDONG")
HEADROOM = 2.5  # storage capacity: this many times the volume in stock today


@dataclass
class ProcurementSummary:
    supplier_products: int
    purchase_orders: dict[str, int]


def build_procurement_demo(uow: UnitOfWork, rng: random.Random, today: date) -> ProcurementSummary:
    """Supplier products for every product, warehouse capacities, orders in every state."""
    offers = _supplier_products(uow, rng)
    _storage_capacities(uow)
    orders = _purchase_orders(uow, rng, today, offers)
    return ProcurementSummary(sum(len(v) for v in offers.values()), orders)


def _case(uow: UnitOfWork) -> dict[str, int]:
    rows = uow.session.execute(
        select(Product.sku, func.max(ProductPack.quantity))
        .outerjoin(ProductPack, ProductPack.product_id == Product.id)
        .group_by(Product.sku)
        .order_by(Product.sku)
    ).all()
    return {sku: int(case or 1) for sku, case in rows}


def _breaks(rng: random.Random, price: float, case: int) -> list[tuple[int, Decimal]]:
    levels = [(1, price)]
    for step in range(rng.choice((1, 2))):
        levels.append((case * (10 if step == 0 else 40), price * (0.95 if step == 0 else 0.9)))
    return [(q, Decimal(f"{p:.2f}")) for q, p in levels]


def _supplier_products(uow: UnitOfWork, rng: random.Random) -> dict[str, list[str]]:
    """1-2 suppliers per product; returns SKU -> supplier codes."""
    offers: dict[str, list[str]] = defaultdict(list)
    for sku, case in _case(uow).items():
        makers, (low, high), (fast, slow) = CATEGORY_SOURCES[sku[:3]]
        price = math.exp(rng.uniform(math.log(low), math.log(high)))
        chosen = [rng.choice(makers)]
        others = [m for m in makers if m not in chosen]
        if others and rng.random() < 0.4:
            chosen.append(rng.choice(others))
        for rank, supplier in enumerate(chosen):
            unit = price * (1 if rank == 0 else rng.uniform(0.92, 1.12))
            lead = rng.randint(fast, slow) + (rng.randint(0, 7) if rank else 0)
            suppliers.set_supplier_product(
                uow,
                supplier=supplier,
                sku=sku,
                currency="CNY",
                moq=case * rng.choice((1, 2, 4)),
                pack_multiple=case,
                lead_time_days=min(35, lead),
                price_breaks=_breaks(rng, unit, case),
                capacity_per_week=rng.choice((None, None, None, case * 400)),
                fixed_order_cost=Decimal(rng.choice((0, 50, 80, 120, 200))),
                actor="demo",
            )
            offers[sku].append(supplier)
    _learned_history(uow, rng)
    return offers


def _learned_history(uow: UnitOfWork, rng: random.Random) -> None:
    """Lead times learned from deliveries before the demo's window (as Welford would hold them)."""
    for row in uow.session.scalars(select(SupplierProduct).order_by(SupplierProduct.id)):
        if rng.random() < 0.6:
            samples = rng.randint(3, 12)
            mean = row.lead_time_days * rng.uniform(0.9, 1.35)
            row.lead_time_samples = samples
            row.lead_time_mean_days = round(mean, 2)
            row.lead_time_sd_days = round(mean * rng.uniform(0.05, 0.25), 2)
    uow.session.flush()


def _storage_capacities(uow: UnitOfWork) -> None:
    volume = dict(
        uow.session.execute(
            select(
                Warehouse.code, func.sum(StockLevel.on_hand * func.coalesce(Product.volume_cm3, 0))
            )
            .join(StockLevel, StockLevel.warehouse_id == Warehouse.id)
            .join(Product, Product.id == StockLevel.product_id)
            .group_by(Warehouse.code)
        ).all()
    )
    for code in uow.session.scalars(select(Warehouse.code).order_by(Warehouse.id)):
        used_m3 = float(volume.get(code) or 0) / 1_000_000
        set_storage_capacity(
            uow, warehouse=code, capacity_m3=max(50.0, math.ceil(used_m3 * HEADROOM / 10) * 10)
        )


def _lines(
    rng: random.Random, offers: dict[str, list[str]], supplier: str, count: int
) -> list[po.OrderLineRequest]:
    skus = sorted(sku for sku, makers in offers.items() if supplier in makers)
    picked = rng.sample(skus, min(count, len(skus)))
    return [po.OrderLineRequest(sku, rng.choice((2, 4, 8)) * 12) for sku in picked]


def _draft(
    uow: UnitOfWork,
    rng: random.Random,
    offers: dict[str, list[str]],
    supplier: str,
    warehouse: str,
) -> str:
    return po.create_purchase_order(
        uow,
        supplier=supplier,
        warehouse=warehouse,
        lines=_lines(rng, offers, supplier, rng.randint(2, 4)),
        actor="planner",
        notes="demo order",
    ).code


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _purchase_orders(
    uow: UnitOfWork, rng: random.Random, today: date, offers: dict[str, list[str]]
) -> dict[str, int]:
    # (state, supplier, warehouse); received ones come from suppliers whose lots are not held.
    plan = [
        ("draft", "SZ-ANKE", "CTU"),
        ("draft", "HZ-LONGJING", "WUH"),
        ("approved", "NB-HAITIAN", "SHA"),
        ("approved", "GZ-MEILI", "CAN"),
        ("sent", "SZ-LUMEN", "PEK"),
        ("sent", "SH-BAOBEI", "SHA"),
        ("partially_received", RECEIVED_FROM[0], "CAN"),
        ("received", RECEIVED_FROM[1], "PEK"),
        ("closed", RECEIVED_FROM[2], "CAN"),
        ("cancelled", "DG-HUAXIN", "WUH"),
    ]
    counts: dict[str, int] = defaultdict(int)
    for state, supplier, warehouse in plan:
        code = _draft(uow, rng, offers, supplier, warehouse)
        counts[state] += 1
        if state == "draft":
            continue
        if state == "cancelled":
            po.cancel_purchase_order(uow, code=code, actor="planner")
            continue
        ordered = today - timedelta(days=rng.randint(9, 16))
        _backdate(uow, code, _at(ordered, 9))
        po.approve_purchase_order(uow, code=code, actor="planner", now=_at(ordered, 10))
        if state == "approved":
            continue
        po.send_purchase_order(uow, code=code, actor="planner", now=_at(ordered, 15))
        if state == "sent":
            continue
        _receive(uow, code, today, everything=state == "received")
        if state == "closed":
            po.close_purchase_order(uow, code=code, actor="planner")
    return dict(counts)


def _backdate(uow: UnitOfWork, code: str, when: datetime) -> None:
    """An order written before the demo's today (the services stamp the present)."""
    row = uow.session.scalar(select(PurchaseOrder).where(PurchaseOrder.code == code))
    assert row is not None
    row.created_at = when
    uow.session.flush()


def _receive(uow: UnitOfWork, code: str, today: date, *, everything: bool) -> None:
    """Book what arrived on the PO's receipt, as the handheld does (yesterday morning)."""
    view = po.purchase_order_view(uow.session, code)
    lines = view.lines if everything else view.lines[:1]
    for line in lines:
        inbound.receive_line(
            uow,
            receipt=view.receipts[0],
            sku=line.sku,
            quantity=line.quantity if everything else max(1, line.quantity // 2),
            actor="operator",
            occurred_at=_at(today - timedelta(days=1), 9),
        )
