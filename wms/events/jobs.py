"""Scheduled jobs: plain functions over a session factory, run by Celery beat or in-process.

A job takes no arguments besides the session factory, is idempotent, and owns its transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork, transaction
from wms.fulfillment import orders, reservations
from wms.inventory.counts import schedule_counts
from wms.inventory.integrity import check_ledger

log = structlog.get_logger("wms.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[sessionmaker[Session]], dict[str, Any]]
    description: str


def verify_ledger(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Rebuild stock from the ledger and log every disagreement (what `wms check` does)."""
    with UnitOfWork(session_factory) as uow:
        report = check_ledger(uow.session)
    result = {"ok": report.ok, "moves": report.moves, "discrepancies": len(report.discrepancies)}
    if report.ok:
        log.info("ledger_verified", **result)
    else:
        log.error(
            "ledger_disagrees", **result, first=[d.describe() for d in report.discrepancies[:10]]
        )
    return result


def schedule_cycle_counts(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Create today's (UTC) cycle counts in every warehouse; running it twice adds nothing."""
    with UnitOfWork(session_factory) as uow:
        created = schedule_counts(uow, today=utcnow().date())
        uow.commit()
    result = {"created": len(created)}
    log.info("cycle_counts_scheduled", **result)
    return result


def expire_reservations(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Release the stock of reservations whose time is up, a batch per transaction."""
    expired = 0
    while True:
        batch = transaction(session_factory, lambda uow: reservations.expire_due(uow, now=utcnow()))
        expired += batch
        if batch < reservations.EXPIRY_BATCH:
            break
    if expired:
        log.info("reservations_expired", expired=expired)
    return {"expired": expired}


def allocate_backorders(session_factory: sessionmaker[Session]) -> dict[str, Any]:
    """Allocate backordered lines that stock now covers, oldest order first, one order per
    transaction."""
    with UnitOfWork(session_factory) as uow:
        candidates = orders.backordered_order_ids(uow.session)
    allocated = 0
    for order_id in candidates:
        if transaction(session_factory, partial(_allocate_backordered, order_id=order_id)):
            allocated += 1
    result = {"candidates": len(candidates), "allocated": allocated}
    if candidates:
        log.info("backorders_allocated", **result)
    return result


def _allocate_backordered(uow: UnitOfWork, *, order_id: int) -> bool:
    return orders.allocate_backordered(uow, order_id=order_id)


JOBS: tuple[Job, ...] = (
    Job(
        name="wms.verify_ledger",
        every=timedelta(hours=6),
        run=verify_ledger,
        description="Rebuild quants and stock levels from the ledger and report disagreements.",
    ),
    Job(
        name="wms.schedule_cycle_counts",
        every=timedelta(days=1),
        run=schedule_cycle_counts,
        description="Create the day's cycle counts: storage bins due by their velocity class.",
    ),
    Job(
        name="wms.expire_reservations",
        every=timedelta(seconds=15),
        run=expire_reservations,
        description="Release the stock held by reservations past their expiry.",
    ),
    Job(
        name="wms.allocate_backorders",
        every=timedelta(minutes=1),
        run=allocate_backorders,
        description="Allocate backordered order lines, oldest order first, once stock covers them.",
    ),
)


def job(name: str) -> Job:
    for candidate in JOBS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)
