"""The handheld's pages and its scan endpoint, at ``/handheld``.

Pages are rendered on the server. Scans and button presses reach ``POST /handheld/scan`` one at a
time, in order, each with an id generated on the device: the id is stored with the answer in the
same transaction as the stock it booked, so a scan retried after a timeout or replayed from the
offline queue books once and gets the same answer back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from wms.auth.sessions import (
    SHIFT,
    SessionInfo,
    check_badge,
    check_pin,
    clear_warehouse,
    end_session,
    load_session,
    save_session,
    start_session,
)
from wms.db.idempotency import fingerprint, recall, remember
from wms.db.uow import UnitOfWork, transaction
from wms.errors import Unauthorized, WmsError
from wms.fulfillment.labels import package_label_pdf
from wms.inventory import labels
from wms.inventory.catalog import WarehouseRef
from wms.inventory.models import Warehouse
from wms.web.handheld import flows
from wms.web.handheld.screens import Outcome, Screen
from wms.web.templating import templates

COOKIE = "wms_handheld"
router = APIRouter(prefix="/handheld", include_in_schema=False)
log = structlog.get_logger("wms.handheld")


def _token(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def _signed_in(request: Request, uow: UnitOfWork, *, lock: bool = False) -> SessionInfo | None:
    """The request's live handheld session, or None when it must sign in (again)."""
    token = _token(request)
    if not token:
        return None
    try:
        return load_session(uow.session, token, lock=lock)
    except Unauthorized:
        return None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/handheld/login", status_code=303)


def _session_factory(request: Request) -> Any:
    return request.app.state.session_factory


def _warehouse(uow: UnitOfWork, warehouse_id: int) -> WarehouseRef:
    row = uow.session.get(Warehouse, warehouse_id)
    if row is None:
        raise Unauthorized("the session's warehouse is gone; sign in again")
    return WarehouseRef(row.id, row.code, row.name)


def _page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("user", None)
    context.setdefault("warehouse", None)
    context.setdefault("session_key", None)
    context.setdefault("title", "WMS handheld")
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def _screen(ctx: flows.Ctx, outcome: Outcome | None) -> Screen:
    """The current screen; a state that no longer fits (a receipt closed elsewhere) goes to menu."""
    try:
        with ctx.session.begin_nested():
            screen = flows.screen_for(ctx)
    except WmsError as exc:
        log.warning("handheld.state_reset", reason=exc.message, flow=ctx.state.get("flow"))
        ctx.state.clear()
        ctx.state.update({"flow": flows.MENU})
        screen = flows.menu_screen(ctx)
        outcome = Outcome("error", f"{exc.message}; back to the menu")
    screen.outcome = outcome
    return screen


