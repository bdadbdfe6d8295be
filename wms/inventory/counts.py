"""Cycle counts: count one bin blind, compare with its quants, then post the differences.

A count task is created on demand or by the daily scheduler (bins due by their velocity class).
The counter submits everything found in the bin; what was expected but not counted counts as zero.
A large difference on the first attempt asks for a blind recount; a difference above the approval
threshold waits for a supervisor; anything else is posted at once as ``cycle_count`` moves against
the adjustment location, in one posting. The caller owns the transaction and checks roles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.db.upsert import insert_for
from wms.errors import AlreadyExists, InvalidTransition, NotFound, ValidationFailed
from wms.inventory.catalog import (
    codes,
    get_location,
    get_product,
    get_virtual_location,
    get_warehouse,
    resolve_lot,
)
from wms.inventory.count_policy import (
    DEFAULT_POLICY,
    BinDue,
    CountPolicy,
    classify_velocity,
    decide,
    due_bins,
)
from wms.inventory.documents import document_code, placeholder_code
from wms.inventory.errors import InvalidQuantity, LocationNotUsable, StockAllocated
from wms.inventory.ledger import MoveLine, post_moves
from wms.inventory.models import (
    CountLine,
    CountStatus,
    CountTask,
    Location,
    LocationKind,
    Lot,
    Move,
    Quant,
    Warehouse,
)
from wms.inventory.stock import MAX_QUANTITY

UNFINISHED = (CountStatus.OPEN, CountStatus.RECOUNT, CountStatus.PENDING_APPROVAL)
COUNTABLE = (CountStatus.OPEN, CountStatus.RECOUNT)
MAX_LINES = 1000
REASON = "cycle_count"
CODE_PREFIX = "CC"

Key = tuple[int, int | None]  # product, lot


class UnknownCountTask(NotFound):
    code = "unknown_count_task"

    def __init__(self, task: str, *, field: str = "task") -> None:
        super().__init__(f"no count task {task!r}", field=field, task=task)


@dataclass(frozen=True)
class CountedLine:
    """What the counter found of one product (and lot) in the bin; 0 means "none here"."""

    sku: str
    quantity: int
    lot: str | None = None
    expiry_date: date | None = None


@dataclass(frozen=True)
class VarianceView:
    """One product and lot of a count; ``expected`` and ``variance`` are None when blind."""

    sku: str
    lot: str | None
    expected: int | None
    counted: int
    variance: int | None


@dataclass(frozen=True)
class CountOutcome:
    """What a submission, approval or rejection decided, with the lines of that attempt.

    The lines reveal the expected quantities: a caller that shows them to the counter must not do
    so when the status is ``recount``, or the recount is no longer blind.
    """

    task_code: str
    status: CountStatus
    attempt: int
    lines: list[VarianceView]
    posted_moves: int


@dataclass(frozen=True)
class CountTaskView:
    code: str
    warehouse: str
    location: str
    location_barcode: str | None
    status: CountStatus
    origin: str
    velocity_class: str | None
    due_date: date
    attempts: int
    counted_by: str | None


@dataclass(frozen=True)
class CountTaskDetail(CountTaskView):
    created_by: str
    created_at: datetime
    counted_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    lines: list[VarianceView]


def create_count(
    uow: UnitOfWork,
    *,
    warehouse: str,
    location: str,
    actor: str,
    due_date: date | None = None,
) -> CountTaskView:
    """Ask for a count of one location (by code or barcode), due today unless a date is given."""
    session = uow.session
    wh = get_warehouse(session, warehouse)
    loc = get_location(session, location, warehouse_id=wh.id, warehouse_code=wh.code)
    if not loc.holds_stock:
        raise LocationNotUsable(f"{wh.code}/{loc.code}", "is a grouping and holds no stock")
    _refuse_if_busy(session, loc.id, f"{wh.code}/{loc.code}")
    task = CountTask(
        code=placeholder_code(CODE_PREFIX),
        warehouse_id=wh.id,
        location_id=loc.id,
        status=CountStatus.OPEN.value,
        origin="on_demand",
        due_date=due_date or utcnow().date(),
        attempts=0,
        created_by=actor,
    )
    try:
        with session.begin_nested():
            session.add(task)
            session.flush()
    except IntegrityError as exc:
        # Another session created one for this bin between our check and our insert.
        if task in session:
            session.expunge(task)
        _refuse_if_busy(session, loc.id, f"{wh.code}/{loc.code}", cause=exc)
        raise
    task.code = document_code(CODE_PREFIX, wh.code, task.id)
    session.flush()
    return CountTaskView(
        code=task.code,
        warehouse=wh.code,
        location=loc.code,
        location_barcode=loc.barcode,
        status=CountStatus.OPEN,
        origin=task.origin,
        velocity_class=None,
        due_date=task.due_date,
        attempts=0,
        counted_by=None,
    )


def _refuse_if_busy(
    session: Session, location_id: int, label: str, *, cause: Exception | None = None
) -> None:
    existing = session.scalar(
        select(CountTask.code).where(
            CountTask.location_id == location_id, CountTask.status.in_(UNFINISHED)
        )
    )
    if existing is not None:
        raise AlreadyExists(
            f"location {label} already has an unfinished count {existing}",
            field="location",
            task=existing,
        ) from cause


def schedule_counts(
    uow: UnitOfWork,
    *,
    today: date,
    warehouse: str | None = None,
    policy: CountPolicy = DEFAULT_POLICY,
    actor: str = "scheduler",
) -> list[str]:
    """Create today's counts of storage bins that are due; returns the new task codes."""
    session = uow.session
    warehouses = _warehouses(session, warehouse)
    if not warehouses:
        return []
    classes = _velocity(session, warehouses, today, policy)
    bins = _bins(session, warehouses, classes)
    created: list[str] = []
    for wh_id, wh_code in sorted(warehouses.items(), key=lambda item: item[1]):
        plan = due_bins(bins.get(wh_id, []), today=today, policy=policy)
        created += _insert_scheduled(session, wh_id, wh_code, plan, today, actor)
    return created


