"""The transactional outbox: every change outside systems must learn about is a row here.

A service records an event in the same transaction as the change it describes, so an event exists
if and only if its change committed. The feed and the webhook dispatcher read this table.

On PostgreSQL each row also carries the id of the transaction that wrote it
(``pg_current_xact_id()``). Serial ids are handed out before commit, so a reader that follows ids
alone would skip a row whose transaction commits after a later id became visible. The feed instead
orders by (transaction id, id) and reads only transactions older than every transaction still
running (``pg_snapshot_xmin``): those can no longer change. See ``wms.events.feed``.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, Table, insert, literal_column
from sqlalchemy.orm import Mapped, Session, mapped_column

from wms.db.base import Base, BigId, utcnow

# Written by the database on PostgreSQL; 0 on SQLite, whose single writer commits in id order.
TXID_DEFAULT = "pg_current_xact_id()::text::bigint"


def new_event_id() -> str:
    """A unique, URL-safe event id (the ``webhook-id`` consumers deduplicate on)."""
    return "evt_" + secrets.token_hex(12)


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_txid_id", "txid", "id"),
        Index("ix_outbox_events_type", "type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_event_id)
    type: Mapped[str] = mapped_column(String(64))
    # What the event is about ("sku@warehouse", an order id): consumers group and order by it.
    subject: Mapped[str] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


_TABLE: Table = OutboxEvent.__table__  # type: ignore[assignment]


def record_events(session: Session, events: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Write (type, subject, data) events in the caller's transaction."""
    if not events:
        return
    now = utcnow()
    pg = session.get_bind().dialect.name == "postgresql"
    rows = [
        {
            "event_id": new_event_id(),
            "type": type_,
            "subject": subject,
            "data": data,
            "created_at": now,
        }
        for type_, subject, data in events
    ]
    stmt = insert(_TABLE)
    if pg:
        stmt = stmt.values(txid=literal_column(TXID_DEFAULT))
    else:
        for row in rows:
            row["txid"] = 0
    session.execute(stmt, rows)


def record_event(session: Session, type_: str, subject: str, data: dict[str, Any]) -> None:
    """Write one event in the caller's transaction."""
    record_events(session, [(type_, subject, data)])
