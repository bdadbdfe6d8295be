"""Read side of planning: runs with their progress and answer, proposals with their reasons and
order rules, and the projected stock per SKU and warehouse that the planner UI draws."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from wms.errors import NotFound
from wms.inventory.models import Product, Warehouse
from wms.procurement.models import (
    PlanProposal,
    PlanRun,
    PurchaseOrder,
    Supplier,
    SupplierProduct,
)


class UnknownPlanRun(NotFound):
    code = "unknown_plan_run"

    def __init__(self, run_id: int, *, field: str | None = "run_id") -> None:
        super().__init__(f"no plan run {run_id}", field=field, run_id=run_id)


class UnknownProposal(NotFound):
    code = "unknown_proposal"

    def __init__(self, proposal_id: int, *, field: str | None = "proposal_id") -> None:
        super().__init__(f"no proposal {proposal_id}", field=field, proposal_id=proposal_id)


@dataclass(frozen=True)
class ProposalView:
    id: int
    run_id: int
    sku: str
    name: str
    warehouse: str
    supplier: str
    supplier_name: str
    order_week: int
    order_date: date
    arrival_date: date
    proposed_quantity: int
    quantity: int
    unit_price: Decimal
    currency: str
    reason: str
    shaped_by: tuple[str, ...]
    needed: int | None
    status: str
    purchase_order: str | None
    moq: int | None  # the supplier's order rules, for editing
    pack_multiple: int | None

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def edited(self) -> bool:
        return self.quantity != self.proposed_quantity


def proposal_views(
    session: Session,
    *,
    run_id: int,
    ids: Sequence[int] | None = None,
    statuses: Sequence[str] = (),
    sku: str | None = None,
    warehouse: str | None = None,
) -> list[ProposalView]:
    """A run's proposals by order week, warehouse and SKU, optionally some of them."""
    order = aliased(PurchaseOrder)
    query = (
        select(
            PlanProposal,
            Product.sku,
            Product.name,
            Warehouse.code,
            Supplier.code,
            Supplier.name,
            order.code,
            SupplierProduct.moq,
            SupplierProduct.pack_multiple,
        )
        .join(Product, Product.id == PlanProposal.product_id)
        .join(Warehouse, Warehouse.id == PlanProposal.warehouse_id)
        .join(Supplier, Supplier.id == PlanProposal.supplier_id)
        .outerjoin(order, order.id == PlanProposal.purchase_order_id)
        .outerjoin(
            SupplierProduct,
            (SupplierProduct.supplier_id == PlanProposal.supplier_id)
            & (SupplierProduct.product_id == PlanProposal.product_id),
        )
        .where(PlanProposal.run_id == run_id)
        .order_by(PlanProposal.order_week, Warehouse.code, Product.sku, PlanProposal.id)
    )
    if ids is not None:
        query = query.where(PlanProposal.id.in_(list(ids)))
    if statuses:
        query = query.where(PlanProposal.status.in_(list(statuses)))
    if sku is not None:
        query = query.where(Product.sku == sku)
    if warehouse is not None:
        query = query.where(Warehouse.code == warehouse)
    views = []
    for row, p_sku, name, wh, sup, sup_name, po_code, moq, pack in session.execute(query):
        explanation = row.explanation or {}
        views.append(
            ProposalView(
                id=row.id,
                run_id=row.run_id,
                sku=p_sku,
                name=name,
                warehouse=wh,
                supplier=sup,
                supplier_name=sup_name,
                order_week=row.order_week,
                order_date=row.order_date,
                arrival_date=row.arrival_date,
                proposed_quantity=row.proposed_quantity,
                quantity=row.quantity,
                unit_price=row.unit_price,
                currency=row.currency,
                reason=row.reason,
                shaped_by=tuple(explanation.get("shaped_by") or ()),
                needed=explanation.get("needed"),
                status=row.status,
                purchase_order=po_code,
                moq=moq,
                pack_multiple=pack,
            )
        )
    return views


