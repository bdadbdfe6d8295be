"""Codes of warehouse documents (receipts, count tasks): the prefix, the warehouse and the row id.

A row gets its code from its id, which exists only after the insert; until then, in the same
transaction, it carries a unique placeholder so that the unique index never sees two alike.
"""

from __future__ import annotations

import secrets


def placeholder_code(prefix: str) -> str:
    return f"{prefix}-NEW-{secrets.token_hex(8)}"


def document_code(prefix: str, warehouse: str, row_id: int) -> str:
    """E.g. ``RC-SHA-000042``: printed as the document's barcode."""
    return f"{prefix}-{warehouse}-{row_id:06d}"
