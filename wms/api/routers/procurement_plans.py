"""Replenishment plan runs: queue and launch one (202), follow its progress, read its proposals
and projections, then edit, approve, reject and order the proposals."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field

from wms.api.deps import Admin, Reader, Uow
from wms.api.idempotency import IdempotencyKey
from wms.api.schemas import Body, Code, Sku
from wms.api.schemas_storefront import problem_responses
from wms.api.writes import actor, write
from wms.db.uow import UnitOfWork
from wms.events.planning_tasks import plan_launcher
from wms.inventory.stock import MAX_QUANTITY
from wms.procurement import plan_views, proposals, replenishment_runs
from wms.procurement.plan_parameters import MAX_BUDGET, PlanParameters
from wms.procurement.planning.problem import MAX_WEEKS

router = APIRouter(tags=["planning"])

WRITE_ERRORS = problem_responses(400, 404, 409, 422)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
ProposalStatus = Literal["proposed", "approved", "rejected", "ordered"]


# Run and proposal ids in the path that do not exist are 404s; proposal ids in a body are 422s.
PATH_IDS = ("run_id", "proposal_id")


def _write(
    request: Request, principal: Any, key: str | None, body: Any, work: Any, code: int = 200
) -> JSONResponse:
    return write(request, principal, key, body, work, code, path_names=PATH_IDS)


class PlanRunIn(Body):
    warehouse: Annotated[Code | None, Field(description="One warehouse; all when omitted.")] = None
    horizon_weeks: Annotated[int, Field(strict=True, ge=1, le=MAX_WEEKS)] = 12
    service_level: Annotated[float, Field(ge=0.5, lt=1, allow_inf_nan=False)] = 0.95
    budget_per_week: Annotated[
        Decimal | None, Field(ge=0, le=MAX_BUDGET, allow_inf_nan=False, decimal_places=4)
    ] = None
    time_limit_seconds: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 30.0
    history_weeks: Annotated[int, Field(strict=True, ge=4, le=156)] = 26
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "CNY"
    seed: Annotated[int, Field(strict=True, ge=0, le=2**31 - 1)] = 0


@router.post("/plan-runs", responses=WRITE_ERRORS, status_code=status.HTTP_202_ACCEPTED)
def post_plan_run(
    request: Request, body: PlanRunIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Queue a replenishment plan and start it in the background; follow it at its `href`."""
    created: list[int] = []

    def work(uow: UnitOfWork) -> dict[str, Any]:
        run_id = replenishment_runs.create_run(
            uow, parameters=PlanParameters(**body.model_dump()), actor=actor(principal)
        )
        created.append(run_id)
        return {"id": run_id, "status": "queued", "href": f"/api/v1/plan-runs/{run_id}"}

    response = _write(request, principal, idempotency_key, body, work, status.HTTP_202_ACCEPTED)
    if created:  # committed (a replayed answer launches nothing)
        plan_launcher(request.app.state).launch(created[-1])
    return response


def _run(view: plan_views.PlanRunView) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder({**asdict(view), "finished": view.finished})
    return body


@router.get("/plan-runs")
def get_plan_runs(
    uow: Uow, _: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[dict[str, Any]]:
    """The latest plan runs first, with their progress and answer."""
    return [_run(v) for v in plan_views.list_plan_runs(uow.session, limit=limit)]


@router.get("/plan-runs/{run_id}", responses=problem_responses(404))
def get_plan_run(run_id: Id, uow: Uow, _: Reader) -> dict[str, Any]:
    """A run's status, progress (done of total, message), and its status, objective, bound
    and gap once solved (money in the plan's currency)."""
    return _run(plan_views.plan_run_view(uow.session, run_id))


def _proposal(view: plan_views.ProposalView) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder(
        {**asdict(view), "amount": view.amount, "edited": view.edited}
    )
    return body


@router.get("/plan-runs/{run_id}/proposals", responses=problem_responses(404))
def get_proposals(
    run_id: Id,
    uow: Uow,
    _: Reader,
    status: Annotated[list[ProposalStatus] | None, Query()] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
) -> list[dict[str, Any]]:
    """The order lines the plan proposes, each with its reason."""
    plan_views.plan_run_view(uow.session, run_id)
    views = plan_views.proposal_views(
        uow.session, run_id=run_id, statuses=status or (), sku=sku, warehouse=warehouse
    )
    return [_proposal(v) for v in views]


@router.get("/plan-runs/{run_id}/projections", responses=problem_responses(404))
def get_projections(
    run_id: Id,
    uow: Uow,
    _: Reader,
    sku: Annotated[Sku | None, Query()] = None,
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
) -> list[dict[str, Any]]:
    """Projected end-of-week stock per SKU and warehouse, with and without the plan, against
    safety stock (week starts are the run's `context.week_starts`)."""
    return plan_views.plan_projections(uow.session, run_id=run_id, sku=sku, warehouse=warehouse)


class ProposalIdsIn(Body):
    proposal_ids: Annotated[
        list[Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]],
        Field(min_length=1, max_length=proposals.MAX_PROPOSALS),
    ]


@router.post("/plan-runs/{run_id}/proposals/approve", responses=WRITE_ERRORS)
def post_approve(
    request: Request,
    run_id: Id,
    body: ProposalIdsIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Approve proposals (already approved ones stay as they are)."""

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        views = proposals.approve_proposals(
            uow, run_id=run_id, proposal_ids=body.proposal_ids, actor=actor(principal)
        )
        return [_proposal(v) for v in views]

    return _write(request, principal, idempotency_key, body, work)


@router.post("/plan-runs/{run_id}/proposals/reject", responses=WRITE_ERRORS)
def post_reject(
    request: Request,
    run_id: Id,
    body: ProposalIdsIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Reject proposals not ordered yet."""

    def work(uow: UnitOfWork) -> list[dict[str, Any]]:
        views = proposals.reject_proposals(
            uow, run_id=run_id, proposal_ids=body.proposal_ids, actor=actor(principal)
        )
        return [_proposal(v) for v in views]

    return _write(request, principal, idempotency_key, body, work)


class EditIn(Body):
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


@router.post("/plan-runs/{run_id}/proposals/{proposal_id}/edit", responses=WRITE_ERRORS)
def post_edit(
    request: Request,
    run_id: Id,
    proposal_id: Id,
    body: EditIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Change a proposed quantity; it must respect the supplier's MOQ and pack multiple."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = proposals.edit_proposal(
            uow,
            proposal_id=proposal_id,
            quantity=body.quantity,
            actor=actor(principal),
            run_id=run_id,
        )
        return _proposal(view)

    return _write(request, principal, idempotency_key, body, work)


class OrderIn(Body):
    proposal_ids: Annotated[
        list[Annotated[int, Field(strict=True, ge=1, le=2**31 - 1)]] | None,
        Field(
            min_length=1,
            max_length=proposals.MAX_PROPOSALS,
            description="Approved proposals to order; every approved one when omitted.",
        ),
    ] = None


@router.post("/plan-runs/{run_id}/order", responses=WRITE_ERRORS)
def post_order(
    request: Request,
    run_id: Id,
    body: OrderIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Order approved proposals as draft purchase orders (one per supplier, warehouse and order
    week); approve those orders to make them incoming."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        codes = proposals.order_proposals(
            uow, run_id=run_id, actor=actor(principal), proposal_ids=body.proposal_ids
        )
        return {"purchase_orders": codes}

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)
