"""Checks of a picker's scans against a pick task: the bin, the item and the lot.

Each refusal names what was scanned and what was expected. The handheld runs them as each scan
arrives; ``picking.confirm_pick`` runs them again on the locked task before it books anything.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from wms.errors import ValidationFailed
from wms.fulfillment.floor_errors import WrongBin, WrongItem, WrongLot
from wms.inventory.scanning import clean, printable, resolve_product


class Stop(Protocol):
    """What the scan checks read of a task (a ``PickStop`` or a locked task)."""

    @property
    def location(self) -> str: ...
    @property
    def location_barcode(self) -> str | None: ...
    @property
    def sku(self) -> str: ...
    @property
    def lot_tracked(self) -> bool: ...
    @property
    def lot(self) -> str | None: ...


def check_bin(stop: Stop, scanned: str) -> None:
    """Refuse a scanned bin other than the task's (by code or barcode)."""
    value = clean(scanned).upper()
    expected = stop.location_barcode or stop.location
    if value not in {stop.location.upper(), expected.upper()}:
        raise WrongBin(printable(clean(scanned)) or "(nothing)", expected)


def check_item(session: Session, stop: Stop, scanned: str, lot: str | None = None) -> str | None:
    """Refuse an item or lot other than the task's; returns the lot the scan carried, if any."""
    value = clean(scanned)
    if not value:
        raise WrongItem("(nothing)", stop.sku)
    try:
        product = resolve_product(session, value, expected="product")
    except ValidationFailed:
        raise WrongItem(printable(value), stop.sku) from None
    if product.product.sku != stop.sku:
        raise WrongItem(f"{product.product.sku} ({printable(value)})", stop.sku)
    carried = product.lot if stop.lot_tracked else None
    if carried is not None:
        check_lot(stop, carried)
    if lot:
        check_lot(stop, lot)
    return carried


def check_lot(stop: Stop, lot: str) -> None:
    """Refuse a lot other than the task's (or any lot for an item without lots)."""
    value = clean(lot)
    if not stop.lot_tracked:
        if value:
            raise WrongLot(printable(value), f"no lot: {stop.sku} is not lot-tracked")
        return
    if value != stop.lot:
        raise WrongLot(printable(value) or "(nothing)", str(stop.lot))