@dataclass(frozen=True)
class PlanRunView:
    id: int
    status: str
    parameters: dict[str, Any]
    progress_done: int
    progress_total: int
    progress_message: str
    result_status: str | None
    objective: Decimal | None  # in the plan's currency
    bound: Decimal | None
    gap: float | None
    reason: str  # why infeasible or unknown
    method: str
    solve_seconds: float | None
    error: str
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    context: dict[str, Any] = field(default_factory=dict)
    proposals: dict[str, int] = field(default_factory=dict)  # count by status

    @property
    def finished(self) -> bool:
        return self.status in ("succeeded", "failed")


def _run_view(run: PlanRun, counts: dict[str, int]) -> PlanRunView:
    return PlanRunView(
        id=run.id,
        status=run.status,
        parameters=dict(run.parameters),
        progress_done=run.progress_done,
        progress_total=run.progress_total,
        progress_message=run.progress_message,
        result_status=run.result_status,
        objective=run.objective,
        bound=run.bound,
        gap=run.gap,
        reason=run.result_reason,
        method=run.method,
        solve_seconds=run.solve_seconds,
        error=run.error,
        created_by=run.created_by,
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        context=dict(run.context or {}),
        proposals=counts,
    )


def _counts(session: Session, run_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = {run_id: {} for run_id in run_ids}
    for run_id, status, n in session.execute(
        select(PlanProposal.run_id, PlanProposal.status, func.count())
        .where(PlanProposal.run_id.in_(list(run_ids)))
        .group_by(PlanProposal.run_id, PlanProposal.status)
    ):
        counts[run_id][status] = int(n)
    return counts


def plan_run_view(session: Session, run_id: int) -> PlanRunView:
    """A run with its progress, its answer and its proposals counted by status."""
    run = session.get(PlanRun, run_id, populate_existing=True)
    if run is None:
        raise UnknownPlanRun(run_id, field=None)
    return _run_view(run, _counts(session, [run_id])[run_id])


def list_plan_runs(session: Session, *, limit: int = 50) -> list[PlanRunView]:
    """The latest runs first."""
    runs = session.scalars(select(PlanRun).order_by(PlanRun.id.desc()).limit(limit)).all()
    counts = _counts(session, [r.id for r in runs])
    return [_run_view(run, counts[run.id]) for run in runs]


def plan_projections(
    session: Session, *, run_id: int, sku: str | None = None, warehouse: str | None = None
) -> list[dict[str, Any]]:
    """Projected end-of-week stock with and without the plan, against safety stock, per SKU and
    warehouse (weeks start at the run's ``context["week_starts"]``)."""
    run = session.get(PlanRun, run_id)
    if run is None:
        raise UnknownPlanRun(run_id, field=None)
    return [
        p
        for p in run.projections or []
        if (sku is None or p["sku"] == sku) and (warehouse is None or p["warehouse"] == warehouse)
    ]


def plan_summary(session: Session, run_id: int) -> dict[str, Any]:
    """A finished run as plain JSON-able values: status, objective, bound and gap in currency
    units, the reason when there is no plan, and its order lines with their reasons."""
    run = plan_run_view(session, run_id)
    return {
        "run_id": run.id,
        "status": run.result_status or run.status,
        "objective": None if run.objective is None else float(run.objective),
        "bound": None if run.bound is None else float(run.bound),
        "gap": run.gap,
        "reason": run.reason or run.error,
        "currency": run.context.get("currency", run.parameters.get("currency")),
        "lines": [
            {
                "sku": p.sku,
                "warehouse": p.warehouse,
                "supplier": p.supplier,
                "order_week": p.order_week,
                "order_date": p.order_date.isoformat(),
                "quantity": p.quantity,
                "unit_price": float(p.unit_price),
                "reason": p.reason,
            }
            for p in proposal_views(session, run_id=run_id)
        ],
    }
