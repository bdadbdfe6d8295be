"""What a scanned barcode means: a product (with lot, expiry and count), a location, a document.

Scanners in keyboard-wedge mode type what they read and press Enter. A product barcode is an EAN/UPC
or GTIN-14, or a GS1-128 / GS1 DataMatrix element string that carries the GTIN together with the
lot (AI 10), the expiry date (AI 17) and a count (AI 30 or 37). Parsing of GS1 data is left to
``biip``; this module maps the result onto our catalogue. Operators typing by hand may also enter
a SKU, a location code or the bracketed human-readable form ``(01)...(10)...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import biip
from biip.gs1_messages import GS1Message
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wms.errors import ValidationFailed
from wms.inventory.catalog import ProductRef, get_product
from wms.inventory.errors import InvalidGtin
from wms.inventory.gtin import normalise_gtin
from wms.inventory.models import Product, ProductPack

GS = "\x1d"  # ASCII group separator: FNC1 as scanners transmit it between variable-length fields
MAX_SCAN_LENGTH = 200
# Some scanners are set to send another character for FNC1; the group separator is the default.
_CONFIG = biip.ParseConfig(separator_chars=(GS,))


class UnknownBarcode(ValidationFailed):
    """Nothing we know has this barcode; says what was scanned and what was expected."""

    code = "unknown_barcode"

    def __init__(self, scanned: str, expected: str, *, field: str = "scan") -> None:
        super().__init__(
            f"scanned {printable(scanned)}: no {expected} has this barcode",
            field=field,
            scanned=printable(scanned),
            expected=expected,
        )


def printable(raw: str) -> str:
    """A scan as people read it: the group separator shown as <GS>, other controls dropped."""
    shown = raw.replace(GS, "<GS>")
    return "".join(ch for ch in shown if ch.isprintable())[:MAX_SCAN_LENGTH]


@dataclass(frozen=True)
class ProductCode:
    """The product data read from one barcode, before it is matched to the catalogue."""

    gtin: str | None  # GTIN-14
    lot: str | None = None
    expiry_date: date | None = None
    count: int | None = None
    text: str | None = None  # not a GTIN: maybe a SKU typed by hand


def parse_product_code(raw: str) -> ProductCode:
    """Read GTIN, lot, expiry and count from a scan; raises ``ValidationFailed`` on bad GS1 data."""
    value = clean(raw)
    if not value:
        raise ValidationFailed("the scan is empty", field="scan")
    if value.isdigit() and len(value) in (8, 12, 13, 14):
        try:
            return ProductCode(gtin=normalise_gtin(value, field="scan"))
        except InvalidGtin as exc:
            raise ValidationFailed(
                f"scanned {value}: {exc.message.split(': ', 1)[-1]}", field="scan"
            ) from exc
    message = _gs1_message(value)
    if message is None:
        return ProductCode(gtin=None, text=value)
    gtin = lot = None
    expiry = None
    count = None
    for element in message.element_strings:
        ai = element.ai.ai
        if ai in ("01", "02"):
            gtin = normalise_gtin(element.value, field="scan")
        elif ai == "10":
            lot = element.value
        elif ai == "17":
            expiry = _expiry(element.value, element.date)
        elif ai in ("30", "37"):
            count = int(element.value)
    if gtin is None:
        raise ValidationFailed(
            f"scanned {printable(value)}: a GS1 barcode without a GTIN (AI 01)", field="scan"
        )
    if count is not None and count <= 0:
        raise ValidationFailed(f"scanned {printable(value)}: the count is zero", field="scan")
    return ProductCode(gtin=gtin, lot=lot, expiry_date=expiry, count=count)


def clean(raw: str) -> str:
    """The scan without the surrounding whitespace a scanner may add (inner GS kept)."""
    return raw.strip(" \t\r\n")[:MAX_SCAN_LENGTH]


def _gs1_message(value: str) -> GS1Message | None:
    try:
        if value.startswith("("):
            return GS1Message.parse_hri(value, config=_CONFIG)
        if not (value[:2].isdigit() or value.startswith("]")):
            return None
        result = biip.parse(value, config=_CONFIG)
    except biip.ParseError as exc:
        raise ValidationFailed(f"scanned {printable(value)}: {exc}", field="scan") from exc
    message = result.gs1_message
    # One field alone counts only when it is a valid GTIN: "10ABC" or "3001" may be typed codes.
    if message is not None and (len(message.element_strings) >= 2 or result.gtin is not None):
        return message
    if value.startswith("]") and result.gtin is not None:
        # An EAN/UPC sent with its symbology identifier (]E0, ]E4): the GTIN and nothing else.
        return GS1Message.parse_hri(f"(01){result.gtin.as_gtin_14()}", config=_CONFIG)
    if value.startswith("]") or (value[:2] in ("01", "02") and len(value) > 16):
        # It looks like GS1 data but does not parse: say why rather than look it up as a SKU.
        reason = result.gs1_message_error or "not a GS1 element string"
        raise ValidationFailed(f"scanned {printable(value)}: {reason}", field="scan")
    return None  # a plain number that is neither a GTIN nor a multi-field GS1 string


def _expiry(raw: str, parsed: date | None) -> date:
    if parsed is not None:
        return parsed
    # YYMM00 means the end of that month (GS1 General Specifications, 3.4.6).
    raise ValidationFailed(f"expiry {raw} is not a date", field="scan")


@dataclass(frozen=True)
class ScannedProduct:
    product: ProductRef
    name: str
    gtin: str | None
    lot: str | None
    expiry_date: date | None
    count: int | None  # units the barcode says it carries (a pack GTIN multiplies)
    pack_quantity: int  # 1 for the base unit, else the scanned pack's size


def resolve_product(session: Session, raw: str, *, expected: str = "product") -> ScannedProduct:
    """The catalogue product a scan names (by GTIN, pack GTIN or typed SKU)."""
    code = parse_product_code(raw)
    pack_quantity = 1
    if code.gtin is not None:
        found = session.execute(
            select(Product.sku, Product.name, Product.gtin).where(Product.gtin == code.gtin)
        ).first()
        if found is None:
            pack = session.execute(
                select(Product.sku, Product.name, Product.gtin, ProductPack.quantity)
                .join(ProductPack, ProductPack.product_id == Product.id)
                .where(ProductPack.gtin == code.gtin)
            ).first()
            if pack is None:
                raise UnknownBarcode(raw, expected)
            sku, name, gtin, pack_quantity = pack.sku, pack.name, pack.gtin, pack.quantity
        else:
            sku, name, gtin = found.sku, found.name, found.gtin
    else:
        assert code.text is not None
        found = session.execute(
            select(Product.sku, Product.name, Product.gtin).where(
                or_(Product.sku == code.text, Product.sku == code.text.upper())
            )
        ).first()
        if found is None:
            raise UnknownBarcode(raw, expected)
        sku, name, gtin = found.sku, found.name, found.gtin
    product = get_product(session, sku)
    count = code.count * pack_quantity if code.count is not None else None
    if count is None and pack_quantity > 1:
        count = pack_quantity
    return ScannedProduct(
        product=product,
        name=name,
        gtin=gtin,
        lot=code.lot,
        expiry_date=code.expiry_date,
        count=count,
        pack_quantity=pack_quantity,
    )


def parse_quantity(raw: str, *, field: str = "quantity") -> int:
    """A quantity typed or scanned: a positive whole number."""
    value = clean(raw)
    if not value.isascii() or not value.isdigit():
        raise ValidationFailed(
            f"entered {printable(value) or 'nothing'}: a quantity is a whole number", field=field
        )
    quantity = int(value)
    if quantity <= 0:
        raise ValidationFailed(f"entered {value}: the quantity must be more than 0", field=field)
    if quantity > 1_000_000_000:
        raise ValidationFailed(
            f"entered {value}: that is more than one operation moves", field=field
        )
    return quantity


def parse_date(raw: str, *, field: str = "expiry_date") -> date:
    """A date typed as YYYY-MM-DD, YYMMDD or YYYYMMDD."""
    value = clean(raw)
    try:
        if len(value) == 10 and value[4] == "-":
            return date.fromisoformat(value)
        if value.isdigit() and len(value) == 8:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        if value.isdigit() and len(value) == 6:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
    except ValueError:
        pass
    raise ValidationFailed(
        f"entered {printable(value) or 'nothing'}: a date is YYYY-MM-DD or YYMMDD", field=field
    )
