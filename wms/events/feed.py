"""The event feed: the outbox read in commit-safe order, from an opaque cursor.

Why not ``id > last_id``
    Serial ids are handed out when a row is inserted, not when its transaction commits. Transaction
    A inserts id 7 and keeps working; B inserts id 8 and commits; a reader polling ``id > 6`` sees 8
    and moves its position to 8; A commits, and id 7 is behind the reader for ever.

What the feed does instead (PostgreSQL)
    Every outbox row carries the id of the transaction that wrote it (``txid``, see
    ``wms.db.outbox``). A read first takes the horizon ``pg_snapshot_xmin(pg_current_snapshot())``:
    the oldest transaction id still running. Every transaction with a smaller id has finished (it
    committed, and its rows are visible, or it rolled back, and it wrote none), and every
    transaction that has not yet taken an id will be given one at least as large. So the set of
    rows with ``txid < horizon`` can no longer change. The feed returns only those rows, ordered
    by ``(txid, id)``, strictly after the cursor; the cursor is the ``(txid, id)`` of the last row
    read. A row of a transaction that commits late has a ``txid`` below the horizon only once it
    has committed, and the horizon cannot pass that transaction before then, so the reader cannot
    have moved beyond it: no row is ever skipped, and since the order is total and the cursor
    strictly increases, none is read twice by a reader that follows ``next_cursor``.

    The price is latency, not loss: one long transaction holds the horizon back, and rows of
    later transactions wait until it ends. Transaction ids are server-wide, so that includes a
    transaction in another database of the same PostgreSQL server. A read-only transaction
    takes no transaction id and holds nothing back.

SQLite (the embedded default)
    One writer at a time (every transaction begins ``IMMEDIATE``), so rows commit in id order and
    ``txid`` is 0 everywhere: the feed is ordered by id and the horizon is "everything".

Cursors
    ``"<txid>-<id>"``, two decimal numbers. Clients must treat them as opaque; the API refuses
    anything that is not exactly a cursor it could have produced (``field="after"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, false, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from wms.db.outbox import OutboxEvent
from wms.errors import ValidationFailed

MAX_LIMIT = 1000
MAX_TYPES = 50
_MAX_KEY = 2**63 - 1
_CURSOR = re.compile(r"(0|[1-9][0-9]{0,18})-(0|[1-9][0-9]{0,18})")
# An exact type ("inventory.level.updated"), a prefix wildcard ("inventory.*"), or "*".
_TYPE_PATTERN = re.compile(r"\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?")
_HORIZON_SQL = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the feed: everything at or before ``(txid, id)`` has been read."""

    txid: int
    id: int

    def __str__(self) -> str:
        return f"{self.txid}-{self.id}"

    @classmethod
    def parse(cls, value: str, *, field: str = "after") -> Cursor:
        """The cursor ``value`` encodes; ``ValidationFailed`` naming ``field`` for anything else."""
        match = _CURSOR.fullmatch(value)
        if match is None:
            raise ValidationFailed(
                "not a cursor this API returned; pass a `cursor` or `next_cursor` unchanged",
                field=field,
            )
        txid, id_ = int(match.group(1)), int(match.group(2))
        if txid > _MAX_KEY or id_ > _MAX_KEY:
            raise ValidationFailed("not a cursor this API returned", field=field)
        return cls(txid, id_)


START = Cursor(0, 0)  # before every event


@dataclass(frozen=True)
class EventView:
    """One outbox row as the feed shows it; ``id`` is the event id consumers deduplicate on."""

    id: str
    type: str
    subject: str
    data: dict[str, Any]
    created_at: datetime
    cursor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "subject": self.subject,
            "created_at": self.created_at,
            "data": self.data,
            "cursor": self.cursor,
        }


class FeedPage(NamedTuple):
    """Events after a cursor, and where to continue: always a cursor, never ``None``."""

    events: list[EventView]
    next_cursor: Cursor


