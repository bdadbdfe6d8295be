"""Delivery routes in the planner: the route plans per warehouse and day with a form that plans a
day in the background; a plan's page with its progress while it solves (a fragment htmx polls),
then the route view (an SVG map drawn from our own data) beside the timetable of each vehicle,
with buttons to dispatch or cancel it; and the printable route sheet (HTML or PDF)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.base import utcnow
from wms.errors import ValidationFailed, WmsError
from wms.events.routing_tasks import route_launcher, route_parameters
from wms.fulfillment import delivery_routes
from wms.fulfillment.delivery_runs import plan_id_of
from wms.fulfillment.delivery_views import (
    RoutePlanView,
    list_route_plans,
    route_plan_view,
)
from wms.fulfillment.route_sheet import pdf_sheet, window_text
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    Fmt,
    FormState,
    error_status,
    not_found,
    page,
    parse_date,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.plans import warehouses
from wms.web.route_map import MapDrop, MapRoute, MapStop, route_color, route_map
from wms.web.templating import templates

router = APIRouter()

PLAN_DAY = FormState(
    "route", ("warehouse", "date", "time_limit_seconds"), values={"time_limit_seconds": "10"}
)
LIST_LIMIT = 100


def _number(text: str, field: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} must be a number of seconds, not {text.strip()!r}",
            field=field,
        ) from None


def _tomorrow() -> date:
    return utcnow().date() + timedelta(days=1)


def _list_page(
    request: Request,
    user: UserRef,
    *,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    warehouse = request.query_params.get("warehouse") or None
    on_text = request.query_params.get("date") or ""
    try:
        on = date.fromisoformat(on_text) if on_text else None
    except ValueError:
        on = None

    def load(session: Session) -> dict[str, Any]:
        known = {k: v for k, v in warehouses(session).items() if k}
        return {
            "rows": list_route_plans(
                session, warehouse=warehouse if warehouse in known else None, on=on
            ),
            "warehouses": known,
        }

    context = read(request, load)
    if form is None:
        first = next(iter(context["warehouses"]), "")
        form = PLAN_DAY.filled(warehouse=warehouse or first, date=on_text or f"{_tomorrow()}")
    return page(
        request,
        "routes.html",
        user=user,
        title="Delivery routes",
        status_code=status_code,
        form=form,
        selected_warehouse=warehouse or "",
        selected_date=on_text,
        **context,
    )


@router.get("/routes", response_class=HTMLResponse)
def route_plans(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _list_page(request, user)


@router.post("/routes", response_class=HTMLResponse)
def plan_a_day(
    request: Request,
    user: Viewer,
    warehouse: Annotated[str, Form()] = "",
    day: Annotated[str, Form(alias="date")] = "",
    time_limit_seconds: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = PLAN_DAY.filled(warehouse=warehouse, date=day, time_limit_seconds=time_limit_seconds)
    settings = request.app.state.settings
    try:
        on = parse_date(day, "date")
        limit = _number(time_limit_seconds, "time_limit_seconds")
        params = route_parameters(settings, time_limit_seconds=limit)
        queued = write(
            request,
            lambda uow: delivery_routes.queue_route_plan(
                uow, warehouse=warehouse.strip(), on=on, actor=user.username, parameters=params
            ),
        )
    except WmsError as exc:
        return _list_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    state = request.app.state
    plan_id = read(request, lambda session: plan_id_of(session, queued.id))
    route_launcher(state).launch(plan_id)  # after the commit: the plan exists for the worker
    return redirect(f"/planner/routes/{queued.id}?done=routes-queued")


# One plan -----------------------------------------------------------------------------------------


def _title(view: RoutePlanView, trip_index: int) -> str:
    trip = view.trips[trip_index]
    return (
        f"{trip.vehicle} · {len(trip.stops)} stops · {trip.distance_km:,.1f} km · "
        f"{trip.load_weight_kg:,.1f} of {trip.capacity_weight_kg:,.0f} kg"
    )


def map_svg(view: RoutePlanView) -> Markup:
    """The plan's route view: depot, each vehicle's route and its numbered stops, dropped stops."""
    routes = [
        MapRoute(
            vehicle=trip.vehicle,
            label=_title(view, index),
            stops=[
                MapStop(
                    s.latitude,
                    s.longitude,
                    str(s.seq),
                    s.fulfillment_id,
                    f"{trip.vehicle} #{s.seq} · {s.customer} · {s.fulfillment_id} · "
                    f"arrives {view.clock(s.arrival_at)} · window {window_text(s)}",
                )
                for s in trip.stops
            ],
        )
        for index, trip in enumerate(view.trips)
    ]
    dropped = [
        MapDrop(d.latitude, d.longitude, d.fulfillment_id, f"{d.fulfillment_id}: {d.reason}")
        for d in view.dropped
    ]
    svg = route_map(
        view.depot,
        routes,
        dropped,
        depot_label=view.warehouse,
        title=f"Routes of {view.id}",
    )
    return Markup(svg)  # noqa: S704 - route_map escapes every piece of text it writes


def _plan_context(session: Session, plan: str) -> dict[str, Any]:
    view = route_plan_view(session, plan)
    colors = {t.vehicle: route_color(i, MapRoute(t.vehicle, ())) for i, t in enumerate(view.trips)}
    return {
        "plan": view,
        "map_svg": map_svg(view) if view.finished and view.status != "failed" else None,
        "colors": colors,
    }


def plan_page(
    request: Request,
    user: UserRef,
    plan: str,
    *,
    page_error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        context = read(request, lambda session: _plan_context(session, plan))
    except delivery_routes.UnknownRoutePlan as exc:
        return not_found(request, user, exc)
    view: RoutePlanView = context["plan"]
    return page(
        request,
        "route_plan.html",
        user=user,
        title=f"Route plan {view.id}",
        status_code=status_code,
        page_error=page_error,
        window_text=window_text,
        **context,
    )


@router.get("/routes/{plan}", response_class=HTMLResponse)
def route_plan(request: Request, user: Viewer, plan: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return plan_page(request, user, plan)


@router.get("/routes/{plan}/progress", response_class=HTMLResponse)
def route_progress(request: Request, user: Viewer, plan: str) -> Response:
    """The progress fragment; once the plan is solved, htmx loads the plan's page again."""
    if user is None:
        return sign_in_redirect(request)
    try:
        view = read(request, lambda session: route_plan_view(session, plan))
    except delivery_routes.UnknownRoutePlan as exc:
        return not_found(request, user, exc)
    response = templates.TemplateResponse(
        request,
        "planner/_route_progress.html",
        {"plan": view, "fmt": Fmt},
        headers={"Cache-Control": "no-store"},
    )
    if view.finished:
        response.headers["HX-Redirect"] = f"/planner/routes/{view.id}"
    return response


