"""Which stock a pick list takes: first expiry, first out, decided by a pure function.

Candidates are the quantities of a product that the warehouse's active storage bins hold, less what
open pick tasks already claim there. Stock in receiving, quality hold, damaged, packing or shipping
is never picked: it is not put away, not released, or already on its way out. Expired lots are
skipped (they are not sold). Among the rest, lots with the earliest expiry go first, lots without
an expiry last; within one expiry the larger quants first, so that a line takes fewer stops; then
the bin code, so that the choice is deterministic.

``plan_picks`` is the decision over plain values; ``plan_tasks`` gathers the candidates from the
database and writes the tasks in walking order (``wms.routing.pickpath``). Plans of one warehouse are
made one at a time (a transaction-scoped advisory lock on PostgreSQL), so that two pick lists never
claim the same units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.errors import Conflict
from wms.fulfillment.models import FulfillmentLine, FulfillmentOrder, PickTask, PickTaskStatus
from wms.fulfillment.workflow import warehouse_code
from wms.inventory.errors import InsufficientStock, ShortLine
from wms.inventory.models import Location, LocationKind, Lot, Product, Quant
from wms.routing.pickpath import BinPoint, shortest_walk

_PLAN_LOCK = 0x5049434B  # "PICK": the advisory lock class of pick-list planning, per warehouse


@dataclass(frozen=True)
class StockCandidate:
    """Pickable stock of one product in one bin (and lot)."""

    location_id: int
    location_code: str
    lot_id: int | None
    expiry_date: date | None
    quantity: int


@dataclass(frozen=True)
class PlannedPick:
    location_id: int
    lot_id: int | None
    quantity: int


@dataclass(frozen=True)
class PickPlan:
    picks: list[PlannedPick]
    short: int  # what the candidates could not cover

    @property
    def is_complete(self) -> bool:
        return self.short == 0


def fefo_key(candidate: StockCandidate) -> tuple[bool, date, int, str]:
    return (
        candidate.expiry_date is None,
        candidate.expiry_date or date.max,
        -candidate.quantity,
        candidate.location_code,
    )


def plan_picks(quantity: int, candidates: Sequence[StockCandidate], *, today: date) -> PickPlan:
    """Take ``quantity`` from ``candidates`` first-expiry-first-out, splitting across bins."""
    remaining = quantity
    picks: list[PlannedPick] = []
    usable = [
        c
        for c in candidates
        if c.quantity > 0 and (c.expiry_date is None or c.expiry_date >= today)
    ]
    for candidate in sorted(usable, key=fefo_key):
        if remaining == 0:
            break
        take = min(remaining, candidate.quantity)
        picks.append(PlannedPick(candidate.location_id, candidate.lot_id, take))
        remaining -= take
    return PickPlan(picks, remaining)


def plan_tasks(session: Session, fulfillment: FulfillmentOrder) -> None:
    """Create the fulfilment's pick tasks in walking order, or raise with every short line."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:cls, :wh)"),
            {"cls": _PLAN_LOCK, "wh": fulfillment.warehouse_id},
        )
    lines = session.scalars(
        select(FulfillmentLine)
        .where(FulfillmentLine.fulfillment_order_id == fulfillment.id)
        .order_by(FulfillmentLine.id)
    ).all()
    today = utcnow().date()
    planned: list[tuple[FulfillmentLine, PlannedPick]] = []
    shortages: list[ShortLine] = []
    claimed: defaultdict[tuple[int, int | None, int], int] = defaultdict(int)
    for line in lines:
        wanted = line.quantity - line.picked_quantity - line.cancelled_quantity
        if wanted <= 0:
            continue
        candidates = _candidates(session, fulfillment.warehouse_id, line.product_id, claimed)
        plan = plan_picks(wanted, candidates, today=today)
        if not plan.is_complete:
            shortages.append(_shortage(session, fulfillment, line, wanted, plan.short))
            continue
        for pick in plan.picks:
            claimed[(line.product_id, pick.lot_id, pick.location_id)] += pick.quantity
            planned.append((line, pick))
    if shortages:
        raise InsufficientStock(shortages)
    if not planned:
        raise Conflict(
            f"fulfilment {fulfillment.public_id} has nothing left to pick", field="fulfillment"
        )
    _add_tasks(session, fulfillment, planned)


def _shortage(
    session: Session, fulfillment: FulfillmentOrder, line: FulfillmentLine, wanted: int, short: int
) -> ShortLine:
    sku = session.scalar(select(Product.sku).where(Product.id == line.product_id))
    return ShortLine(
        sku=str(sku),
        requested=wanted,
        available=wanted - short,
        warehouse=warehouse_code(session, fulfillment.warehouse_id),
        location="storage bins (stock in receiving or quality hold is not picked)",
    )


def _candidates(
    session: Session,
    warehouse_id: int,
    product_id: int,
    claimed_here: dict[tuple[int, int | None, int], int],
) -> list[StockCandidate]:
    """Stock of a product in the warehouse's active storage bins, less open tasks' claims."""
    rows = session.execute(
        select(Quant.location_id, Location.code, Quant.lot_id, Lot.expiry_date, Quant.quantity)
        .join(Location, Location.id == Quant.location_id)
        .outerjoin(Lot, Lot.id == Quant.lot_id)
        .where(
            Quant.product_id == product_id,
            Quant.quantity > 0,
            Location.warehouse_id == warehouse_id,
            Location.kind == LocationKind.STORAGE,
            Location.active,
        )
    ).all()
    claims = session.execute(
        select(
            PickTask.location_id,
            PickTask.lot_id,
            func.sum(PickTask.quantity - PickTask.picked_quantity),
        )
        .join(Location, Location.id == PickTask.location_id)
        .where(
            PickTask.product_id == product_id,
            PickTask.status == PickTaskStatus.OPEN,
            Location.warehouse_id == warehouse_id,
        )
        .group_by(PickTask.location_id, PickTask.lot_id)
    ).all()
    taken = {(loc, lot): int(qty) for loc, lot, qty in claims}
    return [
        StockCandidate(
            location_id=r.location_id,
            location_code=r.code,
            lot_id=r.lot_id,
            expiry_date=r.expiry_date,
            quantity=r.quantity
            - taken.get((r.location_id, r.lot_id), 0)
            - claimed_here.get((product_id, r.lot_id, r.location_id), 0),
        )
        for r in rows
    ]


def _add_tasks(
    session: Session,
    fulfillment: FulfillmentOrder,
    planned: list[tuple[FulfillmentLine, PlannedPick]],
) -> None:
    location_ids = {pick.location_id for _, pick in planned}
    places = session.execute(
        select(Location.id, Location.code, Location.x, Location.y).where(
            Location.id.in_(location_ids)
        )
    ).all()
    code_of = {p.id: p.code for p in places}
    route = shortest_walk(BinPoint(p.code, p.x, p.y) for p in places)
    rank = {point.code: index for index, point in enumerate(route)}
    # Walking order; within one bin, the pick list's own order (lines, then first expiry).
    ordered = sorted(
        enumerate(planned), key=lambda ip: (rank[code_of[ip[1][1].location_id]], ip[0])
    )
    for seq, (_, (line, pick)) in enumerate(ordered, start=1):
        session.add(
            PickTask(
                fulfillment_order_id=fulfillment.id,
                fulfillment_line_id=line.id,
                seq=seq,
                location_id=pick.location_id,
                product_id=line.product_id,
                lot_id=pick.lot_id,
                quantity=pick.quantity,
                picked_quantity=0,
                status=PickTaskStatus.OPEN.value,
            )
        )
