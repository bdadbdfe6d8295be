"""Supplier qualification: status, certificates with expiry warnings, audits, and the check
that purchasing code calls before it buys from a supplier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from wms.procurement.models import Supplier
from wms.quality.models import SupplierAudit, SupplierCertificate, SupplierStatus

CERTIFICATE_WARNING_DAYS = 30
AUDIT_RESULTS = ("pass", "conditional", "fail")


class UnknownSupplier(NotFound):
    code = "unknown_supplier"

    def __init__(self, supplier: str, *, field: str = "supplier") -> None:
        super().__init__(f"no supplier {supplier!r}", field=field, supplier=supplier)


class SupplierNotQualified(Conflict):
    """Purchasing from a suspended or disqualified supplier is refused."""

    code = "supplier_not_qualified"

    def __init__(self, supplier: str, status: str, reason: str) -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"supplier {supplier} is {status}{why}; no purchases until it is requalified",
            field="supplier",
            supplier=supplier,
            status=status,
        )


def get_supplier(session: Session, code: str, *, field: str = "supplier") -> Supplier:
    """The supplier with ``code``, or UnknownSupplier."""
    row = session.scalar(select(Supplier).where(Supplier.code == code.strip().upper()))
    if row is None:
        row = session.scalar(select(Supplier).where(Supplier.code == code.strip()))
    if row is None:
        raise UnknownSupplier(code, field=field)
    return row


def ensure_can_purchase(session: Session, supplier: str) -> None:
    """Refuse purchasing from a supplier that is suspended, disqualified or inactive."""
    row = get_supplier(session, supplier)
    if row.quality_status in (SupplierStatus.SUSPENDED, SupplierStatus.DISQUALIFIED):
        raise SupplierNotQualified(row.code, row.quality_status, row.quality_status_reason)
    if not row.active:
        raise Conflict(f"supplier {row.code} is inactive", field="supplier", supplier=row.code)


def set_status(uow: UnitOfWork, *, supplier: str, status: str, reason: str, actor: str) -> Supplier:
    """Change a supplier's qualification status (approved, conditional, suspended, disqualified)."""
    if status not in {s.value for s in SupplierStatus}:
        raise ValidationFailed(
            f"status {status!r} is not one of {', '.join(s.value for s in SupplierStatus)}",
            field="status",
        )
    if status != SupplierStatus.APPROVED and not reason.strip():
        raise ValidationFailed(f"say why the supplier becomes {status}", field="reason")
    row = get_supplier(uow.session, supplier)
    uow.session.refresh(row, with_for_update=True)
    row.quality_status = status
    row.quality_status_reason = reason.strip()
    row.quality_status_changed_by = actor
    row.quality_status_changed_at = utcnow()
    uow.session.flush()
    return row


@dataclass(frozen=True)
class CertificateView:
    id: int
    type: str
    number: str
    issued_by: str
    valid_until: date
    days_left: int

    @property
    def state(self) -> str:
        """valid, expiring (within the warning window) or expired."""
        if self.days_left < 0:
            return "expired"
        if self.days_left <= CERTIFICATE_WARNING_DAYS:
            return "expiring"
        return "valid"


def add_certificate(
    uow: UnitOfWork,
    *,
    supplier: str,
    type: str,
    number: str,
    valid_until: date,
    actor: str,
    issued_by: str = "",
) -> CertificateView:
    """Record a supplier's certificate (ISO 9001, a product certificate) and its expiry."""
    row = get_supplier(uow.session, supplier)
    if not type.strip():
        raise ValidationFailed("a certificate needs a type", field="type")
    if not number.strip():
        raise ValidationFailed("a certificate needs a number", field="number")
    cert = SupplierCertificate(
        supplier_id=row.id,
        type=type.strip(),
        number=number.strip(),
        issued_by=issued_by.strip(),
        valid_until=valid_until,
        created_by=actor,
    )
    try:
        with uow.session.begin_nested():
            uow.session.add(cert)
            uow.session.flush()
    except IntegrityError as exc:
        raise AlreadyExists(
            f"{row.code} already has {type} certificate {number}", field="number"
        ) from exc
    return _certificate_view(cert, today=utcnow().date())