def _warehouses(session: Session, warehouse: str | None) -> dict[int, str]:
    if warehouse is not None:
        wh = get_warehouse(session, warehouse)
        return {wh.id: wh.code}
    rows = session.execute(select(Warehouse.id, Warehouse.code).where(Warehouse.active))
    return {row.id: row.code for row in rows}


def _velocity(
    session: Session, warehouses: Mapping[int, str], today: date, policy: CountPolicy
) -> dict[tuple[int, int], str]:
    """Class per (warehouse, product), from one aggregate over the window's outbound moves."""
    source, target = aliased(Location), aliased(Location)
    since = datetime.combine(today - timedelta(days=policy.velocity_window_days), time(), UTC)
    rows = session.execute(
        select(source.warehouse_id, Move.product_id, func.sum(Move.quantity).label("units"))
        .join(source, source.id == Move.from_location_id)
        .join(target, target.id == Move.to_location_id)
        .where(
            source.warehouse_id.in_(list(warehouses)),
            source.holds_stock,
            target.warehouse_id.is_(None),
            target.kind != LocationKind.ADJUSTMENT,
            Move.occurred_at >= since,
        )
        .group_by(source.warehouse_id, Move.product_id)
    ).all()
    units: dict[int, dict[int, int]] = {}
    for row in rows:
        units.setdefault(row.warehouse_id, {})[row.product_id] = int(row.units)
    return {
        (wh_id, product_id): cls
        for wh_id, by_product in units.items()
        for product_id, cls in classify_velocity(by_product, policy).items()
    }


