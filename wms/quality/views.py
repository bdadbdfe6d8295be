"""Read side of the quality module: inspections with their plans and findings, NCRs with their
corrective actions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from wms.db.base import utcnow
from wms.errors import NotFound
from wms.inventory.catalog import get_warehouse
from wms.inventory.models import Lot, Product, Receipt, Warehouse
from wms.procurement.models import Supplier
from wms.quality.inspections import UnknownInspection, class_counts, sample_positions
from wms.quality.models import (
    CorrectiveAction,
    Finding,
    Inspection,
    NonconformanceReport,
    SupplierReturn,
)
from wms.quality.ncr import UnknownNcr


@dataclass(frozen=True)
class FindingView:
    id: int
    unit: int | None
    position: int | None  # the unit's position in the lot
    defect_class: str
    note: str
    has_photo: bool
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class InspectionView:
    code: str
    status: str
    warehouse: str
    receipt: str | None
    supplier: str
    supplier_name: str
    sku: str
    product_name: str
    lot: str | None
    expiry_date: date | None
    quantity: int
    level: str
    standard: str
    sample_size: int
    plans: dict[str, dict[str, Any]]
    units: list[int]  # positions in the lot to sample, in draw order
    counts: dict[str, int]
    findings: list[FindingView]
    verdict: str | None
    verdict_detail: dict[str, Any] | None
    disposition: str | None
    approved_by: str | None
    return_code: str | None
    resubmission_of: str | None
    created_at: datetime
    decided_at: datetime | None
    disposed_at: datetime | None

    @property
    def whole_lot(self) -> bool:
        return self.sample_size >= self.quantity


def inspection_view(session: Session, code: str) -> InspectionView:
    """One inspection, with the units to sample and what was found."""
    previous = aliased(Inspection)
    row = session.execute(
        select(
            Inspection,
            Warehouse.code,
            Receipt.code,
            Supplier.code,
            Supplier.name,
            Product.sku,
            Product.name,
            Lot.code,
            Lot.expiry_date,
            SupplierReturn.code,
            previous.code,
        )
        .join(Warehouse, Warehouse.id == Inspection.warehouse_id)
        .join(Supplier, Supplier.id == Inspection.supplier_id)
        .join(Product, Product.id == Inspection.product_id)
        .outerjoin(Receipt, Receipt.id == Inspection.receipt_id)
        .outerjoin(Lot, Lot.id == Inspection.lot_id)
        .outerjoin(SupplierReturn, SupplierReturn.inspection_id == Inspection.id)
        .outerjoin(previous, previous.id == Inspection.resubmission_of_id)
        .where(Inspection.code == code.strip().upper())
    ).first()
    if row is None:
        raise UnknownInspection(code)
    ins = row[0]
    units = sample_positions(ins.quantity, ins.sample_size, ins.seed)
    findings = list(
        session.scalars(select(Finding).where(Finding.inspection_id == ins.id).order_by(Finding.id))
    )
    return InspectionView(
        code=ins.code,
        status=ins.status,
        warehouse=row[1],
        receipt=row[2],
        supplier=row[3],
        supplier_name=row[4],
        sku=row[5],
        product_name=row[6],
        lot=row[7],
        expiry_date=row[8],
        quantity=ins.quantity,
        level=ins.level,
        standard=ins.standard,
        sample_size=ins.sample_size,
        plans=ins.plans,
        units=units,
        counts=class_counts(ins.plans, findings),
        findings=[
            FindingView(
                id=f.id,
                unit=f.unit_index or None,
                position=units[f.unit_index - 1] if f.unit_index else None,
                defect_class=f.defect_class,
                note=f.note,
                has_photo=f.photo is not None,
                recorded_by=f.recorded_by,
                recorded_at=f.recorded_at,
            )
            for f in findings
        ],
        verdict=ins.verdict,
        verdict_detail=ins.verdict_detail,
        disposition=ins.disposition,
        approved_by=ins.approved_by,
        return_code=row[9],
        resubmission_of=row[10],
        created_at=ins.created_at,
        decided_at=ins.decided_at,
        disposed_at=ins.disposed_at,
    )


@dataclass(frozen=True)
class InspectionSummary:
    code: str
    status: str
    warehouse: str
    supplier: str
    sku: str
    lot: str | None
    quantity: int
    sample_size: int
    verdict: str | None
    disposition: str | None
    created_at: datetime


def list_inspections(
    session: Session,
    *,
    warehouse: str | None = None,
    statuses: Sequence[str] = (),
    supplier: str | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[InspectionSummary]:
    """Inspections, the oldest first (the floor's order) or with ``newest_first`` the latest."""
    stmt = (
        select(
            Inspection.code,
            Inspection.status,
            Warehouse.code.label("warehouse"),
            Supplier.code.label("supplier"),
            Product.sku,
            Lot.code.label("lot"),
            Inspection.quantity,
            Inspection.sample_size,
            Inspection.verdict,
            Inspection.disposition,
            Inspection.created_at,
        )
        .join(Warehouse, Warehouse.id == Inspection.warehouse_id)
        .join(Supplier, Supplier.id == Inspection.supplier_id)
        .join(Product, Product.id == Inspection.product_id)
        .outerjoin(Lot, Lot.id == Inspection.lot_id)
        .order_by(
            *(
                (Inspection.created_at.desc(), Inspection.id.desc())
                if newest_first
                else (Inspection.created_at, Inspection.id)
            )
        )
        .limit(limit)
    )
    if warehouse:
        stmt = stmt.where(Inspection.warehouse_id == get_warehouse(session, warehouse).id)
    if statuses:
        stmt = stmt.where(Inspection.status.in_(list(statuses)))
    if supplier:
        stmt = stmt.where(Supplier.code == supplier)
    return [InspectionSummary(**r._asdict()) for r in session.execute(stmt).all()]


def finding_photo(session: Session, code: str, finding_id: int) -> tuple[bytes, str]:
    """The photo of a finding, with its content type."""
    row = session.execute(
        select(Finding.photo, Finding.photo_type)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .where(Inspection.code == code.strip().upper(), Finding.id == finding_id)
    ).first()
    if row is None or row.photo is None:
        raise NotFound(f"inspection {code} has no photo {finding_id}", field="finding")
    return bytes(row.photo), str(row.photo_type)


@dataclass(frozen=True)
class ActionView:
    id: int
    description: str
    owner: str
    due_date: date
    status: str
    resolution: str
    overdue: bool
    closed_at: datetime | None


@dataclass(frozen=True)
class NcrView:
    code: str
    kind: str
    status: str
    title: str
    description: str
    sku: str | None
    supplier: str | None
    inspection: str | None
    created_by: str
    created_at: datetime
    closed_at: datetime | None
    actions: list[ActionView] = field(default_factory=list)


def _ncr_stmt() -> Any:
    return (
        select(NonconformanceReport, Product.sku, Supplier.code, Inspection.code)
        .outerjoin(Product, Product.id == NonconformanceReport.product_id)
        .outerjoin(Supplier, Supplier.id == NonconformanceReport.supplier_id)
        .outerjoin(Inspection, Inspection.id == NonconformanceReport.inspection_id)
    )


def _ncr_views(session: Session, rows: Sequence[Any]) -> list[NcrView]:
    ids = [r[0].id for r in rows]
    today = utcnow().date()
    actions: dict[int, list[ActionView]] = {i: [] for i in ids}
    for a in session.scalars(
        select(CorrectiveAction)
        .where(CorrectiveAction.ncr_id.in_(ids))
        .order_by(CorrectiveAction.due_date, CorrectiveAction.id)
    ):
        actions[a.ncr_id].append(
            ActionView(
                id=a.id,
                description=a.description,
                owner=a.owner,
                due_date=a.due_date,
                status=a.status,
                resolution=a.resolution,
                overdue=a.status == "open" and a.due_date < today,
                closed_at=a.closed_at,
            )
        )
    return [
        NcrView(
            code=n.code,
            kind=n.kind,
            status=n.status,
            title=n.title,
            description=n.description,
            sku=sku,
            supplier=supplier,
            inspection=inspection,
            created_by=n.created_by,
            created_at=n.created_at,
            closed_at=n.closed_at,
            actions=actions[n.id],
        )
        for n, sku, supplier, inspection in rows
    ]


def ncr_view(session: Session, code: str) -> NcrView:
    """One report with its corrective actions."""
    rows = session.execute(
        _ncr_stmt().where(NonconformanceReport.code == code.strip().upper())
    ).all()
    if not rows:
        raise UnknownNcr(code)
    return _ncr_views(session, rows)[0]


def list_ncrs(
    session: Session,
    *,
    status: str | None = None,
    supplier: str | None = None,
    kind: str | None = None,
    limit: int = 100,
) -> list[NcrView]:
    """Reports, the newest first."""
    stmt = _ncr_stmt().order_by(NonconformanceReport.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(NonconformanceReport.status == status)
    if kind:
        stmt = stmt.where(NonconformanceReport.kind == kind)
    if supplier:
        stmt = stmt.where(Supplier.code == supplier)
    return _ncr_views(session, session.execute(stmt).all())