def _certificate_view(cert: SupplierCertificate, *, today: date) -> CertificateView:
    return CertificateView(
        id=cert.id,
        type=cert.type,
        number=cert.number,
        issued_by=cert.issued_by,
        valid_until=cert.valid_until,
        days_left=(cert.valid_until - today).days,
    )


def certificates(
    session: Session, supplier_id: int, *, today: date | None = None
) -> list[CertificateView]:
    """A supplier's certificates, the first to expire first."""
    today = today or utcnow().date()
    rows = session.scalars(
        select(SupplierCertificate)
        .where(SupplierCertificate.supplier_id == supplier_id)
        .order_by(SupplierCertificate.valid_until, SupplierCertificate.id)
    )
    return [_certificate_view(c, today=today) for c in rows]


@dataclass(frozen=True)
class ExpiringCertificate:
    supplier: str
    supplier_name: str
    certificate: CertificateView


def expiring_certificates(
    session: Session, *, within_days: int = CERTIFICATE_WARNING_DAYS, today: date | None = None
) -> list[ExpiringCertificate]:
    """Certificates of every supplier that expired or expire within ``within_days``."""
    today = today or utcnow().date()
    rows = session.execute(
        select(SupplierCertificate, Supplier.code, Supplier.name)
        .join(Supplier, Supplier.id == SupplierCertificate.supplier_id)
        .where(SupplierCertificate.valid_until <= today + timedelta(days=within_days))
        .order_by(SupplierCertificate.valid_until, Supplier.code)
    ).all()
    return [
        ExpiringCertificate(code, name, _certificate_view(cert, today=today))
        for cert, code, name in rows
    ]


@dataclass(frozen=True)
class AuditView:
    id: int
    audit_date: date
    auditor: str
    score: int
    findings: str
    result: str


def record_audit(
    uow: UnitOfWork,
    *,
    supplier: str,
    audit_date: date,
    auditor: str,
    score: int,
    result: str,
    actor: str,
    findings: str = "",
) -> AuditView:
    """Record a qualification audit; a failed audit suspends an approved or conditional supplier."""
    row = get_supplier(uow.session, supplier)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValidationFailed(f"audit score {score!r} must be 0 to 100", field="score")
    if result not in AUDIT_RESULTS:
        raise ValidationFailed(
            f"audit result {result!r} is not one of {', '.join(AUDIT_RESULTS)}", field="result"
        )
    if not auditor.strip():
        raise ValidationFailed("name the auditor", field="auditor")
    if audit_date > utcnow().date():
        raise ValidationFailed(f"audit date {audit_date} is in the future", field="audit_date")
    audit = SupplierAudit(
        supplier_id=row.id,
        audit_date=audit_date,
        auditor=auditor.strip(),
        score=score,
        findings=findings.strip(),
        result=result,
        created_by=actor,
    )
    uow.session.add(audit)
    uow.session.flush()
    if result == "fail" and row.quality_status in (
        SupplierStatus.APPROVED,
        SupplierStatus.CONDITIONAL,
    ):
        set_status(
            uow,
            supplier=row.code,
            status=SupplierStatus.SUSPENDED,
            reason=f"failed audit of {audit_date} (score {score})",
            actor=actor,
        )
    return _audit_view(audit)


def _audit_view(audit: SupplierAudit) -> AuditView:
    return AuditView(
        id=audit.id,
        audit_date=audit.audit_date,
        auditor=audit.auditor,
        score=audit.score,
        findings=audit.findings,
        result=audit.result,
    )


def audits(session: Session, supplier_id: int) -> list[AuditView]:
    """A supplier's audits, the latest first."""
    rows = session.scalars(
        select(SupplierAudit)
        .where(SupplierAudit.supplier_id == supplier_id)
        .order_by(SupplierAudit.audit_date.desc(), SupplierAudit.id.desc())
    )
    return [_audit_view(a) for a in rows]
