"""Sampling inspections of inbound lots held in quality control.

An inspection is opened when an inspected product is received (its lot lands in the warehouse's
quality hold, counted in ``quality_control`` and never in ``available``). Its plans come from
ISO 2859-1 per defect class: critical (no unit with one is accepted), major and minor with their
own AQLs and their own switching severity. One sample is drawn, the largest the plans need, as
reproducible random unit positions; a class with a smaller sample judges the first units drawn
(a prefix of a random draw is itself a random sample). The verdict comes from each class's Ac/Re.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from wms.inventory.catalog import codes
from wms.inventory.documents import document_code, placeholder_code
from wms.quality import sampling
from wms.quality.models import DefectClass, Finding, Inspection, InspectionStatus
from wms.quality.ncr import add_ncr
from wms.quality.specs import EffectiveSpec
from wms.quality.switching import (
    InspectionDiscontinued,
    LotOutcome,
    SwitchingState,
    Transition,
    record_lot,
)
from wms.quality.switching_store import current_states, lock_states, state_of, store

CODE_PREFIX = "QC"
MAX_NOTE = 2000
MAX_PHOTO_BYTES = 2_000_000
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
OPEN_STATUSES = (InspectionStatus.OPEN, InspectionStatus.INSPECTING)
# AQLs above 10 are nonconformities per hundred units: count defects, not defective units.
UNITS_UP_TO_AQL = Decimal(10)


class UnknownInspection(NotFound):
    code = "unknown_inspection"

    def __init__(self, inspection: str) -> None:
        super().__init__(f"no inspection {inspection!r}", field="inspection", inspection=inspection)


class InspectionNotOpen(Conflict):
    code = "inspection_not_open"

    def __init__(self, inspection: str, status: str, doing: str) -> None:
        super().__init__(
            f"inspection {inspection} is {status}; {doing} is no longer possible",
            field="inspection",
            inspection=inspection,
            status=status,
        )


@dataclass(frozen=True)
class FindingInput:
    """A nonconformity found: its class, the sampled unit (1..sample size) and evidence."""

    defect_class: str
    unit: int | None = None
    note: str = ""
    photo: bytes | None = None
    photo_type: str | None = None


def _class_plan(plan: sampling.SamplingPlan, severity: str) -> dict[str, Any]:
    basis = "units" if plan.aql <= UNITS_UP_TO_AQL else "nonconformities"
    return {**plan.to_dict(), "severity": severity, "basis": basis}


def plans_for(
    session: Session, *, supplier_id: int, product_id: int, lot_size: int, spec: EffectiveSpec
) -> tuple[dict[str, dict[str, Any]], int]:
    """Each class's plan at its current severity, and the sample to draw (the largest)."""
    states = current_states(session, supplier_id=supplier_id, product_id=product_id)
    plans: dict[str, dict[str, Any]] = {}
    for cls, aql in ((DefectClass.MAJOR, spec.major_aql), (DefectClass.MINOR, spec.minor_aql)):
        state = states[cls.value]
        if state.severity == "discontinued":
            raise InspectionDiscontinued(
                f"inspection of this supplier's product is discontinued ({cls.value} defects: "
                "5 lots not accepted under tightened inspection); it resumes after the "
                "corrective action is closed"
            )
        plan = sampling.sampling_plan(
            lot_size, aql, level=spec.level, severity=state.severity, standard=spec.standard
        )
        plans[cls.value] = _class_plan(plan, state.severity)
    sample_size = max(p["sample_size"] for p in plans.values())
    plans[DefectClass.CRITICAL.value] = {
        "sample_size": sample_size,
        "ac": 0,
        "re": 1,
        "severity": "normal",
        "basis": "units",
        "aql": None,
    }
    return plans, sample_size


def open_inspection(
    uow: UnitOfWork,
    *,
    warehouse_id: int,
    warehouse: str,
    supplier_id: int,
    product_id: int,
    lot_id: int | None,
    location_id: int,
    quantity: int,
    spec: EffectiveSpec,
    actor: str,
    receipt_id: int | None = None,
    resubmission_of: Inspection | None = None,
) -> Inspection:
    """Open an inspection of ``quantity`` held units, or grow the open one of the same lot."""
    session = uow.session
    row = None
    if receipt_id is not None and resubmission_of is None:
        row = session.scalar(
            select(Inspection)
            .where(
                Inspection.receipt_id == receipt_id,
                Inspection.product_id == product_id,
                Inspection.lot_id.is_(None) if lot_id is None else Inspection.lot_id == lot_id,
                Inspection.status == InspectionStatus.OPEN,
            )
            .with_for_update()
        )
    lot_size = quantity + (row.quantity if row else 0)
    plans, sample_size = plans_for(
        session, supplier_id=supplier_id, product_id=product_id, lot_size=lot_size, spec=spec
    )
    if row is None:
        row = Inspection(
            code=placeholder_code(CODE_PREFIX),
            warehouse_id=warehouse_id,
            receipt_id=receipt_id,
            supplier_id=supplier_id,
            product_id=product_id,
            lot_id=lot_id,
            location_id=location_id,
            status=InspectionStatus.OPEN,
            level=spec.level,
            standard=spec.standard,
            seed=secrets.randbelow(2**31),
            created_by=actor,
            resubmission_of_id=resubmission_of.id if resubmission_of else None,
        )
        session.add(row)
    row.quantity = lot_size
    row.plans = plans
    row.sample_size = sample_size
    session.flush()
    if row.code.startswith(f"{CODE_PREFIX}-NEW-"):
        row.code = document_code(CODE_PREFIX, warehouse, row.id)
        session.flush()
    return row