@router.post("/routes/{plan}/dispatch", response_class=HTMLResponse)
def dispatch_plan(request: Request, user: Viewer, plan: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        done = write(
            request, lambda uow: delivery_routes.dispatch(uow, plan=plan, actor=user.username)
        )
    except WmsError as exc:
        return plan_page(request, user, plan, page_error=exc.message, status_code=error_status(exc))
    request.app.state.notifier.notify()  # the ETA events are waiting to go out
    return redirect(f"/planner/routes/{done.plan}?done=routes-dispatched")


@router.post("/routes/{plan}/cancel", response_class=HTMLResponse)
def cancel_plan(request: Request, user: Viewer, plan: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        done = write(
            request, lambda uow: delivery_routes.cancel(uow, plan=plan, actor=user.username)
        )
    except WmsError as exc:
        return plan_page(request, user, plan, page_error=exc.message, status_code=error_status(exc))
    return redirect(f"/planner/routes/{done.id}?done=routes-cancelled")


@router.get("/routes/{plan}/sheet", response_class=HTMLResponse)
def route_sheet(request: Request, user: Viewer, plan: str) -> Response:
    """The printable route sheet: a page per vehicle, nothing but the sheet."""
    if user is None:
        return sign_in_redirect(request)
    try:
        view = read(request, lambda session: route_plan_view(session, plan))
    except delivery_routes.UnknownRoutePlan as exc:
        return not_found(request, user, exc)
    return templates.TemplateResponse(
        request,
        "planner/route_sheet.html",
        {"plan": view, "window_text": window_text, "fmt": Fmt},
    )


@router.get("/routes/{plan}/sheet.pdf")
def route_sheet_pdf(request: Request, user: Viewer, plan: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        view = read(request, lambda session: route_plan_view(session, plan))
    except delivery_routes.UnknownRoutePlan as exc:
        return not_found(request, user, exc)
    return Response(
        pdf_sheet(view),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{view.id}.pdf"'},
    )
