"""Switching states kept per supplier, product and defect class, locked while a verdict moves them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.upsert import insert_for
from wms.inventory.models import Product
from wms.quality.models import DefectClass, SwitchingEvent, SwitchingStateRow
from wms.quality.switching import SwitchingState, Transition

# Critical defects are never sampled to an AQL (no unit with one is accepted): no switching.
SWITCHED_CLASSES = (DefectClass.MAJOR, DefectClass.MINOR)


def _to_state(row: SwitchingStateRow) -> SwitchingState:
    return SwitchingState(
        severity=row.severity,
        recent=tuple(c == "A" for c in row.recent),
        consecutive_accepted=row.consecutive_accepted,
        not_accepted_in_tightened=row.not_accepted_in_tightened,
        switching_score=row.switching_score,
    )


def _write(row: SwitchingStateRow, state: SwitchingState) -> None:
    row.severity = state.severity
    row.recent = "".join("A" if ok else "R" for ok in state.recent[-16:])
    row.consecutive_accepted = state.consecutive_accepted
    row.not_accepted_in_tightened = state.not_accepted_in_tightened
    row.switching_score = state.switching_score


def current_states(
    session: Session, *, supplier_id: int, product_id: int
) -> dict[str, SwitchingState]:
    """The state of each switched class (normal where nothing was recorded yet), unlocked."""
    rows = session.scalars(
        select(SwitchingStateRow).where(
            SwitchingStateRow.supplier_id == supplier_id,
            SwitchingStateRow.product_id == product_id,
        )
    ).all()
    found = {row.defect_class: _to_state(row) for row in rows}
    return {cls.value: found.get(cls.value, SwitchingState()) for cls in SWITCHED_CLASSES}


def lock_states(
    session: Session, *, supplier_id: int, product_id: int
) -> dict[str, SwitchingStateRow]:
    """The rows of every switched class, created when missing and locked in class order."""
    stmt = insert_for(session, SwitchingStateRow.__table__).on_conflict_do_nothing(
        index_elements=["supplier_id", "product_id", "defect_class"]
    )
    session.execute(
        stmt,
        [
            {"supplier_id": supplier_id, "product_id": product_id, "defect_class": cls.value}
            for cls in SWITCHED_CLASSES
        ],
    )
    rows = session.scalars(
        select(SwitchingStateRow)
        .where(
            SwitchingStateRow.supplier_id == supplier_id,
            SwitchingStateRow.product_id == product_id,
        )
        .order_by(SwitchingStateRow.defect_class)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.defect_class: row for row in rows}


def store(
    session: Session,
    row: SwitchingStateRow,
    state: SwitchingState,
    transition: Transition | None,
    *,
    inspection_id: int | None,
    actor: str,
) -> None:
    """Write a class's new state and, when it switched, the switch."""
    _write(row, state)
    if transition is not None:
        session.add(
            SwitchingEvent(
                supplier_id=row.supplier_id,
                product_id=row.product_id,
                defect_class=row.defect_class,
                from_severity=transition.from_severity,
                to_severity=transition.to_severity,
                reason=transition.reason[:255],
                inspection_id=inspection_id,
                actor=actor,
            )
        )


def state_of(row: SwitchingStateRow) -> SwitchingState:
    """The pure state of a locked row."""
    return _to_state(row)


@dataclass(frozen=True)
class SwitchView:
    sku: str
    defect_class: str
    from_severity: str
    to_severity: str
    reason: str
    occurred_at: str


def recent_switches(
    session: Session, *, supplier_id: int, product_id: int | None = None, limit: int = 20
) -> list[SwitchView]:
    """The latest switches of a supplier (optionally for one product)."""
    stmt = (
        select(SwitchingEvent, Product.sku)
        .join(Product, Product.id == SwitchingEvent.product_id)
        .where(SwitchingEvent.supplier_id == supplier_id)
    )
    if product_id is not None:
        stmt = stmt.where(SwitchingEvent.product_id == product_id)
    rows = session.execute(stmt.order_by(SwitchingEvent.id.desc()).limit(limit)).all()
    return [
        SwitchView(
            sku, r.defect_class, r.from_severity, r.to_severity, r.reason, r.occurred_at.isoformat()
        )
        for r, sku in rows
    ]
