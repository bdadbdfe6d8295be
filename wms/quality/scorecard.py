"""Supplier scorecards: lot acceptance, defective parts per million, on-time delivery, audits.

- lot acceptance rate: lots accepted on original inspection / lots decided (resubmissions are
  not new lots);
- defective parts per million: units found nonconforming / units sampled, times a million;
- on-time delivery: receipts whose first booking came on or before the expected date / receipts
  with at least one booking;
- audit score: the latest audit's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.inventory.models import Move, Receipt
from wms.procurement.models import Supplier
from wms.quality.models import Finding, Inspection, QualityBlock
from wms.quality.suppliers import CertificateView, audits, certificates, get_supplier
from wms.quality.switching_store import SwitchView, recent_switches


@dataclass(frozen=True)
class Scorecard:
    supplier: str
    name: str
    status: str
    status_reason: str
    lots_decided: int
    lots_accepted: int
    units_sampled: int
    units_defective: int
    receipts_delivered: int
    receipts_on_time: int
    audit_score: int | None
    audit_date: date | None
    certificates: list[CertificateView] = field(default_factory=list)
    switches: list[SwitchView] = field(default_factory=list)

    @property
    def acceptance_rate(self) -> float | None:
        return self.lots_accepted / self.lots_decided if self.lots_decided else None

    @property
    def ppm(self) -> int | None:
        if not self.units_sampled:
            return None
        return round(self.units_defective * 1_000_000 / self.units_sampled)

    @property
    def on_time_rate(self) -> float | None:
        return self.receipts_on_time / self.receipts_delivered if self.receipts_delivered else None

    def to_dict(self) -> dict[str, object]:
        return {
            "supplier": self.supplier,
            "name": self.name,
            "status": self.status,
            "status_reason": self.status_reason,
            "lots_decided": self.lots_decided,
            "lots_accepted": self.lots_accepted,
            "acceptance_rate": self.acceptance_rate,
            "units_sampled": self.units_sampled,
            "units_defective": self.units_defective,
            "ppm": self.ppm,
            "receipts_delivered": self.receipts_delivered,
            "receipts_on_time": self.receipts_on_time,
            "on_time_rate": self.on_time_rate,
            "audit_score": self.audit_score,
            "audit_date": self.audit_date.isoformat() if self.audit_date else None,
        }


def scorecard(session: Session, supplier: str) -> Scorecard:
    """One supplier's scorecard."""
    row = get_supplier(session, supplier)
    return _scorecards(session, [row])[0]


def scorecards(session: Session) -> list[Scorecard]:
    """Every active supplier's scorecard, by code."""
    rows = list(session.scalars(select(Supplier).where(Supplier.active).order_by(Supplier.code)))
    return _scorecards(session, rows)


def _scorecards(session: Session, suppliers: list[Supplier]) -> list[Scorecard]:
    ids = [s.id for s in suppliers]
    lots = {
        r.supplier_id: (int(r.decided), int(r.accepted), int(r.sampled))
        for r in session.execute(
            select(
                Inspection.supplier_id,
                func.count().label("decided"),
                func.count().filter(Inspection.verdict == "accepted").label("accepted"),
                func.coalesce(func.sum(Inspection.sample_size), 0).label("sampled"),
            )
            .where(
                Inspection.supplier_id.in_(ids),
                Inspection.verdict.is_not(None),
                Inspection.resubmission_of_id.is_(None),
            )
            .group_by(Inspection.supplier_id)
        )
    }
    defective_units = (
        select(Inspection.supplier_id, Finding.inspection_id, Finding.unit_index, Finding.id)
        .join(Finding, Finding.inspection_id == Inspection.id)
        .where(
            Inspection.supplier_id.in_(ids),
            Inspection.verdict.is_not(None),
            Inspection.resubmission_of_id.is_(None),
        )
        .subquery()
    )
    # A unit with several defects is one defective part; unrecorded units count one each.
    defective = {
        r.supplier_id: int(r.units)
        for r in session.execute(
            select(
                defective_units.c.supplier_id,
                (
                    func.count(
                        func.distinct(
                            defective_units.c.inspection_id * 100000 + defective_units.c.unit_index
                        )
                    ).filter(defective_units.c.unit_index > 0)
                    + func.count().filter(defective_units.c.unit_index == 0)
                ).label("units"),
            ).group_by(defective_units.c.supplier_id)
        )
    }
    first_booking = (
        select(Move.reference, func.min(Move.occurred_at).label("first"))
        .where(Move.reason == "receipt")
        .group_by(Move.reference)
        .subquery()
    )
    delivered: dict[int, tuple[int, int]] = {}
    for r in session.execute(
        select(Receipt.supplier_id, Receipt.expected_date, first_booking.c.first)
        .join(first_booking, first_booking.c.reference == Receipt.code)
        .where(Receipt.supplier_id.in_(ids))
    ):
        total, on_time = delivered.get(r.supplier_id, (0, 0))
        delivered[r.supplier_id] = (total + 1, on_time + (r.first.date() <= r.expected_date))
    cards = []
    for s in suppliers:
        decided, accepted, sampled = lots.get(s.id, (0, 0, 0))
        total, on_time = delivered.get(s.id, (0, 0))
        latest = audits(session, s.id)[:1]
        cards.append(
            Scorecard(
                supplier=s.code,
                name=s.name,
                status=s.quality_status,
                status_reason=s.quality_status_reason,
                lots_decided=decided,
                lots_accepted=accepted,
                units_sampled=sampled,
                units_defective=defective.get(s.id, 0),
                receipts_delivered=total,
                receipts_on_time=on_time,
                audit_score=latest[0].score if latest else None,
                audit_date=latest[0].audit_date if latest else None,
                certificates=certificates(session, s.id),
                switches=recent_switches(session, supplier_id=s.id, limit=10),
            )
        )
    return cards


