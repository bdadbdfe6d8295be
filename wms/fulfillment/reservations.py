"""Checkout reservations: hold stock for a while, then release it, let it expire, or order it.

A reservation takes its lines out of ``available`` (the ``reserved`` counter) at the warehouses the
allocation policy picks, all lines or none. Its state machine is
``active -> released | expired | committed``; nothing leaves the three end states. Every
transition writes a ``reservation.<status>`` outbox event with the reservation's full state in the
same transaction. Only the owner (the API key) that created a reservation can see or change it.

An active reservation past its ``expires_at`` counts as expired before the sweeper gets to it:
it can no longer be extended or ordered, and releasing it expires it.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from wms.db.base import utcnow
from wms.db.outbox import record_event, record_events
from wms.db.uow import UnitOfWork
from wms.errors import InvalidTransition, NotFound, ValidationFailed
from wms.fulfillment.models import Reservation, ReservationLine, ReservationStatus
from wms.fulfillment.placement import ORDER_POLICY, PlacedLine, place
from wms.fulfillment.views import (
    LineRequest,
    ReservationLineView,
    ReservationView,
    as_data,
)
from wms.inventory import levels
from wms.inventory.catalog import ProductRef, codes, get_product, get_warehouse
from wms.inventory.levels import LevelLine
from wms.inventory.stock import positive_quantity
from wms.routing.allocation import AllocationPolicy

MAX_LINES = 500
DEFAULT_TTL_SECONDS = 900
MAX_TTL_SECONDS = 86_400
EXPIRY_BATCH = 200


class UnknownReservation(NotFound):
    code = "unknown_reservation"

    def __init__(self, reservation_id: str, *, field: str | None = None) -> None:
        super().__init__(
            f"no reservation {reservation_id!r}", field=field, reservation_id=reservation_id
        )


class ReservationMismatch(ValidationFailed):
    code = "reservation_mismatch"

    def __init__(self, reservation_id: str, held: list[LineRequest]) -> None:
        described = ", ".join(f"{ln.quantity} x {ln.sku}" for ln in held)
        super().__init__(
            f"the order's lines must be those of reservation {reservation_id}: {described}",
            field="lines",
            reservation_id=reservation_id,
            reserved=[{"sku": ln.sku, "quantity": ln.quantity} for ln in held],
        )


def new_reservation_id() -> str:
    return "res_" + secrets.token_hex(12)


def create_reservation(
    uow: UnitOfWork,
    *,
    owner: str,
    external_ref: str,
    lines: Sequence[LineRequest],
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    max_ttl_seconds: int = MAX_TTL_SECONDS,
    warehouse: str | None = None,
    ship_to: tuple[float, float] | None = None,
    policy: AllocationPolicy = ORDER_POLICY,
    now: datetime | None = None,
) -> ReservationView:
    """Hold every line at warehouses the policy picks, or nothing (``InsufficientStock``)."""
    session = uow.session
    now = now or utcnow()
    _check_ttl(ttl_seconds, max_ttl_seconds)
    external_ref = _check_ref(external_ref)
    products = resolve_lines(session, lines)
    _check_point(ship_to)
    only = get_warehouse(session, warehouse).id if warehouse is not None else None
    placement = place(
        uow,
        lines=[
            PlacedLine(i, p, ln.quantity)
            for i, (p, ln) in enumerate(zip(products, lines, strict=True))
        ],
        hold=levels.reserve,
        policy=policy,
        destination=ship_to,
        only=only,
    )
    row = Reservation(
        public_id=new_reservation_id(),
        owner=owner,
        external_ref=external_ref,
        status=ReservationStatus.ACTIVE,
        expires_at=now + timedelta(seconds=ttl_seconds),
        ship_to_latitude=ship_to[0] if ship_to else None,
        ship_to_longitude=ship_to[1] if ship_to else None,
        created_at=now,
        updated_at=now,
    )
    for index, (product, line) in enumerate(zip(products, lines, strict=True)):
        code = placement.warehouses[index]
        assert code is not None  # place() refuses unless every line is held
        row.lines.append(
            ReservationLine(
                line_no=index + 1,
                product_id=product.id,
                warehouse_id=placement.warehouse_ids[code],
                quantity=line.quantity,
            )
        )
    session.add(row)
    session.flush()
    view = _view(session, row, now)
    record_event(session, "reservation.created", view.id, as_data(view))
    return view


def get_reservation(
    session: Session, *, owner: str, reservation_id: str, now: datetime | None = None
) -> ReservationView:
    """The caller's reservation; another owner's is as unknown as a missing one."""
    row = _load(session, owner, reservation_id, lock=False)
    return _view(session, row, now or utcnow())


def release_reservation(
    uow: UnitOfWork, *, owner: str, reservation_id: str, now: datetime | None = None
) -> ReservationView:
    """Give the held stock back; a reservation already past its expiry is expired instead."""
    session = uow.session
    now = now or utcnow()
    row = _load(session, owner, reservation_id, lock=True)
    if row.status != ReservationStatus.ACTIVE:
        raise InvalidTransition("reservation", row.status, ReservationStatus.RELEASED)
    target = ReservationStatus.EXPIRED if row.expires_at <= now else ReservationStatus.RELEASED
    return _close(uow, [row], target, now)[0]


def extend_reservation(
    uow: UnitOfWork,
    *,
    owner: str,
    reservation_id: str,
    ttl_seconds: int,
    max_ttl_seconds: int = MAX_TTL_SECONDS,
    now: datetime | None = None,
) -> ReservationView:
    """Keep an active reservation for ``ttl_seconds`` from now."""
    session = uow.session
    now = now or utcnow()
    _check_ttl(ttl_seconds, max_ttl_seconds)
    row = _load(session, owner, reservation_id, lock=True)
    status = _effective_status(row, now)
    if status != ReservationStatus.ACTIVE:
        raise InvalidTransition("reservation", status, ReservationStatus.ACTIVE)
    row.expires_at = now + timedelta(seconds=ttl_seconds)
    row.updated_at = now
    session.flush()
    return _view(session, row, now)


def expire_due(uow: UnitOfWork, *, now: datetime, limit: int = EXPIRY_BATCH) -> int:
    """Expire active reservations whose time is up (oldest first); returns how many."""
    session = uow.session
    rows = session.scalars(
        select(Reservation)
        .options(selectinload(Reservation.lines))
        .where(Reservation.status == ReservationStatus.ACTIVE, Reservation.expires_at <= now)
        .order_by(Reservation.expires_at, Reservation.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if rows:
        _close(uow, list(rows), ReservationStatus.EXPIRED, now)
    return len(rows)


def commit_reserved(
    uow: UnitOfWork,
    *,
    owner: str,
    reservation_id: str,
    lines: Sequence[LineRequest],
    order_id: str | None = None,
    field: str = "reservation_id",
    now: datetime | None = None,
) -> tuple[int, ReservationView]:
    """Turn an active reservation into stock committed to an order whose ``lines`` are exactly
    the reservation's (in any order); returns its row id and its committed state."""
    session = uow.session
    now = now or utcnow()
    row = _load(session, owner, reservation_id, lock=True, field=field)
    status = _effective_status(row, now)
    if status != ReservationStatus.ACTIVE:
        raise InvalidTransition("reservation", status, ReservationStatus.COMMITTED)
    held = _view(session, row, now)
    wanted = Counter((ln.sku, ln.quantity) for ln in lines)
    if wanted != Counter((ln.sku, ln.quantity) for ln in held.lines):
        raise ReservationMismatch(
            reservation_id, [LineRequest(ln.sku, ln.quantity) for ln in held.lines]
        )
    levels.commit_reserved(
        uow, lines=[LevelLine(ln.sku, ln.warehouse, ln.quantity) for ln in held.lines]
    )
    row.status = ReservationStatus.COMMITTED
    row.closed_at = row.updated_at = now
    session.flush()
    view = _view(session, row, now)
    record_event(session, "reservation.committed", view.id, {**as_data(view), "order_id": order_id})
    return row.id, view


