"""The fleets in the planner: each warehouse's vehicles with capacity, shift and costs, a form that
adds one and a page that edits one; a refused value is shown next to its field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.errors import NotFound, ValidationFailed, WmsError
from wms.fulfillment import fleet
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    not_found,
    page,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.plans import warehouses

router = APIRouter()

FIELDS = (
    "warehouse",
    "code",
    "name",
    "capacity_weight_kg",
    "capacity_volume_l",
    "shift_start",
    "shift_end",
    "cost_per_km",
    "fixed_cost",
)
ALIASES = {"capacity_volume_cm3": "capacity_volume_l"}
ADD = FormState(
    "vehicle",
    FIELDS,
    values={"shift_start": "08:00", "shift_end": "18:00", "cost_per_km": "2.50", "fixed_cost": "0"},
    aliases=ALIASES,
)


def _float(text: str, field: str, what: str) -> float:
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        raise ValidationFailed(
            f"{what} must be a number, not {text.strip()!r}", field=field
        ) from None


def _money(text: str, field: str) -> Decimal:
    try:
        return Decimal(text.strip().replace(",", "") or "0")
    except InvalidOperation:
        raise ValidationFailed(f"{text.strip()!r} is not an amount", field=field) from None


def parse_vehicle(form: FormState) -> tuple[FormState, dict[str, Any] | None]:
    """The vehicle's values from the form (litres become cm³), or the form with its errors."""
    v = form.value
    values: dict[str, Any] = {
        "name": v("name"),
        "shift_start": v("shift_start"),
        "shift_end": v("shift_end"),
    }
    parsers: dict[str, Callable[[], object]] = {
        "capacity_weight_kg": lambda: _float(
            v("capacity_weight_kg"), "capacity_weight_kg", "weight capacity"
        ),
        "capacity_volume_cm3": lambda: (
            round(_float(v("capacity_volume_l"), "capacity_volume_l", "volume capacity") * 1000)
            if v("capacity_volume_l").strip()
            else None
        ),
        "cost_per_km": lambda: _money(v("cost_per_km"), "cost_per_km"),
        "fixed_cost": lambda: _money(v("fixed_cost"), "fixed_cost"),
    }
    for name, parse in parsers.items():
        try:
            values[name] = parse()
        except WmsError as exc:
            form = form.failed(exc)
    return form, None if form.has_errors else values


def _fleet_page(
    request: Request, user: UserRef, *, form: FormState | None = None, status_code: int = 200
) -> Response:
    selected = request.query_params.get("warehouse") or ""

    def load(session: Session) -> dict[str, Any]:
        known = {k: label for k, label in warehouses(session).items() if k}
        shown = selected if selected in known else None
        return {"vehicles": fleet.list_vehicles(session, warehouse=shown), "warehouses": known}

    context = read(request, load)
    if form is None:
        form = ADD.filled(warehouse=selected or next(iter(context["warehouses"]), ""))
    return page(
        request,
        "fleet.html",
        user=user,
        title="Fleet",
        status_code=status_code,
        form=form,
        selected_warehouse=selected,
        **context,
    )


@router.get("/fleet", response_class=HTMLResponse)
def fleet_list(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _fleet_page(request, user)


@router.post("/fleet", response_class=HTMLResponse)
def add_a_vehicle(
    request: Request,
    user: Viewer,
    warehouse: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    capacity_weight_kg: Annotated[str, Form()] = "",
    capacity_volume_l: Annotated[str, Form()] = "",
    shift_start: Annotated[str, Form()] = "",
    shift_end: Annotated[str, Form()] = "",
    cost_per_km: Annotated[str, Form()] = "",
    fixed_cost: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form, values = parse_vehicle(
        ADD.filled(
            warehouse=warehouse,
            code=code,
            name=name,
            capacity_weight_kg=capacity_weight_kg,
            capacity_volume_l=capacity_volume_l,
            shift_start=shift_start,
            shift_end=shift_end,
            cost_per_km=cost_per_km,
            fixed_cost=fixed_cost,
        )
    )
    if values is None:
        return _fleet_page(request, user, form=form, status_code=422)
    try:
        write(
            request,
            lambda uow: fleet.add_vehicle(
                uow, warehouse=warehouse.strip(), code=code, actor=user.username, **values
            ),
        )
    except WmsError as exc:
        return _fleet_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    return redirect(f"/planner/fleet?warehouse={quote(warehouse.strip())}&done=vehicle-added")


# One vehicle ------------------------------------------------------------------------------------


def _edit_form(view: fleet.VehicleView) -> FormState:
    volume = "" if view.capacity_volume_cm3 is None else f"{view.capacity_volume_cm3 / 1000:g}"
    return FormState(
        "vehicle",
        (*FIELDS, "active"),
        values={
            "warehouse": view.warehouse,
            "code": view.code,
            "name": view.name,
            "capacity_weight_kg": f"{view.capacity_weight_kg:g}",
            "capacity_volume_l": volume,
            "shift_start": view.shift_start,
            "shift_end": view.shift_end,
            "cost_per_km": f"{view.cost_per_km:.2f}",
            "fixed_cost": f"{view.fixed_cost:.2f}",
            "active": "on" if view.active else "",
        },
        aliases=ALIASES,
    )


def _vehicle_page(
    request: Request,
    user: UserRef,
    warehouse: str,
    code: str,
    *,
    form: FormState | None = None,
    status_code: int = 200,
) -> Response:
    try:
        view = read(request, lambda s: fleet.get_vehicle(s, warehouse=warehouse, code=code))
    except NotFound as exc:
        return not_found(request, user, exc)
    return page(
        request,
        "vehicle.html",
        user=user,
        title=f"Vehicle {view.code} · {view.warehouse}",
        status_code=status_code,
        vehicle=view,
        form=form or _edit_form(view),
    )


@router.get("/fleet/{warehouse}/{code}", response_class=HTMLResponse)
def vehicle_page(request: Request, user: Viewer, warehouse: str, code: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _vehicle_page(request, user, warehouse, code)


@router.post("/fleet/{warehouse}/{code}", response_class=HTMLResponse)
def save_vehicle(
    request: Request,
    user: Viewer,
    warehouse: str,
    code: str,
    name: Annotated[str, Form()] = "",
    capacity_weight_kg: Annotated[str, Form()] = "",
    capacity_volume_l: Annotated[str, Form()] = "",
    shift_start: Annotated[str, Form()] = "",
    shift_end: Annotated[str, Form()] = "",
    cost_per_km: Annotated[str, Form()] = "",
    fixed_cost: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    typed = FormState("vehicle", (*FIELDS, "active"), aliases=ALIASES).filled(
        warehouse=warehouse,
        code=code,
        name=name,
        capacity_weight_kg=capacity_weight_kg,
        capacity_volume_l=capacity_volume_l,
        shift_start=shift_start,
        shift_end=shift_end,
        cost_per_km=cost_per_km,
        fixed_cost=fixed_cost,
        active=active,
    )
    form, values = parse_vehicle(typed)
    if values is None:
        return _vehicle_page(request, user, warehouse, code, form=form, status_code=422)
    try:
        write(
            request,
            lambda uow: fleet.update_vehicle(
                uow,
                warehouse=warehouse,
                code=code,
                actor=user.username,
                active=bool(active),
                **values,
            ),
        )
    except NotFound as exc:
        return not_found(request, user, exc)
    except WmsError as exc:
        return _vehicle_page(
            request, user, warehouse, code, form=form.failed(exc), status_code=error_status(exc)
        )
    return redirect(f"/planner/fleet?warehouse={quote(warehouse)}&done=vehicle-saved")
