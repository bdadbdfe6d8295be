"""The handheld's photo page for an inspection finding, at ``/handheld/inspections``.

A photo is a file, not a scan: it goes by a plain form post (the phone's camera fills in the
file field), outside the scan queue. The inspect flow links here after a finding is recorded.
``.../photo`` is the page (GET shows it, POST stores the photo); ``.../photo/image`` is the photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from wms.auth.sessions import SessionInfo
from wms.db.uow import UnitOfWork
from wms.errors import ErrorKind, NotFound, WmsError
from wms.inventory.catalog import WarehouseRef
from wms.quality.inspections import MAX_PHOTO_BYTES, OPEN_STATUSES
from wms.quality.photos import attach_photo
from wms.quality.views import FindingView, InspectionView, finding_photo, inspection_view
from wms.web.handheld.flows.inspect import photo_href
from wms.web.handheld.routes import _page, _session_factory, _signed_in, _to_login, _warehouse

router = APIRouter(prefix="/handheld/inspections", include_in_schema=False)
log = structlog.get_logger("wms.handheld")

# The photo, the form's boundaries and headers: a request any larger is refused unread.
MAX_UPLOAD_BYTES = MAX_PHOTO_BYTES + 64_000
STATUS_OF = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
}


@dataclass(frozen=True)
class Where:
    """Who asks, in which warehouse, about which finding of which inspection."""

    info: SessionInfo
    warehouse: WarehouseRef
    view: InspectionView
    finding: FindingView


def _where(uow: UnitOfWork, info: SessionInfo, code: str, finding_id: int) -> Where:
    """The finding, if it belongs to an inspection of the session's warehouse."""
    assert info.warehouse_id is not None
    warehouse = _warehouse(uow, info.warehouse_id)
    view = inspection_view(uow.session, code)
    finding = next((f for f in view.findings if f.id == finding_id), None)
    if view.warehouse != warehouse.code or finding is None:
        raise NotFound(f"inspection {view.code} has no finding {finding_id}", field="finding")
    return Where(info, warehouse, view, finding)


def _signed_in_here(request: Request, uow: UnitOfWork) -> SessionInfo | Response:
    info = _signed_in(request, uow)
    if info is None:
        return _to_login()
    if info.warehouse_id is None:
        return RedirectResponse("/handheld", status_code=303)
    return info


def _photo_page(
    request: Request,
    info: SessionInfo,
    where: Where | None,
    *,
    error: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    context: dict[str, Any] = {"error": error, "saved": saved, "where": where}
    if where is not None:
        base = photo_href(where.view.code, where.finding.id)
        context |= {
            "warehouse": where.warehouse,
            "page_url": base,
            "image_url": f"{base}/image",
            "can_add": where.view.status in OPEN_STATUSES,
            "max_mb": MAX_PHOTO_BYTES // 1_000_000,
        }
    return _page(
        request,
        "handheld/photo.html",
        status_code=status_code,
        user=info.user,
        session_key=info.user.username,
        title="Finding photo",
        **context,
    )


@router.get("/{code}/findings/{finding_id}/photo", response_class=HTMLResponse)
def photo_page(request: Request, code: str, finding_id: int, saved: bool = False) -> Response:
    """The finding, its photo if it has one, and a form to take (or retake) it."""
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in_here(request, uow)
        if isinstance(info, Response):
            return info
        try:
            where = _where(uow, info, code, finding_id)
        except WmsError as exc:
            return _photo_page(request, info, None, error=exc.message, status_code=404)
        return _photo_page(request, info, where, saved=saved)


@router.post("/{code}/findings/{finding_id}/photo", response_class=HTMLResponse)
async def upload_photo(request: Request, code: str, finding_id: int) -> Response:
    """Store the photo taken for a finding, then show the page again (post, redirect, get)."""
    declared = request.headers.get("content-length", "")
    too_big = not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES
    photo: bytes = b""
    content_type: str | None = None
    if not too_big:
        async with request.form(max_files=1, max_fields=2) as form:
            upload = form.get("photo")
            if isinstance(upload, UploadFile):
                photo = await upload.read(MAX_PHOTO_BYTES + 1)
                content_type = upload.content_type
    return await run_in_threadpool(
        _store, request, code, finding_id, photo, content_type, too_big=too_big
    )


def _store(
    request: Request,
    code: str,
    finding_id: int,
    photo: bytes,
    content_type: str | None,
    *,
    too_big: bool,
) -> Response:
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in_here(request, uow)
        if isinstance(info, Response):
            return info
        try:
            where = _where(uow, info, code, finding_id)
        except WmsError as exc:
            return _photo_page(request, info, None, error=exc.message, status_code=404)
        if too_big:
            error = f"the photo is too big: at most {MAX_PHOTO_BYTES // 1_000_000} MB"
            return _photo_page(request, info, where, error=error, status_code=413)
        try:
            attach_photo(
                uow,
                inspection=where.view.code,
                finding_id=finding_id,
                photo=photo,
                content_type=content_type,
            )
        except WmsError as exc:
            uow.rollback()
            status_code = STATUS_OF.get(exc.kind, 400)
            return _photo_page(request, info, where, error=exc.message, status_code=status_code)
        uow.commit()
    log.info(
        "handheld.finding_photo",
        inspection=where.view.code,
        finding=finding_id,
        size=len(photo),
        user=info.user.username,
    )
    return RedirectResponse(f"{photo_href(where.view.code, finding_id)}?saved=1", status_code=303)


@router.get("/{code}/findings/{finding_id}/photo/image")
def photo_image(request: Request, code: str, finding_id: int) -> Response:
    """The stored photo itself, for the page's <img> (and a supervisor's look later)."""
    with UnitOfWork(_session_factory(request)) as uow:
        info = _signed_in_here(request, uow)
        if isinstance(info, Response):
            return info
        try:
            where = _where(uow, info, code, finding_id)
            photo, media_type = finding_photo(uow.session, where.view.code, finding_id)
        except WmsError as exc:
            return Response(exc.message, status_code=404, media_type="text/plain")
    return Response(
        photo,
        media_type=media_type,
        headers={
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
