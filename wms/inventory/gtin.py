"""GTIN validation and normalisation to GTIN-14 (GS1 General Specifications, section 7.9)."""

from __future__ import annotations

from wms.inventory.errors import InvalidGtin

_VALID_LENGTHS = (8, 12, 13, 14)


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for ``body`` (the digits before the check digit)."""
    total = 0
    for position, char in enumerate(reversed(body)):
        weight = 3 if position % 2 == 0 else 1
        total += int(char) * weight
    return (10 - total % 10) % 10


def normalise_gtin(raw: str, *, field: str = "gtin") -> str:
    """GTIN-8/12/13/14 as a validated, zero-padded GTIN-14; raises ``InvalidGtin``."""
    value = raw.strip()
    if not (value.isascii() and value.isdigit()):
        raise InvalidGtin(raw, "only digits are allowed", field=field)
    if len(value) not in _VALID_LENGTHS:
        raise InvalidGtin(raw, "a GTIN has 8, 12, 13 or 14 digits", field=field)
    expected = check_digit(value[:-1])
    if int(value[-1]) != expected:
        raise InvalidGtin(raw, f"check digit should be {expected}", field=field)
    return value.zfill(14)


def make_gtin(body: str) -> str:
    """A GTIN-14 from 13 body digits (indicator + company prefix + item reference)."""
    if len(body) != 13 or not body.isdigit():
        raise ValueError("a GTIN-14 body has 13 digits")
    return body + str(check_digit(body))
