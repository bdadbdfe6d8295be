"""Idempotency records: a request repeated with the same key gets the first answer, and books once.

The handheld sends every scan with a client-generated id; the API's state-changing POSTs take an
``Idempotency-Key`` header. Both land here, keyed by who sent them (``owner``) and the key. The
record is written in the same transaction as the change it answers for, so a key is either booked
with its effect or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from wms.db.base import Base, BigId, utcnow
from wms.db.uow import UnitOfWork
from wms.db.upsert import insert_for
from wms.errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 64


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("owner", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # "running" while the first request with the key is being served, "done" once it answered.
    state: Mapped[str] = mapped_column(String(8), default="done", server_default="done")
    locked_until: Mapped[datetime | None] = mapped_column()
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Stored:
    status_code: int
    response: dict[str, Any]


def fingerprint(payload: Any) -> str:
    """A stable digest of a request body, to tell a retry from a different request reusing a key."""
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_key(key: str, *, field: str = "Idempotency-Key") -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters", field=field
        )
    return key


def recall(session: Session, *, owner: str, key: str, fingerprint: str) -> Stored | None:
    """The stored answer for ``key``, or None; a different request under the same key is refused."""
    row = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
        )
    )
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise KeyReused(key)
    if row.state != "done" or row.status_code is None or row.response is None:
        raise KeyInUse(key)
    return Stored(row.status_code, row.response)


class KeyReused(ValidationFailed):
    """The key was first sent with a different request."""

    code = "idempotency_key_reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"key {key} was already used for a different request; use a new key",
            field="Idempotency-Key",
        )


class KeyInUse(Conflict):
    """The first request with this key is still being served."""

    code = "idempotency_key_in_use"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"a request with key {key} is still in progress; retry after it has answered",
            field="Idempotency-Key",
        )


# How long a running key stays claimed: a process that died while serving it frees it after this.
LEASE = timedelta(seconds=60)


def claim(
    session_factory: sessionmaker[Session],
    *,
    owner: str,
    key: str,
    fingerprint: str,
    lease: timedelta = LEASE,
) -> Stored | None:
    """Start serving ``key`` in a transaction of its own.

    Returns the stored answer when the key was served before; raises ``KeyReused`` for a different
    request under the key and ``KeyInUse`` while another request holds it; otherwise marks the
    key running (taking over a lease that ran out) and returns None.
    """
    now = utcnow()
    with UnitOfWork(session_factory) as uow:
        session = uow.session
        inserted = session.execute(
            insert_for(session, IdempotencyRecord.__table__)
            .values(
                owner=owner,
                key=key,
                fingerprint=fingerprint,
                state="running",
                locked_until=now + lease,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["owner", "key"])
            # SQLAlchemy 2.1 reports -1 for an INSERT's rowcount unless asked to keep it.
            .execution_options(preserve_rowcount=True)
        )
        if inserted.rowcount == 1:  # type: ignore[attr-defined]
            uow.commit()
            return None
        row = session.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
            .with_for_update()
        )
        assert row is not None
        if row.fingerprint != fingerprint:
            raise KeyReused(key)
        if row.state == "done" and row.status_code is not None and row.response is not None:
            return Stored(row.status_code, row.response)
        if row.locked_until is not None and row.locked_until > now:
            raise KeyInUse(key)
        row.locked_until = now + lease
        row.created_at = now
        uow.commit()
    return None


def complete(
    session: Session, *, owner: str, key: str, status_code: int, response: dict[str, Any]
) -> None:
    """Store the answer to a claimed key, in the transaction of the change it answers for."""
    row = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
        )
    )
    if row is None:
        raise RuntimeError(f"idempotency key {key} was not claimed")
    row.state = "done"
    row.locked_until = None
    row.status_code = status_code
    row.response = response
    session.flush()


def release(session_factory: sessionmaker[Session], *, owner: str, key: str) -> None:
    """Free a claimed key whose request failed, so that a retry with it runs afresh."""
    with UnitOfWork(session_factory) as uow:
        uow.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner,
                IdempotencyRecord.key == key,
                IdempotencyRecord.state == "running",
            )
        )
        uow.commit()


def remember(
    session: Session,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Store the answer to ``key`` in the caller's transaction."""
    session.add(
        IdempotencyRecord(
            owner=owner,
            key=key,
            fingerprint=fingerprint,
            status_code=status_code,
            response=response,
        )
    )
    session.flush()
