"""Dialect-aware ``INSERT ... ON CONFLICT`` for the two backends we run on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, table: Table | Any) -> Any:
    """An insert construct that supports ``on_conflict_do_*`` on the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
