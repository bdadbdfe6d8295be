"""What a planner does with a finished plan on its page: change a line's quantity (the service
holds it to the supplier's MOQ and packs), approve or reject selected lines, and turn the
approved lines into draft purchase orders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import NotFound, ValidationFailed, WmsError
from wms.procurement import proposals
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    not_found,
    parse_int,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.plans import DECIDE, ORDER, parse_run_id, quantity_form, run_page

router = APIRouter()
T = TypeVar("T")
DECISIONS = {"approve": "approved", "reject": "rejected"}


def _ids(values: list[str]) -> list[int]:
    """The checked lines; anything that is not a line's id is refused."""
    if not values:
        raise ValidationFailed("select the lines to approve or reject first", field="proposal_ids")
    try:
        return [int(v) for v in values]
    except ValueError:
        raise ValidationFailed("the selection names no line", field="proposal_ids") from None


def _act(
    request: Request,
    user: UserRef,
    run_id: str,
    form: FormState,
    change: Callable[[UnitOfWork, int], T],
) -> tuple[int, T] | Response:
    """Run ``change`` for the run in a unit of work; a domain error shows the run's page with
    ``form`` carrying it (and what was typed), and nothing is written."""
    try:
        number = parse_run_id(run_id)
    except NotFound as exc:
        return not_found(request, user, exc)
    try:
        return number, write(request, lambda uow: change(uow, number))
    except WmsError as exc:
        if isinstance(exc, NotFound) and exc.field == "run_id":
            return not_found(request, user, exc)
        return run_page(
            request,
            user,
            number,
            forms={form.name: form.failed(exc)},
            status_code=error_status(exc),
        )


@router.post("/plans/{run_id}/proposals/{proposal_id}/quantity", response_class=HTMLResponse)
def change_quantity(
    request: Request,
    user: Viewer,
    run_id: str,
    proposal_id: str,
    quantity: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        line = int(proposal_id)
    except ValueError:
        return not_found(request, user, NotFound(f"no proposal {proposal_id!r}"))
    form = quantity_form(line).filled(quantity=quantity)

    def change(uow: UnitOfWork, run: int) -> None:
        proposals.edit_proposal(
            uow,
            proposal_id=line,
            quantity=parse_int(quantity, "quantity"),
            actor=user.username,
            run_id=run,
        )

    done = _act(request, user, run_id, form, change)
    if isinstance(done, Response):
        return done
    return redirect(f"/planner/plans/{done[0]}?done=quantity#p-{line}")


@router.post("/plans/{run_id}/proposals/decide", response_class=HTMLResponse)
def decide(
    request: Request,
    user: Viewer,
    run_id: str,
    action: Annotated[str, Form()] = "",
    proposal_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Approve or reject the checked lines (``action`` is approve or reject)."""
    if user is None:
        return sign_in_redirect(request)

    def change(uow: UnitOfWork, run: int) -> None:
        if action not in DECISIONS:
            raise ValidationFailed("choose approve or reject", field="action")
        ids = _ids(proposal_ids or [])
        decide_on = (
            proposals.approve_proposals if action == "approve" else proposals.reject_proposals
        )
        decide_on(uow, run_id=run, proposal_ids=ids, actor=user.username)

    done = _act(request, user, run_id, DECIDE, change)
    if isinstance(done, Response):
        return done
    return redirect(f"/planner/plans/{done[0]}?done={DECISIONS[action]}#proposals")


@router.post("/plans/{run_id}/order", response_class=HTMLResponse)
def order(request: Request, user: Viewer, run_id: str) -> Response:
    """Every approved line onto draft purchase orders; then the list of the new orders."""
    if user is None:
        return sign_in_redirect(request)

    def change(uow: UnitOfWork, run: int) -> list[str]:
        return proposals.order_proposals(uow, run_id=run, actor=user.username)

    done = _act(request, user, run_id, ORDER, change)
    if isinstance(done, Response):
        return done
    run, codes = done
    query = urlencode([("run", str(run)), *(("code", code) for code in codes), ("done", "ordered")])
    return redirect(f"/planner/purchase-orders?{query}")
