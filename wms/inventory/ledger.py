"""Posting to the ledger: the only code that writes moves, quants and stock-level counters.

Concurrency strategy on PostgreSQL (READ COMMITTED): every posting takes its row locks in one
global order, so that parallel postings serialise where they overlap and can never deadlock:

1. quants, in (product, lot, location) key order, one statement per key: a decrement locks the
   row with ``SELECT ... FOR UPDATE`` and checks it; an increment is an atomic upsert;
2. then stock levels, in (product, warehouse) order, with one ``SELECT ... ORDER BY ... FOR UPDATE``.

Every shortfall is collected before anything is raised, so an error lists all short lines.
The CHECK constraints on both tables are the backstop if a future code path forgets a check.

The order holds within one posting. Each stock service is one posting; a use case that makes
several postings in one transaction (a hold, then a shipment) cannot keep one global order, so
it runs through ``wms.db.uow.transaction``, which retries the whole transaction on a deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, bindparam, insert, select, tuple_
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.outbox import record_events
from wms.db.upsert import insert_for
from wms.errors import Conflict
from wms.inventory.catalog import LocationRef, codes, ensure_levels, locations_by_id
from wms.inventory.errors import InsufficientStock, ShortLine, StockAllocated, UncoveredLine
from wms.inventory.models import (
    LocationKind,
    Lot,
    Move,
    Quant,
    StockLevel,
)

_QUANTS: Table = Quant.__table__  # type: ignore[assignment]
_LEVELS: Table = StockLevel.__table__  # type: ignore[assignment]
_MOVES: Table = Move.__table__  # type: ignore[assignment]

COUNTERS = (
    "on_hand",
    "committed",
    "reserved",
    "quality_control",
    "damaged",
    "safety_stock",
    "incoming",
)


@dataclass(frozen=True)
class MoveLine:
    """One line of a posting, by ids (resolved by the calling service)."""

    product_id: int
    lot_id: int | None
    from_location_id: int
    to_location_id: int
    quantity: int


@dataclass(frozen=True)
class LevelSnapshot:
    """A stock level after a change: absolute counters plus its version."""

    product_id: int
    warehouse_id: int
    on_hand: int
    committed: int
    reserved: int
    quality_control: int
    damaged: int
    safety_stock: int
    incoming: int
    version: int
    updated_at: datetime
    blocked: bool = False

    @property
    def available(self) -> int:
        return max(0, unheld(vars(self)))


@dataclass
class Posting:
    """What a posting wrote: the number of moves and every stock level it changed."""

    moves: int = 0
    levels: list[LevelSnapshot] = field(default_factory=list)


# The counters held out of what can be sold; ``available`` is on_hand less all of them.
HELD = ("committed", "reserved", "quality_control", "damaged", "safety_stock")


def unheld(values: Mapping[Any, Any]) -> int:
    """``on_hand`` less every held counter (negative when oversold; shown as 0 to clients).

    A level that is ``blocked`` (its product pulled from sale) has nothing to sell: at most 0."""
    free = int(values["on_hand"]) - sum(int(values[name]) for name in HELD)
    return min(free, 0) if values.get("blocked") else free


QuantKey = tuple[int, int | None, int]  # product, lot, location
LevelKey = tuple[int, int]  # product, warehouse


def post_moves(
    session: Session,
    lines: Iterable[MoveLine],
    *,
    reason: str,
    reference: str,
    actor: str,
    occurred_at: datetime | None = None,
    counter_deltas: Mapping[LevelKey, Mapping[str, int]] | None = None,
) -> Posting:
    """Write moves and update quants and stock levels in the caller's transaction."""
    lines = [line for line in lines if line.quantity]
    for line in lines:
        if line.quantity < 0 or line.from_location_id == line.to_location_id:
            raise ValueError(f"malformed move line {line}")
    locations = locations_by_id(
        session, {i for ln in lines for i in (ln.from_location_id, ln.to_location_id)}
    )
    quant_deltas, level_deltas = _deltas(lines, locations)
    for key, counters in (counter_deltas or {}).items():
        for name, delta in counters.items():
            level_deltas[key][name] += delta
    posting = Posting(moves=len(lines))
    # A refused posting must leave the caller's transaction as it found it: increments are
    # written while the keys are walked in lock order, before a later key may turn out short.
    with session.begin_nested():
        _apply_quants(session, quant_deltas, locations)
        posting.levels = apply_level_deltas(session, level_deltas)
    if lines:
        when = occurred_at or utcnow()
        session.execute(
            insert(_MOVES),
            [
                {
                    "product_id": ln.product_id,
                    "lot_id": ln.lot_id,
                    "from_location_id": ln.from_location_id,
                    "to_location_id": ln.to_location_id,
                    "quantity": ln.quantity,
                    "reason": reason,
                    "reference": reference,
                    "actor": actor,
                    "occurred_at": when,
                }
                for ln in lines
            ],
        )
    return posting