def sample_positions(quantity: int, sample_size: int, seed: int) -> list[int]:
    """The units to sample, as positions 1..quantity in the lot, in draw order (reproducible)."""
    return random.Random(seed).sample(range(1, quantity + 1), sample_size)  # noqa: S311


def lock(session: Session, code: str) -> Inspection:
    """The inspection with ``code``, locked for a change."""
    row = session.scalar(
        select(Inspection).where(Inspection.code == code.strip().upper()).with_for_update()
    )
    if row is None:
        raise UnknownInspection(code)
    return row


def record_findings(
    uow: UnitOfWork, *, inspection: str, findings: Sequence[FindingInput], actor: str
) -> Inspection:
    """Record nonconformities found on sampled units; checked against the sample first."""
    session = uow.session
    row = lock(session, inspection)
    if row.status not in OPEN_STATUSES:
        raise InspectionNotOpen(row.code, row.status, "recording findings")
    if not findings:
        raise ValidationFailed("record at least one finding", field="findings")
    new = [_finding(row, index, f, actor, len(findings)) for index, f in enumerate(findings)]
    existing = list(session.scalars(select(Finding).where(Finding.inspection_id == row.id)))
    counts = class_counts(row.plans, [*existing, *new])
    for cls, plan in row.plans.items():
        if plan["basis"] == "units" and counts[cls] > plan["sample_size"]:
            raise ValidationFailed(
                f"{counts[cls]} units with {cls} defects is more than the sample of "
                f"{plan['sample_size']}",
                field="findings",
                defect_class=cls,
                sample_size=plan["sample_size"],
            )
    session.add_all(new)
    row.status = InspectionStatus.INSPECTING
    if row.inspected_by is None:
        row.inspected_by = actor
    session.flush()
    return row


def _finding(row: Inspection, index: int, f: FindingInput, actor: str, total: int) -> Finding:
    prefix = f"findings[{index}]." if total > 1 else ""
    classes = [c.value for c in DefectClass]
    if f.defect_class not in classes:
        raise ValidationFailed(
            f"defect class {f.defect_class!r} is not one of {', '.join(classes)}",
            field=f"{prefix}defect_class",
        )
    if f.unit is not None and (
        isinstance(f.unit, bool)
        or not isinstance(f.unit, int)
        or not 1 <= f.unit <= row.sample_size
    ):
        raise ValidationFailed(
            f"unit {f.unit} is not in the sample: units are 1 to {row.sample_size}",
            field=f"{prefix}unit",
            sample_size=row.sample_size,
        )
    if len(f.note) > MAX_NOTE:
        raise ValidationFailed(f"a note has at most {MAX_NOTE} characters", field=f"{prefix}note")
    if f.photo is not None:
        if len(f.photo) > MAX_PHOTO_BYTES:
            raise ValidationFailed(
                f"a photo is at most {MAX_PHOTO_BYTES // 1_000_000} MB", field=f"{prefix}photo"
            )
        if f.photo_type not in PHOTO_TYPES:
            raise ValidationFailed(
                f"a photo is JPEG, PNG or WebP, not {f.photo_type or 'unknown'}",
                field=f"{prefix}photo",
            )
    return Finding(
        inspection_id=row.id,
        unit_index=f.unit if f.unit is not None else 0,
        defect_class=f.defect_class,
        note=f.note.strip(),
        photo=f.photo,
        photo_type=f.photo_type if f.photo is not None else None,
        recorded_by=actor,
    )


def class_counts(plans: dict[str, Any], findings: Sequence[Finding]) -> dict[str, int]:
    """Per class, what its Ac/Re judge: defective units (or defects, above AQL 10) among the
    units its own sample covers. A finding without a unit counts as a unit of its own."""
    counts: dict[str, int] = {}
    for cls, plan in plans.items():
        mine = [
            f for f in findings if f.defect_class == cls and f.unit_index <= plan["sample_size"]
        ]
        if plan["basis"] == "nonconformities":
            counts[cls] = len(mine)
        else:
            units = {f.unit_index for f in mine if f.unit_index > 0}
            counts[cls] = len(units) + sum(1 for f in mine if f.unit_index == 0)
    return counts


@dataclass(frozen=True)
class Decision:
    inspection: Inspection
    accepted: bool
    transitions: list[tuple[str, Transition]]
    ncr_code: str | None


