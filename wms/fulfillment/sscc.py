"""Serial Shipping Container Codes (SSCC, GS1 application identifier 00).

An SSCC has 18 digits: an extension digit (0-9, chosen by the company to extend its serial range),
the GS1 Company Prefix, a serial reference that fills the digits up to 17, and the GS1 mod-10 check
digit. Serials come from one ``sscc_counters`` row per company prefix, incremented by an atomic
upsert that locks the row until the transaction ends, so two packers never get the same code.

The default prefix 0614141 is the example prefix of GS1's own documentation; a real deployment
sets its licensed prefix in ``WMS_GS1_COMPANY_PREFIX``.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session

from wms.db.upsert import insert_for
from wms.errors import Conflict, ValidationFailed
from wms.fulfillment.models import SsccCounter

DEFAULT_COMPANY_PREFIX = "0614141"
SSCC_LENGTH = 18
MIN_PREFIX_LENGTH = 6
MAX_PREFIX_LENGTH = 12

_COUNTERS: Table = SsccCounter.__table__  # type: ignore[assignment]


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits``: weights 3 and 1 alternate from the right."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"{digits!r} is not all digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def validate_company_prefix(prefix: str) -> str:
    """``prefix`` if it is 6 to 12 digits; raises ``ValidationFailed`` otherwise."""
    if not (
        prefix.isascii()
        and prefix.isdigit()
        and MIN_PREFIX_LENGTH <= len(prefix) <= MAX_PREFIX_LENGTH
    ):
        raise ValidationFailed(
            f"a GS1 company prefix has {MIN_PREFIX_LENGTH} to {MAX_PREFIX_LENGTH} digits, "
            f"not {prefix!r}",
            field="company_prefix",
        )
    return prefix


def make_sscc(extension_digit: int, company_prefix: str, serial: int) -> str:
    """The 18-digit SSCC for a serial reference under a company prefix."""
    validate_company_prefix(company_prefix)
    if not 0 <= extension_digit <= 9:
        raise ValidationFailed("the extension digit is 0 to 9", field="extension_digit")
    width = SSCC_LENGTH - 2 - len(company_prefix)
    if not 0 <= serial < 10**width:
        raise ValueError(f"serial {serial} does not fit {width} digits")
    body = f"{extension_digit}{company_prefix}{serial:0{width}d}"
    return body + str(gs1_check_digit(body))


def is_valid_sscc(value: str) -> bool:
    """Whether ``value`` is 18 digits with a correct check digit."""
    return (
        len(value) == SSCC_LENGTH
        and value.isascii()
        and value.isdigit()
        and gs1_check_digit(value[:-1]) == int(value[-1])
    )


def human_readable(sscc: str, *, company_prefix_length: int | None = None) -> str:
    """The SSCC as printed under a label's bars: ``(00) 1 0614141 123456789 7``."""
    if company_prefix_length is None:
        return f"(00) {sscc}"
    cut = 1 + company_prefix_length
    return f"(00) {sscc[0]} {sscc[1:cut]} {sscc[cut:-1]} {sscc[-1]}"


def next_sscc(session: Session, *, company_prefix: str, extension_digit: int = 0) -> str:
    """Issue the next SSCC of ``company_prefix`` in the caller's transaction."""
    validate_company_prefix(company_prefix)
    width = SSCC_LENGTH - 2 - len(company_prefix)
    stmt = (
        insert_for(session, _COUNTERS)
        .values(company_prefix=company_prefix, last_serial=1)
        .on_conflict_do_update(
            index_elements=["company_prefix"],
            set_={"last_serial": _COUNTERS.c.last_serial + 1},
        )
        .returning(_COUNTERS.c.last_serial)
    )
    serial = int(session.execute(stmt).scalar_one())
    if serial >= 10**width:
        raise Conflict(
            f"every serial of GS1 company prefix {company_prefix} with extension digit "
            f"{extension_digit} is used; set another extension digit",
            field="company_prefix",
        )
    return make_sscc(extension_digit, company_prefix, serial)
