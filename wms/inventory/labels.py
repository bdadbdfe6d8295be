"""Printable labels as PDF: bin labels, GS1-128 product labels, receipt and transfer labels.

A label is a plain value (a heading, a few lines of text, barcode data and the text printed under
the bars). One renderer lays labels out one per page for a 100 x 50 mm thermal printer, or 24 to an
A4 sheet of 70 x 37 mm labels.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from reportlab.graphics.barcode.code128 import Code128  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm as _mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from wms.errors import NotFound, ValidationFailed
from wms.inventory.catalog import get_locations, get_warehouse
from wms.inventory.errors import (
    InvalidQuantity,
    LocationNotUsable,
    LotExpiryMismatch,
    LotNotTracked,
    UnknownSku,
)
from wms.inventory.gtin import normalise_gtin
from wms.inventory.models import Location, LocationKind, Lot, Product, Transfer, Warehouse
from wms.inventory.receipts import UnknownReceipt, receipt_view

MM: float = _mm  # one millimetre in PDF points
Layout = Literal["thermal", "a4"]
LAYOUTS: tuple[Layout, ...] = ("thermal", "a4")
MAX_COPIES = 500

FNC1 = "\xf1"  # how reportlab's Code 128 spells the FNC1 function character
GS1_MAX_LOT = 20  # AI (10) carries at most 20 characters
GS1_MAX_COUNT = 99_999_999  # AI (30) carries at most 8 digits
# GS1 AI encodable character set 82: what a lot code in AI (10) may contain.
GS1_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_VARIABLE_LENGTH_AIS = frozenset({"10", "30"})

QUIET_MODULES = 10  # blank space each side of the bars, in bar widths (ISO/IEC 15417)
MAX_BAR_WIDTH: float = 0.5 * MM
MIN_BAR_WIDTH: float = 0.19 * MM  # 7.5 mil: narrower bars do not print or scan reliably


class UnknownDocument(NotFound):
    code = "unknown_document"

    def __init__(self, document: str) -> None:
        super().__init__(f"no receipt or transfer {document!r}", document=document)


class BarcodeTooLong(ValidationFailed):
    code = "barcode_too_long"

    def __init__(self, value: str, needed_mm: float, label_mm: float, *, field: str) -> None:
        super().__init__(
            f"the barcode for {value!r} needs {needed_mm:.0f} mm at the narrowest printable bars; "
            f"the label is {label_mm:.0f} mm wide (use the thermal layout or shorter data)",
            field=field,
            value=value,
        )


@dataclass(frozen=True)
class Label:
    heading: str
    lines: tuple[str, ...]
    barcode: str  # Code 128 data; FNC1 characters included
    barcode_text: str  # printed under the bars


@dataclass(frozen=True)
class Sheet:
    page: tuple[float, float]
    label: tuple[float, float]
    columns: int
    rows: int
    padding: float
    heading_size: float
    text_size: float


SHEETS: dict[str, Sheet] = {
    "thermal": Sheet((100 * MM, 50 * MM), (100 * MM, 50 * MM), 1, 1, 3 * MM, 26, 9),
    "a4": Sheet(A4, (70 * MM, 37 * MM), 3, 8, 2 * MM, 16, 7),
}


def gs1_element_string(
    gtin: str, lot: str | None, expiry: date | None, count: int | None
) -> tuple[str, str]:
    """GS1-128 data (FNC1 first, FNC1 after a lot a count follows) and its human-readable text."""
    fields = [("01", normalise_gtin(gtin))]
    if expiry is not None:
        if not 2000 <= expiry.year <= 2099:
            raise ValidationFailed("AI (17) holds expiry years 2000 to 2099", field="expiry_date")
        fields.append(("17", expiry.strftime("%y%m%d")))
    if lot is not None:
        fields.append(("10", _gs1_lot(lot)))
    if count is not None:
        if not 0 < count <= GS1_MAX_COUNT:
            raise InvalidQuantity(count, f"must be between 1 and {GS1_MAX_COUNT} for AI (30)")
        fields.append(("30", str(count)))
    data = FNC1
    for index, (ai, value) in enumerate(fields):
        data += ai + value
        if ai in _VARIABLE_LENGTH_AIS and index < len(fields) - 1:
            data += FNC1
    return data, "".join(f"({ai}){value}" for ai, value in fields)


def _gs1_lot(lot: str) -> str:
    if not 0 < len(lot) <= GS1_MAX_LOT:
        raise ValidationFailed(f"a GS1 lot has 1 to {GS1_MAX_LOT} characters", field="lot")
    if not set(lot) <= GS1_CSET82:
        raise ValidationFailed(
            "a GS1 lot has letters, digits and !\"%&'()*+,-./:;<=>?_ only", field="lot"
        )
    return lot


def code128_values(data: str) -> list[int]:
    """Symbol values of the shortest Code 128 encoding of ``data``, check and stop included.

    ``data`` is printable ASCII and FNC1. Sets B and C suffice for that; a dynamic programme
    over (position, code set) picks where to switch.
    """
    best: list[dict[str, list[int]]] = [{} for _ in range(len(data) + 1)]
    best[0] = {"B": [104], "C": [105]}  # START B, START C
    for i in range(len(data)):
        here = best[i]
        for current, target, switch in (("B", "C", 99), ("C", "B", 100)):
            if current in here:
                switched = [*here[current], switch]
                if target not in here or len(switched) < len(here[target]):
                    here[target] = switched
        for code_set, path in here.items():
            step = _code128_step(data, i, code_set)
            if step is None:
                continue
            value, width = step
            ahead = best[i + width]
            if code_set not in ahead or len(path) + 1 < len(ahead[code_set]):
                ahead[code_set] = [*path, value]
    if not best[-1]:
        raise ValueError(f"{data!r} is not printable ASCII")
    symbols = min(best[-1].values(), key=len)
    check = (symbols[0] + sum(i * v for i, v in enumerate(symbols[1:], start=1))) % 103
    return [*symbols, check, 106]


def _code128_step(data: str, i: int, code_set: str) -> tuple[int, int] | None:
    char = data[i]
    if char == FNC1:
        return 102, 1
    if code_set == "B":
        return (ord(char) - 32, 1) if " " <= char <= "~" else None
    pair = data[i : i + 2]
    return (int(pair), 2) if len(pair) == 2 and pair.isascii() and pair.isdigit() else None


class _Code128(Code128):  # type: ignore[misc]
    # reportlab 5.1's own encoder drops a digit when FNC1 is followed by an odd run of digits at
    # the end of the data (FNC1 "30" "1234567" scans as "01234567"): encode with ours instead.
    def encode(self) -> list[int]:
        self.encoded = code128_values(self.validated)
        return self.encoded


def bin_labels_pdf(
    session: Session,
    *,
    warehouse: str,
    locations: Sequence[str] | None = None,
    layout: Layout = "thermal",
) -> bytes:
    """Bin labels of a warehouse: every active storage bin in code order, or the named ones."""
    sheet = _sheet(layout)
    wh = get_warehouse(session, warehouse)
    if locations is None:
        rows = session.execute(
            select(Location.code, Location.barcode).where(
                Location.warehouse_id == wh.id,
                Location.kind == LocationKind.STORAGE,
                Location.active,
            )
        ).all()
        if not rows:
            raise ValidationFailed(f"warehouse {wh.code} has no storage bins", field="warehouse")
        bins = sorted((row.code, row.barcode) for row in rows)
    else:
        if not locations:
            raise ValidationFailed("name at least one location", field="location")
        refs = get_locations(
            session,
            [(code, "location") for code in locations],
            warehouse_id=wh.id,
            warehouse_code=wh.code,
        )
        for ref in refs:
            if not ref.holds_stock:
                raise LocationNotUsable(ref.code, "holds no stock; bin labels are for bins")
        bins = [(ref.code, ref.barcode) for ref in refs]
    labels = [
        Label(
            heading=code,
            lines=(f"{wh.code} · {wh.name}",),
            barcode=_plain_code128(barcode or code, field="location"),
            barcode_text=barcode or code,
        )
        for code, barcode in bins
    ]
    return render_labels(labels, sheet, title=f"Bin labels {wh.code}", field="location")


def product_labels_pdf(
    session: Session,
    *,
    sku: str,
    lot: str | None = None,
    expiry_date: date | None = None,
    quantity: int | None = None,
    copies: int = 1,
    layout: Layout = "thermal",
) -> bytes:
    """Product labels: GS1-128 with (01) GTIN-14, then (17) expiry, (10) lot, (30) count if given.

    A product without a GTIN cannot carry GS1 data: its label has a plain Code 128 of the SKU,
    and lot, expiry and count are printed as text only. A known lot fills in its expiry date.
    """
    sheet = _sheet(layout)
    if not 1 <= copies <= MAX_COPIES:
        raise ValidationFailed(f"print 1 to {MAX_COPIES} copies", field="copies", copies=copies)
    if quantity is not None and quantity <= 0:
        raise InvalidQuantity(quantity, "must be positive")
    product = session.execute(
        select(Product.id, Product.sku, Product.name, Product.gtin, Product.lot_tracked).where(
            Product.sku == sku
        )
    ).first()
    if product is None:
        raise UnknownSku(sku)
    expiry_date = _lot_expiry(
        session,
        product_id=product.id,
        sku=product.sku,
        lot_tracked=product.lot_tracked,
        lot=lot,
        expiry_date=expiry_date,
    )
    if product.gtin:
        data, text = gs1_element_string(product.gtin, lot, expiry_date, quantity)
    else:
        data, text = _plain_code128(product.sku, field="sku"), product.sku
    details = [
        f"LOT {lot}" if lot else "",
        f"EXP {expiry_date.isoformat()}" if expiry_date else "",
        f"QTY {quantity}" if quantity else "",
    ]
    label = Label(
        heading=product.sku,
        lines=tuple(line for line in (product.name, "   ".join(filter(None, details))) if line),
        barcode=data,
        barcode_text=text,
    )
    field = "lot" if product.gtin and lot else "sku"
    return render_labels(
        [label] * copies, sheet, title=f"Product labels {product.sku}", field=field
    )


def _lot_expiry(
    session: Session,
    *,
    product_id: int,
    sku: str,
    lot_tracked: bool,
    lot: str | None,
    expiry_date: date | None,
) -> date | None:
    """The expiry date to print: as given, or the known lot's; a lot must be tracked and agree."""
    if lot is None:
        return expiry_date
    if not lot_tracked:
        raise LotNotTracked(sku)
    known = session.execute(
        select(Lot.expiry_date).where(Lot.product_id == product_id, Lot.code == lot)
    ).first()
    if known is None:  # labels are printed before the goods, and their lot, are received
        return expiry_date
    known_expiry = known[0]
    if expiry_date is None:
        return known_expiry
    if known_expiry != expiry_date:
        known_iso = known_expiry.isoformat() if known_expiry else None
        raise LotExpiryMismatch(sku, lot, known_iso, expiry_date.isoformat())
    return expiry_date


