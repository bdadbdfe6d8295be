"""Suppliers and what they sell: master data, supplier products with quantity price breaks, and
the supplier list with lead times planned against learned (see ``lead_times``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, ValidationFailed
from wms.inventory.catalog import get_product
from wms.inventory.models import Product
from wms.inventory.stock import MAX_QUANTITY
from wms.procurement.lead_times import LeadTimeStats, deliveries, lead_time_stats, pooled
from wms.procurement.models import (
    PurchaseOrder,
    PurchaseOrderStatus,
    Supplier,
    SupplierPriceBreak,
    SupplierProduct,
)
from wms.quality.suppliers import get_supplier

SUPPLIER_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,31}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_LEAD_TIME_DAYS = 365
MAX_PRICE = Decimal("99999999")
MAX_PRICE_BREAKS = 20
__all__ = [
    "LeadTimeStats",
    "PriceBreakView",
    "SupplierProductView",
    "SupplierSummary",
    "SupplierView",
    "create_supplier",
    "lead_time_stats",
    "set_supplier_product",
    "supplier_list",
    "supplier_products",
    "unit_price_for",
    "update_supplier",
]
OPEN_PO_STATUSES = (
    PurchaseOrderStatus.DRAFT,
    PurchaseOrderStatus.APPROVED,
    PurchaseOrderStatus.SENT,
    PurchaseOrderStatus.PARTIALLY_RECEIVED,
)


@dataclass(frozen=True)
class SupplierView:
    code: str
    name: str
    country: str
    city: str
    email: str
    phone: str
    active: bool
    quality_status: str


def _supplier_view(row: Supplier) -> SupplierView:
    return SupplierView(
        row.code,
        row.name,
        row.country,
        row.city,
        row.email,
        row.phone,
        row.active,
        row.quality_status,
    )


def _contact(
    *, name: str | None, country: str | None, email: str | None, phone: str | None
) -> None:
    if name is not None and not 0 < len(name.strip()) <= 200:
        raise ValidationFailed("a supplier needs a name (at most 200 characters)", field="name")
    if country is not None and not COUNTRY.match(country):
        raise ValidationFailed(
            f"country {country!r} is not an ISO 3166 code of two capitals", field="country"
        )
    if email and (len(email) > 200 or not EMAIL.match(email)):
        raise ValidationFailed(f"{email!r} is not an email address", field="email")
    if phone is not None and len(phone) > 40:
        raise ValidationFailed("a phone number has at most 40 characters", field="phone")


def create_supplier(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    country: str,
    city: str = "",
    email: str = "",
    phone: str = "",
) -> SupplierView:
    """Add a supplier (approved for purchasing until the quality module says otherwise)."""
    code = code.strip().upper()
    if not SUPPLIER_CODE.match(code):
        raise ValidationFailed(
            "a supplier code has capitals, digits and - _ . (at most 32)", field="code"
        )
    _contact(name=name, country=country, email=email, phone=phone)
    if len(city) > 80:
        raise ValidationFailed("a city has at most 80 characters", field="city")
    row = Supplier(
        code=code,
        name=name.strip(),
        country=country,
        city=city.strip(),
        email=email.strip(),
        phone=phone.strip(),
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(row)
            uow.session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(f"supplier {code} already exists", field="code") from exc
    return _supplier_view(row)


def update_supplier(
    uow: UnitOfWork,
    *,
    code: str,
    name: str | None = None,
    country: str | None = None,
    city: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    active: bool | None = None,
) -> SupplierView:
    """Change a supplier's name, address, contact or whether it is active; None keeps a value."""
    row = get_supplier(uow.session, code)
    _contact(name=name, country=country, email=email, phone=phone)
    if city is not None and len(city) > 80:
        raise ValidationFailed("a city has at most 80 characters", field="city")
    changes: dict[str, Any] = {
        "name": name.strip() if name is not None else None,
        "country": country,
        "city": city.strip() if city is not None else None,
        "email": email.strip() if email is not None else None,
        "phone": phone.strip() if phone is not None else None,
        "active": active,
    }
    for attribute, value in changes.items():
        if value is not None:
            setattr(row, attribute, value)
    uow.session.flush()
    return _supplier_view(row)


