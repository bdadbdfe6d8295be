"""Plain values the outbound services take and return: requests, reservations, orders, fulfilments.

Views are what callers (the API, events, the handheld) see; they never hold ORM rows. ``as_data``
turns one into the JSON-safe dict that events carry and the API answers with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any


@dataclass(frozen=True)
class LineRequest:
    """A quantity of a SKU asked for by a reservation or an order."""

    sku: str
    quantity: int


@dataclass(frozen=True)
class ShipTo:
    """Where an order goes: a postal address and its coordinates (for choosing a warehouse)."""

    name: str
    address_lines: tuple[str, ...]
    city: str
    postal_code: str
    country: str
    latitude: float
    longitude: float
    region: str | None = None

    def address(self) -> dict[str, object]:
        """The postal part, as stored on the order."""
        return {
            "name": self.name,
            "address_lines": list(self.address_lines),
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
        }


@dataclass(frozen=True)
class DeliveryWindow:
    """When the customer takes deliveries: local clock times at the shipping warehouse."""

    start: time
    end: time

    def as_data(self) -> dict[str, str]:
        return {"from": self.start.strftime("%H:%M"), "to": self.end.strftime("%H:%M")}


@dataclass(frozen=True)
class ReservationLineView:
    sku: str
    quantity: int
    warehouse: str


@dataclass(frozen=True)
class ReservationView:
    id: str
    external_ref: str
    status: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    lines: list[ReservationLineView]


@dataclass(frozen=True)
class OrderLineView:
    line_no: int
    sku: str
    quantity: int
    status: str
    warehouse: str | None
    shipped_quantity: int
    cancelled_quantity: int


@dataclass(frozen=True)
class FulfillmentLineView:
    line_no: int
    sku: str
    quantity: int
    picked_quantity: int
    packed_quantity: int


@dataclass(frozen=True)
class FulfillmentView:
    """One warehouse's part of an order: the lines it ships, its status and its tracking."""

    fulfillment_id: str
    warehouse: str
    status: str
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    lines: list[FulfillmentLineView]
    eta: datetime | None = None  # planned delivery, once its route plan was dispatched


@dataclass(frozen=True)
class OrderView:
    id: str
    external_ref: str
    status: str
    ship_to: dict[str, object]
    promised_by: date | None
    reservation_id: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineView]
    allocation: list[FulfillmentView] = field(default_factory=list)
    delivery_window: dict[str, str] | None = None  # {"from": "HH:MM", "to": "HH:MM"}


def as_data(view: object) -> dict[str, Any]:
    """A view as a JSON-safe dict (ISO 8601 dates and times), as events carry it."""
    data: dict[str, Any] = _jsonable(asdict(view))  # type: ignore[call-overload]
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
