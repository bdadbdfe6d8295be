"""What a replenishment plan reads from the database, as plain values: demand history, sellable
stock, receipts on their way per week, what qualified suppliers offer, and warehouse capacity."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Product, Receipt, ReceiptLine, StockLevel, Warehouse
from wms.inventory.receipts import OPEN_STATUSES
from wms.procurement.models import Supplier, SupplierPriceBreak, SupplierProduct
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.planning.problem import COST_SCALE, PriceBreak, SupplyOption

LEARNED_AFTER = 3  # deliveries before the learned mean lead time replaces the planned one
NOT_PURCHASABLE = ("suspended", "disqualified")
Key = tuple[str, str]  # (sku, warehouse)


def points(amount: Decimal) -> int:
    """Money as the solver's integer cost points."""
    return int((amount * COST_SCALE).to_integral_value())


@dataclass(frozen=True)
class Offer:
    supplier: str
    currency: str
    moq: int
    pack: int
    lead_days: float
    lead_sd_days: float
    capacity_per_week: int | None
    fixed_cost: Decimal
    breaks: tuple[tuple[int, Decimal], ...]

    def option(self) -> SupplyOption:
        return SupplyOption(
            supplier=self.supplier,
            lead_time_weeks=math.ceil(self.lead_days / 7),
            moq=self.moq,
            pack=self.pack,
            price_breaks=tuple(PriceBreak(q, points(p)) for q, p in self.breaks),
            fixed_cost=points(self.fixed_cost),
        )


@dataclass(frozen=True)
class Inputs:
    """Everything a plan needs from the database, as plain values."""

    today: date
    history: dict[Key, list[int]]
    sellable: dict[Key, int]
    incoming: dict[Key, list[int]]
    offers: dict[str, list[Offer]]  # by SKU
    volume_cm3: dict[str, int]  # per unit, by SKU
    capacity_cm3: dict[str, int]  # warehouses with a storage capacity, less what other stock uses
    warehouses: tuple[str, ...]
    ids: dict[str, dict[str, int]]  # "sku", "warehouse", "supplier" -> code -> row id
    left_out: tuple[dict[str, str], ...]
    notes: tuple[str, ...]


def _offers(
    session: Session, currency: str
) -> tuple[dict[str, list[Offer]], list[dict[str, str]], list[str]]:
    rows = session.execute(
        select(SupplierProduct, Supplier, Product.sku)
        .join(Supplier, Supplier.id == SupplierProduct.supplier_id)
        .join(Product, Product.id == SupplierProduct.product_id)
        .where(SupplierProduct.active, Product.active, Product.sales_blocked.is_(False))
        .order_by(Product.sku, Supplier.code)
    ).all()
    breaks: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    for brk in session.scalars(
        select(SupplierPriceBreak).order_by(SupplierPriceBreak.min_quantity)
    ):
        breaks[brk.supplier_product_id].append((brk.min_quantity, brk.unit_price))
    offers: dict[str, list[Offer]] = defaultdict(list)
    left_out: dict[str, dict[str, str]] = {}
    other_currency: set[str] = set()
    for offer, supplier, sku in rows:
        if supplier.quality_status in NOT_PURCHASABLE or not supplier.active:
            why = supplier.quality_status if supplier.active else "inactive"
            left_out[supplier.code] = {
                "supplier": supplier.code,
                "status": why,
                "reason": supplier.quality_status_reason,
            }
            continue
        if offer.currency != currency:
            other_currency.add(f"{supplier.code}/{sku} ({offer.currency})")
            continue
        learned = offer.lead_time_mean_days if offer.lead_time_samples >= LEARNED_AFTER else None
        offers[sku].append(
            Offer(
                supplier=supplier.code,
                currency=offer.currency,
                moq=offer.moq,
                pack=offer.pack_multiple,
                lead_days=float(offer.lead_time_days if learned is None else learned),
                lead_sd_days=float(offer.lead_time_sd_days or 0.0)
                if offer.lead_time_samples >= 2
                else 0.0,
                capacity_per_week=offer.capacity_per_week,
                fixed_cost=offer.fixed_order_cost,
                breaks=tuple(breaks[offer.id]),
            )
        )
    notes = []
    if other_currency:
        notes.append(f"offers not in {currency} left out: {', '.join(sorted(other_currency))}")
    return dict(offers), sorted(left_out.values(), key=lambda d: d["supplier"]), notes