@dataclass(frozen=True)
class PriceBreakView:
    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class SupplierProductView:
    supplier: str
    sku: str
    currency: str
    moq: int
    pack_multiple: int
    lead_time_days: int
    price_breaks: tuple[PriceBreakView, ...]
    capacity_per_week: int | None
    fixed_order_cost: Decimal
    active: bool
    lead_time_samples: int
    lead_time_mean_days: float | None
    lead_time_sd_days: float | None


def _count(value: object, field: str, *, least: int, most: int = MAX_QUANTITY) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise ValidationFailed(
            f"{field} must be a whole number from {least} to {most}", field=field
        )
    return value


def parse_money(value: object, field: str) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationFailed(f"{value!r} is not an amount of money", field=field) from exc
    if not amount.is_finite() or not Decimal(0) <= amount <= MAX_PRICE:
        raise ValidationFailed(f"{field} must be from 0 to {MAX_PRICE}", field=field)
    if amount != amount.quantize(Decimal("0.0001")):
        raise ValidationFailed(f"{field} has more than 4 decimal places", field=field)
    return amount


def _price_breaks(breaks: Sequence[tuple[int, Decimal]]) -> list[tuple[int, Decimal]]:
    if not breaks:
        raise ValidationFailed("give at least one price (from 1 unit up)", field="price_breaks")
    if len(breaks) > MAX_PRICE_BREAKS:
        raise ValidationFailed(f"at most {MAX_PRICE_BREAKS} price breaks", field="price_breaks")
    checked: list[tuple[int, Decimal]] = []
    for index, (min_quantity, price) in enumerate(breaks):
        where = f"price_breaks[{index}]"
        quantity = _count(min_quantity, f"{where}.min_quantity", least=1)
        amount = parse_money(price, f"{where}.unit_price")
        if checked and quantity <= checked[-1][0]:
            raise ValidationFailed(
                f"price breaks must rise: {quantity} units after {checked[-1][0]}",
                field=f"{where}.min_quantity",
            )
        if checked and amount > checked[-1][1]:
            raise ValidationFailed(
                f"a larger quantity must not cost more a unit: {amount} from {quantity} units "
                f"after {checked[-1][1]}",
                field=f"{where}.unit_price",
            )
        checked.append((quantity, amount))
    return checked


def set_supplier_product(
    uow: UnitOfWork,
    *,
    supplier: str,
    sku: str,
    currency: str,
    moq: int,
    pack_multiple: int,
    lead_time_days: int,
    price_breaks: Sequence[tuple[int, Decimal]],
    capacity_per_week: int | None = None,
    fixed_order_cost: Decimal = Decimal(0),
    active: bool = True,
    actor: str = "system",
) -> SupplierProductView:
    """Record (or replace) what a supplier charges for a product and how it must be ordered;
    what was learned about its lead time is kept."""
    session = uow.session
    supplier_row = get_supplier(session, supplier)
    product = get_product(session, sku)
    if not CURRENCY.match(currency):
        raise ValidationFailed(
            f"currency {currency!r} is not an ISO 4217 code of three capitals", field="currency"
        )
    _count(moq, "moq", least=1)
    _count(pack_multiple, "pack_multiple", least=1)
    if isinstance(lead_time_days, int) and lead_time_days < 0:
        raise ValidationFailed(
            f"lead time {lead_time_days} days is negative", field="lead_time_days"
        )
    _count(lead_time_days, "lead_time_days", least=0, most=MAX_LEAD_TIME_DAYS)
    if capacity_per_week is not None:
        _count(capacity_per_week, "capacity_per_week", least=1)
    cost = parse_money(fixed_order_cost, "fixed_order_cost")
    checked = _price_breaks(price_breaks)
    row = session.scalar(
        select(SupplierProduct)
        .where(
            SupplierProduct.supplier_id == supplier_row.id,
            SupplierProduct.product_id == product.id,
        )
        .with_for_update()
    )
    if row is None:
        row = SupplierProduct(supplier_id=supplier_row.id, product_id=product.id)
        session.add(row)
    row.currency = currency
    row.moq = moq
    row.pack_multiple = pack_multiple
    row.lead_time_days = lead_time_days
    row.capacity_per_week = capacity_per_week
    row.fixed_order_cost = cost
    row.active = active
    row.updated_by = actor
    row.updated_at = utcnow()
    row.price_breaks.clear()
    session.flush()  # the old breaks go before the new ones reuse their quantities
    row.price_breaks.extend(SupplierPriceBreak(min_quantity=q, unit_price=p) for q, p in checked)
    session.flush()
    return supplier_product_view(row, supplier_row.code, product.sku)