def _deltas(
    lines: list[MoveLine], locations: dict[int, LocationRef]
) -> tuple[dict[QuantKey, int], defaultdict[LevelKey, defaultdict[str, int]]]:
    quants: defaultdict[QuantKey, int] = defaultdict(int)
    levels: defaultdict[LevelKey, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        for loc_id, sign in ((line.from_location_id, -1), (line.to_location_id, 1)):
            loc = locations[loc_id]
            if loc.holds_stock:
                quants[(line.product_id, line.lot_id, loc_id)] += sign * line.quantity
            if loc.warehouse_id is None or not loc.holds_stock:
                continue
            counters = levels[(line.product_id, loc.warehouse_id)]
            counters["on_hand"] += sign * line.quantity
            if loc.kind is LocationKind.QC_HOLD:
                counters["quality_control"] += sign * line.quantity
            elif loc.kind is LocationKind.DAMAGED:
                counters["damaged"] += sign * line.quantity
    return {k: v for k, v in quants.items() if v}, levels


def _quant_where(key: QuantKey) -> list[ColumnElement[bool]]:
    product_id, lot_id, location_id = key
    c = _QUANTS.c
    lot_clause = c.lot_id.is_(None) if lot_id is None else c.lot_id == lot_id
    return [c.product_id == product_id, lot_clause, c.location_id == location_id]


def _sort_key(key: QuantKey) -> tuple[int, int, int]:
    return (key[0], -1 if key[1] is None else key[1], key[2])


def _apply_quants(
    session: Session, deltas: dict[QuantKey, int], locations: dict[int, LocationRef]
) -> None:
    shortages: list[tuple[QuantKey, int, int]] = []
    decrements: list[tuple[int, int]] = []
    now = utcnow()
    for key in sorted(deltas, key=_sort_key):
        delta = deltas[key]
        if delta < 0:
            row = session.execute(
                select(_QUANTS.c.id, _QUANTS.c.quantity).where(*_quant_where(key)).with_for_update()
            ).first()
            have = row.quantity if row else 0
            if row is None or have < -delta:
                shortages.append((key, -delta, have))
            else:
                decrements.append((row.id, delta))
        else:
            _upsert_quant(session, key, delta, now)
    if shortages:
        raise InsufficientStock(_describe_shortages(session, shortages, locations))
    if decrements:
        session.execute(
            _QUANTS.update()
            .where(_QUANTS.c.id == bindparam("_id"))
            .values(quantity=_QUANTS.c.quantity + bindparam("_delta"), updated_at=now),
            [{"_id": quant_id, "_delta": delta} for quant_id, delta in decrements],
        )


def _upsert_quant(session: Session, key: QuantKey, delta: int, now: datetime) -> None:
    product_id, lot_id, location_id = key
    table = _QUANTS
    stmt = insert_for(session, table).values(
        product_id=product_id,
        lot_id=lot_id,
        location_id=location_id,
        quantity=delta,
        updated_at=now,
    )
    if lot_id is None:
        stmt = stmt.on_conflict_do_update(
            index_elements=["product_id", "location_id"],
            index_where=table.c.lot_id.is_(None),
            set_={"quantity": table.c.quantity + delta, "updated_at": now},
        )
    else:
        stmt = stmt.on_conflict_do_update(
            index_elements=["product_id", "lot_id", "location_id"],
            index_where=table.c.lot_id.is_not(None),
            set_={"quantity": table.c.quantity + delta, "updated_at": now},
        )
    session.execute(stmt)


def _describe_shortages(
    session: Session,
    shortages: list[tuple[QuantKey, int, int]],
    locations: dict[int, LocationRef],
) -> list[ShortLine]:
    lot_ids = {k[1] for k, _, _ in shortages if k[1] is not None}
    lots = (
        dict(session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(lot_ids))).all())
        if lot_ids
        else {}
    )
    wh_ids = {w for k, _, _ in shortages if (w := locations[k[2]].warehouse_id) is not None}
    skus, whs = codes(session, {k[0] for k, _, _ in shortages}, wh_ids)
    result = []
    for (product_id, lot_id, location_id), requested, have in shortages:
        loc = locations[location_id]
        wh = whs.get(loc.warehouse_id) if loc.warehouse_id is not None else None
        result.append(
            ShortLine(
                sku=skus[product_id],
                requested=requested,
                available=have,
                warehouse=wh,
                location=f"{wh}/{loc.code}" if wh else loc.code,
                lot=lots.get(lot_id) if lot_id is not None else None,
            )
        )
    return result


