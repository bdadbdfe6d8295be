"""The planner's router: sign-in, suppliers, inspections, NCRs and quality tools under /planner."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from wms.web.planner import auth, inspections, ncrs, quality, suppliers
from wms.web.planner.common import redirect

router = APIRouter(prefix="/planner", include_in_schema=False)


@router.get("")
def home() -> RedirectResponse:
    return redirect(auth.HOME)


for part in (auth, suppliers, inspections, ncrs, quality):
    router.include_router(part.router)
