"""Placing lines in warehouses: read availability, ask the allocation policy, hold the stock.

Availability is read without locks, so the policy decides on numbers that may already be stale;
the hold (``levels.reserve`` or ``levels.commit``) locks the level rows and checks again. A hold
that loses a race runs inside a savepoint, so its row locks are let go, and the placement is
tried again on fresh numbers a few times before the request is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from wms.db.uow import UnitOfWork
from wms.inventory.catalog import ProductRef
from wms.inventory.errors import InsufficientStock, ShortLine
from wms.inventory.ledger import LevelSnapshot
from wms.inventory.levels import LevelLine
from wms.inventory.models import StockLevel, Warehouse
from wms.routing.allocate import LeastCostPolicy
from wms.routing.allocation import (
    AllocationLine,
    AllocationPolicy,
    AllocationProblem,
    AllocationResult,
    WarehouseOption,
)

ATTEMPTS = 4

# The storefront's online policy: each order's least-cost plan (shipping by great-circle distance,
# fees per shipment and per split, lateness against the promised date), one order at a time.
ORDER_POLICY = LeastCostPolicy()

Hold = Callable[..., list[LevelSnapshot]]


@dataclass(frozen=True)
class PlacedLine:
    """A line to place: its key, product and quantity."""

    key: int
    product: ProductRef
    quantity: int


@dataclass(frozen=True)
class Placement:
    """Where each line was held (None: short), the warehouses' ids, and the short SKUs."""

    warehouses: dict[int, str | None]
    warehouse_ids: dict[str, int]
    result: AllocationResult
    shortages: list[ShortLine]


def place(
    uow: UnitOfWork,
    *,
    lines: Sequence[PlacedLine],
    hold: Hold,
    policy: AllocationPolicy,
    destination: tuple[float, float] | None,
    promised_by: date | None = None,
    only: int | None = None,
    exclude: Collection[int] = (),
    partial: bool = False,
) -> Placement:
    """Allocate ``lines`` and hold their stock with ``hold`` (all lines, or with ``partial`` those
    the policy could place); raises ``InsufficientStock`` naming every short SKU otherwise."""
    skus = {line.product.id: line.product.sku for line in lines}
    last: InsufficientStock | None = None
    for _ in range(ATTEMPTS):
        options, ids = read_options(uow, skus, only=only, exclude=exclude)
        problem = AllocationProblem(
            lines=tuple(AllocationLine(ln.key, ln.product.sku, ln.quantity) for ln in lines),
            warehouses=options,
            destination=destination,
            promised_by=promised_by,
        )
        result = policy.allocate(problem)
        shortages = short_lines(problem, result)
        if shortages and not partial:
            raise InsufficientStock(shortages)
        assigned = {ln.key: result.assignments[ln.key] for ln in lines}
        held = [
            LevelLine(ln.product.sku, code, ln.quantity)
            for ln in lines
            if (code := assigned[ln.key]) is not None
        ]
        try:
            if held:
                with uow.session.begin_nested():
                    hold(uow, lines=held)
        except InsufficientStock as exc:
            last = exc  # another request took the stock since it was read: read again
            continue
        return Placement(assigned, ids, result, shortages)
    assert last is not None
    raise InsufficientStock(
        [ShortLine(sku=s.sku, requested=s.requested, available=s.available) for s in last.lines]
    )


def short_lines(problem: AllocationProblem, result: AllocationResult) -> list[ShortLine]:
    """Each SKU with a line left unplaced: the total asked for, and the most that one warehouse
    could have held of it (a line never splits across warehouses)."""
    unplaced = set(result.unassigned)
    demand = problem.demand()
    short: list[ShortLine] = []
    for line in problem.lines:
        if line.key in unplaced and line.sku not in {s.sku for s in short}:
            most = max((wh.has(line.sku) for wh in problem.warehouses), default=0)
            short.append(ShortLine(sku=line.sku, requested=demand[line.sku], available=most))
    return short


def read_options(
    uow: UnitOfWork,
    skus: dict[int, str],
    *,
    only: int | None = None,
    exclude: Collection[int] = (),
) -> tuple[tuple[WarehouseOption, ...], dict[str, int]]:
    """Active warehouses (one, or all but some) with what each has available of ``skus`` (by
    product id), read without locks; and their ids by code."""
    session = uow.session
    query = select(Warehouse.id, Warehouse.code, Warehouse.latitude, Warehouse.longitude).where(
        Warehouse.active
    )
    if only is not None:
        query = query.where(Warehouse.id == only)
    if exclude:
        query = query.where(Warehouse.id.not_in(list(exclude)))
    warehouses = session.execute(query.order_by(Warehouse.code)).all()
    available: defaultdict[int, dict[str, int]] = defaultdict(dict)
    if warehouses and skus:
        rows = session.execute(
            select(StockLevel.product_id, StockLevel.warehouse_id, StockLevel.available).where(
                StockLevel.product_id.in_(list(skus)),
                StockLevel.warehouse_id.in_([w.id for w in warehouses]),
            )
        ).all()
        for row in rows:
            available[row.warehouse_id][skus[row.product_id]] = max(0, row.available)
    options = tuple(
        WarehouseOption(w.code, w.latitude, w.longitude, available[w.id]) for w in warehouses
    )
    return options, {w.code: w.id for w in warehouses}
