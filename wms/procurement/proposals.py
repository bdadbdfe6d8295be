"""What a planner does with a plan: edit a proposed quantity (within MOQ and packs), approve or
reject proposals, and order the approved ones as draft purchase orders (one per supplier,
warehouse and order week), which the planner then approves like any other order.

    proposed ──approve──> approved ──order──> ordered
        └──reject──> rejected <──reject──┘  (approve again from rejected)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, InvalidTransition, ValidationFailed
from wms.procurement import purchase_orders as po
from wms.procurement.models import (
    PlanProposal,
    PlanRun,
    PlanRunStatus,
    ProposalStatus,
    PurchaseOrder,
    SupplierProduct,
)
from wms.procurement.plan_views import (
    ProposalView,
    UnknownPlanRun,
    UnknownProposal,
    proposal_views,
)
from wms.procurement.suppliers import PriceBreakView, unit_price_for

MAX_PROPOSALS = 5000


def _run(session: Session, run_id: int) -> PlanRun:
    run = session.get(PlanRun, run_id)
    if run is None:
        raise UnknownPlanRun(run_id)
    if run.status != PlanRunStatus.SUCCEEDED:
        raise Conflict(
            f"plan run {run_id} is {run.status}; only a finished plan has proposals to act on",
            field="run_id",
        )
    return run


def _lock(session: Session, run_id: int, ids: Sequence[int]) -> list[PlanProposal]:
    if not ids:
        raise ValidationFailed("name at least one proposal", field="proposal_ids")
    if len(ids) > MAX_PROPOSALS:
        raise ValidationFailed(f"at most {MAX_PROPOSALS} proposals at once", field="proposal_ids")
    wanted = sorted(set(ids))
    rows = list(
        session.scalars(
            select(PlanProposal)
            .where(PlanProposal.run_id == run_id, PlanProposal.id.in_(wanted))
            .order_by(PlanProposal.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    missing = sorted(set(wanted) - {row.id for row in rows})
    if missing:
        raise UnknownProposal(missing[0], field="proposal_ids")
    return rows


def _decide(
    uow: UnitOfWork, run_id: int, ids: Sequence[int], actor: str, target: ProposalStatus
) -> list[ProposalView]:
    _run(uow.session, run_id)
    rows = _lock(uow.session, run_id, ids)
    allowed = {
        ProposalStatus.APPROVED: (ProposalStatus.PROPOSED, ProposalStatus.REJECTED),
        ProposalStatus.REJECTED: (ProposalStatus.PROPOSED, ProposalStatus.APPROVED),
    }[target]
    for row in rows:  # check every one before changing any
        if row.status != target and row.status not in allowed:
            raise InvalidTransition(f"proposal {row.id}", row.status, target)
    now = utcnow()
    for row in rows:
        if row.status != target:
            row.status, row.decided_by, row.decided_at = target, actor, now
    uow.session.flush()
    return proposal_views(uow.session, run_id=run_id, ids=[r.id for r in rows])


def approve_proposals(
    uow: UnitOfWork, *, run_id: int, proposal_ids: Sequence[int], actor: str
) -> list[ProposalView]:
    """Approve proposals of a finished run (already approved ones stay as they are)."""
    return _decide(uow, run_id, proposal_ids, actor, ProposalStatus.APPROVED)


def reject_proposals(
    uow: UnitOfWork, *, run_id: int, proposal_ids: Sequence[int], actor: str
) -> list[ProposalView]:
    """Reject proposals of a finished run that are not ordered yet."""
    return _decide(uow, run_id, proposal_ids, actor, ProposalStatus.REJECTED)


def _offer(session: Session, row: PlanProposal) -> SupplierProduct | None:
    return session.scalar(
        select(SupplierProduct).where(
            SupplierProduct.supplier_id == row.supplier_id,
            SupplierProduct.product_id == row.product_id,
        )
    )


def check_quantity(offer: SupplierProduct, quantity: int, *, field: str = "quantity") -> None:
    """Refuse a quantity below the MOQ or off the pack multiple, naming quantities that work."""
    pack, least = offer.pack_multiple, offer.moq
    smallest = -(-least // pack) * pack
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed(f"quantity {quantity!r} must be a whole number above 0", field=field)
    if quantity < least or quantity % pack:
        lower = max(smallest, quantity // pack * pack)
        upper = max(smallest, -(-quantity // pack) * pack)
        nearest = f"{lower}" if lower == upper else f"{lower} or {upper}"
        raise ValidationFailed(
            f"order at least {least} (the MOQ) in packs of {pack}: {quantity} is not; "
            f"{nearest} would be",
            field=field,
            moq=least,
            pack_multiple=pack,
        )


def edit_proposal(
    uow: UnitOfWork, *, proposal_id: int, quantity: int, actor: str, run_id: int | None = None
) -> ProposalView:
    """Change the quantity of a proposal not yet ordered (of ``run_id`` when given); it is
    priced again by the quantity breaks."""
    session = uow.session
    row = session.get(PlanProposal, proposal_id, with_for_update=True, populate_existing=True)
    if row is None or (run_id is not None and row.run_id != run_id):
        raise UnknownProposal(proposal_id)
    if row.status not in (ProposalStatus.PROPOSED, ProposalStatus.APPROVED):
        raise InvalidTransition(f"proposal {row.id}", row.status, "edited")
    offer = _offer(session, row)
    if offer is None:
        raise Conflict("the supplier no longer offers this product", field="quantity")
    check_quantity(offer, quantity)
    row.quantity = quantity
    row.unit_price = unit_price_for(
        [PriceBreakView(b.min_quantity, b.unit_price) for b in offer.price_breaks], quantity
    )
    session.flush()
    return proposal_views(session, run_id=row.run_id, ids=[row.id])[0]


def order_proposals(
    uow: UnitOfWork, *, run_id: int, actor: str, proposal_ids: Sequence[int] | None = None
) -> list[str]:
    """Order approved proposals (all of the run's by default) as draft purchase orders, one per
    supplier, warehouse and order week; returns their codes."""
    session = uow.session
    _run(session, run_id)
    if proposal_ids is None:
        proposal_ids = list(
            session.scalars(
                select(PlanProposal.id).where(
                    PlanProposal.run_id == run_id, PlanProposal.status == ProposalStatus.APPROVED
                )
            )
        )
        if not proposal_ids:
            raise Conflict(f"plan run {run_id} has no approved proposal to order", field="run_id")
    rows = _lock(session, run_id, proposal_ids)
    for row in rows:
        if row.status != ProposalStatus.APPROVED:
            raise InvalidTransition(f"proposal {row.id}", row.status, ProposalStatus.ORDERED)
    groups: dict[tuple[int, int, int], list[PlanProposal]] = defaultdict(list)
    for row in rows:
        groups[(row.supplier_id, row.warehouse_id, row.order_week)].append(row)
    views = {v.id: v for v in proposal_views(session, run_id=run_id, ids=[r.id for r in rows])}
    today = utcnow().date()
    codes = []
    for (_, _, week), members in sorted(groups.items()):
        first = views[members[0].id]
        quantities: dict[str, int] = defaultdict(int)
        for member in members:
            quantities[views[member.id].sku] += member.quantity
        prices = {views[m.id].sku: m.unit_price for m in members}
        repeated = {sku for sku in quantities if sum(views[m.id].sku == sku for m in members) > 1}
        order = po.create_purchase_order(
            uow,
            supplier=first.supplier,
            warehouse=first.warehouse,
            lines=[
                # A SKU ordered in one proposal keeps its price; several are priced again.
                po.OrderLineRequest(sku, qty, None if sku in repeated else prices[sku])
                for sku, qty in sorted(quantities.items())
            ],
            actor=actor,
            expected_date=max(today, *(m.arrival_date for m in members)),
            currency=first.currency,
            notes=f"plan run {run_id}, order week {week}",
            plan_run_id=run_id,
        )
        for member in members:
            member.status = ProposalStatus.ORDERED
            member.purchase_order_id = session.scalar(
                select(PurchaseOrder.id).where(PurchaseOrder.code == order.code)
            )
        codes.append(order.code)
    session.flush()
    return codes