def _bins(
    session: Session, warehouses: Mapping[int, str], classes: Mapping[tuple[int, int], str]
) -> dict[int, list[BinDue]]:
    """Active storage bins without an unfinished count, with their class and last posted count."""
    storage = (
        Location.warehouse_id.in_(list(warehouses)),
        Location.kind == LocationKind.STORAGE,
        Location.active,
    )
    best: dict[int, str] = {}
    held = session.execute(
        select(Quant.location_id, Location.warehouse_id, Quant.product_id)
        .join(Location, Location.id == Quant.location_id)
        .where(*storage, Quant.quantity > 0)
    )
    for row in held:
        cls = classes.get((row.warehouse_id, row.product_id), "C")
        best[row.location_id] = min(cls, best.get(row.location_id, "C"))
    last = (
        select(
            CountTask.location_id,
            func.max(func.coalesce(CountTask.decided_at, CountTask.counted_at)).label("at"),
        )
        .where(CountTask.status == CountStatus.POSTED)
        .group_by(CountTask.location_id)
        .subquery()
    )
    busy = exists().where(CountTask.location_id == Location.id, CountTask.status.in_(UNFINISHED))
    rows = session.execute(
        select(Location.id, Location.warehouse_id, last.c.at)
        .outerjoin(last, last.c.location_id == Location.id)
        .where(*storage, ~busy)
        .order_by(Location.code, Location.id)
    )
    bins: dict[int, list[BinDue]] = {}
    for row in rows:
        at: datetime | None = row.at
        bins.setdefault(row.warehouse_id, []).append(
            BinDue(row.id, best.get(row.id, "C"), at.astimezone(UTC).date() if at else None)
        )
    return bins


def _insert_scheduled(
    session: Session, wh_id: int, wh_code: str, plan: list[BinDue], today: date, actor: str
) -> list[str]:
    if not plan:
        return []
    table = CountTask.__table__
    now = utcnow()
    # A bin that got an unfinished count since we looked (a concurrent run or an on-demand count)
    # is skipped by the partial unique index rather than failing the whole run.
    stmt = (
        insert_for(session, table)
        .values(
            [
                {
                    "code": placeholder_code(CODE_PREFIX),
                    "warehouse_id": wh_id,
                    "location_id": b.location_id,
                    "status": CountStatus.OPEN.value,
                    "origin": "scheduled",
                    "velocity_class": b.velocity_class,
                    "due_date": today,
                    "attempts": 0,
                    "created_by": actor,
                    "created_at": now,
                }
                for b in plan
            ]
        )
        .on_conflict_do_nothing()
        .returning(table.c.id, table.c.location_id)
    )
    ids = {row.location_id: row.id for row in session.execute(stmt)}
    codes_by_location = {
        loc: document_code(CODE_PREFIX, wh_code, task_id) for loc, task_id in ids.items()
    }
    if ids:
        session.execute(
            update(CountTask),
            [{"id": ids[loc], "code": code} for loc, code in codes_by_location.items()],
        )
    return [codes_by_location[b.location_id] for b in plan if b.location_id in codes_by_location]


def submit_count(
    uow: UnitOfWork,
    *,
    task_code: str,
    lines: Sequence[CountedLine],
    actor: str,
    policy: CountPolicy = DEFAULT_POLICY,
) -> CountOutcome:
    """Record a blind count of everything in the bin; recount, wait for approval, or post."""
    session = uow.session
    task = _lock_task(session, task_code)
    if task.status not in COUNTABLE:
        raise InvalidTransition(f"count {task.code}", task.status, "counted")
    counted = _resolve_counted(session, lines)
    expected = _lock_expected(session, task.location_id)
    attempt = task.attempts + 1
    keys = sorted(set(expected) | set(counted), key=_key_order)
    pairs = {k: (expected.get(k, 0), counted.get(k, 0)) for k in keys}
    session.add_all(
        CountLine(
            task_id=task.id,
            attempt=attempt,
            product_id=k[0],
            lot_id=k[1],
            expected_quantity=e,
            counted_quantity=c,
        )
        for k, (e, c) in pairs.items()
    )
    now = utcnow()
    task.attempts, task.counted_by, task.counted_at = attempt, actor, now
    status = decide(pairs.values(), attempt=attempt, policy=policy)
    session.flush()
    posted = 0
    if status is CountStatus.POSTED:
        try:
            posted = _post_variances(session, task, pairs, actor)
        except StockAllocated:
            # The bin holds less than is committed or reserved: a supervisor releases the
            # allocation and approves, rather than the count being lost.
            status = CountStatus.PENDING_APPROVAL
    task.status = status.value
    if status is CountStatus.POSTED:
        task.decided_at = now  # posted automatically: decided_by stays empty
    session.flush()
    return CountOutcome(task.code, status, attempt, _variances(session, pairs), posted)


def _lock_task(session: Session, code: str) -> CountTask:
    task = session.scalar(
        select(CountTask).where(CountTask.code == code.strip().upper()).with_for_update()
    )
    if task is None:
        raise UnknownCountTask(code)
    return task


