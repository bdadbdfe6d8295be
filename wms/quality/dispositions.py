"""What happens to an inspected lot: each disposition is one posting out of the quality hold.

- accept (an accepted lot) and use as is (a rejected lot, under a concession someone approved):
  to the receiving dock, where putaway takes it; ``quality_control`` falls, ``available`` rises;
- return: to the supplier on a return document;
- scrap: to the scrap location;
- rework: the stock stays held and a resubmitted inspection of it opens (resubmitted lots do not
  move the switching rules).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.inventory.catalog import codes, get_virtual_location, storage_location_of_kind
from wms.inventory.documents import document_code, placeholder_code
from wms.inventory.ledger import MoveLine, Posting, post_moves
from wms.inventory.models import LocationKind
from wms.quality.inspections import ensure_transition, lock, open_inspection
from wms.quality.models import Disposition, Inspection, InspectionStatus, SupplierReturn
from wms.quality.specs import resolve_spec

# Which dispositions each verdict allows.
ALLOWED = {
    InspectionStatus.ACCEPTED: (Disposition.ACCEPT,),
    InspectionStatus.REJECTED: (
        Disposition.RETURN,
        Disposition.SCRAP,
        Disposition.REWORK,
        Disposition.USE_AS_IS,
    ),
}


@dataclass(frozen=True)
class DispositionResult:
    inspection: str
    disposition: str
    quantity: int
    posting: Posting | None
    return_code: str | None = None
    resubmission: str | None = None


def dispose(
    uow: UnitOfWork,
    *,
    inspection: str,
    disposition: str,
    actor: str,
    approved_by: str | None = None,
    note: str = "",
) -> DispositionResult:
    """Carry out a disposition of a decided inspection; each writes the ledger (or a re-inspection)."""
    session = uow.session
    known = [d.value for d in Disposition]
    if disposition not in known:
        raise ValidationFailed(
            f"disposition {disposition!r} is not one of {', '.join(known)}", field="disposition"
        )
    row = lock(session, inspection)
    ensure_transition(row, disposition)
    allowed = ALLOWED[InspectionStatus(row.status)]
    if disposition not in allowed:
        raise ValidationFailed(
            f"inspection {row.code} is {row.status}: it can be "
            f"{', '.join(a.value for a in allowed)}, not {disposition}",
            field="disposition",
            allowed=[a.value for a in allowed],
        )
    if disposition == Disposition.USE_AS_IS and not (approved_by or "").strip():
        raise ValidationFailed(
            "using a rejected lot as is needs the approval of a supervisor", field="approved_by"
        )
    if len(note) > 2000:
        raise ValidationFailed("a note has at most 2000 characters", field="note")
    result = _carry_out(session, uow, row, Disposition(disposition), actor)
    row.status = InspectionStatus.CLOSED
    row.disposition = disposition
    row.disposition_note = note.strip()
    row.approved_by = approved_by.strip() if approved_by else None
    row.disposed_by = actor
    row.disposed_at = utcnow()
    session.flush()
    return result


def _carry_out(
    session: Session, uow: UnitOfWork, row: Inspection, disposition: Disposition, actor: str
) -> DispositionResult:
    line = MoveLine
    if disposition in (Disposition.ACCEPT, Disposition.USE_AS_IS):
        dock = storage_location_of_kind(session, row.warehouse_id, LocationKind.RECEIVING)
        posting = post_moves(
            session,
            [line(row.product_id, row.lot_id, row.location_id, dock.id, row.quantity)],
            reason="qc_release",
            reference=row.code,
            actor=actor,
        )
        return DispositionResult(row.code, disposition.value, row.quantity, posting)
    if disposition == Disposition.SCRAP:
        scrap = get_virtual_location(session, LocationKind.SCRAP)
        posting = post_moves(
            session,
            [line(row.product_id, row.lot_id, row.location_id, scrap.id, row.quantity)],
            reason="qc_scrap",
            reference=row.code,
            actor=actor,
        )
        return DispositionResult(row.code, disposition.value, row.quantity, posting)
    if disposition == Disposition.RETURN:
        return _return_to_supplier(session, row, actor)
    # Rework: the held stock is inspected again once reworked.
    _, whs = codes(session, set(), {row.warehouse_id})
    spec = resolve_spec(session, supplier_id=row.supplier_id, product_id=row.product_id)
    again = open_inspection(
        uow,
        warehouse_id=row.warehouse_id,
        warehouse=whs[row.warehouse_id],
        supplier_id=row.supplier_id,
        product_id=row.product_id,
        lot_id=row.lot_id,
        location_id=row.location_id,
        quantity=row.quantity,
        spec=spec,
        actor=actor,
        receipt_id=row.receipt_id,
        resubmission_of=row,
    )
    return DispositionResult(
        row.code, disposition.value, row.quantity, None, resubmission=again.code
    )


def _return_to_supplier(session: Session, row: Inspection, actor: str) -> DispositionResult:
    _, whs = codes(session, set(), {row.warehouse_id})
    doc = SupplierReturn(
        code=placeholder_code("RT"),
        supplier_id=row.supplier_id,
        warehouse_id=row.warehouse_id,
        inspection_id=row.id,
        product_id=row.product_id,
        lot_id=row.lot_id,
        quantity=row.quantity,
        reason=f"rejected at inspection {row.code}",
        created_by=actor,
    )
    session.add(doc)
    session.flush()
    doc.code = document_code("RT", whs[row.warehouse_id], doc.id)
    supplier = get_virtual_location(session, LocationKind.SUPPLIER)
    posting = post_moves(
        session,
        [MoveLine(row.product_id, row.lot_id, row.location_id, supplier.id, row.quantity)],
        reason="qc_return",
        reference=doc.code,
        actor=actor,
    )
    session.flush()
    return DispositionResult(
        row.code, Disposition.RETURN.value, row.quantity, posting, return_code=doc.code
    )
