"""Inspection pages: the list with a status filter, one inspection with its plans, sample,
findings (photos served from the database), verdict and disposition."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wms.errors import NotFound
from wms.quality.models import InspectionStatus
from wms.quality.views import finding_photo, inspection_view, list_inspections
from wms.web.planner.auth import Viewer
from wms.web.planner.common import not_found, page, read, sign_in_redirect

router = APIRouter()

STATUSES = tuple(s.value for s in InspectionStatus)
# Filters offered above the list: a label and the statuses it shows.
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("All", ()),
    "waiting": ("Waiting", ("open", "inspecting")),
    **{s: (s.capitalize(), (s,)) for s in STATUSES},
}
LIST_LIMIT = 500


@router.get("/inspections", response_class=HTMLResponse)
def inspection_list(request: Request, user: Viewer, status: str = "") -> Response:
    if user is None:
        return sign_in_redirect(request)
    chosen = status if status in FILTERS else ""
    rows = read(
        request,
        lambda session: list_inspections(
            session, statuses=FILTERS[chosen][1], limit=LIST_LIMIT, newest_first=True
        ),
    )
    return page(
        request,
        "inspections.html",
        user=user,
        title="Inspections",
        inspections=rows,
        filters=FILTERS,
        status=chosen,
        unknown_status=status if status and status not in FILTERS else None,
    )


@router.get("/inspections/{code}", response_class=HTMLResponse)
def inspection_detail(request: Request, user: Viewer, code: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        view = read(request, lambda session: inspection_view(session, code))
    except NotFound as exc:
        return not_found(request, user, exc)
    classes: list[str] = [c for c in ("critical", "major", "minor") if c in view.plans]
    classes += [c for c in view.plans if c not in classes]
    return page(
        request,
        "inspection.html",
        user=user,
        title=f"Inspection {view.code}",
        ins=view,
        classes=classes,
    )


@router.get("/inspections/{code}/findings/{finding_id}/photo")
def photo(request: Request, user: Viewer, code: str, finding_id: int) -> Response:
    if user is None:
        return sign_in_redirect(request)
    try:
        content, content_type = read(request, lambda s: finding_photo(s, code, finding_id))
    except NotFound as exc:
        return not_found(request, user, exc)
    return Response(
        content,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