def _resolve_counted(session: Session, lines: Sequence[CountedLine]) -> dict[Key, int]:
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"a count has at most {MAX_LINES} lines", field="lines")
    for index, line in enumerate(lines):
        field_name = f"lines[{index}].quantity"
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise InvalidQuantity(line.quantity, "is not a whole number", field=field_name)
        if not 0 <= line.quantity <= MAX_QUANTITY:
            raise InvalidQuantity(
                line.quantity, f"must be between 0 and {MAX_QUANTITY}", field=field_name
            )
    counted: dict[Key, int] = {}
    for index, line in enumerate(lines):
        product = get_product(session, line.sku, field=f"lines[{index}].sku")
        lot_id = resolve_lot(session, product, line.lot, expiry_date=line.expiry_date, create=True)
        key = (product.id, lot_id)
        counted[key] = counted.get(key, 0) + line.quantity
    return counted


def _lock_expected(session: Session, location_id: int) -> dict[Key, int]:
    """The bin's quants, locked in the ledger's key order so that postings cannot deadlock us."""
    rows = session.execute(
        select(Quant.product_id, Quant.lot_id, Quant.quantity)
        .where(Quant.location_id == location_id, Quant.quantity > 0)
        .order_by(Quant.product_id, Quant.lot_id.nulls_first())
        .with_for_update()
    )
    return {(row.product_id, row.lot_id): row.quantity for row in rows}


def _key_order(key: Key) -> tuple[int, int]:
    return (key[0], -1 if key[1] is None else key[1])


def _post_variances(
    session: Session, task: CountTask, pairs: Mapping[Key, tuple[int, int]], actor: str
) -> int:
    """One posting of every difference against the adjustment location; the number of moves."""
    adjustment = get_virtual_location(session, LocationKind.ADJUSTMENT).id
    lines = []
    for (product_id, lot_id), (expected, counted) in pairs.items():
        variance = counted - expected
        if variance > 0:
            lines.append(MoveLine(product_id, lot_id, adjustment, task.location_id, variance))
        elif variance < 0:
            lines.append(MoveLine(product_id, lot_id, task.location_id, adjustment, -variance))
    if not lines:
        return 0
    return post_moves(session, lines, reason=REASON, reference=task.code, actor=actor).moves


def _variances(
    session: Session, pairs: Mapping[Key, tuple[int, int]], *, reveal: bool = True
) -> list[VarianceView]:
    skus, _ = codes(session, {k[0] for k in pairs}, set())
    lot_ids = {k[1] for k in pairs if k[1] is not None}
    lots = (
        dict(session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(lot_ids))).all())
        if lot_ids
        else {}
    )
    views = [
        VarianceView(
            sku=skus[product_id],
            lot=lots[lot_id] if lot_id is not None else None,
            expected=expected if reveal else None,
            counted=counted,
            variance=counted - expected if reveal else None,
        )
        for (product_id, lot_id), (expected, counted) in pairs.items()
        # A blind view shows only what the counter found, not what the system expected there.
        if reveal or counted > 0
    ]
    return sorted(views, key=lambda v: (v.sku, v.lot or ""))


def _last_attempt(session: Session, task_id: int, attempt: int) -> dict[Key, tuple[int, int]]:
    rows = session.execute(
        select(
            CountLine.product_id,
            CountLine.lot_id,
            CountLine.expected_quantity,
            CountLine.counted_quantity,
        ).where(CountLine.task_id == task_id, CountLine.attempt == attempt)
    )
    return {
        (r.product_id, r.lot_id): (r.expected_quantity, r.counted_quantity)
        for r in sorted(rows, key=lambda r: _key_order((r.product_id, r.lot_id)))
    }


def approve_count(uow: UnitOfWork, *, task_code: str, actor: str) -> CountOutcome:
    """Post the last attempt's differences of a count waiting for approval (a supervisor's call)."""
    session = uow.session
    task = _lock_task(session, task_code)
    if task.status != CountStatus.PENDING_APPROVAL:
        raise InvalidTransition(f"count {task.code}", task.status, CountStatus.POSTED)
    pairs = _last_attempt(session, task.id, task.attempts)
    # Deltas, not absolute quantities: stock that moved since the count is left alone; if too
    # little is left to take a negative delta, the posting refuses and nothing is written.
    posted = _post_variances(session, task, pairs, actor)
    _decide(session, task, CountStatus.POSTED, actor)
    return CountOutcome(
        task.code, CountStatus.POSTED, task.attempts, _variances(session, pairs), posted
    )


