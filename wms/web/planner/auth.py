"""Signing in to the planner with user name and password; the session is the handheld's
mechanism (`wms.auth.sessions`) under a cookie of its own, scoped to ``/planner``."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from wms.auth.models import Role
from wms.auth.services import UserRef, authenticate
from wms.auth.sessions import SHIFT, end_session, load_session, start_session
from wms.db.uow import UnitOfWork
from wms.errors import Unauthorized
from wms.web.planner.common import factory, page, read, redirect

COOKIE = "wms_planner"
COOKIE_PATH = "/planner"
# Operators work on the handheld only.
PLANNER_ROLES = frozenset({Role.ADMIN, Role.PLANNER, Role.INSPECTOR, Role.SUPERVISOR})
HOME = "/planner/suppliers"

router = APIRouter()
log = structlog.get_logger("wms.planner")


def viewer(request: Request) -> UserRef | None:
    """The signed-in planner user of this request, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        info = read(request, lambda session: load_session(session, token))
    except Unauthorized:
        return None
    return info.user if info.user.role in PLANNER_ROLES else None


Viewer = Annotated[UserRef | None, Depends(viewer)]


def _next(target: str) -> str:
    """Only a page of the planner is a place to return to (no open redirect)."""
    if target.startswith("/planner") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: Viewer, next: str = HOME) -> Response:
    if user is not None:
        return redirect(_next(next))
    return page(request, "login.html", user=None, title="Sign in", next=_next(next), username="")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME,
) -> Response:
    username = username.strip().lower()
    target = _next(next)

    def refuse(message: str, status_code: int) -> Response:
        log.info("planner.login_refused", username=username or None, status=status_code)
        return page(
            request,
            "login.html",
            user=None,
            title="Sign in",
            status_code=status_code,
            error=message,
            next=target,
            username=username,
        )

    if not username or not password:
        return refuse("Enter your user name and password.", 422)
    with UnitOfWork(factory(request)) as uow:
        try:
            user = authenticate(uow, username=username, password=password)
        except Unauthorized as exc:
            return refuse(exc.message, 401)
        if user.role not in PLANNER_ROLES:
            return refuse(
                f"{user.display_name or user.username} is an operator: operators work on the "
                "handheld (/handheld). The planner is for planners, inspectors, supervisors "
                "and administrators.",
                403,
            )
        token = start_session(uow, user=user)
        uow.commit()
    log.info("planner.login", username=user.username, role=user.role.value)
    response = redirect(target)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SHIFT.total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(COOKIE)
    if token:
        with UnitOfWork(factory(request)) as uow:
            end_session(uow, token=token)
            uow.commit()
    response = redirect("/planner/login?done=signed-out")
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response
