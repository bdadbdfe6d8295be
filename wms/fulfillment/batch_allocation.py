"""Batch re-optimisation: the allocated lines not yet released to picking, placed again together.

Orders placed one at a time each take their own cheapest plan against the stock left then; the
batch solver (``wms.routing.allocate.solve``) places them all at once and proves a lower bound.
Only lines whose fulfilment is still ``released`` with nothing picked and no pick list take part.
Their orders are locked (by id), then their fulfilments, as every order service does, and held
while the solver runs, so that no pick list starts and no cancel lands on a line being moved;
a line that changed state between the first read and the lock is skipped and counted.

The solver's answer is applied only when it costs less than the current allocation, priced by
the same cost model as the online policy. Every moving line is released where it was first,
then committed at its new warehouse, all in one savepoint: a commit that fails because the stock
changed meanwhile rolls all of it back (``StockChangedDuringReoptimisation``), and each changed
order records ``order.allocated`` with its full state, as a re-allocation does.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.errors import Conflict
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderLine,
    OrderLineStatus,
    PickTask,
    PickTaskStatus,
)
from wms.fulfillment.order_state import (
    level_lines,
    record_change,
    release_fulfilments,
    settle_fulfilment,
)
from wms.fulfillment.placement import ORDER_POLICY
from wms.fulfillment.reallocation import split_line
from wms.inventory import levels
from wms.inventory.catalog import get_warehouse
from wms.inventory.errors import InsufficientStock
from wms.inventory.ledger import lock_levels
from wms.inventory.models import StockLevel, Warehouse
from wms.routing.allocate import (
    UNFILLED,
    BatchParameters,
    BatchProblem,
    CostModel,
    Penalties,
    evaluate,
    solve,
)
from wms.routing.allocate.costs import IntArray, great_circle_km


class StockChangedDuringReoptimisation(Conflict):
    code = "stock_changed"

    def __init__(self, cause: InsufficientStock) -> None:
        super().__init__(
            "the stock changed while re-optimising, so nothing was moved; run it again ("
            + cause.message
            + ")",
            field="quantity",
            lines=cause.context.get("lines", []),
        )


@dataclass(frozen=True)
class ReoptimisationSummary:
    """What a run considered and did; costs in cents, ``gap`` = (after - bound) / after."""

    lines_considered: int
    lines_moved: int
    orders_changed: int
    cost_before: int
    cost_after: int
    bound: int
    gap: float
    seconds: float
    skipped: int
    applied: bool
    solver: str


@dataclass
class _Candidate:
    """A locked line, the fulfilment line and fulfilment it ships on, and its open quantity."""

    order: Order
    line: OrderLine
    shipment: FulfillmentOrder
    fl: FulfillmentLine
    quantity: int


@dataclass(frozen=True)
class _Site:
    id: int
    code: str
    latitude: float
    longitude: float


def reoptimise_allocations(
    uow: UnitOfWork,
    *,
    time_limit_seconds: float,
    actor: str,
    warehouses: Sequence[str] | None = None,
    seed: int = 0,
) -> ReoptimisationSummary:
    """Re-place every line not yet released to picking at least total cost, if that is cheaper."""
    started = time.perf_counter()
    params = BatchParameters(time_limit=time_limit_seconds, seed=seed)
    session = uow.session
    for code in warehouses or ():
        get_warehouse(session, code, field="warehouses")
    sites = _active_warehouses(session)
    wanted = _candidate_line_ids(session, [s.id for s in sites], warehouses)
    candidates = _lock_candidates(session, wanted)
    skipped = len(wanted) - len(candidates)
    costs = ORDER_POLICY.costs  # the online policy's prices, so both modes agree
    if not candidates:
        return ReoptimisationSummary(
            0, 0, 0, 0, 0, 0, 0.0, time.perf_counter() - started, skipped, False, "empty"
        )
    problem, current = _problem(session, candidates, sites, costs, ORDER_POLICY.today())
    before = evaluate(problem, current).cost
    # Leaving a line unfilled must cost more than the whole current allocation: lines keep
    # their quantity, so the solver's best answer fills every one.
    problem = replace(
        problem,
        penalties=Penalties(
            shipment=costs.penalties.shipment,
            split=costs.penalties.split,
            unfilled_unit=max(costs.penalties.unfilled_unit, before + 1),
        ),
    )
    result = solve(problem, params)
    applied = result.cost < before and result.unfilled_units == 0
    moves: list[tuple[_Candidate, _Site]] = []
    if applied:
        moves = [
            (candidate, sites[int(w)])
            for candidate, w, was in zip(candidates, result.assignment, current, strict=True)
            if int(w) != was and int(w) != UNFILLED
        ]
        _apply(uow, moves, actor)
    after = result.cost if applied else before
    bound = min(result.bound, after)
    return ReoptimisationSummary(
        lines_considered=len(candidates),
        lines_moved=len(moves),
        orders_changed=len({c.order.id for c, _ in moves}),
        cost_before=before,
        cost_after=after,
        bound=bound,
        gap=(after - bound) / after if after > 0 else 0.0,
        seconds=time.perf_counter() - started,
        skipped=skipped,
        applied=applied,
        solver=result.method,
    )


def _active_warehouses(session: Session) -> list[_Site]:
    rows = session.execute(
        select(Warehouse.id, Warehouse.code, Warehouse.latitude, Warehouse.longitude)
        .where(Warehouse.active)
        .order_by(Warehouse.code)
    ).all()
    return [_Site(r.id, r.code, r.latitude, r.longitude) for r in rows]


def _has_pick_list() -> Exists:
    return exists().where(
        PickTask.fulfillment_order_id == FulfillmentOrder.id,
        PickTask.status != PickTaskStatus.CANCELLED,
    )


def _candidate_line_ids(
    session: Session, active: Sequence[int], only: Sequence[str] | None
) -> list[int]:
    """Allocated lines on a released fulfilment at an active warehouse, nothing picked (no lock)."""
    query = (
        select(OrderLine.id)
        .join(FulfillmentLine, FulfillmentLine.order_line_id == OrderLine.id)
        .join(FulfillmentOrder, FulfillmentOrder.id == FulfillmentLine.fulfillment_order_id)
        .where(
            OrderLine.status == OrderLineStatus.ALLOCATED,
            OrderLine.warehouse_id.in_(list(active)),
            FulfillmentOrder.warehouse_id == OrderLine.warehouse_id,
            FulfillmentOrder.status == FulfillmentStatus.RELEASED,
            FulfillmentLine.picked_quantity == 0,
            FulfillmentLine.quantity > FulfillmentLine.cancelled_quantity,
            ~_has_pick_list(),
        )
    )
    if only is not None:
        codes = select(Warehouse.id).where(Warehouse.code.in_(list(only)))
        query = query.where(OrderLine.warehouse_id.in_(codes.scalar_subquery()))
    return sorted(set(session.scalars(query).all()))


def _lock_candidates(session: Session, line_ids: Sequence[int]) -> list[_Candidate]:
    """Lock the lines' orders by id, then their fulfilments by id; the lines still candidates."""
    if not line_ids:
        return []
    order_ids = select(OrderLine.order_id).where(OrderLine.id.in_(list(line_ids)))
    orders = session.scalars(
        select(Order)
        .where(Order.id.in_(order_ids.scalar_subquery()))
        .order_by(Order.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {o.id: o for o in orders}
    shipments = session.scalars(
        select(FulfillmentOrder)
        .where(FulfillmentOrder.order_id.in_(list(by_id)))
        .order_by(FulfillmentOrder.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    picking = set(
        session.scalars(
            select(PickTask.fulfillment_order_id).where(
                PickTask.fulfillment_order_id.in_([s.id for s in shipments]),
                PickTask.status != PickTaskStatus.CANCELLED,
            )
        ).all()
    )
    lines = session.scalars(
        select(OrderLine)
        .where(OrderLine.id.in_(list(line_ids)))
        .order_by(OrderLine.id)
        .execution_options(populate_existing=True)
    ).all()
    newest: dict[int, tuple[FulfillmentOrder, FulfillmentLine]] = {}
    for shipment in shipments:  # oldest first: the newest fulfilment line of a line wins
        for fl in shipment.lines:
            newest[fl.order_line_id] = (shipment, fl)
    found = []
    for line in lines:
        if line.id not in newest or line.status != OrderLineStatus.ALLOCATED:
            continue
        shipment, fl = newest[line.id]
        open_quantity = fl.quantity - fl.cancelled_quantity - fl.picked_quantity
        if (
            shipment.status == FulfillmentStatus.RELEASED
            and shipment.id not in picking
            and shipment.warehouse_id == line.warehouse_id
            and fl.picked_quantity == 0
            and open_quantity > 0
            and open_quantity == line.open_quantity
        ):
            found.append(_Candidate(by_id[line.order_id], line, shipment, fl, open_quantity))
    return found


def _problem(
    session: Session,
    candidates: Sequence[_Candidate],
    sites: Sequence[_Site],
    costs: CostModel,
    today: date | None,
) -> tuple[BatchProblem, list[int]]:
    """The batch: stock = available now + what the candidates hold; and where each line is now."""
    column = {s.id: j for j, s in enumerate(sites)}
    products = sorted({c.line.product_id for c in candidates})
    sku_of = {p: i for i, p in enumerate(products)}
    stock = np.zeros((len(sites), len(products)), dtype=np.int64)
    for row in session.execute(
        select(StockLevel.product_id, StockLevel.warehouse_id, StockLevel.available).where(
            StockLevel.product_id.in_(products),
            StockLevel.warehouse_id.in_(list(column)),
        )
    ):
        stock[column[row.warehouse_id], sku_of[row.product_id]] += max(0, row.available)
    order_of: dict[int, int] = {}
    for c in candidates:
        order_of.setdefault(c.order.id, len(order_of))
    current = [column[c.shipment.warehouse_id] for c in candidates]
    for c, w in zip(candidates, current, strict=True):
        stock[w, sku_of[c.line.product_id]] += c.quantity
    unit_cost = _unit_costs(candidates, order_of, sites, costs, today)
    problem = BatchProblem(
        order=np.array([order_of[c.order.id] for c in candidates], dtype=np.int64),
        sku=np.array([sku_of[c.line.product_id] for c in candidates], dtype=np.int64),
        qty=np.array([c.quantity for c in candidates], dtype=np.int64),
        unit_cost=unit_cost,
        stock=stock,
        penalties=costs.penalties,
    )
    return problem, current


def _unit_costs(
    candidates: Sequence[_Candidate],
    order_of: dict[int, int],
    sites: Sequence[_Site],
    costs: CostModel,
    today: date | None,
) -> IntArray:
    """Cents per unit [lines, warehouses], as the online policy prices them."""
    orders = {c.order.id: c.order for c in candidates}
    places = [(s.latitude, s.longitude) for s in sites]
    by_order = great_circle_km(places, [(o.latitude, o.longitude) for o in orders.values()])
    index = {order_id: i for i, order_id in enumerate(orders)}
    distance = by_order[[index[c.order.id] for c in candidates]]
    days_left: list[int | None] | None = None
    if today is not None:
        days_left = [
            None if c.order.promised_by is None else (c.order.promised_by - today).days
            for c in candidates
        ]
    return costs.unit_costs(distance, days_left, warehouses=[s.code for s in sites])


def _apply(uow: UnitOfWork, moves: Sequence[tuple[_Candidate, _Site]], actor: str) -> None:
    """Release every moving line where it was, then commit it where it goes, all or nothing."""
    session = uow.session
    if not moves:
        return
    try:
        with session.begin_nested():
            # Every level this touches, locked at once in key order, so that releasing here and
            # committing there cannot deadlock with a request locking the same levels.
            lock_levels(
                session,
                [(c.line.product_id, c.shipment.warehouse_id) for c, _ in moves]
                + [(c.line.product_id, site.id) for c, site in moves],
            )
            _release(uow, [c for c, _ in moves])
            levels.commit(
                uow,
                lines=level_lines(
                    session, [(c.line.product_id, site.id, c.quantity) for c, site in moves]
                ),
            )
            _reassign(session, moves, actor)
    except InsufficientStock as exc:
        raise StockChangedDuringReoptimisation(exc) from exc


def _release(uow: UnitOfWork, moving: Sequence[_Candidate]) -> None:
    session = uow.session
    levels.release_committed(
        uow,
        lines=level_lines(
            session, [(c.line.product_id, c.shipment.warehouse_id, c.quantity) for c in moving]
        ),
    )
    touched: dict[int, FulfillmentOrder] = {}
    for c in moving:
        c.fl.cancelled_quantity += c.quantity
        touched[c.shipment.id] = c.shipment
    for shipment in touched.values():
        settle_fulfilment(session, shipment)


def _reassign(session: Session, moves: Sequence[tuple[_Candidate, _Site]], actor: str) -> None:
    """Each moved line on a released fulfilment of its order at its new warehouse."""
    by_order: defaultdict[int, list[tuple[_Candidate, _Site]]] = defaultdict(list)
    for move in moves:
        by_order[move[0].order.id].append(move)
    for items in by_order.values():
        order = items[0][0].order
        reusable = _reusable(session, order.id)
        fresh: list[tuple[OrderLine, int, int]] = []
        for c, site in items:
            moved = split_line(
                session, order, c.line, c.quantity, OrderLineStatus.ALLOCATED, site.id
            )
            target = reusable.get(site.id)
            if target is None:
                fresh.append((moved, site.id, c.quantity))
            else:
                target.lines.append(
                    FulfillmentLine(
                        order_line_id=moved.id, product_id=moved.product_id, quantity=c.quantity
                    )
                )
        session.flush()
        if fresh:
            release_fulfilments(session, order, fresh)
        record_change(session, order, "order.allocated", actor)


def _reusable(session: Session, order_id: int) -> dict[int, FulfillmentOrder]:
    """The order's released fulfilments with no pick list, by warehouse (already locked)."""
    shipments = session.scalars(
        select(FulfillmentOrder)
        .where(
            FulfillmentOrder.order_id == order_id,
            FulfillmentOrder.status == FulfillmentStatus.RELEASED,
            ~_has_pick_list(),
        )
        .order_by(FulfillmentOrder.id)
    ).all()
    return {s.warehouse_id: s for s in shipments}
