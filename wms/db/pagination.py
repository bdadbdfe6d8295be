"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii
import json

from wms.errors import ValidationFailed

MAX_ID = 2**31 - 1  # list endpoints page over 32-bit keys


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, field: str = "cursor") -> int:
    """The id after which a page starts; 0 for the first page."""
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed("not a cursor this API returned", field=field) from exc
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise ValidationFailed("not a cursor this API returned", field=field)
    return value