def decide(
    uow: UnitOfWork, *, inspection: str, actor: str, steady_production: bool = True
) -> Decision:
    """Give the verdict from each class's Ac/Re, and move the switching rules (original lots)."""
    session = uow.session
    row = lock(session, inspection)
    if row.status not in OPEN_STATUSES:
        raise InspectionNotOpen(row.code, row.status, "a verdict")
    findings = list(session.scalars(select(Finding).where(Finding.inspection_id == row.id)))
    counts = class_counts(row.plans, findings)
    detail: dict[str, Any] = {}
    accepted = True
    for cls, plan in row.plans.items():
        found = counts[cls]
        if found <= plan["ac"]:
            outcome = "accept"
        elif found >= plan["re"]:
            outcome = "reject"
            accepted = False
        else:  # Z1.4 reduced: between Ac and Re the lot passes but normal inspection returns
            outcome = "accept_return_to_normal"
        detail[cls] = {"found": found, "ac": plan["ac"], "re": plan["re"], "outcome": outcome}
    row.status = InspectionStatus.ACCEPTED if accepted else InspectionStatus.REJECTED
    row.verdict = "accepted" if accepted else "rejected"
    row.verdict_detail = detail
    row.decided_at = utcnow()
    row.inspected_by = row.inspected_by or actor
    transitions: list[tuple[str, Transition]] = []
    if row.resubmission_of_id is None:
        transitions = _switch(uow, row, detail, steady_production=steady_production, actor=actor)
    ncr = None
    if not accepted:
        ncr = _rejection_ncr(session, row, detail, actor)
    if any(t.to_severity == "discontinued" for _, t in transitions):
        _discontinuation_ncr(session, row, actor)
    session.flush()
    return Decision(row, accepted, transitions, ncr)


def _switch(
    uow: UnitOfWork,
    row: Inspection,
    detail: dict[str, Any],
    *,
    steady_production: bool,
    actor: str,
) -> list[tuple[str, Transition]]:
    from wms.quality.specs import resolve_spec

    session = uow.session
    spec = resolve_spec(session, supplier_id=row.supplier_id, product_id=row.product_id)
    locked = lock_states(session, supplier_id=row.supplier_id, product_id=row.product_id)
    transitions = []
    for cls, state_row in locked.items():
        plan_dict = row.plans[cls]
        state: SwitchingState = state_of(state_row)
        result = detail[cls]
        if state.severity != plan_dict["severity"]:
            # Inspected on a severity that a lot decided since has switched away from (or held
            # when inspection was discontinued): its plan no longer belongs to this history.
            result["switching"] = (
                f"not counted: inspected {plan_dict['severity']}, now {state.severity}"
            )
            continue
        plan = sampling.sampling_plan(
            row.quantity,
            plan_dict["aql"],
            level=row.level,
            severity=plan_dict["severity"],
            standard=row.standard,
        )
        outcome = LotOutcome(
            accepted=result["outcome"] != "reject",
            nonconforming=result["found"],
            plan=plan,
            return_to_normal=result["outcome"] == "accept_return_to_normal",
        )
        new_state, transition = record_lot(
            state,
            outcome,
            steady_production=steady_production,
            reduced_approved=spec.reduced_allowed,
        )
        store(session, state_row, new_state, transition, inspection_id=row.id, actor=actor)
        if transition is not None:
            transitions.append((cls, transition))
    return transitions


def _rejection_ncr(session: Session, row: Inspection, detail: dict[str, Any], actor: str) -> str:
    skus, _ = codes(session, {row.product_id}, set())
    failed = [
        f"{cls}: {d['found']} found, Re {d['re']}"
        for cls, d in detail.items()
        if d["outcome"] == "reject"
    ]
    ncr = add_ncr(
        session,
        kind="rejection",
        title=f"Lot of {row.quantity} {skus[row.product_id]} rejected at inspection {row.code}",
        description="; ".join(failed),
        actor=actor,
        product_id=row.product_id,
        supplier_id=row.supplier_id,
        inspection_id=row.id,
    )
    return ncr.code


def _discontinuation_ncr(session: Session, row: Inspection, actor: str) -> None:
    skus, _ = codes(session, {row.product_id}, set())
    add_ncr(
        session,
        kind="discontinuation",
        title=f"Inspection of {skus[row.product_id]} discontinued",
        description=(
            "5 lots were not accepted under tightened inspection. Deliveries are refused until "
            "the corrective actions are closed; inspection then resumes on tightened."
        ),
        actor=actor,
        product_id=row.product_id,
        supplier_id=row.supplier_id,
        inspection_id=row.id,
    )


def ensure_transition(row: Inspection, target: str) -> None:
    """Refuse a disposition the inspection's state does not allow."""
    if row.status in OPEN_STATUSES or row.status in (
        InspectionStatus.CLOSED,
        InspectionStatus.CANCELLED,
    ):
        raise InvalidTransition(f"inspection {row.code}", row.status, target)