def resolve_lines(session: Session, lines: Sequence[LineRequest]) -> list[ProductRef]:
    """Check the lines of a request and resolve their SKUs; errors name ``lines[i].<field>``."""
    if not lines:
        raise ValidationFailed("at least one line is required", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(f"at most {MAX_LINES} lines in one request", field="lines")
    products = []
    for index, line in enumerate(lines):
        positive_quantity(line.quantity, field=f"lines[{index}].quantity")
        products.append(get_product(session, line.sku, field=f"lines[{index}].sku"))
    return products


def _check_ttl(ttl_seconds: int, max_ttl_seconds: int) -> None:
    if isinstance(ttl_seconds, bool) or not 1 <= ttl_seconds <= max_ttl_seconds:
        raise ValidationFailed(
            f"ttl_seconds must be between 1 and {max_ttl_seconds}", field="ttl_seconds"
        )


def _check_ref(external_ref: str) -> str:
    external_ref = external_ref.strip()
    if not 1 <= len(external_ref) <= 128:
        raise ValidationFailed("external_ref must be 1 to 128 characters", field="external_ref")
    return external_ref


def _check_point(point: tuple[float, float] | None) -> None:
    if point is None:
        return
    latitude, longitude = point
    if not -90 <= latitude <= 90:
        raise ValidationFailed("latitude must be between -90 and 90", field="ship_to.latitude")
    if not -180 <= longitude <= 180:
        raise ValidationFailed("longitude must be between -180 and 180", field="ship_to.longitude")


def _load(
    session: Session, owner: str, reservation_id: str, *, lock: bool, field: str | None = None
) -> Reservation:
    query = (
        select(Reservation)
        .options(selectinload(Reservation.lines))
        .where(Reservation.public_id == reservation_id, Reservation.owner == owner)
    )
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise UnknownReservation(reservation_id, field=field)
    return row


def _effective_status(row: Reservation, now: datetime) -> str:
    if row.status == ReservationStatus.ACTIVE and row.expires_at <= now:
        return ReservationStatus.EXPIRED
    return row.status


def _close(
    uow: UnitOfWork, rows: list[Reservation], status: ReservationStatus, now: datetime
) -> list[ReservationView]:
    """Release the stock of active reservations (one locked posting) and end them in ``status``."""
    session = uow.session
    held = [
        LevelLine(ln.sku, ln.warehouse, ln.quantity)
        for view in _views(session, rows, now)
        for ln in view.lines
    ]
    levels.release_reserved(uow, lines=held)
    for row in rows:
        row.status = status
        row.closed_at = row.updated_at = now
    session.flush()
    closed = _views(session, rows, now)
    record_events(session, [(f"reservation.{status}", v.id, as_data(v)) for v in closed])
    return closed


def _view(session: Session, row: Reservation, now: datetime) -> ReservationView:
    return _views(session, [row], now)[0]


def _views(session: Session, rows: list[Reservation], now: datetime) -> list[ReservationView]:
    lines = [ln for row in rows for ln in row.lines]
    skus, warehouses = codes(
        session, {ln.product_id for ln in lines}, {ln.warehouse_id for ln in lines}
    )
    return [
        ReservationView(
            id=row.public_id,
            external_ref=row.external_ref,
            status=_effective_status(row, now),
            expires_at=row.expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            lines=[
                ReservationLineView(skus[ln.product_id], ln.quantity, warehouses[ln.warehouse_id])
                for ln in row.lines
            ],
        )
        for row in rows
    ]