def reject_count(uow: UnitOfWork, *, task_code: str, actor: str) -> CountOutcome:
    """Refuse a count waiting for approval; nothing is posted (a supervisor's call)."""
    session = uow.session
    task = _lock_task(session, task_code)
    if task.status != CountStatus.PENDING_APPROVAL:
        raise InvalidTransition(f"count {task.code}", task.status, CountStatus.REJECTED)
    pairs = _last_attempt(session, task.id, task.attempts)
    _decide(session, task, CountStatus.REJECTED, actor)
    return CountOutcome(
        task.code, CountStatus.REJECTED, task.attempts, _variances(session, pairs), 0
    )


def _decide(session: Session, task: CountTask, status: CountStatus, actor: str) -> None:
    task.status = status.value
    task.decided_by = actor
    task.decided_at = utcnow()
    session.flush()


_VIEW_COLUMNS = (
    CountTask.code,
    Warehouse.code.label("warehouse"),
    Location.code.label("location"),
    Location.barcode.label("location_barcode"),
    CountTask.status,
    CountTask.origin,
    CountTask.velocity_class,
    CountTask.due_date,
    CountTask.attempts,
    CountTask.counted_by,
)


def _view_query() -> Any:
    return (
        select(*_VIEW_COLUMNS)
        .join(Warehouse, Warehouse.id == CountTask.warehouse_id)
        .join(Location, Location.id == CountTask.location_id)
    )


def _view_fields(row: Any) -> dict[str, Any]:
    values: dict[str, Any] = {column.key: getattr(row, column.key) for column in _VIEW_COLUMNS}
    values["status"] = CountStatus(row.status)
    return values


def list_count_tasks(
    session: Session,
    *,
    warehouse: str,
    statuses: Sequence[str] | None = None,
    limit: int = 100,
) -> list[CountTaskView]:
    """Count tasks of a warehouse (in any status unless ``statuses`` narrows it), earliest due first."""
    wh = get_warehouse(session, warehouse)
    stmt = _view_query().where(CountTask.warehouse_id == wh.id)
    if statuses is not None:
        unknown = sorted(set(statuses) - {s.value for s in CountStatus})
        if unknown:
            raise ValidationFailed(f"unknown count status {unknown[0]!r}", field="status")
        stmt = stmt.where(CountTask.status.in_([str(s) for s in statuses]))
    rows = session.execute(stmt.order_by(CountTask.due_date, CountTask.id).limit(limit))
    return [CountTaskView(**_view_fields(row)) for row in rows]


def get_count_task(session: Session, code: str, *, reveal_expected: bool) -> CountTaskDetail:
    """One count task with its last attempt; blind (no expected quantities) unless revealed."""
    row = session.execute(
        _view_query()
        .add_columns(
            CountTask.id,
            CountTask.created_by,
            CountTask.created_at,
            CountTask.counted_at,
            CountTask.decided_by,
            CountTask.decided_at,
        )
        .where(CountTask.code == code.strip().upper())
    ).first()
    if row is None:
        raise UnknownCountTask(code)
    pairs = _last_attempt(session, row.id, row.attempts) if row.attempts else {}
    return CountTaskDetail(
        **_view_fields(row),
        created_by=row.created_by,
        created_at=row.created_at,
        counted_at=row.counted_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        lines=_variances(session, pairs, reveal=reveal_expected),
    )


__all__ = [
    "DEFAULT_POLICY",
    "BinDue",
    "CountOutcome",
    "CountPolicy",
    "CountTaskDetail",
    "CountTaskView",
    "CountedLine",
    "UnknownCountTask",
    "VarianceView",
    "approve_count",
    "classify_velocity",
    "create_count",
    "due_bins",
    "get_count_task",
    "list_count_tasks",
    "reject_count",
    "schedule_counts",
    "submit_count",
]
