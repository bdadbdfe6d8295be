"""Unit of work: one session and one transaction, rolled back unless committed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")
log = structlog.get_logger("wms.db")

# PostgreSQL SQLSTATEs after which the whole transaction can safely run again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class UnitOfWork:
    """Owns a session for one use case; the caller commits, anything else rolls back."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock or serialization failure that a fresh attempt may pass."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def transaction(
    session_factory: sessionmaker[Session],
    work: Callable[[UnitOfWork], T],
    *,
    attempts: int = 5,
) -> T:
    """Run ``work`` in a unit of work and commit; run it again after a deadlock, with backoff."""
    for attempt in range(1, attempts + 1):
        try:
            with UnitOfWork(session_factory) as uow:
                result = work(uow)
                uow.commit()
                return result
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts:
                raise
            log.warning(
                "transaction_retried", attempt=attempt, sqlstate=getattr(exc.orig, "sqlstate", None)
            )
            time.sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")