@router.get("", response_class=HTMLResponse)
def home(request: Request) -> Response:
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in(request, uow)
        if info is None:
            return _to_login()
        if info.warehouse_id is None:
            warehouses = uow.session.scalars(
                select(Warehouse).where(Warehouse.active).order_by(Warehouse.code)
            ).all()
            return _page(
                request,
                "handheld/warehouse.html",
                user=info.user,
                warehouses=warehouses,
                session_key=info.user.username,
                title="Choose the warehouse",
            )
        ctx = flows.Ctx(uow, info.user, _warehouse(uow, info.warehouse_id), info.state)
        screen = _screen(ctx, None)
        save_session(uow.session, info.id, state=ctx.state)
        uow.commit()
        return _page(
            request,
            "handheld/screen.html",
            user=info.user,
            warehouse=ctx.warehouse,
            session_key=info.user.username,
            screen=screen,
            title=screen.title,
        )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _page(request, "handheld/login.html", title="Sign in")


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)] = "",
    pin: Annotated[str, Form(max_length=64)] = "",
    badge: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with UnitOfWork(_session_factory(request)) as uow:
        try:
            if badge.strip():
                user = check_badge(uow, badge=badge)
            elif username.strip() and pin:
                user = check_pin(uow, username=username, pin=pin)
            else:
                return _page(
                    request,
                    "handheld/login.html",
                    status_code=400,
                    error="Enter your user name and PIN, or scan your badge",
                    title="Sign in",
                )
        except Unauthorized as exc:
            uow.commit()  # keep the failed-attempt count that locks out PIN guessing
            log.info("handheld.login_refused", username=username.strip() or None)
            return _page(
                request, "handheld/login.html", status_code=401, error=exc.message, title="Sign in"
            )
        token = start_session(uow, user=user)
        uow.commit()
    log.info("handheld.login", username=user.username)
    response = RedirectResponse("/handheld", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(SHIFT.total_seconds()),
        path="/handheld",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    token = _token(request)
    if token:
        with UnitOfWork(_session_factory(request)) as uow:
            end_session(uow, token=token)
            uow.commit()
    response = RedirectResponse("/handheld/login", status_code=303)
    response.delete_cookie(COOKIE, path="/handheld")
    return response


@router.post("/warehouse")
def choose_warehouse(
    request: Request, warehouse: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in(request, uow, lock=True)
        if info is None:
            return _to_login()
        row = uow.session.scalar(
            select(Warehouse).where(Warehouse.code == warehouse.strip().upper(), Warehouse.active)
        )
        if row is None:
            return RedirectResponse("/handheld", status_code=303)
        save_session(uow.session, info.id, warehouse_id=row.id, state={"flow": flows.MENU})
        uow.commit()
    return RedirectResponse("/handheld", status_code=303)


@router.get("/menu")
def menu(request: Request) -> Response:
    """Back to the menu without the scan queue (pages that run no queue link here)."""
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in(request, uow, lock=True)
        if info is None:
            return _to_login()
        save_session(uow.session, info.id, state={"flow": flows.MENU})
        uow.commit()
    return RedirectResponse("/handheld", status_code=303)


@router.get("/switch-warehouse")
def switch_warehouse(request: Request) -> Response:
    """Back to the warehouse list (the session keeps its user)."""
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in(request, uow, lock=True)
        if info is None:
            return _to_login()
        clear_warehouse(uow.session, info.id, state={"flow": flows.MENU})
        uow.commit()
    return RedirectResponse("/handheld", status_code=303)


@router.get("/labels/bins.pdf")
def bin_labels(request: Request, location: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006
    """Bin labels of the session's warehouse (all bins, or the ones named), for a label printer."""
    return _labels(
        request,
        lambda uow, wh: (
            labels.bin_labels_pdf(uow.session, warehouse=wh.code, locations=location or None),
            f"bins-{wh.code}.pdf",
        ),
    )


@router.get("/labels/product.pdf")
def product_label(
    request: Request,
    sku: Annotated[str, Query(min_length=1, max_length=64)],
    copies: Annotated[int, Query(ge=1, le=500)] = 1,
) -> Response:
    """A GS1-128 product label (GTIN) for re-labelling an item on the floor."""
    return _labels(
        request,
        lambda uow, wh: (
            labels.product_labels_pdf(uow.session, sku=sku, copies=copies),
            f"product-{sku}.pdf",
        ),
    )


@router.get("/labels/package.pdf")
def package_label(
    request: Request,
    sscc: Annotated[str, Query(min_length=18, max_length=18, pattern=r"^[0-9]{18}$")],
) -> Response:
    """A package's shipping label (ship-to, order, SSCC as GS1-128), for the packing bench."""
    prefix = request.app.state.settings.gs1_company_prefix
    return _labels(
        request,
        lambda uow, wh: (
            package_label_pdf(uow.session, sscc, warehouse=wh.code, company_prefix=prefix),
            f"sscc-{sscc}.pdf",
        ),
    )


def _labels(
    request: Request, render: Callable[[UnitOfWork, WarehouseRef], tuple[bytes, str]]
) -> Response:
    """A PDF for the session's warehouse: ``render`` returns the document and its file name."""
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in(request, uow)
        if info is None:
            return _to_login()
        if info.warehouse_id is None:
            return RedirectResponse("/handheld", status_code=303)
        pdf, name = render(uow, _warehouse(uow, info.warehouse_id))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


class ScanEntry(BaseModel):
    """One scan or button press, as the device queued it."""

    id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9-]+$")
    kind: Literal["scan", "action"]
    value: str = Field(default="", max_length=200)
    action: str = Field(default="", max_length=32)
    arg: str = Field(default="", max_length=64)
    at: str | None = Field(default=None, max_length=40)


@router.post("/scan")
def scan(request: Request, entry: ScanEntry) -> Response:
    token = _token(request)
    if not token:
        return _unauthorized("not signed in")
    started = time.perf_counter()

    def work(uow: UnitOfWork) -> dict[str, Any]:
        info = load_session(uow.session, token, lock=True)  # one device's scans in order
        if info.warehouse_id is None:
            raise Unauthorized("choose a warehouse first")
        ctx = flows.Ctx(uow, info.user, _warehouse(uow, info.warehouse_id), info.state)
        owner = f"handheld:{info.user.id}"
        digest = fingerprint(entry.model_dump(exclude={"at"}))
        stored = recall(uow.session, owner=owner, key=entry.id, fingerprint=digest)
        duplicate = stored is not None
        if stored is not None:
            outcome = Outcome(**stored.response["outcome"])
        else:
            outcome = flows.apply(
                ctx,
                flows.Entry(
                    id=entry.id,
                    kind=entry.kind,
                    value=entry.value,
                    action=entry.action,
                    arg=entry.arg,
                ),
            )
            remember(
                uow.session,
                owner=owner,
                key=entry.id,
                fingerprint=digest,
                status_code=200,
                response={"outcome": asdict(outcome)},
            )
        screen = _screen(ctx, outcome)
        save_session(uow.session, info.id, state=ctx.state)
        html = templates.get_template("handheld/_screen.html").render(screen=screen)
        uow.commit()
        log.info(
            "handheld.scan",
            scan_id=entry.id,
            kind=entry.kind,
            user=info.user.username,
            flow=ctx.state.get("flow"),
            step=ctx.state.get("step"),
            status=outcome.status,
            duplicate=duplicate,
        )
        return {
            "id": entry.id,
            "status": outcome.status,
            "message": outcome.message,
            "sound": outcome.sound,
            "duplicate": duplicate,
            "screen": screen.name,
            "html": html,
        }

    try:
        body = transaction(_session_factory(request), work)
    except Unauthorized as exc:
        return _unauthorized(exc.message)
    if body["status"] == "ok" and not body["duplicate"]:  # it booked: events may be waiting
        request.app.state.notifier.notify()
    elapsed = (time.perf_counter() - started) * 1000
    return JSONResponse(body, headers={"Server-Timing": f"app;dur={elapsed:.1f}"})


def _unauthorized(detail: str) -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "code": "unauthorized",
            "detail": detail,
        },
        status_code=401,
        media_type="application/problem+json",
    )
