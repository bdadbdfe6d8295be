"""Demand history from the ledger: units that left each warehouse for the customer, per week."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, cast, func, literal_column, select
from sqlalchemy.orm import Session, aliased

from wms.errors import ValidationFailed
from wms.inventory.models import Location, LocationKind, Move, Product, Warehouse

WEEK = timedelta(days=7)


def week_start(day: date) -> date:
    """The Monday that starts ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def weekly_demand(
    session: Session,
    *,
    weeks: int,
    until: date,
    skus: Sequence[str] | None = None,
    warehouse: str | None = None,
) -> dict[tuple[str, str], list[int]]:
    """Units shipped to the customer per (sku, warehouse) and ISO week, oldest week first.

    The window is the ``weeks`` whole Monday-to-Sunday weeks (UTC) before the week that holds
    ``until``; every pair that shipped anything in it gets all ``weeks`` counts, zeros included.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ValidationFailed("weeks must be a whole number, at least 1", field="weeks")
    end = week_start(until)
    start = end - weeks * WEEK
    if skus is not None and not skus:
        return {}
    demand: dict[tuple[str, str], list[int]] = {}
    for sku, code, day, units in session.execute(
        _daily_query(session, start, end, skus, warehouse)
    ):
        series = demand.setdefault((sku, code), [0] * weeks)
        series[(week_start(_as_date(day)) - start).days // 7] += int(units)
    return dict(sorted(demand.items()))


def _daily_query(
    session: Session,
    start: date,
    end: date,
    skus: Sequence[str] | None,
    warehouse: str | None,
) -> Select[tuple[str, str, Any, int]]:
    """One aggregate: units per (sku, warehouse code, UTC day) moved from a warehouse to customer."""
    source = aliased(Location)
    target = aliased(Location)
    day = _utc_day(session)
    query = (
        select(Product.sku, Warehouse.code, day, func.sum(Move.quantity))
        .join(Product, Product.id == Move.product_id)
        .join(source, source.id == Move.from_location_id)
        .join(Warehouse, Warehouse.id == source.warehouse_id)
        .join(target, target.id == Move.to_location_id)
        .where(
            target.kind == LocationKind.CUSTOMER.value,
            Move.occurred_at >= datetime.combine(start, time(), UTC),
            Move.occurred_at < datetime.combine(end, time(), UTC),
        )
        .group_by(Product.sku, Warehouse.code, day)
    )
    if skus is not None:
        query = query.where(Product.sku.in_(list(skus)))
    if warehouse is not None:
        query = query.where(Warehouse.code == warehouse)
    return query


def _utc_day(session: Session) -> ColumnElement[Any]:
    """The UTC calendar day of a move, whatever the connection's time zone.

    PostgreSQL stores timestamptz and converts with ``timezone('UTC', ...)``; SQLite holds the
    UTC wall-clock text that ``date()`` reads. The zone is a literal, not a bound parameter, so
    SELECT and GROUP BY render the same expression.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(literal_column("'UTC'"), Move.occurred_at), Date)
    return func.date(Move.occurred_at)


def _as_date(value: date | str) -> date:
    """SQLite's date() answers text; PostgreSQL answers a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value
