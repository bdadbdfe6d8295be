"""Delivery routes of the warehouses' own fleets: vehicles; route plans queued and solved in the
background (202), read with their routes and dropped stops, dispatched (ETAs to the storefront)
or cancelled; and the route sheet as text or PDF."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ConfigDict, Field, StrictBool

from wms.api.deps import Admin, Reader, Uow
from wms.api.idempotency import IdempotencyKey
from wms.api.schemas import Body, Code
from wms.api.schemas_storefront import problem_responses
from wms.api.writes import actor, named_in_path, write
from wms.db.uow import UnitOfWork
from wms.events.routing_tasks import route_launcher, route_parameters
from wms.fulfillment import delivery_routes, fleet
from wms.fulfillment.delivery_problem import MAX_SEED, MAX_TIME_LIMIT_SECONDS
from wms.fulfillment.delivery_runs import plan_id_of
from wms.fulfillment.delivery_views import RoutePlanView, list_route_plans, route_plan_view
from wms.fulfillment.route_sheet import pdf_sheet, text_sheet

router = APIRouter(tags=["delivery routes"])

WRITE_ERRORS = problem_responses(400, 404, 409, 422)
# A plan, warehouse or vehicle named in the path that does not exist is a 404.
PATH_NAMES = ("plan", "warehouse", "vehicle")
PlanId = Annotated[
    str,
    Path(min_length=1, max_length=40, description="The plan's id, as RP-SHA-20260512-1."),
]
WarehouseCode = Annotated[str, Path(min_length=1, max_length=16)]
VehicleCode = Annotated[str, Path(min_length=1, max_length=32)]
Clock = Annotated[
    str,
    Field(
        pattern=r"^([01]?[0-9]|2[0-4]):[0-5][0-9]$",
        examples=["08:00"],
        description="Local time at the warehouse, HH:MM (24:00 is the end of the day).",
    ),
]
WeightKg = Annotated[float, Field(gt=0, le=fleet.MAX_WEIGHT_KG, allow_inf_nan=False)]
VolumeCm3 = Annotated[int, Field(strict=True, gt=0, le=fleet.MAX_VOLUME_CM3)]
Money = Annotated[Decimal, Field(ge=0, le=fleet.MAX_MONEY, allow_inf_nan=False, decimal_places=4)]


def _write(
    request: Request, principal: Any, key: str | None, body: Any, work: Any, code: int = 200
) -> JSONResponse:
    return write(request, principal, key, body, work, code, path_names=PATH_NAMES)


def _json(view: Any) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder(asdict(view))
    return body


# Vehicles --------------------------------------------------------------------------------------


class VehicleIn(Body):
    warehouse: Code
    code: Annotated[str, Field(min_length=1, max_length=32, examples=["VAN-1"])]
    name: Annotated[str, Field(max_length=120)] = ""
    capacity_weight_kg: WeightKg
    capacity_volume_cm3: VolumeCm3 | None = Field(
        default=None, description="Cubic centimetres; omit when volume never limits it."
    )
    shift_start: Clock
    shift_end: Clock
    cost_per_km: Money = Decimal(0)
    fixed_cost: Money = Decimal(0)
    active: StrictBool = True


class VehicleChangeIn(Body):
    name: Annotated[str, Field(max_length=120)] | None = None
    capacity_weight_kg: WeightKg | None = None
    capacity_volume_cm3: VolumeCm3 | None = Field(
        default=None, description="null removes the volume limit; omit to keep it."
    )
    shift_start: Clock | None = None
    shift_end: Clock | None = None
    cost_per_km: Money | None = None
    fixed_cost: Money | None = None
    active: StrictBool | None = None


@router.get("/vehicles", responses=problem_responses(422))
def get_vehicles(
    uow: Uow, _: Reader, warehouse: Annotated[str | None, Query(max_length=16)] = None
) -> list[dict[str, Any]]:
    """The fleets: vehicles by warehouse and code, of one warehouse if given."""
    views = fleet.list_vehicles(uow.session, warehouse=warehouse)
    return [_json(v) for v in views]


@router.post("/vehicles", responses=WRITE_ERRORS, status_code=status.HTTP_201_CREATED)
def post_vehicle(
    request: Request, body: VehicleIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Add a vehicle to a warehouse's fleet: capacity (kg, and cm³ if volume limits it), shift
    (local HH:MM), cost per km and fixed cost per day used."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = fleet.add_vehicle(uow, **body.model_dump(), actor=actor(principal))
        return _json(view)

    # The warehouse is named in the body: an unknown one is a 422.
    return write(
        request, principal, idempotency_key, body, work, status.HTTP_201_CREATED, path_names=False
    )


@router.get("/vehicles/{warehouse}/{code}", responses=problem_responses(404))
def get_vehicle(warehouse: WarehouseCode, code: VehicleCode, uow: Uow, _: Reader) -> dict[str, Any]:
    """One vehicle."""
    with named_in_path():
        view = fleet.get_vehicle(uow.session, warehouse=warehouse, code=code)
    return _json(view)


@router.patch("/vehicles/{warehouse}/{code}", responses=WRITE_ERRORS)
def patch_vehicle(
    request: Request,
    warehouse: WarehouseCode,
    code: VehicleCode,
    body: VehicleChangeIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Change a vehicle: only the fields sent (`active: false` takes it out of planning)."""
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    if "capacity_volume_cm3" in body.model_fields_set:
        changes["capacity_volume_cm3"] = body.capacity_volume_cm3

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = fleet.update_vehicle(
            uow, warehouse=warehouse, code=code, actor=actor(principal), **changes
        )
        return _json(view)

    return _write(request, principal, idempotency_key, body, work)


