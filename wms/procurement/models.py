"""Tables of purchasing: suppliers and what they sell at which price, purchase orders, and the
replenishment plan runs with their proposals.

Invariants held by constraints: statuses are known; quantities, MOQs and pack multiples are
positive; prices and costs are not negative; a supplier offers a product once and a quantity
break once; codes are unique; a proposal is ordered exactly when it names its purchase order.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wms.db.base import Base, utcnow

Money = Numeric(12, 4)  # unit prices, in the currency of the row
Total = Numeric(18, 4)  # sums of money (order costs, plan objectives)


def _known(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Supplier(Base):
    __tablename__ = "suppliers"
    __table_args__ = (
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint(
            "quality_status IN ('approved', 'conditional', 'suspended', 'disqualified')",
            name="quality_status_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(80), default="", server_default="")
    email: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Qualification (kept by the quality module): approved, conditional, suspended, disqualified.
    quality_status: Mapped[str] = mapped_column(
        String(16), default="approved", server_default="approved"
    )
    quality_status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    quality_status_changed_by: Mapped[str | None] = mapped_column(String(64))
    quality_status_changed_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierProduct(Base):
    """A supplier's offer of one product: currency, order rules, planned and learned lead time."""

    __tablename__ = "supplier_products"
    __table_args__ = (
        UniqueConstraint("supplier_id", "product_id"),
        CheckConstraint("length(currency) = 3 AND upper(currency) = currency", name="currency_iso"),
        CheckConstraint("moq >= 1", name="moq_positive"),
        CheckConstraint("pack_multiple >= 1", name="pack_multiple_positive"),
        CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
        CheckConstraint(
            "lead_time_samples >= 0 AND (lead_time_samples = 0) = (lead_time_mean_days IS NULL)",
            name="learned_lead_time_consistent",
        ),
        CheckConstraint(
            "lead_time_sd_days IS NULL OR lead_time_sd_days >= 0", name="lead_time_sd_not_negative"
        ),
        CheckConstraint(
            "capacity_per_week IS NULL OR capacity_per_week > 0", name="capacity_positive"
        ),
        CheckConstraint("fixed_order_cost >= 0", name="fixed_order_cost_not_negative"),
        Index("ix_supplier_products_product", "product_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    currency: Mapped[str] = mapped_column(String(3))
    moq: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    pack_multiple: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    lead_time_days: Mapped[int] = mapped_column(Integer)  # planned
    # Learned from deliveries (Welford): how many, their mean and sample standard deviation.
    lead_time_samples: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lead_time_mean_days: Mapped[float | None] = mapped_column(Float)
    lead_time_sd_days: Mapped[float | None] = mapped_column(Float)
    capacity_per_week: Mapped[int | None] = mapped_column(Integer)  # units; None is unlimited
    fixed_order_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    price_breaks: Mapped[list[SupplierPriceBreak]] = relationship(
        order_by="SupplierPriceBreak.min_quantity", cascade="all, delete-orphan"
    )


class SupplierPriceBreak(Base):
    """From ``min_quantity`` units on, every unit of an order costs ``unit_price`` (all units)."""

    __tablename__ = "supplier_price_breaks"
    __table_args__ = (
        UniqueConstraint("supplier_product_id", "min_quantity"),
        CheckConstraint("min_quantity >= 1", name="min_quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_product_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_products.id", ondelete="CASCADE")
    )
    min_quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"  # being written; counts nowhere
    APPROVED = "approved"  # its receipt exists: the quantities count as incoming
    SENT = "sent"  # sent to the supplier
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"  # every line received in full
    CLOSED = "closed"  # finished; what never came left incoming
    CANCELLED = "cancelled"


class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(_known("status", PurchaseOrderStatus), name="status_known"),
        CheckConstraint("length(code) > 0", name="code_not_empty"),
        CheckConstraint("length(currency) = 3 AND upper(currency) = currency", name="currency_iso"),
        CheckConstraint(
            "status IN ('draft', 'cancelled') OR approved_at IS NOT NULL", name="approved_dated"
        ),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_dated"),
        CheckConstraint(
            "(status IN ('closed', 'cancelled')) = (closed_at IS NOT NULL)", name="ended_iff_dated"
        ),
        Index("ix_purchase_orders_supplier_status", "supplier_id", "status"),
        Index("ix_purchase_orders_warehouse_status", "warehouse_id", "status"),
        Index("ix_purchase_orders_plan_run", "plan_run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(20), default=PurchaseOrderStatus.DRAFT)
    currency: Mapped[str] = mapped_column(String(3))
    expected_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    closed_by: Mapped[str | None] = mapped_column(String(64))  # closed or cancelled by
    closed_at: Mapped[datetime | None] = mapped_column()
    plan_run_id: Mapped[int | None] = mapped_column(ForeignKey("plan_runs.id"))

    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        order_by="PurchaseOrderLine.line_no", cascade="all, delete-orphan"
    )


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "product_id"),
        UniqueConstraint("purchase_order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("received_quantity >= 0", name="received_not_negative"),
        CheckConstraint("line_no > 0", name="line_no_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(
        ForeignKey("purchase_orders.id", ondelete="CASCADE")
    )
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # When the first unit of the line was booked: the end of the lead time it taught us.
    first_received_at: Mapped[datetime | None] = mapped_column()


class PlanRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # the solver answered (an infeasible plan is an answer too)
    FAILED = "failed"  # an error stopped the run; see ``error``


class PlanResultStatus(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNKNOWN = "unknown"


class PlanRun(Base):
    """One replenishment planning run: its parameters, live progress, and the solver's answer."""

    __tablename__ = "plan_runs"
    __table_args__ = (
        CheckConstraint(_known("status", PlanRunStatus), name="status_known"),
        CheckConstraint(
            f"result_status IS NULL OR {_known('result_status', PlanResultStatus)}",
            name="result_status_known",
        ),
        CheckConstraint("progress_done >= 0 AND progress_total >= 0", name="progress_not_negative"),
        CheckConstraint("gap IS NULL OR gap >= 0", name="gap_not_negative"),
        CheckConstraint(
            "status <> 'succeeded' OR result_status IS NOT NULL", name="succeeded_has_result"
        ),
        Index("ix_plan_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(12), default=PlanRunStatus.QUEUED)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_message: Mapped[str] = mapped_column(String(200), default="", server_default="")
    result_status: Mapped[str | None] = mapped_column(String(12))
    objective: Mapped[Decimal | None] = mapped_column(Total)  # currency units
    bound: Mapped[Decimal | None] = mapped_column(Total)
    gap: Mapped[float | None] = mapped_column(Float)
    result_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    method: Mapped[str] = mapped_column(String(40), default="", server_default="")
    solve_seconds: Mapped[float | None] = mapped_column(Float)
    # What the plan projects per SKU and warehouse, and what the builder left out and why.
    projections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    ORDERED = "ordered"  # on a purchase order


class PlanProposal(Base):
    """One order line the plan proposes: what, where, from whom, when, how many, and why."""

    __tablename__ = "plan_proposals"
    __table_args__ = (
        CheckConstraint(_known("status", ProposalStatus), name="status_known"),
        CheckConstraint("order_week >= 0", name="order_week_not_negative"),
        CheckConstraint("arrival_date >= order_date", name="arrives_after_order"),
        CheckConstraint("proposed_quantity > 0 AND quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
        CheckConstraint(
            "(status = 'ordered') = (purchase_order_id IS NOT NULL)", name="ordered_iff_on_po"
        ),
        Index("ix_plan_proposals_run_status", "run_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("plan_runs.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    order_week: Mapped[int] = mapped_column(Integer)
    order_date: Mapped[date] = mapped_column(Date)
    arrival_date: Mapped[date] = mapped_column(Date)
    proposed_quantity: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)  # the planner may edit it
    unit_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"shaped_by": [...], "needed"}
    status: Mapped[str] = mapped_column(String(12), default=ProposalStatus.PROPOSED)
    purchase_order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()
