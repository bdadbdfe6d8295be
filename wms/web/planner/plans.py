"""Replenishment plans: the runs with their answer, a form that queues and launches one, and a
run's page: its live progress while it works (a fragment htmx polls every second), then its
answer and its proposals grouped by supplier."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.errors import NotFound, ValidationFailed, WmsError
from wms.events.planning_tasks import plan_launcher
from wms.inventory.models import Warehouse
from wms.procurement.plan_parameters import PlanParameters
from wms.procurement.plan_views import (
    PlanRunView,
    ProposalView,
    UnknownPlanRun,
    list_plan_runs,
    plan_projections,
    plan_run_view,
    proposal_views,
)
from wms.procurement.replenishment_runs import create_run
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    Fmt,
    FormState,
    error_status,
    not_found,
    page,
    parse_int,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.templating import templates

router = APIRouter()

RUN = FormState(
    "run",
    ("warehouse", "horizon_weeks", "time_limit_seconds", "service_level", "budget_per_week"),
    values={"horizon_weeks": "12", "time_limit_seconds": "30", "service_level": "95"},
)
DECIDE = FormState("decide", ())
ORDER = FormState("order", ())
LIST_LIMIT = 100
EDITABLE = ("proposed", "approved")
DECIDABLE = ("proposed", "approved", "rejected")


def quantity_form(proposal_id: int) -> FormState:
    """The inline form that changes one proposal's quantity."""
    return FormState(f"qty-{proposal_id}", ("quantity",), aliases={"proposal_id": "quantity"})


def parse_run_id(text: str) -> int:
    """A run id from the path; anything else is a run that does not exist."""
    try:
        run_id = int(text)
    except ValueError:
        raise NotFound(f"no plan run {text!r}") from None
    if not 0 < run_id < 2**31:
        raise NotFound(f"no plan run {run_id}")
    return run_id


def money(value: Decimal | float | None, currency: str = "") -> str:
    """An amount with two decimals and thousands separated, and its currency."""
    if value is None:
        return "—"
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


# Running a plan --------------------------------------------------------------------------------


def _number(text: str, field: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"{field.replace('_', ' ')} must be a number, not {text.strip()!r}", field=field
        ) from None
    return value


