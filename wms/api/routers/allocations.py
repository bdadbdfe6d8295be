"""Delivery allocation, in batch: re-optimise the orders not yet released to picking."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from wms.api.deps import Admin
from wms.api.idempotency import IdempotencyKey
from wms.api.schemas import Body, Code
from wms.api.schemas_storefront import problem_responses
from wms.api.writes import actor, write
from wms.db.uow import UnitOfWork
from wms.fulfillment.batch_allocation import reoptimise_allocations

router = APIRouter(tags=["allocations"])

MAX_TIME_LIMIT_SECONDS = 600


class ReoptimiseIn(Body):
    time_limit_seconds: Annotated[
        float,
        Field(
            gt=0,
            le=MAX_TIME_LIMIT_SECONDS,
            allow_inf_nan=False,
            examples=[30],
            description="Seconds the solver may take (the request waits for it).",
        ),
    ]
    warehouses: Annotated[list[Code], Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="Only lines now at these warehouses; all when omitted."
    )
    seed: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] = 0


@router.post("/allocations/reoptimise", responses=problem_responses(400, 409, 422))
def post_reoptimise(
    request: Request, body: ReoptimiseIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Re-place every allocated line not yet released to picking, all together, and apply the
    answer only if it costs less. The summary has the cost before and after (cents), the proven
    lower bound and the gap. 409 `stock_changed` when stock moved meanwhile: nothing was changed,
    send it again with a new Idempotency-Key."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        summary = reoptimise_allocations(
            uow,
            time_limit_seconds=body.time_limit_seconds,
            actor=actor(principal),
            warehouses=body.warehouses,
            seed=body.seed,
        )
        return asdict(summary)

    return write(request, principal, idempotency_key, body, work, path_names=False)
