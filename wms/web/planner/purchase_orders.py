"""Purchase orders: the list with a status filter (or the orders a plan just created), and one
order with its lines, the receipts it created and the steps its status allows: approve (the
quality module may refuse the supplier), send, cancel, close."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import NotFound, WmsError
from wms.inventory.receipts import ReceiptView, receipt_view
from wms.procurement import purchase_orders as po
from wms.procurement.models import PurchaseOrderStatus
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    not_found,
    page,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.plans import money

router = APIRouter()

OPEN = ("draft", "approved", "sent", "partially_received")
FILTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("All", ()),
    "open": ("Open", OPEN),
    **{s.value: (s.value.replace("_", " ").capitalize(), (s.value,)) for s in PurchaseOrderStatus},
}
LIST_LIMIT = 300
ACTION = FormState("action", ())


@dataclass(frozen=True)
class Step:
    """A step a purchase order's status allows, as its button."""

    name: str
    label: str
    done: str  # the notice's key after the redirect
    run: Callable[..., po.PurchaseOrderView]
    danger: bool = False


STEPS: Mapping[str, Step] = {
    "approve": Step("approve", "Approve", "po-approved", po.approve_purchase_order),
    "send": Step("send", "Mark as sent", "po-sent", po.send_purchase_order),
    "close": Step("close", "Close", "po-closed", po.close_purchase_order),
    "cancel": Step("cancel", "Cancel order", "po-cancelled", po.cancel_purchase_order, True),
}
# What each status allows (the service checks again; a stale button is refused with a message).
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "draft": ("approve", "cancel"),
    "approved": ("send", "cancel"),
    "sent": ("cancel",),
    "partially_received": ("close",),
    "received": ("close",),
}


def po_path(code: str) -> str:
    return f"/planner/purchase-orders/{quote(code, safe='')}"


@router.get("/purchase-orders", response_class=HTMLResponse)
def order_list(
    request: Request,
    user: Viewer,
    status: str = "",
    run: str = "",
    supplier: str = "",
    code: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Orders, newest first; ``run`` (a plan run), ``supplier`` and ``code`` narrow the list."""
    if user is None:
        return sign_in_redirect(request)
    chosen = status if status in FILTERS else ""
    run_id = int(run) if run.isdigit() and int(run) < 2**31 else None
    wanted = {c.strip().upper() for c in code or () if c.strip()}

    def load(session: Session) -> list[po.PurchaseOrderSummary]:
        rows = po.list_purchase_orders(
            session,
            statuses=FILTERS[chosen][1],
            plan_run_id=run_id,
            supplier=supplier.strip() or None,
            limit=LIST_LIMIT,
        )
        return [r for r in rows if not wanted or r.code in wanted]

    try:
        orders = read(request, load)
    except NotFound as exc:
        return not_found(request, user, exc)
    return page(
        request,
        "purchase_orders.html",
        user=user,
        title="Purchase orders",
        orders=orders,
        filters=FILTERS,
        status=chosen,
        run_id=run_id,
        supplier=supplier.strip(),
        codes=sorted(wanted),
        unknown_status=status if status and status not in FILTERS else None,
        money=money,
    )


def _detail(session: Session, code: str) -> dict[str, Any]:
    order = po.purchase_order_view(session, code)
    found: list[ReceiptView] = [receipt_view(session, r) for r in order.receipts]
    return {"order": order, "receipts": found}


def order_page(
    request: Request,
    user: UserRef,
    code: str,
    *,
    form: FormState = ACTION,
    status_code: int = 200,
) -> Response:
    """The order's page; ``form`` carries a refused step's message."""
    try:
        context = read(request, lambda session: _detail(session, code))
    except NotFound as exc:
        return not_found(request, user, exc)
    order: po.PurchaseOrderView = context["order"]
    return page(
        request,
        "purchase_order.html",
        user=user,
        title=f"Purchase order {order.code}",
        status_code=status_code,
        steps=[STEPS[name] for name in ALLOWED.get(order.status, ())],
        form=form,
        money=money,
        **context,
    )


@router.get("/purchase-orders/{code}", response_class=HTMLResponse)
def order_detail(request: Request, user: Viewer, code: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return order_page(request, user, code)


@router.post("/purchase-orders/{code}/{step}", response_class=HTMLResponse)
def take_step(request: Request, user: Viewer, code: str, step: str) -> Response:
    """Approve, send, close or cancel the order; a refusal shows its message on the page."""
    if user is None:
        return sign_in_redirect(request)
    chosen = STEPS.get(step)
    if chosen is None:
        return not_found(request, user, NotFound(f"a purchase order cannot {step!r}"))

    def change(uow: UnitOfWork) -> po.PurchaseOrderView:
        return chosen.run(uow, code=code, actor=user.username)

    try:
        view = write(request, change)
    except po.UnknownPurchaseOrder as exc:
        return not_found(request, user, exc)
    except WmsError as exc:
        return order_page(
            request, user, code, form=ACTION.failed(exc), status_code=error_status(exc)
        )
    return redirect(f"{po_path(view.code)}?done={chosen.done}")