# Route plans -----------------------------------------------------------------------------------


class RoutePlanIn(Body):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    warehouse: Code
    on: date = Field(alias="date", description="The delivery day (local at the warehouse).")
    time_limit_seconds: (
        Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_SECONDS, allow_inf_nan=False)] | None
    ) = Field(default=None, description="Search time; the server's default if omitted.")
    seed: Annotated[int, Field(strict=True, ge=0, le=MAX_SEED)] = 0


def plan_body(view: RoutePlanView) -> dict[str, Any]:
    """A plan as the API answers it: routes with their stops, dropped stops with the reason."""
    body: dict[str, Any] = jsonable_encoder(
        {
            **asdict(view),
            "finished": view.finished,
            "stops_routed": view.stops_routed,
            "stops_dropped": len(view.dropped),
            "sheet_href": f"/api/v1/route-plans/{view.id}/sheet",
        }
    )
    return body


@router.post("/route-plans", responses=WRITE_ERRORS, status_code=status.HTTP_202_ACCEPTED)
def post_route_plan(
    request: Request, body: RoutePlanIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Plan a warehouse's delivery day on its own fleet, in the background: the answer has the
    plan's id; follow it at its `href` until `finished`. It takes the warehouse's fulfilments
    still to ship that no dispatched plan of the day already carries. A warehouse without an
    active vehicle is 422."""
    settings = request.app.state.settings
    created: list[str] = []

    def work(uow: UnitOfWork) -> dict[str, Any]:
        params = route_parameters(
            settings, time_limit_seconds=body.time_limit_seconds, seed=body.seed
        )
        queued = delivery_routes.queue_route_plan(
            uow, warehouse=body.warehouse, on=body.on, actor=actor(principal), parameters=params
        )
        created.append(queued.id)
        return {
            "id": queued.id,
            "status": queued.status,
            "href": f"/api/v1/route-plans/{queued.id}",
        }

    response = write(
        request, principal, idempotency_key, body, work, status.HTTP_202_ACCEPTED, path_names=False
    )
    if created:  # committed (a replayed answer launches nothing)
        state = request.app.state
        with UnitOfWork(state.session_factory) as uow:
            plan_id = plan_id_of(uow.session, created[-1])
        route_launcher(state).launch(plan_id)
    return response


@router.get("/route-plans", responses=problem_responses(422))
def get_route_plans(
    uow: Uow,
    _: Reader,
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
    on: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """Route plans, latest delivery day first, with their status and totals."""
    rows = list_route_plans(uow.session, warehouse=warehouse, on=on, limit=limit)
    return [
        {**plan_body(r.plan), "stops_routed": r.stops_routed, "stops_dropped": r.stops_dropped}
        for r in rows
    ]


@router.get("/route-plans/{plan_id}", responses=problem_responses(404))
def get_route_plan(plan_id: PlanId, uow: Uow, _: Reader) -> dict[str, Any]:
    """A plan: its status, then each vehicle's route (stops in order with arrival and service
    start, the load on board after the stop, the distance driven so far) and the dropped stops
    with the reason."""
    with named_in_path():
        return plan_body(route_plan_view(uow.session, plan_id))


@router.post("/route-plans/{plan_id}/dispatch", responses=WRITE_ERRORS)
def post_dispatch(
    request: Request, plan_id: PlanId, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Dispatch a planned plan: each routed fulfilment's `eta` is set and a
    `fulfillment.eta_updated` event goes to the storefront. Dispatching again is 409
    `invalid_transition`."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        done = delivery_routes.dispatch(uow, plan=plan_id, actor=actor(principal))
        return {
            "id": done.plan,
            "status": "dispatched",
            "etas": [{"fulfillment_id": f, "eta": eta} for f, eta in done.etas],
            "skipped": [{"fulfillment_id": f, "reason": r} for f, r in done.skipped],
            "dropped": [{"fulfillment_id": f, "reason": r} for f, r in done.dropped],
        }

    return _write(request, principal, idempotency_key, None, work)


@router.post("/route-plans/{plan_id}/cancel", responses=WRITE_ERRORS)
def post_cancel(
    request: Request, plan_id: PlanId, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Cancel a queued or planned plan (a dispatched one is 409)."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        done = delivery_routes.cancel(uow, plan=plan_id, actor=actor(principal))
        return _json(done)

    return _write(request, principal, idempotency_key, None, work)


@router.get(
    "/route-plans/{plan_id}/sheet",
    response_class=PlainTextResponse,
    responses=problem_responses(404),
)
def get_sheet(plan_id: PlanId, uow: Uow, _: Reader) -> PlainTextResponse:
    """The route sheet as plain text: per vehicle, the stops in order with local times."""
    with named_in_path():
        view = route_plan_view(uow.session, plan_id)
    return PlainTextResponse(text_sheet(view))


@router.get(
    "/route-plans/{plan_id}/sheet.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **problem_responses(404)},
)
def get_sheet_pdf(plan_id: PlanId, uow: Uow, _: Reader) -> Response:
    """The route sheet as an A4 PDF, a page per vehicle."""
    with named_in_path():
        view = route_plan_view(uow.session, plan_id)
    return Response(
        pdf_sheet(view),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{view.id}.pdf"'},
    )
