"""Checkout reservations: hold stock while a customer pays, then release, extend or order it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import JSONResponse

from wms.api.deps import Storefront, Uow
from wms.api.idempotency import IdempotencyKey, idempotent
from wms.api.schemas_storefront import ExtendIn, ReservationIn, ReservationOut, problem_responses
from wms.auth.services import ApiPrincipal
from wms.db.uow import UnitOfWork
from wms.fulfillment import reservations
from wms.fulfillment.views import LineRequest, ReservationView

router = APIRouter(tags=["reservations"])

ReservationId = Annotated[
    str, Path(min_length=1, max_length=32, description="The id the reservation was created with.")
]


def owner_of(principal: ApiPrincipal) -> str:
    """Reservations and orders belong to the API key that created them."""
    return principal.owner


def _out(view: ReservationView) -> dict[str, Any]:
    return ReservationOut.model_validate(view, from_attributes=True).model_dump(mode="json")


@router.post(
    "/reservations",
    response_model=ReservationOut,
    status_code=status.HTTP_201_CREATED,
    summary="Hold stock for a checkout",
    description="Reserve every line at a warehouse the allocation policy chooses (the nearest "
    "to `ship_to` that has the whole order, else the fewest warehouses), or nothing: when any "
    "line is short the answer is 409 `insufficient_stock` with `lines: [{sku, requested, "
    "available}]` and nothing is held. The hold ends at `expires_at` unless extended, released "
    "or ordered. Takes an `Idempotency-Key`.",
    responses=problem_responses(400, 409, 422),
)
def create_reservation(
    request: Request,
    body: ReservationIn,
    principal: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    settings = request.app.state.settings
    ttl = body.ttl_seconds if body.ttl_seconds is not None else settings.reservation_ttl_seconds

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = reservations.create_reservation(
            uow,
            owner=owner_of(principal),
            external_ref=body.external_ref,
            lines=[LineRequest(line.sku, line.quantity) for line in body.lines],
            ttl_seconds=ttl,
            max_ttl_seconds=settings.reservation_max_ttl_seconds,
            warehouse=body.warehouse,
            ship_to=(body.ship_to.latitude, body.ship_to.longitude) if body.ship_to else None,
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


@router.get(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    summary="A reservation",
    description="The reservation as it stands; one past its expiry shows `expired` even before "
    "the sweeper has released its stock. Another API key's reservation is not found.",
    responses=problem_responses(404),
)
def get_reservation(
    reservation_id: ReservationId, uow: Uow, principal: Storefront
) -> dict[str, Any]:
    view = reservations.get_reservation(
        uow.session, owner=owner_of(principal), reservation_id=reservation_id
    )
    return _out(view)


@router.delete(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    summary="Release a reservation",
    description="Give the held stock back (status `released`; `expired` if its time was already "
    "up). Only an active reservation can be released: otherwise 409 `invalid_transition`. "
    "Takes an `Idempotency-Key`.",
    responses=problem_responses(400, 404, 409, 422),
)
def release_reservation(
    request: Request,
    reservation_id: ReservationId,
    principal: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = reservations.release_reservation(
            uow, owner=owner_of(principal), reservation_id=reservation_id
        )
        return _out(view)

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=None,
        work=work,
        status_code=status.HTTP_200_OK,
    )


@router.post(
    "/reservations/{reservation_id}/extend",
    response_model=ReservationOut,
    summary="Extend a reservation",
    description="Hold the stock for `ttl_seconds` from now. Only an active reservation that has "
    "not expired can be extended: otherwise 409 `invalid_transition`. Takes an "
    "`Idempotency-Key`.",
    responses=problem_responses(400, 404, 409, 422),
)
def extend_reservation(
    request: Request,
    reservation_id: ReservationId,
    body: ExtendIn,
    principal: Storefront,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    settings = request.app.state.settings

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = reservations.extend_reservation(
            uow,
            owner=owner_of(principal),
            reservation_id=reservation_id,
            ttl_seconds=body.ttl_seconds,
            max_ttl_seconds=settings.reservation_max_ttl_seconds,
        )
        return _out(view)

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        status_code=status.HTTP_200_OK,
    )
