"""Read side of purchase orders: one order with its lines and receipts, and lists of orders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.errors import NotFound
from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Product, Receipt, Warehouse
from wms.procurement.models import PurchaseOrder, PurchaseOrderLine, Supplier
from wms.quality.suppliers import get_supplier


class UnknownPurchaseOrder(NotFound):
    code = "unknown_purchase_order"

    def __init__(self, purchase_order: str, *, field: str | None = "purchase_order") -> None:
        super().__init__(
            f"no purchase order {purchase_order!r}", field=field, purchase_order=purchase_order
        )


@dataclass(frozen=True)
class PurchaseOrderLineView:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    received: int

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class PurchaseOrderView:
    code: str
    supplier: str
    supplier_name: str
    warehouse: str
    status: str
    currency: str
    expected_date: date
    notes: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    sent_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    plan_run_id: int | None
    receipts: tuple[str, ...]
    lines: tuple[PurchaseOrderLineView, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def purchase_order_view(session: Session, code: str) -> PurchaseOrderView:
    """One purchase order with its lines and the receipts it created."""
    row = session.execute(
        select(PurchaseOrder, Supplier.code, Supplier.name, Warehouse.code)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Warehouse, Warehouse.id == PurchaseOrder.warehouse_id)
        .where(PurchaseOrder.code == code.strip().upper())
    ).first()
    if row is None:
        raise UnknownPurchaseOrder(code)
    order, supplier, supplier_name, warehouse = row
    lines = session.execute(
        select(PurchaseOrderLine, Product.sku, Product.name)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.purchase_order_id == order.id)
        .order_by(PurchaseOrderLine.line_no)
    ).all()
    receipts = session.scalars(
        select(Receipt.code).where(Receipt.origin == order.code).order_by(Receipt.id)
    ).all()
    return PurchaseOrderView(
        code=order.code,
        supplier=supplier,
        supplier_name=supplier_name,
        warehouse=warehouse,
        status=order.status,
        currency=order.currency,
        expected_date=order.expected_date,
        notes=order.notes,
        created_by=order.created_by,
        created_at=order.created_at,
        approved_by=order.approved_by,
        approved_at=order.approved_at,
        sent_at=order.sent_at,
        closed_by=order.closed_by,
        closed_at=order.closed_at,
        plan_run_id=order.plan_run_id,
        receipts=tuple(receipts),
        lines=tuple(
            PurchaseOrderLineView(
                line_no=line.line_no,
                sku=sku,
                name=name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                received=line.received_quantity,
            )
            for line, sku, name in lines
        ),
    )


@dataclass(frozen=True)
class PurchaseOrderSummary:
    code: str
    supplier: str
    supplier_name: str
    warehouse: str
    status: str
    currency: str
    expected_date: date
    created_at: datetime
    lines: int
    quantity: int
    received: int
    total: Decimal


def list_purchase_orders(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    supplier: str | None = None,
    warehouse: str | None = None,
    plan_run_id: int | None = None,
    limit: int = 100,
) -> list[PurchaseOrderSummary]:
    """Purchase orders, the newest first, optionally in some states, of a supplier or warehouse."""
    query = (
        select(
            PurchaseOrder.code,
            Supplier.code.label("supplier"),
            Supplier.name.label("supplier_name"),
            Warehouse.code.label("warehouse"),
            PurchaseOrder.status,
            PurchaseOrder.currency,
            PurchaseOrder.expected_date,
            PurchaseOrder.created_at,
            func.count(PurchaseOrderLine.id).label("lines"),
            func.coalesce(func.sum(PurchaseOrderLine.quantity), 0).label("quantity"),
            func.coalesce(func.sum(PurchaseOrderLine.received_quantity), 0).label("received"),
            func.coalesce(
                func.sum(PurchaseOrderLine.quantity * PurchaseOrderLine.unit_price), 0
            ).label("total"),
        )
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
        .join(Warehouse, Warehouse.id == PurchaseOrder.warehouse_id)
        .outerjoin(PurchaseOrderLine, PurchaseOrderLine.purchase_order_id == PurchaseOrder.id)
        .group_by(PurchaseOrder.id, Supplier.code, Supplier.name, Warehouse.code)
        .order_by(PurchaseOrder.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(PurchaseOrder.status.in_(list(statuses)))
    if supplier is not None:
        query = query.where(PurchaseOrder.supplier_id == get_supplier(session, supplier).id)
    if warehouse is not None:
        query = query.where(PurchaseOrder.warehouse_id == get_warehouse(session, warehouse).id)
    if plan_run_id is not None:
        query = query.where(PurchaseOrder.plan_run_id == plan_run_id)
    return [
        PurchaseOrderSummary(
            **{**row._asdict(), "total": Decimal(str(row.total)).quantize(Decimal("0.0001"))}
        )
        for row in session.execute(query)
    ]
