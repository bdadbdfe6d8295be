"""Nonconformance reports: the list (open first) and one report with its corrective actions,
where an action is requested or closed (closing the last one closes the report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import NotFound, WmsError
from wms.quality import ncr as ncrs
from wms.quality.views import NcrView, list_ncrs, ncr_view
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
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

router = APIRouter()

ACTION = FormState("action", ("description", "owner", "due_date"), aliases={"ncr": "description"})
LIST_LIMIT = 500


def close_form(action_id: int) -> FormState:
    return FormState(f"close-{action_id}", ("resolution",), aliases={"action_id": "resolution"})


def open_first(reports: list[NcrView]) -> list[NcrView]:
    """Open reports before closed ones, each group newest first (as the service gives them)."""
    return sorted(reports, key=lambda n: n.status != "open")


@router.get("/ncrs", response_class=HTMLResponse)
def ncr_list(request: Request, user: Viewer, status: str = "") -> Response:
    if user is None:
        return sign_in_redirect(request)
    chosen = status if status in ("open", "closed") else ""
    reports = read(
        request, lambda session: list_ncrs(session, status=chosen or None, limit=LIST_LIMIT)
    )
    return page(
        request,
        "ncrs.html",
        user=user,
        title="Nonconformance reports",
        ncrs=open_first(reports),
        status=chosen,
    )


def _ncr_page(
    request: Request,
    user: UserRef,
    code: str,
    *,
    forms: Mapping[str, FormState] = {},
    status_code: int = 200,
) -> Response:
    try:
        report = read(request, lambda session: ncr_view(session, code))
    except NotFound as exc:
        return not_found(request, user, exc)
    shown = {ACTION.name: ACTION} | {
        f"close-{a.id}": close_form(a.id) for a in report.actions if a.status == "open"
    }
    # An error of a form the page no longer shows (an action closed meanwhile) goes on top.
    stray = [m for name, f in forms.items() if name not in shown for m in f.errors.values()]
    return page(
        request,
        "ncr.html",
        user=user,
        title=f"{report.code} · {report.title}",
        status_code=status_code,
        ncr=report,
        forms=shown | {name: f for name, f in forms.items() if name in shown},
        page_error=stray[0] if stray else None,
    )


@router.get("/ncrs/{code}", response_class=HTMLResponse)
def ncr_detail(request: Request, user: Viewer, code: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _ncr_page(request, user, code)


@router.post("/ncrs/{code}/actions", response_class=HTMLResponse)
def request_action(
    request: Request,
    user: Viewer,
    code: str,
    description: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = ACTION.filled(description=description, owner=owner, due_date=due_date)

    def change(uow: UnitOfWork) -> None:
        ncrs.request_corrective_action(
            uow,
            ncr=code,
            description=description,
            owner=owner,
            due_date=parse_date(due_date, "due_date"),
            actor=user.username,
        )

    try:
        write(request, change)
    except WmsError as exc:
        return _ncr_page(
            request, user, code, forms={form.name: form.failed(exc)}, status_code=error_status(exc)
        )
    return redirect(f"/planner/ncrs/{quote(code, safe='')}?done=action#actions")


@router.post("/ncrs/{code}/actions/{action_id}/close", response_class=HTMLResponse)
def close_action(
    request: Request,
    user: Viewer,
    code: str,
    action_id: int,
    resolution: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = close_form(action_id).filled(resolution=resolution)

    def change(uow: UnitOfWork) -> None:
        # The action must be one of this report's: the URL names both.
        report = ncr_view(uow.session, code)
        if action_id not in {a.id for a in report.actions}:
            raise NotFound(f"{report.code} has no corrective action {action_id}")
        ncrs.close_corrective_action(
            uow, action_id=action_id, resolution=resolution, actor=user.username
        )

    try:
        write(request, change)
    except WmsError as exc:
        return _ncr_page(
            request, user, code, forms={form.name: form.failed(exc)}, status_code=error_status(exc)
        )
    return redirect(f"/planner/ncrs/{quote(code, safe='')}?done=closed#actions")