@dataclass(frozen=True)
class PlanInUse:
    """A supplier's product with its spec and current severities, for the OC curves shown."""

    sku: str
    level: str
    standard: str
    major_aql: str
    minor_aql: str
    severities: dict[str, str]
    last_lot_size: int | None


def plans_in_use(session: Session, supplier: str) -> list[PlanInUse]:
    """The products a supplier delivered under inspection, with the plans that now apply."""
    from wms.inventory.models import Product
    from wms.quality.specs import resolve_spec
    from wms.quality.switching_store import current_states

    row = get_supplier(session, supplier)
    latest = (
        select(Inspection.product_id, func.max(Inspection.id).label("last"))
        .where(Inspection.supplier_id == row.id)
        .group_by(Inspection.product_id)
        .subquery()
    )
    result = []
    for product_id, sku, quantity in session.execute(
        select(Product.id, Product.sku, Inspection.quantity)
        .join(latest, latest.c.product_id == Product.id)
        .join(Inspection, Inspection.id == latest.c.last)
        .order_by(Product.sku)
    ):
        spec = resolve_spec(session, supplier_id=row.id, product_id=product_id)
        states = current_states(session, supplier_id=row.id, product_id=product_id)
        result.append(
            PlanInUse(
                sku=sku,
                level=spec.level,
                standard=spec.standard,
                major_aql=spec.major_aql,
                minor_aql=spec.minor_aql,
                severities={cls: st.severity for cls, st in states.items()},
                last_lot_size=quantity,
            )
        )
    return result


@dataclass(frozen=True)
class BlockView:
    """A product off sale: why, under which NCR, since when, and who owns the open actions."""

    sku: str
    name: str
    reason: str
    ncr: str
    since: datetime
    owners: list[str]


def blocked_products(session: Session) -> list[BlockView]:
    """Every product off sale now, by SKU."""
    from wms.inventory.models import Product
    from wms.quality.models import CorrectiveAction, NonconformanceReport

    rows = session.execute(
        select(Product.sku, Product.name, QualityBlock, NonconformanceReport.code)
        .join(QualityBlock, QualityBlock.product_id == Product.id)
        .join(NonconformanceReport, NonconformanceReport.id == QualityBlock.ncr_id)
        .where(QualityBlock.status == "active")
        .order_by(Product.sku)
    ).all()
    owners: dict[int, list[str]] = {}
    for ncr_id, owner in session.execute(
        select(CorrectiveAction.ncr_id, CorrectiveAction.owner)
        .where(
            CorrectiveAction.ncr_id.in_([block.ncr_id for _, _, block, _ in rows]),
            CorrectiveAction.status == "open",
        )
        .order_by(CorrectiveAction.id)
    ):
        owners.setdefault(ncr_id, []).append(owner)
    return [
        BlockView(sku, name, block.reason, code, block.created_at, owners.get(block.ncr_id, []))
        for sku, name, block, code in rows
    ]