def parse_types(values: Iterable[str], *, field: str = "types") -> tuple[str, ...]:
    """Type filters from repeated and/or comma-separated values, validated and deduplicated.

    ``inventory.level.updated`` matches that type, ``inventory.*`` every type under
    ``inventory.``, and ``*`` (or no filter at all) every type.
    """
    found: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                continue
            if len(name) > 64 or _TYPE_PATTERN.fullmatch(name) is None:
                raise ValidationFailed(
                    f"{name[:64]!r} is not an event type or a pattern like 'inventory.*'",
                    field=field,
                    event_type=name[:64],
                )
            found[name] = None
    if len(found) > MAX_TYPES:
        raise ValidationFailed(f"give at most {MAX_TYPES} event types", field=field)
    return tuple(found)


def _type_filter(types: Sequence[str]) -> ColumnElement[bool] | None:
    if not types or "*" in types:
        return None
    exact = [t for t in types if not t.endswith(".*")]
    prefixes = [t[:-1] for t in types if t.endswith(".*")]  # "inventory.*" -> "inventory."
    conditions: list[ColumnElement[bool]] = []
    if exact:
        conditions.append(OutboxEvent.type.in_(exact))
    conditions += [OutboxEvent.type.startswith(p, autoescape=True) for p in prefixes]
    return or_(false(), *conditions)


def horizon(session: Session) -> int | None:
    """The oldest transaction id still running (PostgreSQL); ``None`` where ids commit in order.

    Rows with ``txid`` below it are final: no such row can still appear.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(_HORIZON_SQL).scalar_one())


def read_events(
    session: Session,
    *,
    after: Cursor | None,
    limit: int,
    types: Sequence[str] = (),
) -> FeedPage:
    """Up to ``limit`` events strictly after ``after`` (the start if ``None``), in feed order.

    With a type filter the next cursor still moves past the rows that did not match: when the
    page is not full, every final row has been considered, so the cursor goes to the last final
    row, matching or not. A reader filtering on a rare type therefore never re-scans the same
    stretch of the outbox.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    start = after or START
    patterns = parse_types(types)
    edge = horizon(session)
    stmt = (
        select(OutboxEvent)
        .where(tuple_(OutboxEvent.txid, OutboxEvent.id) > tuple_(start.txid, start.id))
        .order_by(OutboxEvent.txid, OutboxEvent.id)
        .limit(limit)
    )
    if edge is not None:
        stmt = stmt.where(OutboxEvent.txid < edge)
    type_filter = _type_filter(patterns)
    if type_filter is not None:
        stmt = stmt.where(type_filter)
    rows = session.scalars(stmt).all()
    events = [_view(row) for row in rows]
    next_cursor = Cursor(rows[-1].txid, rows[-1].id) if rows else start
    if type_filter is not None and len(rows) < limit:
        next_cursor = max(next_cursor, _last_final(session, edge) or start)
    return FeedPage(events, next_cursor)


def _last_final(session: Session, edge: int | None) -> Cursor | None:
    """The position of the last row below the horizon, matching any filter or not."""
    stmt = select(OutboxEvent.txid, OutboxEvent.id)
    if edge is not None:
        stmt = stmt.where(OutboxEvent.txid < edge)
    row = session.execute(
        stmt.order_by(OutboxEvent.txid.desc(), OutboxEvent.id.desc()).limit(1)
    ).first()
    return Cursor(row.txid, row.id) if row is not None else None


def current_cursor(session: Session) -> Cursor:
    """The feed position of the snapshot ``session`` reads in (call it in a read-only transaction).

    Reading the feed after this cursor yields every change the snapshot does not show, and may
    repeat some that it does (events carry absolute state and versions, so a repeat is harmless).

    On PostgreSQL that is ``(xmin, 0)``: every transaction below the snapshot's ``xmin`` had
    finished when the snapshot was taken, so the snapshot shows all of their changes; a
    transaction at or above it may or may not be in the snapshot, and all of its rows come after
    ``(xmin, 0)``. For the snapshot to be the one the data was read in, read both in one
    REPEATABLE READ transaction (or take the cursor first: later snapshots only show more).

    On SQLite the snapshot shows every row up to the highest id it can see.
    """
    edge = horizon(session)
    if edge is not None:
        return Cursor(edge, 0)
    last = session.scalar(select(func.max(OutboxEvent.id)))
    return Cursor(0, int(last or 0))


def _view(row: OutboxEvent) -> EventView:
    return EventView(
        id=row.event_id,
        type=row.type,
        subject=row.subject,
        data=row.data,
        created_at=row.created_at,
        cursor=str(Cursor(row.txid, row.id)),
    )
