"""Fulfilment orders on the floor: read them, ship and deliver them, resolve short picks.

Picking and packing happen on the handheld; these endpoints are for the back office and for carrier
integrations (shipped with tracking, delivered). Reads need the ``read`` scope, changes ``admin``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from wms.api.deps import Admin, Reader, Uow
from wms.api.idempotency import IdempotencyKey, idempotent
from wms.api.schemas import Body, PageOut
from wms.db.uow import UnitOfWork
from wms.fulfillment import exceptions, picking, shipping
from wms.fulfillment.labels import package_label_pdf
from wms.fulfillment.workflow import find_fulfillment, fulfillment_payload, list_fulfillments

router = APIRouter(tags=["fulfilment"])

FulfillmentId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        description="The fulfilment order's id (its barcode), as in an order's `allocation`.",
    ),
]
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {
        "description": meaning,
        "content": {"application/problem+json": {"schema": {"type": "object"}}},
    }
    for code, meaning in {
        400: "No Idempotency-Key header.",
        401: "No valid API key.",
        403: "The API key lacks the scope.",
        404: "No such fulfilment, package or pick exception.",
        409: "The fulfilment's state does not allow this (e.g. shipping before it is packed), "
        "or a request with this Idempotency-Key is still running.",
        422: "A field is invalid (named in `errors`), or the Idempotency-Key was used with "
        "another body.",
    }.items()
}


class LineOut(BaseModel):
    line_no: int
    sku: str
    quantity: int
    picked: int
    packed: int
    cancelled: int = Field(description="Taken off this fulfilment by short picks' resolution.")
    shipped: int


class PackageItemOut(BaseModel):
    sku: str
    lot: str | None
    quantity: int


class PackageOut(BaseModel):
    sscc: str = Field(description="Serial Shipping Container Code, 18 digits (GS1 AI 00).")
    status: Literal["open", "closed"]
    weight_g: int | None
    items: list[PackageItemOut]
    label_url: str


class PickTaskOut(BaseModel):
    id: int
    seq: int = Field(description="Position in walking order.")
    location: str
    sku: str
    lot: str | None
    quantity: int
    picked: int
    status: str


class PickExceptionOut(BaseModel):
    id: int
    status: str
    fulfillment_id: str
    fulfillment_status: str
    order_ref: str
    warehouse: str
    location: str
    sku: str
    lot: str | None
    picked: int = Field(description="What the picker found and picked at the stop.")
    short_quantity: int
    reported_by: str
    reported_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    note: str


class FulfillmentOut(BaseModel):
    fulfillment_id: str
    order_id: str
    external_ref: str
    warehouse: str
    status: str
    carrier: str | None
    tracking_number: str | None
    picked_at: datetime | None
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    eta: datetime | None = None
    lines: list[LineOut]
    packages: list[PackageOut]
    tasks: list[PickTaskOut]
    exceptions: list[PickExceptionOut]


class FulfillmentSummaryOut(BaseModel):
    fulfillment_id: str
    order_id: str
    external_ref: str
    warehouse: str
    status: str
    lines: int
    units: int
    created_at: datetime
    carrier: str | None
    tracking_number: str | None
    shipped_at: datetime | None


class ShipIn(Body):
    carrier: Annotated[str, Field(min_length=1, max_length=64, examples=["SF Express"])]
    tracking_number: Annotated[str, Field(min_length=1, max_length=64, examples=["SF1234567890"])]


class DeliveredIn(Body):
    delivered_at: Annotated[
        AwareDatetime | None,
        Field(description="When the carrier delivered, with a time zone; now if omitted."),
    ] = None


class ResolveIn(Body):
    action: Literal["reallocate", "backorder"] = Field(
        description="reallocate: find the missing quantity elsewhere; backorder: let the order "
        "line wait for stock."
    )


def _exception_out(view: exceptions.ExceptionView) -> PickExceptionOut:
    return PickExceptionOut(
        id=view.id,
        status=view.status,
        fulfillment_id=view.fulfillment,
        fulfillment_status=view.fulfillment_status,
        order_ref=view.order_ref,
        warehouse=view.warehouse,
        location=view.location,
        sku=view.sku,
        lot=view.lot,
        picked=view.picked,
        short_quantity=view.short_quantity,
        reported_by=view.reported_by,
        reported_at=view.reported_at,
        resolved_by=view.resolved_by,
        resolved_at=view.resolved_at,
        note=view.note,
    )


def _detail(uow: UnitOfWork, fulfillment_id: str) -> dict[str, Any]:
    session = uow.session
    fulfillment = find_fulfillment(session, fulfillment_id)
    data = fulfillment_payload(session, fulfillment)
    stops = picking.view(session, fulfillment).stops
    raised = exceptions.list_exceptions(session, status=None, fulfillment=fulfillment.public_id)
    out = FulfillmentOut(
        **{key: value for key, value in data.items() if key != "packages"},
        packages=[
            PackageOut(
                **package,
                label_url=f"/api/v1/fulfillments/{fulfillment.public_id}/packages/"
                f"{package['sscc']}/label.pdf",
            )
            for package in data["packages"]
        ],
        tasks=[
            PickTaskOut(
                id=s.task_id,
                seq=s.seq,
                location=s.location,
                sku=s.sku,
                lot=s.lot,
                quantity=s.quantity,
                picked=s.picked,
                status=s.status,
            )
            for s in stops
        ],
        exceptions=[_exception_out(e) for e in raised],
    )
    return out.model_dump(mode="json")


@router.get(
    "/fulfillments",
    response_model=PageOut[FulfillmentSummaryOut],
    summary="List fulfilment orders",
    responses={k: v for k, v in _PROBLEMS.items() if k in (401, 403, 422)},
)
def list_all(
    uow: Uow,
    _: Reader,
    warehouse: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
    status: Annotated[
        list[str],
        Query(
            description="released, picking, picked, packed, shipped, delivered or cancelled "
            "(repeatable); all if omitted."
        ),
    ] = [],  # noqa: B006
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PageOut[FulfillmentSummaryOut]:
    page = list_fulfillments(
        uow.session, warehouse=warehouse, statuses=status, cursor=cursor, limit=limit
    )
    return PageOut(
        data=[FulfillmentSummaryOut(**item.__dict__) for item in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/fulfillments/{fulfillment_id}",
    response_model=FulfillmentOut,
    summary="A fulfilment order with its pick tasks, packages and tracking",
    responses={k: v for k, v in _PROBLEMS.items() if k in (401, 403, 404)},
)
def get_one(uow: Uow, _: Reader, fulfillment_id: FulfillmentId) -> dict[str, Any]:
    return _detail(uow, fulfillment_id)


@router.post(
    "/fulfillments/{fulfillment_id}/ship",
    response_model=FulfillmentOut,
    summary="Ship a packed fulfilment with its carrier and tracking number",
    description="The packed stock leaves the warehouse to the customer and the order's "
    "committed stock is released; event `fulfillment.shipped`. Only a packed fulfilment ships "
    "(409 otherwise). Takes an `Idempotency-Key`.",
    responses=_PROBLEMS,
)
def ship(
    request: Request,
    body: ShipIn,
    principal: Admin,
    fulfillment_id: FulfillmentId,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        shipping.ship(
            uow,
            fulfillment_id,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            actor=f"apikey:{principal.name}",
        )
        return _detail(uow, fulfillment_id)

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        status_code=status.HTTP_200_OK,
    )


@router.post(
    "/fulfillments/{fulfillment_id}/delivered",
    response_model=FulfillmentOut,
    summary="Record that a shipped fulfilment was delivered",
    description="For carrier integrations. Event `fulfillment.delivered`; the order is "
    "delivered once all it shipped is. Takes an `Idempotency-Key`.",
    responses=_PROBLEMS,
)
def delivered(
    request: Request,
    principal: Admin,
    fulfillment_id: FulfillmentId,
    body: DeliveredIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    given = body or DeliveredIn()

    def work(uow: UnitOfWork) -> dict[str, Any]:
        shipping.mark_delivered(uow, fulfillment_id, delivered_at=given.delivered_at)
        return _detail(uow, fulfillment_id)

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=given.model_dump(mode="json"),
        work=work,
        status_code=status.HTTP_200_OK,
    )


@router.get(
    "/fulfillments/{fulfillment_id}/packages/{sscc}/label.pdf",
    response_class=Response,
    summary="A package's shipping label (PDF, 100 x 150 mm)",
    responses={
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "Ship-to address, order reference and the SSCC as GS1-128.",
        },
        **{k: v for k, v in _PROBLEMS.items() if k in (401, 403, 404)},
    },
)
def package_label(
    request: Request,
    uow: Uow,
    _: Reader,
    fulfillment_id: FulfillmentId,
    sscc: Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9]{18}$")],
) -> Response:
    pdf = package_label_pdf(
        uow.session,
        sscc,
        fulfillment=fulfillment_id,
        company_prefix=request.app.state.settings.gs1_company_prefix,
    )
    filename = re.sub(r"[^0-9]", "", sscc)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="sscc-{filename}.pdf"'},
    )


@router.get(
    "/pick-exceptions",
    response_model=list[PickExceptionOut],
    summary="Short picks, oldest first",
    responses={k: v for k, v in _PROBLEMS.items() if k in (401, 403, 422)},
)
def list_pick_exceptions(
    uow: Uow,
    _: Reader,
    status: Annotated[
        Literal["open", "reallocated", "backordered"] | None,
        Query(description="open (the default), reallocated or backordered."),
    ] = "open",
    warehouse: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PickExceptionOut]:
    rows = exceptions.list_exceptions(uow.session, status=status, warehouse=warehouse, limit=limit)
    return [_exception_out(row) for row in rows]


@router.post(
    "/pick-exceptions/{exception_id}/resolve",
    response_model=PickExceptionOut,
    summary="Resolve a short pick: re-allocate or backorder the missing quantity",
    description="A supervisor's decision. The fulfilment is picked once nothing is left to pick "
    "(or cancelled if nothing was). Takes an `Idempotency-Key`.",
    responses=_PROBLEMS,
)
def resolve(
    request: Request,
    body: ResolveIn,
    principal: Admin,
    exception_id: Annotated[int, Path(ge=1, le=2**62)],
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = exceptions.resolve(
            uow, exception_id, action=body.action, actor=f"apikey:{principal.name}"
        )
        return _exception_out(view).model_dump(mode="json")

    return idempotent(
        request,
        principal=principal,
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        status_code=status.HTTP_200_OK,
    )
