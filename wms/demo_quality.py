"""The demo's quality picture: inspection specs, qualified and troubled suppliers, inspected lots
over the last weeks (so scorecards and switching have a history), lots waiting on the floor, and
one product pulled from sale.

Everything goes through the quality services, as the floor and the planners would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from wms.db.uow import UnitOfWork
from wms.inventory import receipts
from wms.inventory.models import Product
from wms.quality import dispositions, inbound, inspections, ncr, specs, suppliers
from wms.quality.errors import InspectionDiscontinued

# Supplier, how often one of its sampled units is defective, and its qualification.
SUPPLIER_QUALITY = {
    "SZ-ANKE": (0.004, "approved"),
    "DG-HUAXIN": (0.03, "conditional"),
    "GZ-MEILI": (0.008, "approved"),
    "SH-BAOBEI": (0.001, "approved"),
    "SZ-LUMEN": (0.05, "approved"),
}
CERTIFICATES = {
    "SZ-ANKE": [("ISO 9001", "CN-QMS-0091", 400), ("CCC", "2023011606587123", 20)],
    "GZ-MEILI": [("ISO 22716 (GMP)", "GMPC-4471", 300)],
    "SH-BAOBEI": [("ISO 22000", "FSMS-22-0317", 500), ("GB 10765 registration", "BAB-1198", -5)],
    "DG-HUAXIN": [("ISO 9001", "CN-QMS-2210", 90)],
    "SZ-LUMEN": [("ISO 9001", "CN-QMS-7781", 250)],
}
AUDITS = {
    "SZ-ANKE": (88, "pass", "Calibration records complete; ESD controls in place."),
    "GZ-MEILI": (81, "pass", "Batch records good; one finding on retain samples."),
    "SH-BAOBEI": (93, "pass", "Clean room and allergen controls exemplary."),
    "DG-HUAXIN": (64, "conditional", "Incoming material checks missing for resin lots."),
    "SZ-LUMEN": (58, "conditional", "Burn-in test skipped on two lines; CAR requested."),
}


@dataclass
class QualitySummary:
    specs: int
    inspections: int
    waiting: int
    delisted: str | None


def build_quality_demo(uow: UnitOfWork, rng: random.Random, today: date) -> QualitySummary:
    """Specs, supplier qualification, a few weeks of inspected lots and work waiting."""
    session = uow.session
    skus = list(session.scalars(select(Product.sku).order_by(Product.sku)))
    baby = [s for s in skus if s.startswith("BAB-")]
    electronics = [s for s in skus if s.startswith("ELC-")]
    count = 0
    for sku in baby:  # infant nutrition: always inspected, tight AQLs
        specs.set_spec(uow, actor="demo", sku=sku, major_aql="0.65", minor_aql="2.5")
        count += 1
    for sku in electronics[:12]:
        specs.set_spec(uow, actor="demo", sku=sku, supplier="SZ-ANKE", level="II")
        specs.set_spec(uow, actor="demo", sku=sku, supplier="SZ-LUMEN", major_aql="1.0")
        count += 2
    specs.set_spec(uow, actor="demo", supplier="GZ-MEILI", minor_aql="2.5")
    count += 1
    for code, certs in CERTIFICATES.items():
        for kind, number, days in certs:
            suppliers.add_certificate(
                uow,
                supplier=code,
                type=kind,
                number=number,
                valid_until=today + timedelta(days=days),
                issued_by="CQC" if kind.startswith("ISO") else "SAMR",
                actor="demo",
            )
    for code, (score, result, findings) in AUDITS.items():
        suppliers.record_audit(
            uow,
            supplier=code,
            audit_date=today - timedelta(days=rng.randint(20, 120)),
            auditor="Ivy Inspector",
            score=score,
            result=result,
            findings=findings,
            actor="demo",
        )
    for code, (_, status) in SUPPLIER_QUALITY.items():
        if status != "approved":
            suppliers.set_status(
                uow, supplier=code, status=status, reason="open audit findings", actor="demo"
            )
    pairs = [("SZ-ANKE", s) for s in electronics[:6]]
    pairs += [("SZ-LUMEN", s) for s in electronics[:4]]
    pairs += [("SH-BAOBEI", s) for s in baby[:4]]
    pairs += [("GZ-MEILI", s) for s in skus if s.startswith("BEA-")][:3]
    pairs += [("DG-HUAXIN", s) for s in skus if s.startswith("HOM-")][:3]
    decided = _history(uow, rng, today, pairs)
    waiting = _waiting(uow, today, pairs)
    delisted = _delisting(uow, today, skus)
    return QualitySummary(
        specs=count, inspections=decided + waiting, waiting=waiting, delisted=delisted
    )


def _lot(rng: random.Random, sku: str, when: date) -> tuple[str | None, date | None]:
    if sku.startswith(("BAB-", "BEA-", "FOD-")):
        return f"Q{when:%y%m%d}{rng.randint(100, 999)}", when + timedelta(days=360)
    return None, None


def _history(uow: UnitOfWork, rng: random.Random, today: date, pairs: list[tuple[str, str]]) -> int:
    """Six weeks of deliveries, inspected, decided and disposed."""
    lots = 0
    for week in range(6, 0, -1):
        day = today - timedelta(days=7 * week)
        for supplier, sku in rng.sample(pairs, min(len(pairs), 8)):
            defect_rate = SUPPLIER_QUALITY[supplier][0]
            quantity = rng.choice((120, 240, 500, 800))
            late = rng.random() < (0.3 if defect_rate > 0.02 else 0.08)
            code = receipts.create_receipt(
                uow,
                warehouse=rng.choice(("SHA", "CAN", "PEK")),
                supplier=supplier,
                expected_date=day - timedelta(days=2 if late else 0),
                lines=[receipts.ReceiptLineRequest(sku, quantity)],
                actor="demo",
            ).code
            lot, expiry = _lot(rng, sku, day)
            when = datetime.combine(day, time(9, rng.randint(0, 59)), tzinfo=UTC)
            try:
                booking = inbound.receive_line(
                    uow,
                    receipt=code,
                    sku=sku,
                    quantity=quantity,
                    lot=lot,
                    expiry_date=expiry,
                    actor="operator",
                    occurred_at=when,
                )
            except InspectionDiscontinued:  # the supplier's product waits on its corrective action
                receipts.cancel_receipt(uow, receipt=code, actor="demo")
                continue
            receipts.close_receipt(uow, receipt=code, actor="demo")
            if booking.inspection is None:
                continue
            _inspect(uow, rng, booking.inspection, defect_rate)
            lots += 1
    return lots


def _inspect(uow: UnitOfWork, rng: random.Random, code: str, defect_rate: float) -> None:
    from wms.quality.views import inspection_view

    view = inspection_view(uow.session, code)
    findings = []
    for unit in range(1, view.sample_size + 1):
        if rng.random() < defect_rate:
            kind = "minor" if rng.random() < 0.7 else "major"
            findings.append(inspections.FindingInput(kind, unit, note=f"{kind} defect"))
    if findings:
        inspections.record_findings(uow, inspection=code, findings=findings, actor="inspector")
    decision = inspections.decide(uow, inspection=code, actor="inspector")
    dispositions.dispose(
        uow,
        inspection=code,
        disposition="accept" if decision.accepted else "return",
        actor="inspector",
    )


def _waiting(uow: UnitOfWork, today: date, pairs: list[tuple[str, str]]) -> int:
    """Two lots held at Shanghai for the handheld's Inspect task."""
    waiting = 0
    for supplier, sku in pairs[:1] + pairs[-4:-3]:
        code = receipts.create_receipt(
            uow,
            warehouse="SHA",
            supplier=supplier,
            expected_date=today,
            supplier_reference=f"ASN-QC-{waiting + 1}",
            lines=[receipts.ReceiptLineRequest(sku, 300)],
            actor="demo",
        ).code
        lot, expiry = _lot(random.Random(waiting), sku, today)  # noqa: S311 - demo data
        try:
            booking = inbound.receive_line(
                uow,
                receipt=code,
                sku=sku,
                quantity=300,
                lot=lot,
                expiry_date=expiry,
                actor="operator",
            )
        except InspectionDiscontinued:
            continue  # the receipt stays open: it is received once the corrective action closes
        waiting += booking.inspection is not None
    return waiting


def _delisting(uow: UnitOfWork, today: date, skus: list[str]) -> str | None:
    candidates = [s for s in skus if s.startswith("HOM-")]
    if not candidates:
        return None
    sku = candidates[-1]
    ncr.delist(
        uow,
        sku=sku,
        reason="Customer reports of a loose handle; 3 returns in a week",
        action="Supplier to replace the rivet and send a first-article sample",
        owner="planner",
        due_date=today + timedelta(days=14),
        actor="demo",
    )
    return sku