def lock_levels(session: Session, keys: Iterable[LevelKey]) -> dict[LevelKey, Row[Any]]:
    """Lock the level rows of ``keys`` in (product, warehouse) order, creating any that are missing."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = _select_levels_for_update(session, keys)
    missing = [key for key in keys if key not in rows]
    if missing:
        # Rare (levels are created with products and warehouses); a concurrent creator is harmless.
        ensure_levels(session, missing)
        rows.update(_select_levels_for_update(session, missing))
    return rows


def _select_levels_for_update(session: Session, keys: list[LevelKey]) -> dict[LevelKey, Row[Any]]:
    rows = session.execute(
        select(
            _LEVELS.c.id,
            _LEVELS.c.product_id,
            _LEVELS.c.warehouse_id,
            _LEVELS.c.version,
            _LEVELS.c.blocked,
            *(_LEVELS.c[name] for name in COUNTERS),
        )
        .where(tuple_(_LEVELS.c.product_id, _LEVELS.c.warehouse_id).in_(keys))
        .order_by(_LEVELS.c.product_id, _LEVELS.c.warehouse_id)
        .with_for_update()
    ).all()
    return {(r.product_id, r.warehouse_id): r for r in rows}


def apply_level_deltas(
    session: Session, deltas: Mapping[LevelKey, Mapping[str, int]]
) -> list[LevelSnapshot]:
    """Apply counter deltas to stock levels; refuses any that would leave stock oversold."""
    changed = {key: counters for key, counters in deltas.items() if any(counters.values())}
    if not changed:
        return []
    rows = lock_levels(session, changed)
    uncovered: list[tuple[LevelKey, int, int]] = []
    new_values: dict[LevelKey, dict[str, int]] = {}
    for key in sorted(changed):
        row = rows[key]
        values = {name: getattr(row, name) + changed[key].get(name, 0) for name in COUNTERS}
        negative = [name for name, value in values.items() if value < 0]
        if negative:
            skus, whs = codes(session, {key[0]}, {key[1]})
            sku, wh, name = skus[key[0]], whs[key[1]], negative[0]
            raise Conflict(
                f"{sku} at {wh} has only {getattr(row, name)} {name}; cannot take {-changed[key][name]}",
                field="quantity",
                sku=sku,
                warehouse=wh,
                counter=name,
            )
        sellable = values["on_hand"] - values["quality_control"] - values["damaged"]
        if values["committed"] + values["reserved"] > sellable:
            uncovered.append((key, values["committed"] + values["reserved"], sellable))
        new_values[key] = values
    if uncovered:
        raise StockAllocated(_describe_uncovered(session, uncovered))
    return write_levels(session, rows, new_values)


def write_levels(
    session: Session,
    rows: Mapping[LevelKey, Row[Any]],
    new_values: Mapping[LevelKey, dict[str, int]],
    *,
    blocked: Mapping[LevelKey, bool] | None = None,
) -> list[LevelSnapshot]:
    """Write new counters (and, when given, the sales block) to locked level rows, bumping each
    version once."""
    now = utcnow()
    snapshots = []
    params = []
    for key in sorted(new_values):
        values = new_values[key]
        version = rows[key].version + 1
        is_blocked = bool(rows[key].blocked if blocked is None else blocked[key])
        params.append(
            {
                "_id": rows[key].id,
                "version": version,
                "updated_at": now,
                "blocked": is_blocked,
                **values,
            }
        )
        snapshots.append(
            LevelSnapshot(
                product_id=key[0],
                warehouse_id=key[1],
                version=version,
                updated_at=now,
                blocked=is_blocked,
                **values,
            )
        )
    session.execute(
        _LEVELS.update()
        .where(_LEVELS.c.id == bindparam("_id"))
        .values(
            {name: bindparam(name) for name in (*COUNTERS, "version", "updated_at", "blocked")}
        ),
        params,
    )
    record_events(session, level_events(session, rows, snapshots))
    return snapshots


def level_events(
    session: Session, before: Mapping[LevelKey, Row[Any]], after: list[LevelSnapshot]
) -> list[tuple[str, str, dict[str, Any]]]:
    """The storefront's events for changed levels: absolute counters with their version, plus
    ``out_of_stock``/``back_in_stock`` when ``available`` crosses zero."""
    if not after:
        return []
    skus, whs = codes(session, {s.product_id for s in after}, {s.warehouse_id for s in after})
    events: list[tuple[str, str, dict[str, Any]]] = []
    for snap in after:
        sku, wh = skus[snap.product_id], whs[snap.warehouse_id]
        subject = f"{sku}@{wh}"
        data: dict[str, Any] = {
            "sku": sku,
            "warehouse": wh,
            **{name: getattr(snap, name) for name in COUNTERS},
            "available": snap.available,
            "blocked": snap.blocked,
            "version": snap.version,
            "updated_at": snap.updated_at.isoformat(),
        }
        events.append(("inventory.level.updated", subject, data))
        was = max(0, unheld(before[(snap.product_id, snap.warehouse_id)]._mapping))
        marker = {"sku": sku, "warehouse": wh, "available": snap.available, "version": snap.version}
        if was > 0 and snap.available == 0:
            events.append(("inventory.item.out_of_stock", subject, marker))
        elif was == 0 and snap.available > 0:
            events.append(("inventory.item.back_in_stock", subject, marker))
    return events


def _describe_uncovered(
    session: Session, items: list[tuple[LevelKey, int, int]]
) -> list[UncoveredLine]:
    skus, whs = codes(session, {k[0] for k, _, _ in items}, {k[1] for k, _, _ in items})
    return [
        UncoveredLine(
            sku=skus[p], warehouse=whs[w], committed_and_reserved=held, sellable_after=sellable
        )
        for (p, w), held, sellable in items
    ]
