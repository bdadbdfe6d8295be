"""The shipping label of a package: ship-to address, order reference and its SSCC as GS1-128.

One label a page, 100 x 150 mm portrait for a thermal printer (the GS1 logistic label's size class):
the sender, the ship-to address, the order and package, the SSCC in human-readable form
``(00) 0 0614141 000000001 2`` and a GS1-128 barcode of AI (00) with the same digits. The bars come
from the Code 128 encoder of ``wms.inventory.labels``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.fulfillment.models import FulfillmentOrder, Order, Package, PackageItem
from wms.fulfillment.packing import UnknownPackage
from wms.fulfillment.sscc import human_readable
from wms.fulfillment.workflow import id_candidates
from wms.inventory.labels import (
    FNC1,
    MM,
    QUIET_MODULES,
    Label,
    _bar_width,
    _Code128,
    _fit,
)
from wms.inventory.models import Warehouse

PAGE = (100 * MM, 150 * MM)
PADDING = 4 * MM
BARS_HEIGHT = 30 * MM
MAX_ADDRESS_LINES = 6


@dataclass(frozen=True)
class ShippingLabel:
    sscc: str
    company_prefix_length: int | None
    sender: tuple[str, ...]
    ship_to: tuple[str, ...]
    order_ref: str
    fulfillment: str
    package: str  # "Package 1 of 2 · 1250 g · 3 units"


def address_lines(ship_to: dict[str, Any]) -> tuple[str, ...]:
    """A stored ship-to address as printed lines: name, street lines, postcode and city, country."""
    lines: list[str] = []
    name = ship_to.get("name")
    if isinstance(name, str) and name.strip():
        lines.append(name.strip())
    lines += _strings(ship_to.get("address_lines"))
    lines += _strings(ship_to.get("address"))
    city = " ".join(s for s in (_one(ship_to.get("postal_code")), _one(ship_to.get("city"))) if s)
    lines += [s for s in (city, _one(ship_to.get("region")), _one(ship_to.get("country"))) if s]
    return tuple(lines[:MAX_ADDRESS_LINES])


def _one(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.splitlines() if part.strip()]
    if isinstance(value, list | tuple):
        return [item.strip() for item in value if isinstance(item, str) and item.strip()]
    if isinstance(value, dict):
        return _strings(list(value.values()))
    return []


def package_label(
    session: Session,
    sscc: str,
    *,
    fulfillment: str | None = None,
    warehouse: str | None = None,
    company_prefix: str | None = None,
) -> ShippingLabel:
    """What the label of a package says; ``fulfillment`` and ``warehouse`` must match if given."""
    row = session.execute(
        select(Package, FulfillmentOrder, Order, Warehouse)
        .join(FulfillmentOrder, FulfillmentOrder.id == Package.fulfillment_order_id)
        .join(Order, Order.id == FulfillmentOrder.order_id)
        .join(Warehouse, Warehouse.id == FulfillmentOrder.warehouse_id)
        .where(Package.sscc == sscc.strip())
    ).first()
    if (
        row is None
        or (fulfillment is not None and row[1].public_id not in id_candidates(fulfillment))
        or (warehouse is not None and row[3].code != warehouse)
    ):
        raise UnknownPackage(sscc, field=None)
    package, fo, order, site = row
    ids = session.scalars(
        select(Package.id).where(Package.fulfillment_order_id == fo.id).order_by(Package.id)
    ).all()
    units = session.scalar(
        select(func.coalesce(func.sum(PackageItem.quantity), 0)).where(
            PackageItem.package_id == package.id
        )
    )
    weight = f" · {package.weight_g} g" if package.weight_g else ""
    prefix_length = (
        len(company_prefix)
        if company_prefix and package.sscc[1:].startswith(company_prefix)
        else None
    )
    return ShippingLabel(
        sscc=package.sscc,
        company_prefix_length=prefix_length,
        sender=(site.name, site.address),
        ship_to=address_lines(order.ship_to or {}),
        order_ref=order.external_ref,
        fulfillment=fo.public_id,
        package=f"Package {ids.index(package.id) + 1} of {len(ids)}{weight} · {units} units",
    )


def package_label_pdf(
    session: Session,
    sscc: str,
    *,
    fulfillment: str | None = None,
    warehouse: str | None = None,
    company_prefix: str | None = None,
) -> bytes:
    """The package's shipping label as a one-page PDF (100 x 150 mm)."""
    label = package_label(
        session, sscc, fulfillment=fulfillment, warehouse=warehouse, company_prefix=company_prefix
    )
    return render_shipping_labels([label])


def render_shipping_labels(labels: Iterable[ShippingLabel]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, invariant=True)
    canvas.setTitle("Shipping labels")
    canvas.setCreator("WMS")
    for index, label in enumerate(labels):
        if index:
            canvas.showPage()
        _draw(canvas, label)
    canvas.save()
    return buffer.getvalue()


class _Cursor:
    """Writes lines of text top down inside the label's padding."""

    def __init__(self, canvas: Any) -> None:
        self.canvas = canvas
        self.y = PAGE[1] - PADDING
        self.width = PAGE[0] - 2 * PADDING

    def text(self, value: str, size: float, *, bold: bool = False, gap: float = 1.2) -> None:
        fitted, fitted_size, font = _fit(value, self.width, size, bold=bold)
        self.y -= fitted_size * gap
        self.canvas.setFont(font, fitted_size)
        self.canvas.drawString(PADDING, self.y, fitted)

    def rule(self) -> None:
        self.y -= 2.5 * MM
        self.canvas.setLineWidth(0.8)
        self.canvas.line(PADDING, self.y, PAGE[0] - PADDING, self.y)


def _draw(canvas: Any, label: ShippingLabel) -> None:
    cursor = _Cursor(canvas)
    cursor.text("FROM", 7, bold=True)
    for line in label.sender:
        cursor.text(line, 9)
    cursor.rule()
    cursor.text("SHIP TO", 7, bold=True, gap=2)
    for index, line in enumerate(label.ship_to or ("(no address)",)):
        cursor.text(line, 15 if index == 0 else 12, bold=index == 0)
    cursor.rule()
    cursor.text(f"ORDER {label.order_ref}", 13, bold=True, gap=1.8)
    cursor.text(f"Fulfilment {label.fulfillment}", 10)
    cursor.text(label.package, 10)
    cursor.rule()
    cursor.text("SSCC", 7, bold=True, gap=2)
    cursor.text(
        human_readable(label.sscc, company_prefix_length=label.company_prefix_length), 15, bold=True
    )
    _draw_bars(canvas, label.sscc)


def _draw_bars(canvas: Any, sscc: str) -> None:
    text = f"(00){sscc}"
    bars = Label(heading="", lines=(), barcode=f"{FNC1}00{sscc}", barcode_text=text)
    bar_width = _bar_width(bars, PAGE[0], "sscc")
    fitted, size, font = _fit(text, PAGE[0] - 2 * PADDING, 11)
    canvas.setFont(font, size)
    canvas.drawCentredString(PAGE[0] / 2, PADDING, fitted)
    barcode = _Code128(
        bars.barcode,
        barWidth=bar_width,
        barHeight=BARS_HEIGHT,
        lquiet=QUIET_MODULES * bar_width,
        rquiet=QUIET_MODULES * bar_width,
    )
    barcode.drawOn(canvas, (PAGE[0] - float(barcode.width)) / 2, PADDING + size * 1.4)