def document_label_pdf(session: Session, *, code: str, layout: Layout = "thermal") -> bytes:
    """A label for a receipt (by code) or a transfer (by reference): its barcode and what it is."""
    sheet = _sheet(layout)
    try:
        receipt = receipt_view(session, code)
    except UnknownReceipt:
        label = _transfer_label(session, code)
    else:
        label = Label(
            heading=receipt.code,
            lines=(
                f"Receipt from {receipt.supplier_name}",
                f"Into {receipt.warehouse} · expected {receipt.expected_date.isoformat()}",
            ),
            barcode=_plain_code128(receipt.code, field="code"),
            barcode_text=receipt.code,
        )
    return render_labels([label], sheet, title=f"Label {label.heading}", field="code")


def _transfer_label(session: Session, code: str) -> Label:
    source, target = aliased(Warehouse), aliased(Warehouse)
    row = session.execute(
        select(Transfer.reference, Transfer.status, Transfer.shipped_at, source.code, target.code)
        .join(source, source.id == Transfer.from_warehouse_id)
        .join(target, target.id == Transfer.to_warehouse_id)
        .where(Transfer.reference.in_(list(dict.fromkeys([code.strip(), code.strip().upper()]))))
    ).first()
    if row is None:
        raise UnknownDocument(code)
    reference, status, shipped_at, from_code, to_code = row
    return Label(
        heading=reference,
        lines=(
            f"Transfer {from_code} to {to_code}",
            f"Shipped {shipped_at:%Y-%m-%d} · {status.replace('_', ' ')}",
        ),
        barcode=_plain_code128(reference, field="code"),
        barcode_text=reference,
    )


