"""Request and response bodies of the storefront's reservations and orders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from wms.api.schemas import Body, Code, Sku
from wms.fulfillment.reservations import MAX_LINES, MAX_TTL_SECONDS
from wms.inventory.stock import MAX_QUANTITY

PositiveQuantity = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY, examples=[2])]
ExternalRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        description="The storefront's own reference (its cart or order number).",
        examples=["cart-8812"],
    ),
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, examples=[31.23])]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, examples=[121.47])]
TtlSeconds = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_TTL_SECONDS,
        description="How long to hold the stock, in seconds (the server may cap it lower).",
        examples=[900],
    ),
]
PublicId = Annotated[str, Field(min_length=1, max_length=32)]


class LineIn(Body):
    sku: Sku = Field(examples=["MUG-1"])
    quantity: PositiveQuantity


class PointIn(Body):
    latitude: Latitude
    longitude: Longitude


class ReservationIn(Body):
    external_ref: ExternalRef
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
    ttl_seconds: TtlSeconds | None = Field(
        default=None, description="Omit for the server's default (15 minutes unless configured)."
    )
    warehouse: Code | None = Field(
        default=None, description="Hold at this warehouse only; by default the policy chooses."
    )
    ship_to: PointIn | None = Field(
        default=None, description="Where the parcel will go: the nearest warehouse is preferred."
    )


class ExtendIn(Body):
    ttl_seconds: TtlSeconds


class ReservationLineOut(BaseModel):
    sku: str
    quantity: int
    warehouse: str = Field(description="Where this line's stock is held.")


class ReservationOut(BaseModel):
    id: str = Field(examples=["res_5f0c2a9b1d7e4c3a8b6d2e1f"])
    external_ref: str
    status: str = Field(description="active, released, expired or committed.")
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    lines: list[ReservationLineOut]


class ShipToIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address_lines: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=200)]],
        Field(min_length=1, max_length=4, examples=[["88 Century Avenue", "Floor 12"]]),
    ]
    city: Annotated[str, Field(min_length=1, max_length=100, examples=["Shanghai"])]
    region: Annotated[str | None, Field(max_length=100)] = None
    postal_code: Annotated[str, Field(max_length=20, examples=["200120"])] = ""
    country: Annotated[str, Field(min_length=2, max_length=64, examples=["CN"])]
    latitude: Latitude
    longitude: Longitude


ClockTime = Annotated[
    str,
    Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"], description="HH:MM"),
]


class DeliveryWindowIn(Body):
    """When the customer takes deliveries, local time at the shipping warehouse."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    start: ClockTime = Field(alias="from")
    end: ClockTime = Field(alias="to")


class OrderIn(Body):
    external_ref: ExternalRef
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
    ship_to: ShipToIn
    reservation_id: PublicId | None = Field(
        default=None,
        description="Convert this active reservation: its held stock is committed to the order. "
        "The order's lines must be the reservation's (SKU and quantity each).",
    )
    promised_by: date | None = None
    delivery_window: DeliveryWindowIn | None = Field(
        default=None,
        description='`{"from": "HH:MM", "to": "HH:MM"}`: delivery routes reach the customer in '
        "this window (local time at the shipping warehouse); `from` must be before `to`.",
    )
    backorder: StrictBool | None = Field(
        default=None,
        description="Accept short lines as backordered (true) or refuse the order (false); "
        "omit for the server's setting.",
    )


class OrderLineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    status: str = Field(description="allocated, backordered, shipped or cancelled.")
    warehouse: str | None = Field(description="Where the line ships from; null while backordered.")
    shipped_quantity: int
    cancelled_quantity: int


class FulfillmentLineOut(BaseModel):
    line_no: int = Field(description="The order line this ships.")
    sku: str
    quantity: int
    picked_quantity: int
    packed_quantity: int


class FulfillmentOut(BaseModel):
    fulfillment_id: str = Field(examples=["ful_0b9e6f3c2d1a4e5f8a7b6c5d"])
    warehouse: str
    status: str = Field(
        description="released, picking, picked, packed, shipped, delivered or cancelled."
    )
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    lines: list[FulfillmentLineOut]
    eta: datetime | None = Field(
        default=None, description="Planned delivery, once the warehouse's route is dispatched."
    )


class OrderOut(BaseModel):
    id: str = Field(examples=["ord_3c1d9a7e5b2f4c6d8e0a1b2c"])
    external_ref: str
    status: str = Field(
        description="allocated, backordered, partially_shipped, shipped, delivered or cancelled."
    )
    ship_to: dict[str, Any]
    promised_by: date | None
    reservation_id: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLineOut]
    allocation: list[FulfillmentOut] = Field(
        description="Which warehouse ships which lines: one fulfilment order per warehouse."
    )
    delivery_window: dict[str, str] | None = Field(
        default=None, description='`{"from": "HH:MM", "to": "HH:MM"}` when the order has one.'
    )


class OrderPageOut(BaseModel):
    data: list[OrderOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class ShortLineOut(BaseModel):
    sku: str
    requested: int
    available: int = Field(
        description="The most of this SKU one eligible warehouse could hold (a line never splits)."
    )


class ProblemOut(BaseModel):
    """An error, sent as `application/problem+json` (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="A stable code, e.g. insufficient_stock.")
    errors: list[dict[str, str]] | None = Field(
        default=None, description="The fields at fault and why."
    )
    lines: list[ShortLineOut] | None = Field(
        default=None, description="With insufficient_stock: every short line."
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problem responses an operation can answer with."""
    meaning = {
        400: "No Idempotency-Key header, or a body that is not JSON.",
        401: "No valid API key.",
        403: "The API key lacks the storefront scope.",
        404: "Not found, or not this API key's.",
        409: "Refused by the current state: short stock (with `lines`), a state that does not "
        "allow the change, a duplicate, or a request with this Idempotency-Key still running.",
        422: "A field is invalid (named in `errors`), or the Idempotency-Key was used with "
        "another body.",
    }
    return {
        status: {"model": ProblemOut, "description": meaning[status]}
        for status in sorted({401, 403, *statuses})
    }
