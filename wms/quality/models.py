"""Tables of the quality module: inspection specs, switching states, inspections and their
findings, returns to suppliers, nonconformance reports with corrective actions, supplier
certificates and audits, and quality blocks (delisting).

Invariants held by constraints: an inspection moves only between known states and its disposition
matches its verdict; a finding belongs to a sampled unit (1..sample size); a switching state names a
known severity and keeps its counters in range; at most one active block per product.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from wms.db.base import Base, utcnow


class SupplierStatus(StrEnum):
    APPROVED = "approved"  # fully qualified
    CONDITIONAL = "conditional"  # may deliver; every lot is inspected
    SUSPENDED = "suspended"  # no new purchases until requalified
    DISQUALIFIED = "disqualified"


class DefectClass(StrEnum):
    CRITICAL = "critical"  # hazardous or unusable: no unit with one is accepted
    MAJOR = "major"
    MINOR = "minor"


class InspectionStatus(StrEnum):
    OPEN = "open"  # held, plan drawn, no result recorded yet (the lot may still grow)
    INSPECTING = "inspecting"  # results are being recorded
    ACCEPTED = "accepted"  # verdict: accept; waiting for release
    REJECTED = "rejected"  # verdict: reject; waiting for a disposition
    CLOSED = "closed"  # disposition done
    CANCELLED = "cancelled"


class Disposition(StrEnum):
    ACCEPT = "accept"  # release to putaway
    RETURN = "return"  # back to the supplier on a return document
    SCRAP = "scrap"
    REWORK = "rework"  # stays held; a resubmitted inspection follows
    USE_AS_IS = "use_as_is"  # released under a concession someone approved


def _known(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class InspectionSpec(Base):
    """Whether and how lots are inspected: for a product, a supplier, or a supplier's product.

    The most specific spec wins (supplier and product, then product, then supplier)."""

    __tablename__ = "inspection_specs"
    __table_args__ = (
        CheckConstraint(
            "product_id IS NOT NULL OR supplier_id IS NOT NULL", name="names_product_or_supplier"
        ),
        CheckConstraint("level IN ('S-1','S-2','S-3','S-4','I','II','III')", name="level_known"),
        CheckConstraint("standard IN ('iso2859-1','z14')", name="standard_known"),
        Index(
            "uq_inspection_specs_pair",
            "product_id",
            "supplier_id",
            unique=True,
            sqlite_where=text("product_id IS NOT NULL AND supplier_id IS NOT NULL"),
            postgresql_where=text("product_id IS NOT NULL AND supplier_id IS NOT NULL"),
        ),
        Index(
            "uq_inspection_specs_product",
            "product_id",
            unique=True,
            sqlite_where=text("supplier_id IS NULL"),
            postgresql_where=text("supplier_id IS NULL"),
        ),
        Index(
            "uq_inspection_specs_supplier",
            "supplier_id",
            unique=True,
            sqlite_where=text("product_id IS NULL"),
            postgresql_where=text("product_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    level: Mapped[str] = mapped_column(String(4), default="II", server_default="II")
    major_aql: Mapped[str] = mapped_column(String(8), default="1.0", server_default="1.0")
    minor_aql: Mapped[str] = mapped_column(String(8), default="4.0", server_default="4.0")
    standard: Mapped[str] = mapped_column(
        String(12), default="iso2859-1", server_default="iso2859-1"
    )
    # The responsible authority allows reduced inspection once the switching score allows it.
    reduced_allowed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SwitchingStateRow(Base):
    """Where one supplier's product stands in the switching rules, per defect class."""

    __tablename__ = "switching_states"
    __table_args__ = (
        CheckConstraint(
            "severity IN ('normal','tightened','reduced','discontinued')", name="severity_known"
        ),
        CheckConstraint(_known("defect_class", DefectClass), name="defect_class_known"),
        CheckConstraint(
            "consecutive_accepted >= 0 AND not_accepted_in_tightened >= 0 AND switching_score >= 0",
            name="counters_not_negative",
        ),
        UniqueConstraint("supplier_id", "product_id", "defect_class"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    defect_class: Mapped[str] = mapped_column(String(8))
    severity: Mapped[str] = mapped_column(String(12), default="normal", server_default="normal")
    # Outcomes of recent lots on original inspection, oldest first: "A" accepted, "R" not.
    recent: Mapped[str] = mapped_column(String(16), default="", server_default="")
    consecutive_accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_accepted_in_tightened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    switching_score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SwitchingEvent(Base):
    """A switch between severities, for the audit trail and the supplier's page."""

    __tablename__ = "switching_events"
    __table_args__ = (Index("ix_switching_events_supplier_product", "supplier_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    defect_class: Mapped[str] = mapped_column(String(8))
    from_severity: Mapped[str] = mapped_column(String(12))
    to_severity: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(255))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class Inspection(Base):
    """The sampling inspection of one inbound lot held in quality control."""

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(_known("status", InspectionStatus), name="status_known"),
        CheckConstraint(
            f"disposition IS NULL OR {_known('disposition', Disposition)}",
            name="disposition_known",
        ),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("sample_size > 0 AND sample_size <= quantity", name="sample_within_lot"),
        CheckConstraint(
            "(status = 'closed') = (disposition IS NOT NULL)", name="closed_iff_disposed"
        ),
        CheckConstraint(
            "disposition IS NULL OR (verdict = 'accepted' AND disposition = 'accept') "
            "OR (verdict = 'rejected' AND disposition <> 'accept')",
            name="disposition_matches_verdict",
        ),
        CheckConstraint(
            "verdict IS NULL OR verdict IN ('accepted', 'rejected')", name="verdict_known"
        ),
        CheckConstraint(
            "disposition IS NULL OR disposition <> 'use_as_is' OR approved_by IS NOT NULL",
            name="concession_approved",
        ),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_inspections_lot"
        ),
        Index("ix_inspections_warehouse_status", "warehouse_id", "status"),
        Index("ix_inspections_supplier_product", "supplier_id", "product_id"),
        Index("ix_inspections_receipt", "receipt_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))  # the qc_hold it sits in
    quantity: Mapped[int] = mapped_column(Integer)  # the lot size held for this inspection
    status: Mapped[str] = mapped_column(String(12), default=InspectionStatus.OPEN)
    level: Mapped[str] = mapped_column(String(4))
    standard: Mapped[str] = mapped_column(String(12))
    # Per defect class: {"critical": {...plan}, "major": {...}, "minor": {...}}
    plans: Mapped[dict[str, Any]] = mapped_column(JSON)
    sample_size: Mapped[int] = mapped_column(Integer)  # the largest plan's sample: units to draw
    seed: Mapped[int] = mapped_column(Integer)  # draws the sampled unit positions reproducibly
    verdict: Mapped[str | None] = mapped_column(String(12))
    verdict_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    disposition: Mapped[str | None] = mapped_column(String(12))
    disposition_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    resubmission_of_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    inspected_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()
    disposed_by: Mapped[str | None] = mapped_column(String(64))
    disposed_at: Mapped[datetime | None] = mapped_column()


class Finding(Base):
    """One nonconformity found on one sampled unit."""

    __tablename__ = "inspection_findings"
    __table_args__ = (
        CheckConstraint("unit_index >= 0", name="unit_index_not_negative"),
        CheckConstraint(_known("defect_class", DefectClass), name="defect_class_known"),
        Index("ix_inspection_findings_inspection", "inspection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"))
    # 1..sample size in draw order; 0 when the unit was not recorded (it counts as its own unit)
    unit_index: Mapped[int] = mapped_column(Integer)
    defect_class: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierReturn(Base):
    """A return-to-supplier document: rejected stock leaving for the supplier."""

    __tablename__ = "supplier_returns"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        ForeignKeyConstraint(
            ["lot_id", "product_id"], ["lots.id", "lots.product_id"], name="fk_supplier_returns_lot"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    lot_id: Mapped[int | None] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NonconformanceReport(Base):
    """An NCR: what was wrong, found where; corrective actions hang off it."""

    __tablename__ = "nonconformance_reports"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint(
            "kind IN ('rejection', 'discontinuation', 'delisting', 'manual')", name="kind_known"
        ),
        Index("ix_nonconformance_reports_supplier", "supplier_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id"))
    # What closing it undoes: a discontinuation resumes inspection, a delisting relists.
    kind: Mapped[str] = mapped_column(String(16), default="manual", server_default="manual")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class CorrectiveAction(Base):
    """A corrective-action request with an owner and a due date."""

    __tablename__ = "corrective_actions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_iff_dated"),
        Index("ix_corrective_actions_ncr", "ncr_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ncr_id: Mapped[int] = mapped_column(ForeignKey("nonconformance_reports.id"))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    resolution: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column()


class SupplierCertificate(Base):
    __tablename__ = "supplier_certificates"
    __table_args__ = (
        UniqueConstraint("supplier_id", "type", "number"),
        CheckConstraint("length(type) > 0 AND length(number) > 0", name="named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    type: Mapped[str] = mapped_column(String(64))  # ISO 9001, ISO 22000, CCC, ...
    number: Mapped[str] = mapped_column(String(64))
    issued_by: Mapped[str] = mapped_column(String(120), default="", server_default="")
    valid_until: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SupplierAudit(Base):
    __tablename__ = "supplier_audits"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint("result IN ('pass', 'conditional', 'fail')", name="result_known"),
        Index("ix_supplier_audits_supplier_date", "supplier_id", "audit_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    audit_date: Mapped[date] = mapped_column(Date)
    auditor: Mapped[str] = mapped_column(String(120))
    score: Mapped[int] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text, default="", server_default="")
    result: Mapped[str] = mapped_column(String(12))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityBlock(Base):
    """A product pulled from sale: available is 0 everywhere until the block is lifted."""

    __tablename__ = "quality_blocks"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'lifted')", name="status_known"),
        Index(
            "uq_quality_blocks_active_product",
            "product_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    ncr_id: Mapped[int] = mapped_column(ForeignKey("nonconformance_reports.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(64))
    lifted_at: Mapped[datetime | None] = mapped_column()