def _sheet(layout: str) -> Sheet:
    if layout not in SHEETS:
        raise ValidationFailed(f"layout is one of {', '.join(LAYOUTS)}", field="layout")
    return SHEETS[layout]


def _plain_code128(value: str, *, field: str) -> str:
    if not value or not all(" " <= char <= "~" for char in value):
        raise ValidationFailed(
            f"{value!r} has characters a Code 128 barcode cannot carry", field=field
        )
    return value


def render_labels(labels: Sequence[Label], sheet: Sheet, *, title: str, field: str) -> bytes:
    """A PDF of ``labels`` laid out on ``sheet``; ``field`` is blamed for a barcode too long."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=sheet.page, invariant=True)
    canvas.setTitle(title)
    canvas.setCreator("WMS")
    per_page = sheet.columns * sheet.rows
    page_w, page_h = sheet.page
    label_w, label_h = sheet.label
    left = (page_w - sheet.columns * label_w) / 2
    top = page_h - (page_h - sheet.rows * label_h) / 2
    for index, label in enumerate(labels):
        slot = index % per_page
        if slot == 0 and index:
            canvas.showPage()
        x = left + (slot % sheet.columns) * label_w
        y = top - (slot // sheet.columns + 1) * label_h
        _draw_label(canvas, label, x, y, sheet, field)
    canvas.save()
    return buffer.getvalue()


def _draw_label(canvas: Any, label: Label, x: float, y: float, sheet: Sheet, field: str) -> None:
    width, height = sheet.label
    inner = width - 2 * sheet.padding
    cursor = y + height - sheet.padding
    text, size, font = _fit(label.heading, inner, sheet.heading_size, bold=True)
    cursor -= size * 0.8
    canvas.setFont(font, size)
    canvas.drawString(x + sheet.padding, cursor, text)
    cursor -= size * 0.3
    for line in label.lines:
        text, size, font = _fit(line, inner, sheet.text_size)
        cursor -= size * 1.15
        canvas.setFont(font, size)
        canvas.drawString(x + sheet.padding, cursor, text)
    text, size, font = _fit(label.barcode_text, inner, sheet.text_size)
    canvas.setFont(font, size)
    canvas.drawCentredString(x + width / 2, y + sheet.padding, text)
    bars_bottom = y + sheet.padding + size * 1.2
    bars_height = cursor - size * 0.6 - bars_bottom
    bar_width = _bar_width(label, width, field)
    barcode = _Code128(
        label.barcode,
        barWidth=bar_width,
        barHeight=bars_height,
        lquiet=QUIET_MODULES * bar_width,
        rquiet=QUIET_MODULES * bar_width,
    )
    barcode.drawOn(canvas, x + (width - float(barcode.width)) / 2, bars_bottom)


def _bar_width(label: Label, label_width: float, field: str) -> float:
    """The widest bars (up to 0.5 mm) that fit, quiet zones included, on the label."""
    values = code128_values(label.barcode)
    modules = 11 * len(values) + 2 + 2 * QUIET_MODULES  # the stop symbol has 13 modules
    fitting = (label_width - 2 * MM) / modules
    if fitting < MIN_BAR_WIDTH:
        needed = (modules * MIN_BAR_WIDTH + 2 * MM) / MM
        raise BarcodeTooLong(label.barcode_text, needed, label_width / MM, field=field)
    return min(MAX_BAR_WIDTH, fitting)


def _fit(text: str, width: float, size: float, *, bold: bool = False) -> tuple[str, float, str]:
    """Text, font size and font to draw ``text`` within ``width``: shrunk, then cut short."""
    font = _font(text, bold=bold)
    natural = float(pdfmetrics.stringWidth(text, font, size))
    if natural <= width:
        return text, size, font
    smaller = max(size * 0.6, size * width / natural * 0.999)
    if float(pdfmetrics.stringWidth(text, font, smaller)) <= width:
        return text, smaller, font
    while text and float(pdfmetrics.stringWidth(text + "…", font, smaller)) > width:
        text = text[:-1]
    return text + "…", smaller, font


def _font(text: str, *, bold: bool) -> str:
    """Helvetica for Western text; a CJK font (not embedded) for anything else."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        return "STSong-Light"
    return "Helvetica-Bold" if bold else "Helvetica"