def _budget(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed(
            f"the budget must be an amount, not {text.strip()!r}", field="budget_per_week"
        ) from None


def parse_parameters(form: FormState) -> tuple[FormState, PlanParameters | None]:
    """The plan parameters the form asks for, or the form with an error at each wrong field.
    The service level is typed in percent (95) or as a fraction (0.95)."""
    v = form.value
    parsed: dict[str, Any] = {"warehouse": v("warehouse").strip().upper() or None}
    parsers: dict[str, Callable[[], object]] = {
        "horizon_weeks": lambda: parse_int(v("horizon_weeks"), "horizon_weeks"),
        "time_limit_seconds": lambda: _number(v("time_limit_seconds"), "time_limit_seconds"),
        "service_level": lambda: _number(v("service_level"), "service_level"),
        "budget_per_week": lambda: _budget(v("budget_per_week")),
    }
    for name, parse in parsers.items():
        try:
            value: Any = parse()
            if name == "service_level" and value > 1:
                value /= 100
            PlanParameters(**{name: value})  # each field's own check, so all are named at once
            parsed[name] = value
        except WmsError as exc:
            form = form.failed(exc)
    if form.has_errors:
        return form, None
    try:
        return form, PlanParameters(**parsed)
    except WmsError as exc:
        return form.failed(exc), None


def warehouses(session: Session) -> dict[str, str]:
    rows = session.execute(
        select(Warehouse.code, Warehouse.name).where(Warehouse.active).order_by(Warehouse.code)
    )
    return {"": "All warehouses", **{code: f"{code} · {name}" for code, name in rows}}


def _plans_page(
    request: Request, user: UserRef, *, form: FormState = RUN, status_code: int = 200
) -> Response:
    def load(session: Session) -> dict[str, Any]:
        return {
            "runs": list_plan_runs(session, limit=LIST_LIMIT),
            "warehouses": warehouses(session),
        }

    return page(
        request,
        "plans.html",
        user=user,
        title="Replenishment plans",
        status_code=status_code,
        form=form,
        money=money,
        **read(request, load),
    )


@router.get("/plans", response_class=HTMLResponse)
def plan_list(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _plans_page(request, user)


@router.post("/plans", response_class=HTMLResponse)
def run_a_plan(
    request: Request,
    user: Viewer,
    warehouse: Annotated[str, Form()] = "",
    horizon_weeks: Annotated[str, Form()] = "",
    time_limit_seconds: Annotated[str, Form()] = "",
    service_level: Annotated[str, Form()] = "",
    budget_per_week: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form, parameters = parse_parameters(
        RUN.filled(
            warehouse=warehouse,
            horizon_weeks=horizon_weeks,
            time_limit_seconds=time_limit_seconds,
            service_level=service_level,
            budget_per_week=budget_per_week,
        )
    )
    if parameters is None:
        return _plans_page(request, user, form=form, status_code=422)
    try:
        run_id = write(
            request, lambda uow: create_run(uow, parameters=parameters, actor=user.username)
        )
    except WmsError as exc:
        return _plans_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    plan_launcher(request.app.state).launch(
        run_id
    )  # after the commit: the run exists for the worker
    return redirect(f"/planner/plans/{run_id}?done=plan-queued")


# One run ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierGroup:
    """A supplier's proposals on the run page."""

    supplier: str
    supplier_name: str
    lines: list[ProposalView]

    @property
    def value(self) -> Decimal:
        """What the lines not rejected would cost."""
        return sum((p.amount for p in self.lines if p.status != "rejected"), Decimal(0))

    @property
    def proposed_ids(self) -> list[int]:
        return [p.id for p in self.lines if p.status == "proposed"]


def by_supplier(proposals: list[ProposalView]) -> list[SupplierGroup]:
    """Proposals grouped by supplier (by code), each group in the run's order."""
    groups: dict[str, list[ProposalView]] = {}
    for proposal in proposals:
        groups.setdefault(proposal.supplier, []).append(proposal)
    return [
        SupplierGroup(code, lines[0].supplier_name, lines) for code, lines in sorted(groups.items())
    ]


def _run_context(session: Session, run_id: int) -> dict[str, Any]:
    run = plan_run_view(session, run_id)
    proposals = proposal_views(session, run_id=run_id) if run.finished else []
    series = (
        sorted((p["sku"], p["warehouse"]) for p in plan_projections(session, run_id=run_id))
        if run.finished
        else []
    )
    return {"run": run, "groups": by_supplier(proposals), "series": series}


def currency_of(run: PlanRunView) -> str:
    return str(run.context.get("currency") or run.parameters.get("currency") or "")


def run_page(
    request: Request,
    user: UserRef,
    run_id: int,
    *,
    forms: Mapping[str, FormState] = {},
    status_code: int = 200,
) -> Response:
    """The run's page; ``forms`` are forms that came back with an error."""
    try:
        context = read(request, lambda session: _run_context(session, run_id))
    except UnknownPlanRun as exc:
        return not_found(request, user, exc)
    run: PlanRunView = context["run"]
    shown: dict[str, FormState] = {}
    if run.status == "succeeded" and context["groups"]:  # the page shows its forms
        shown = {DECIDE.name: DECIDE, ORDER.name: ORDER} | {
            f"qty-{p.id}": quantity_form(p.id).filled(quantity=str(p.quantity))
            for group in context["groups"]
            for p in group.lines
            if p.status in EDITABLE
        }
    # An error of a form the page no longer shows (a line ordered meanwhile) goes on top.
    stray = [m for name, f in forms.items() if name not in shown for m in f.errors.values()]
    return page(
        request,
        "plan.html",
        user=user,
        title=f"Plan run {run.id}",
        status_code=status_code,
        forms=shown | {name: f for name, f in forms.items() if name in shown},
        page_error=stray[0] if stray else None,
        currency=currency_of(run),
        money=money,
        editable=EDITABLE,
        decidable=DECIDABLE,
        **context,
    )


@router.get("/plans/{run_id}", response_class=HTMLResponse)
def plan_run(request: Request, user: Viewer, run_id: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        number = parse_run_id(run_id)
    except NotFound as exc:
        return not_found(request, user, exc)
    return run_page(request, user, number)


@router.get("/plans/{run_id}/progress", response_class=HTMLResponse)
def plan_progress(request: Request, user: Viewer, run_id: str) -> Response:
    """The progress fragment; once the run has finished, htmx loads the run's page again."""
    if user is None:
        return sign_in_redirect(request)
    try:
        run = read(request, lambda session: plan_run_view(session, parse_run_id(run_id)))
    except NotFound as exc:
        return not_found(request, user, exc)
    response = templates.TemplateResponse(
        request,
        "planner/_plan_progress.html",
        {"run": run, "fmt": Fmt},
        headers={"Cache-Control": "no-store"},
    )
    if run.finished:  # the run's page afresh, without the notice of the queued run
        response.headers["HX-Redirect"] = f"/planner/plans/{run.id}"
    return response