def supplier_product_view(row: SupplierProduct, supplier: str, sku: str) -> SupplierProductView:
    return SupplierProductView(
        supplier=supplier,
        sku=sku,
        currency=row.currency,
        moq=row.moq,
        pack_multiple=row.pack_multiple,
        lead_time_days=row.lead_time_days,
        price_breaks=tuple(PriceBreakView(b.min_quantity, b.unit_price) for b in row.price_breaks),
        capacity_per_week=row.capacity_per_week,
        fixed_order_cost=row.fixed_order_cost,
        active=row.active,
        lead_time_samples=row.lead_time_samples,
        lead_time_mean_days=row.lead_time_mean_days,
        lead_time_sd_days=row.lead_time_sd_days,
    )


def supplier_products(
    session: Session, *, supplier: str | None = None, sku: str | None = None
) -> list[SupplierProductView]:
    """Supplier products, by supplier and SKU, optionally of one supplier or one SKU."""
    query = (
        select(SupplierProduct, Supplier.code, Product.sku)
        .join(Supplier, Supplier.id == SupplierProduct.supplier_id)
        .join(Product, Product.id == SupplierProduct.product_id)
        .order_by(Supplier.code, Product.sku)
    )
    if supplier is not None:
        query = query.where(SupplierProduct.supplier_id == get_supplier(session, supplier).id)
    if sku is not None:
        query = query.where(SupplierProduct.product_id == get_product(session, sku).id)
    return [supplier_product_view(row, code, s) for row, code, s in session.execute(query)]


def unit_price_for(breaks: Sequence[PriceBreakView], quantity: int) -> Decimal:
    """The all-units price of an order of ``quantity``: the last break it reaches (or the first)."""
    price = breaks[0].unit_price
    for brk in breaks:
        if quantity >= brk.min_quantity:
            price = brk.unit_price
    return price


@dataclass(frozen=True)
class SupplierSummary:
    """A supplier with its lead times over every product it offers, for the planner's list."""

    supplier: SupplierView
    products: int  # active supplier products
    planned_mean_days: float | None  # mean of the planned lead times
    learned_samples: int
    learned_mean_days: float | None
    learned_sd_days: float | None
    deliveries: int
    on_time: int
    open_orders: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.deliveries if self.deliveries else None


def supplier_list(session: Session) -> list[SupplierSummary]:
    """Every supplier with planned against learned lead time, samples and on-time rate."""
    suppliers = session.scalars(select(Supplier).order_by(Supplier.code)).all()
    offers: dict[int, list[SupplierProduct]] = defaultdict(list)
    for row in session.scalars(select(SupplierProduct).where(SupplierProduct.active)):
        offers[row.supplier_id].append(row)
    open_orders: dict[int, int] = {
        row[0]: row[1]
        for row in session.execute(
            select(PurchaseOrder.supplier_id, func.count())
            .where(PurchaseOrder.status.in_(OPEN_PO_STATUSES))
            .group_by(PurchaseOrder.supplier_id)
        )
    }
    received_lines = deliveries(session)
    summaries = []
    for supplier in suppliers:
        rows = offers.get(supplier.id, [])
        samples, mean, sd = pooled(
            [(r.lead_time_samples, r.lead_time_mean_days, r.lead_time_sd_days) for r in rows]
        )
        received = [v for (s, _), v in received_lines.items() if s == supplier.id]
        summaries.append(
            SupplierSummary(
                supplier=_supplier_view(supplier),
                products=len(rows),
                planned_mean_days=(
                    sum(r.lead_time_days for r in rows) / len(rows) if rows else None
                ),
                learned_samples=samples,
                learned_mean_days=mean,
                learned_sd_days=sd,
                deliveries=sum(n for n, _ in received),
                on_time=sum(t for _, t in received),
                open_orders=int(open_orders.get(supplier.id, 0)),
            )
        )
    return summaries
