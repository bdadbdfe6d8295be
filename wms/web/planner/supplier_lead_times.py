"""The suppliers' lead times: planned against learned (mean and spread), how many deliveries
taught them, and how often deliveries came by the expected date; a tab of the suppliers page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wms.procurement.suppliers import supplier_list
from wms.web.planner.auth import Viewer
from wms.web.planner.common import page, read, sign_in_redirect

router = APIRouter()


@router.get("/suppliers/lead-times", response_class=HTMLResponse)
def lead_times(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return page(
        request,
        "lead_times.html",
        user=user,
        title="Supplier lead times",
        summaries=read(request, supplier_list),
    )
