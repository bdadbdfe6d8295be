"""Storefront orders: allocate at once (or from a reservation), read, list and cancel."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse

from wms.api.deps import Storefront, Uow
from wms.api.idempotency import IdempotencyKey, idempotent
from wms.api.routers.reservations import owner_of
from wms.api.schemas_storefront import OrderIn, OrderOut, OrderPageOut, problem_responses
from wms.db.uow import UnitOfWork
from wms.fulfillment import orders
from wms.fulfillment.models import OrderStatus
from wms.fulfillment.views import DeliveryWindow, LineRequest, OrderView, ShipTo

router = APIRouter(tags=["orders"])

OrderId = Annotated[
    str, Path(min_length=1, max_length=32, description="The id the order was created with.")
]


def _out(view: OrderView) -> dict[str, Any]:
    return OrderOut.model_validate(view, from_attributes=True).model_dump(mode="json")


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="Place an order",
    description="With `reservation_id`, the reservation's held stock is committed to the order "
    "(its lines must be the reservation's; an expired or released reservation is 409). Without "
    "one, each line is allocated through the allocation policy with `ship_to` as destination "
    "and its stock committed at once. Each warehouse's lines become one fulfilment order "
    "(`allocation`). Short stock is refused with 409 `insufficient_stock` listing every short "
    "line (nothing is written) or, with `backorder` (or the server's setting), the short lines "
    "are accepted as backordered. `external_ref` is unique per API key: a second order with it "
    "is 409 `duplicate_order` naming the first. An optional `delivery_window` "
    '`{"from": "HH:MM", "to": "HH:MM"}` bounds when delivery routes reach the customer. '
    "Takes an `Idempotency-Key`.",
    responses=problem_responses(400, 409, 422),
)
def create_order(
    request: Request,
    body: OrderIn,
    principal: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    settings = request.app.state.settings
    ship = body.ship_to

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = orders.create_order(
            uow,
            owner=owner_of(principal),
            external_ref=body.external_ref,
            lines=[LineRequest(line.sku, line.quantity) for line in body.lines],
            ship_to=ShipTo(
                name=ship.name,
                address_lines=tuple(ship.address_lines),
                city=ship.city,
                region=ship.region,
                postal_code=ship.postal_code,
                country=ship.country,
                latitude=ship.latitude,
                longitude=ship.longitude,
            ),
            reservation_id=body.reservation_id,
            promised_by=body.promised_by,
            backorder=body.backorder,
            short_stock=orders.ShortStock(settings.short_stock),
            delivery_window=_window(body),
        )
        return _out(view)

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        status_code=status.HTTP_201_CREATED,
    )


def _window(body: OrderIn) -> DeliveryWindow | None:
    if body.delivery_window is None:
        return None
    start, end = body.delivery_window.start, body.delivery_window.end
    return DeliveryWindow(time.fromisoformat(start), time.fromisoformat(end))


@router.get(
    "/orders",
    response_model=OrderPageOut,
    summary="This API key's orders",
    description="Oldest first, page by page; optionally only those in one status.",
    responses=problem_responses(422),
)
def list_orders(
    uow: Uow,
    principal: Storefront,
    order_status: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> dict[str, Any]:
    page = orders.list_orders(
        uow.session, owner=owner_of(principal), status=order_status, cursor=cursor, limit=limit
    )
    return {"data": [_out(view) for view in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="An order",
    description="Its lines with their status and warehouse, and its fulfilments (which "
    "warehouse ships which lines) with their status and tracking. Another API key's order is "
    "not found.",
    responses=problem_responses(404),
)
def get_order(order_id: OrderId, uow: Uow, principal: Storefront) -> dict[str, Any]:
    return _out(orders.get_order(uow.session, owner=owner_of(principal), order_id=order_id))


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    summary="Cancel an order",
    description="Cancels every quantity that has been neither picked nor shipped, releasing its "
    "committed stock, and the fulfilments left with nothing to ship; what is already picked "
    "still ships. An order that is shipped, delivered or cancelled, or with nothing left to "
    "cancel, is 409 `invalid_transition`. Takes an `Idempotency-Key`.",
    responses=problem_responses(400, 404, 409, 422),
)
def cancel_order(
    request: Request,
    order_id: OrderId,
    principal: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        return _out(orders.cancel_order(uow, owner=owner_of(principal), order_id=order_id))

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=None,
        work=work,
        status_code=status.HTTP_200_OK,
    )
