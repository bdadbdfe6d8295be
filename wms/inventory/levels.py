"""Counter primitives on stock levels: reserve, commit, release, safety stock and incoming.

These touch stock levels only (never quants), lock them in (product, warehouse) order through
``lock_levels``, check every line before writing any, and raise once with all the short lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.errors import Conflict, ValidationFailed
from wms.inventory.catalog import get_product, get_warehouse
from wms.inventory.errors import InsufficientStock, ShortLine
from wms.inventory.ledger import (
    COUNTERS,
    LevelKey,
    LevelSnapshot,
    lock_levels,
    unheld,
    write_levels,
)
from wms.inventory.stock import positive_quantity


@dataclass(frozen=True)
class LevelLine:
    """A quantity of a SKU at a warehouse."""

    sku: str
    warehouse: str
    quantity: int


@dataclass(frozen=True)
class _Resolved:
    key: LevelKey
    line: LevelLine


def _resolve(session: Session, lines: Sequence[LevelLine]) -> list[_Resolved]:
    if not lines:
        raise ValidationFailed("at least one line is required", field="lines")
    resolved = []
    for index, line in enumerate(lines):
        prefix = f"lines[{index}]." if len(lines) > 1 else ""
        positive_quantity(line.quantity, field=f"{prefix}quantity")
        product = get_product(session, line.sku, field=f"{prefix}sku")
        wh = get_warehouse(session, line.warehouse, field=f"{prefix}warehouse")
        resolved.append(_Resolved((product.id, wh.id), line))
    return resolved


def _change(
    session: Session,
    lines: Sequence[LevelLine],
    *,
    take_from: str | None,
    give_to: str | None,
) -> list[LevelSnapshot]:
    """Move quantities between counters: from available or a counter, into a counter or nowhere."""
    resolved = _resolve(session, lines)
    rows = lock_levels(session, [r.key for r in resolved])
    values = {key: {name: getattr(row, name) for name in COUNTERS} for key, row in rows.items()}
    wanted: defaultdict[LevelKey, int] = defaultdict(int)
    for r in resolved:
        wanted[r.key] += r.line.quantity
    shortages: list[ShortLine] = []
    for r in resolved:
        have = unheld(values[r.key]) if take_from is None else values[r.key][take_from]
        if wanted[r.key] > have:
            shortages.append(
                ShortLine(
                    sku=r.line.sku,
                    requested=r.line.quantity,
                    available=max(0, have),
                    warehouse=r.line.warehouse,
                )
            )
    if shortages:
        if take_from is None:
            raise InsufficientStock(shortages)
        raise Conflict(
            f"cannot release more than is {take_from}: "
            + "; ".join(
                f"{s.sku} at {s.warehouse}: {s.requested} asked, {s.available} {take_from}"
                for s in shortages
            ),
            field="quantity",
            lines=[
                {
                    "sku": s.sku,
                    "warehouse": s.warehouse,
                    "requested": s.requested,
                    take_from: s.available,
                }
                for s in shortages
            ],
        )
    for key, quantity in wanted.items():
        if take_from is not None:
            values[key][take_from] -= quantity
        if give_to is not None:
            values[key][give_to] += quantity
    return write_levels(session, rows, {key: values[key] for key in wanted})


def reserve(uow: UnitOfWork, *, lines: Sequence[LevelLine]) -> list[LevelSnapshot]:
    """Hold available stock for a checkout; all lines or none."""
    return _change(uow.session, lines, take_from=None, give_to="reserved")


def release_reserved(uow: UnitOfWork, *, lines: Sequence[LevelLine]) -> list[LevelSnapshot]:
    """Give reserved stock back to available."""
    return _change(uow.session, lines, take_from="reserved", give_to=None)


def commit(uow: UnitOfWork, *, lines: Sequence[LevelLine]) -> list[LevelSnapshot]:
    """Commit available stock to an order; all lines or none."""
    return _change(uow.session, lines, take_from=None, give_to="committed")


def commit_reserved(uow: UnitOfWork, *, lines: Sequence[LevelLine]) -> list[LevelSnapshot]:
    """Turn a checkout's reserved stock into stock committed to its order."""
    return _change(uow.session, lines, take_from="reserved", give_to="committed")


def release_committed(uow: UnitOfWork, *, lines: Sequence[LevelLine]) -> list[LevelSnapshot]:
    """Give committed stock back to available (a cancelled or re-allocated order)."""
    return _change(uow.session, lines, take_from="committed", give_to=None)


def set_safety_stock(uow: UnitOfWork, *, sku: str, warehouse: str, quantity: int) -> LevelSnapshot:
    """Set the buffer kept out of ``available`` for a SKU at a warehouse."""
    session = uow.session
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise ValidationFailed(f"safety stock {quantity} must be zero or more", field="quantity")
    key = (get_product(session, sku).id, get_warehouse(session, warehouse).id)
    rows = lock_levels(session, [key])
    values = {name: getattr(rows[key], name) for name in COUNTERS}
    values["safety_stock"] = quantity
    return write_levels(session, rows, {key: values})[0]