def _incoming(
    session: Session, warehouse_ids: dict[int, str], today: date, weeks: int
) -> dict[Key, list[int]]:
    """What open receipts still bring, per series and week of their expected date (late: now)."""
    rows = session.execute(
        select(
            Product.sku,
            Receipt.warehouse_id,
            Receipt.expected_date,
            ReceiptLine.expected_quantity - ReceiptLine.received_quantity,
        )
        .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
        .join(Product, Product.id == ReceiptLine.product_id)
        .where(
            Receipt.status.in_(OPEN_STATUSES),
            Receipt.warehouse_id.in_(list(warehouse_ids)),
            ReceiptLine.expected_quantity > ReceiptLine.received_quantity,
        )
    ).all()
    incoming: dict[Key, list[int]] = {}
    for sku, warehouse_id, expected, outstanding in rows:
        week = max(0, (expected - today).days // 7)
        if week < weeks:
            series = incoming.setdefault((sku, warehouse_ids[warehouse_id]), [0] * weeks)
            series[week] += int(outstanding)
    return incoming


def load_inputs(session: Session, params: PlanParameters, *, today: date) -> Inputs:
    """Read what a plan needs: history, stock, receipts on their way, offers and capacities."""
    from wms.procurement.demand import weekly_demand

    query = select(Warehouse).where(Warehouse.active).order_by(Warehouse.code)
    if params.warehouse is not None:
        query = query.where(Warehouse.id == get_warehouse(session, params.warehouse).id)
    warehouses = session.scalars(query).all()
    by_id = {w.id: w.code for w in warehouses}
    offers, left_out, notes = _offers(session, params.currency)
    products = session.execute(select(Product.id, Product.sku, Product.volume_cm3)).all()
    volume = {sku: int(v or 0) for _, sku, v in products}
    history = {
        key: list(values)
        for key, values in weekly_demand(
            session, weeks=params.history_weeks, until=today, warehouse=params.warehouse
        ).items()
        if key[1] in by_id.values()
    }
    sellable: dict[Key, int] = {}
    used_cm3: dict[str, int] = defaultdict(int)
    levels = session.execute(
        select(StockLevel, Product.sku)
        .join(Product, Product.id == StockLevel.product_id)
        .where(StockLevel.warehouse_id.in_(list(by_id)))
    ).all()
    for level, sku in levels:
        key = (sku, by_id[level.warehouse_id])
        sellable[key] = max(
            0,
            level.on_hand
            - level.committed
            - level.reserved
            - level.quality_control
            - level.damaged,
        )
        used_cm3[key[1]] += level.on_hand * volume.get(sku, 0)
    suppliers = {row[0]: row[1] for row in session.execute(select(Supplier.code, Supplier.id))}
    capacity = {
        w.code: round(w.storage_capacity_m3 * 1_000_000) - used_cm3[w.code]
        for w in warehouses
        if w.storage_capacity_m3 is not None
    }
    return Inputs(
        today=today,
        history=history,
        sellable=sellable,
        incoming=_incoming(session, by_id, today, params.horizon_weeks),
        offers=offers,
        volume_cm3=volume,
        capacity_cm3=capacity,  # the series' own stock is added back in ``assemble``
        warehouses=tuple(by_id.values()),
        ids={
            "sku": {sku: pid for pid, sku, _ in products},
            "warehouse": {code: wid for wid, code in by_id.items()},
            "supplier": suppliers,
        },
        left_out=tuple(left_out),
        notes=tuple(notes),
    )
