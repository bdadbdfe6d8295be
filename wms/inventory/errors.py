"""Errors of the inventory domain."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wms.errors import Conflict, NotFound, ValidationFailed


class UnknownSku(NotFound):
    code = "unknown_sku"

    def __init__(self, sku: str, *, field: str | None = "sku") -> None:
        super().__init__(f"no product with SKU {sku!r}", field=field, sku=sku)


class UnknownWarehouse(NotFound):
    code = "unknown_warehouse"

    def __init__(self, warehouse: str, *, field: str | None = "warehouse") -> None:
        super().__init__(f"no warehouse with code {warehouse!r}", field=field, warehouse=warehouse)


class UnknownLocation(NotFound):
    code = "unknown_location"

    def __init__(
        self, location: str, *, warehouse: str | None, field: str | None = "location"
    ) -> None:
        where = f" in warehouse {warehouse}" if warehouse else ""
        super().__init__(
            f"no location {location!r}{where}", field=field, location=location, warehouse=warehouse
        )


class UnknownLot(NotFound):
    code = "unknown_lot"

    def __init__(self, sku: str, lot: str, *, field: str | None = "lot") -> None:
        super().__init__(f"SKU {sku} has no lot {lot!r}", field=field, sku=sku, lot=lot)


class InvalidGtin(ValidationFailed):
    code = "invalid_gtin"

    def __init__(self, gtin: str, reason: str, *, field: str | None = "gtin") -> None:
        super().__init__(f"GTIN {gtin!r} is not valid: {reason}", field=field, gtin=gtin)


class InvalidQuantity(ValidationFailed):
    code = "invalid_quantity"

    def __init__(self, quantity: int, reason: str, *, field: str | None = "quantity") -> None:
        super().__init__(f"quantity {quantity} {reason}", field=field, quantity=quantity)


class LotRequired(ValidationFailed):
    code = "lot_required"

    def __init__(self, sku: str, *, what: str = "a lot code", field: str = "lot") -> None:
        super().__init__(f"SKU {sku} is lot-tracked: {what} is required", field=field, sku=sku)


class LotNotTracked(ValidationFailed):
    code = "lot_not_tracked"

    def __init__(self, sku: str) -> None:
        super().__init__(f"SKU {sku} is not lot-tracked; give no lot", field="lot", sku=sku)


class LotExpiryMismatch(Conflict):
    code = "lot_expiry_mismatch"

    def __init__(self, sku: str, lot: str, known: str | None, given: str) -> None:
        super().__init__(
            f"lot {lot} of SKU {sku} expires {known or 'never'}, not {given}",
            field="expiry_date",
            sku=sku,
            lot=lot,
            known_expiry=known,
            given_expiry=given,
        )


class LocationNotUsable(Conflict):
    code = "location_not_usable"

    def __init__(self, location: str, reason: str, *, field: str = "location") -> None:
        super().__init__(f"location {location} {reason}", field=field, location=location)


@dataclass(frozen=True)
class ShortLine:
    """One line that cannot be served: what was asked and what there is."""

    sku: str
    requested: int
    available: int
    warehouse: str | None = None
    location: str | None = None
    lot: str | None = None


class InsufficientStock(Conflict):
    """Raised once with every short line, so that a caller can show them all."""

    code = "insufficient_stock"

    def __init__(self, lines: list[ShortLine]) -> None:
        self.lines = lines
        described = "; ".join(_describe(line) for line in lines)
        super().__init__(
            f"insufficient stock: {described}",
            field="quantity",
            lines=[{k: v for k, v in asdict(line).items() if v is not None} for line in lines],
        )


def _describe(line: ShortLine) -> str:
    where = line.location or line.warehouse or "?"
    lot = f" lot {line.lot}" if line.lot else ""
    return f"{line.sku}{lot} at {where}: requested {line.requested}, available {line.available}"


@dataclass(frozen=True)
class UncoveredLine:
    sku: str
    warehouse: str
    committed_and_reserved: int
    sellable_after: int


class StockAllocated(Conflict):
    """Stock cannot leave or be set aside while it is committed to orders or reserved."""

    code = "stock_allocated"

    def __init__(self, lines: list[UncoveredLine]) -> None:
        self.lines = lines
        described = "; ".join(
            f"{ln.sku} at {ln.warehouse}: {ln.committed_and_reserved} committed or reserved, "
            f"{ln.sellable_after} sellable afterwards"
            for ln in lines
        )
        super().__init__(
            f"stock is committed or reserved; release it first: {described}",
            field="quantity",
            lines=[asdict(line) for line in lines],
        )
