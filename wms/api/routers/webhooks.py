"""Webhook endpoints: register a URL for event types, inspect its deliveries, replay them.

Deliveries are signed with the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
`webhook-signature`), retried with exponential backoff for about a day, then dead-lettered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field

from wms.api.deps import Storefront, Uow
from wms.api.idempotency import IdempotencyKey, idempotent
from wms.api.schemas import Body, PageOut
from wms.auth.models import Scope
from wms.auth.services import ApiPrincipal
from wms.db.pagination import decode_cursor, encode_cursor
from wms.db.uow import UnitOfWork
from wms.events import webhooks
from wms.events.models import DeliveryStatus

router = APIRouter(tags=["webhooks"])

EndpointId = Annotated[
    str, Path(min_length=1, max_length=32, description="The endpoint's id (`we_...`).")
]
Limit = Annotated[int, Query(ge=1, le=500)]

TYPES_DESCRIPTION = (
    "Event types to receive: exact names (`inventory.level.updated`) or prefix patterns "
    "(`inventory.*`). Empty (or `*`) receives every type."
)


class EndpointIn(Body):
    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=webhooks.MAX_URL_LENGTH,
            description="An http(s) URL that accepts POSTed JSON events.",
            examples=["https://shop.example.com/hooks/wms"],
        ),
    ]
    event_types: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]],
        Field(max_length=webhooks.MAX_EVENT_TYPES, description=TYPES_DESCRIPTION),
    ] = []
    description: Annotated[str, Field(max_length=255)] = ""


class EndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    active: bool
    created_at: datetime
    disabled_at: datetime | None


class CreatedEndpointOut(EndpointOut):
    secret: str = Field(
        description="The `whsec_` signing secret. Shown only in this answer: store it now."
    )


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ReplayIn(Body):
    """Exactly one of the three."""

    status: Annotated[
        Literal["dead"] | None, Field(description="Every dead-lettered delivery.")
    ] = None
    event_ids: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]] | None,
        Field(
            min_length=1,
            max_length=webhooks.MAX_REPLAY_IDS,
            description="These events (`evt_...`), delivered or not.",
        ),
    ] = None
    since: Annotated[
        AwareDatetime | None,
        Field(description="Every matching event created at or after this time."),
    ] = None


class ReplayOut(BaseModel):
    replayed: int = Field(description="Deliveries put back to pending, to be sent now.")


def _owner(principal: ApiPrincipal) -> str:
    return principal.owner


def _visible_to(principal: ApiPrincipal) -> str | None:
    """Whose endpoints a caller sees: an administrator sees every one."""
    return None if Scope.ADMIN in principal.scopes else _owner(principal)


@router.post(
    "/webhook-endpoints",
    response_model=CreatedEndpointOut,
    status_code=status.HTTP_201_CREATED,
)
def create_endpoint(
    body: EndpointIn, request: Request, principal: Storefront, key: IdempotencyKey = None
) -> JSONResponse:
    """Register a URL for events from now on; the answer carries its signing secret, once."""

    def work(uow: UnitOfWork) -> object:
        created = webhooks.create_endpoint(
            uow,
            owner=_owner(principal),
            url=body.url,
            event_types=body.event_types,
            description=body.description,
        )
        return CreatedEndpointOut(**created.as_dict()).model_dump(mode="json")

    return idempotent(
        request, principal=principal, key=key, body=body.model_dump(mode="json"), work=work
    )


@router.get("/webhook-endpoints", response_model=PageOut[EndpointOut])
def list_endpoints(
    uow: Uow, principal: Storefront, cursor: str | None = None, limit: Limit = 100
) -> dict[str, object]:
    """The caller's endpoints (an administrator's: everyone's), oldest first."""
    views, last = webhooks.list_endpoints(
        uow, owner=_visible_to(principal), after=decode_cursor(cursor), limit=limit
    )
    return {
        "data": [view.as_dict() for view in views],
        "next_cursor": encode_cursor(last) if last is not None else None,
    }


@router.get("/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(endpoint_id: EndpointId, uow: Uow, principal: Storefront) -> dict[str, object]:
    return webhooks.get_endpoint(uow, endpoint_id, owner=_visible_to(principal)).as_dict()


@router.delete("/webhook-endpoints/{endpoint_id}", response_model=EndpointOut)
def disable_endpoint(
    endpoint_id: EndpointId, request: Request, principal: Storefront, key: IdempotencyKey = None
) -> JSONResponse:
    """Stop sending to the endpoint (it stays listed, inactive, with its deliveries)."""

    def work(uow: UnitOfWork) -> object:
        view = webhooks.disable_endpoint(uow, endpoint_id, owner=_visible_to(principal))
        return EndpointOut(**view.as_dict()).model_dump(mode="json")

    return idempotent(request, principal=principal, key=key, body=None, work=work, status_code=200)


@router.get("/webhook-endpoints/{endpoint_id}/deliveries", response_model=PageOut[DeliveryOut])
def list_deliveries(
    endpoint_id: EndpointId,
    uow: Uow,
    principal: Storefront,
    status: DeliveryStatus | None = None,
    cursor: str | None = None,
    limit: Limit = 100,
) -> dict[str, object]:
    """The endpoint's deliveries, oldest first: attempts, last answer, next attempt."""
    views, last = webhooks.list_deliveries(
        uow,
        endpoint_id,
        owner=_visible_to(principal),
        status=status,
        after=decode_cursor(cursor),
        limit=limit,
    )
    return {
        "data": [view.as_dict() for view in views],
        "next_cursor": encode_cursor(last) if last is not None else None,
    }


@router.post("/webhook-endpoints/{endpoint_id}/replay", response_model=ReplayOut)
def replay(
    endpoint_id: EndpointId,
    body: ReplayIn,
    request: Request,
    principal: Storefront,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Send deliveries again now, on a fresh retry schedule (creating any that are missing)."""

    def work(uow: UnitOfWork) -> object:
        count = webhooks.replay(
            uow,
            endpoint_id,
            owner=_visible_to(principal),
            status=DeliveryStatus(body.status) if body.status else None,
            event_ids=body.event_ids,
            since=body.since,
        )
        return {"replayed": count}

    return idempotent(
        request,
        principal=principal,
        key=key,
        body=body.model_dump(mode="json"),
        work=work,
        status_code=200,
    )
