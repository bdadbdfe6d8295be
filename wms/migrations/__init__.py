"""Alembic migrations; run them with `wms db upgrade`."""
