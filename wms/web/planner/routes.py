"""The planner's router: sign-in, suppliers, plans, purchase orders, inspections, NCRs, quality
tools, delivery routes and the fleet under /planner."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

from wms.web.planner import (
    auth,
    delivery_routes,
    fleet,
    inspections,
    ncrs,
    plan_actions,
    plan_charts,
    plans,
    purchase_order_form,
    purchase_orders,
    quality,
    supplier_lead_times,
    suppliers,
)
from wms.web.planner.common import redirect

router = APIRouter(prefix="/planner", include_in_schema=False)


@router.get("")
def home() -> RedirectResponse:
    return redirect(auth.HOME)


# Fixed paths before the ones that take a code there: /suppliers/lead-times before
# /suppliers/{code}, /purchase-orders/new before /purchase-orders/{code}.
for part in (
    auth,
    supplier_lead_times,
    suppliers,
    plans,
    plan_actions,
    plan_charts,
    purchase_order_form,
    purchase_orders,
    inspections,
    ncrs,
    quality,
    delivery_routes,
    fleet,
):
    router.include_router(part.router)
