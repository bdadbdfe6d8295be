"""Nonconformance reports, corrective-action requests, and pulling a product from sale.

Closing the last open corrective action of a report closes the report, and closing a report
undoes what it stands for: a delisting relists the product, a discontinuation puts inspection of
the supplier's product back on tightened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.outbox import record_event
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from wms.inventory.catalog import get_product
from wms.inventory.documents import placeholder_code
from wms.inventory.ledger import COUNTERS, LevelSnapshot, lock_levels, write_levels
from wms.inventory.models import Product, StockLevel
from wms.quality.models import (
    CorrectiveAction,
    NonconformanceReport,
    QualityBlock,
)
from wms.quality.suppliers import get_supplier
from wms.quality.switching import Transition, resume_after_corrective_action
from wms.quality.switching_store import lock_states, state_of, store


class UnknownNcr(NotFound):
    code = "unknown_ncr"

    def __init__(self, ncr: str) -> None:
        super().__init__(f"no nonconformance report {ncr!r}", field="ncr", ncr=ncr)


class AlreadyDelisted(Conflict):
    code = "already_delisted"

    def __init__(self, sku: str, ncr: str) -> None:
        super().__init__(f"{sku} is already off sale under {ncr}", field="sku", sku=sku, ncr=ncr)


def _text(value: str, field: str, *, limit: int) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(f"{field.replace('_', ' ')} is required", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"{field} has at most {limit} characters", field=field)
    return value


def lock_ncr(session: Session, code: str) -> NonconformanceReport:
    row = session.scalar(
        select(NonconformanceReport)
        .where(NonconformanceReport.code == code.strip().upper())
        .with_for_update()
    )
    if row is None:
        raise UnknownNcr(code)
    return row


def add_ncr(
    session: Session,
    *,
    kind: str,
    title: str,
    description: str,
    actor: str,
    product_id: int | None = None,
    supplier_id: int | None = None,
    inspection_id: int | None = None,
) -> NonconformanceReport:
    """Write a report and give it its code (``NCR-000042``) once its id exists."""
    ncr = NonconformanceReport(
        code=placeholder_code("NCR"),
        product_id=product_id,
        supplier_id=supplier_id,
        inspection_id=inspection_id,
        kind=kind,
        title=title[:200],
        description=description,
        created_by=actor,
    )
    session.add(ncr)
    session.flush()
    ncr.code = f"NCR-{ncr.id:06d}"
    session.flush()
    return ncr


def create_ncr(
    uow: UnitOfWork,
    *,
    title: str,
    actor: str,
    description: str = "",
    sku: str | None = None,
    supplier: str | None = None,
    kind: str = "manual",
) -> NonconformanceReport:
    """Raise a nonconformance report about a product, a supplier, or both."""
    session = uow.session
    return add_ncr(
        session,
        kind=kind,
        title=_text(title, "title", limit=200),
        description=description.strip(),
        actor=actor,
        product_id=get_product(session, sku).id if sku else None,
        supplier_id=get_supplier(session, supplier).id if supplier else None,
    )


def request_corrective_action(
    uow: UnitOfWork, *, ncr: str, description: str, owner: str, due_date: date, actor: str
) -> CorrectiveAction:
    """Ask someone to fix the cause of a nonconformance by a date."""
    session = uow.session
    report = lock_ncr(session, ncr)
    if report.status != "open":
        raise InvalidTransition(f"NCR {report.code}", report.status, "corrective action added")
    if due_date < utcnow().date():
        raise ValidationFailed(f"due date {due_date} is in the past", field="due_date")
    action = CorrectiveAction(
        ncr_id=report.id,
        description=_text(description, "description", limit=2000),
        owner=_text(owner, "owner", limit=64),
        due_date=due_date,
        created_by=actor,
    )
    session.add(action)
    session.flush()
    return action


def close_corrective_action(
    uow: UnitOfWork, *, action_id: int, resolution: str, actor: str
) -> CorrectiveAction:
    """Close a corrective action; the last one closes its report and undoes its effects."""
    session = uow.session
    action = session.get(CorrectiveAction, action_id, with_for_update=True)
    if action is None:
        raise NotFound(f"no corrective action {action_id}", field="action_id")
    if action.status != "open":
        raise InvalidTransition(f"corrective action {action_id}", action.status, "closed")
    report = session.get(NonconformanceReport, action.ncr_id, with_for_update=True)
    assert report is not None
    action.status = "closed"
    action.resolution = _text(resolution, "resolution", limit=2000)
    action.closed_by = actor
    action.closed_at = utcnow()
    session.flush()
    still_open = session.scalar(
        select(CorrectiveAction.id).where(
            CorrectiveAction.ncr_id == report.id, CorrectiveAction.status == "open"
        )
    )
    if still_open is None and report.status == "open":
        _close_report(session, report, actor)
    return action


def _close_report(session: Session, report: NonconformanceReport, actor: str) -> None:
    report.status = "closed"
    report.closed_at = utcnow()
    if report.kind == "delisting":
        block = session.scalar(
            select(QualityBlock)
            .where(QualityBlock.ncr_id == report.id, QualityBlock.status == "active")
            .with_for_update()
        )
        if block is not None:
            _lift(session, block, actor)
    elif report.kind == "discontinuation" and report.supplier_id and report.product_id:
        locked = lock_states(session, supplier_id=report.supplier_id, product_id=report.product_id)
        for row in locked.values():
            state = state_of(row)
            if state.severity == "discontinued":
                resumed = resume_after_corrective_action(state)
                store(
                    session,
                    row,
                    resumed,
                    Transition(
                        "discontinued",
                        resumed.severity,
                        f"corrective action closed ({report.code})",
                    ),
                    inspection_id=None,
                    actor=actor,
                )
    session.flush()


def _set_blocked(session: Session, product_id: int, blocked: bool) -> list[LevelSnapshot]:
    session.execute(update(Product).where(Product.id == product_id).values(sales_blocked=blocked))
    keys = [
        (product_id, w)
        for w in session.scalars(
            select(StockLevel.warehouse_id).where(StockLevel.product_id == product_id)
        )
    ]
    rows = lock_levels(session, keys)
    values = {key: {name: getattr(row, name) for name in COUNTERS} for key, row in rows.items()}
    return write_levels(session, rows, values, blocked=dict.fromkeys(rows, blocked))


@dataclass(frozen=True)
class Delisting:
    sku: str
    ncr: str
    levels: list[LevelSnapshot]


def delist(
    uow: UnitOfWork,
    *,
    sku: str,
    reason: str,
    actor: str,
    action: str,
    owner: str,
    due_date: date,
) -> Delisting:
    """Pull a product from sale everywhere: an NCR with its corrective action, and a block that
    holds ``available`` at 0 in every warehouse until the action is closed."""
    session = uow.session
    product = get_product(session, sku)
    session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    active = session.execute(
        select(NonconformanceReport.code)
        .join(QualityBlock, QualityBlock.ncr_id == NonconformanceReport.id)
        .where(QualityBlock.product_id == product.id, QualityBlock.status == "active")
    ).scalar()
    if active is not None:
        raise AlreadyDelisted(product.sku, active)
    reason = _text(reason, "reason", limit=2000)
    ncr = create_ncr(
        uow,
        title=f"{product.sku} pulled from sale",
        description=reason,
        sku=product.sku,
        kind="delisting",
        actor=actor,
    )
    request_corrective_action(
        uow, ncr=ncr.code, description=action, owner=owner, due_date=due_date, actor=actor
    )
    session.add(QualityBlock(product_id=product.id, ncr_id=ncr.id, reason=reason, created_by=actor))
    levels = _set_blocked(session, product.id, True)
    record_event(
        session,
        "product.delisted",
        product.sku,
        {
            "sku": product.sku,
            "reason": reason,
            "ncr": ncr.code,
            "delisted_at": utcnow().isoformat(),
        },
    )
    session.flush()
    return Delisting(product.sku, ncr.code, levels)


def _lift(session: Session, block: QualityBlock, actor: str) -> None:
    block.status = "lifted"
    block.lifted_by = actor
    block.lifted_at = utcnow()
    session.flush()
    _set_blocked(session, block.product_id, False)
    sku = session.scalar(select(Product.sku).where(Product.id == block.product_id))
    report = session.get(NonconformanceReport, block.ncr_id)
    record_event(
        session,
        "product.relisted",
        str(sku),
        {
            "sku": sku,
            "ncr": report.code if report else None,
            "relisted_at": utcnow().isoformat(),
        },
    )
