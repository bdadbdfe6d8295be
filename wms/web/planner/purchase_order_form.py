"""A new purchase order typed by hand: supplier, warehouse, expected date and a few lines of SKU
and quantity, priced from the supplier's price breaks; it is written as a draft to approve."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed, WmsError
from wms.procurement import purchase_orders as po
from wms.procurement.suppliers import supplier_list, supplier_products
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    page,
    parse_date,
    parse_int,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.plans import warehouses
from wms.web.planner.purchase_orders import po_path

router = APIRouter()

ROWS = 6
HEAD = ("supplier", "warehouse", "expected_date", "notes")
LINE_FIELDS = tuple(f"{part}-{i}" for i in range(ROWS) for part in ("sku", "quantity"))
NEW = FormState("new-po", HEAD + LINE_FIELDS)


def _load(session: Session) -> dict[str, Any]:
    suppliers = {
        s.supplier.code: f"{s.supplier.code} · {s.supplier.name}"
        for s in supplier_list(session)
        if s.supplier.active
    }
    return {
        "suppliers": {"": "Choose a supplier", **suppliers},
        "warehouses": {k: v for k, v in warehouses(session).items() if k},
        "offers": supplier_products(session),
    }


def _form_page(
    request: Request, user: UserRef, *, form: FormState = NEW, status_code: int = 200
) -> Response:
    return page(
        request,
        "purchase_order_new.html",
        user=user,
        title="New purchase order",
        status_code=status_code,
        form=form,
        rows=ROWS,
        **read(request, _load),
    )


@router.get("/purchase-orders/new", response_class=HTMLResponse)
def new_order(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _form_page(request, user)


def _lines(form: FormState) -> tuple[list[po.OrderLineRequest], dict[str, str]]:
    """The filled rows as order lines, and where each line's errors go on the form."""
    lines: list[po.OrderLineRequest] = []
    aliases: dict[str, str] = {}
    for row in range(ROWS):
        sku, quantity = form.value(f"sku-{row}").strip(), form.value(f"quantity-{row}").strip()
        if not sku and not quantity:
            continue
        if not sku:
            raise ValidationFailed("name the SKU of this line", field=f"sku-{row}")
        index = len(lines)
        aliases |= {
            f"lines[{index}].sku": f"sku-{row}",
            f"lines[{index}].quantity": f"quantity-{row}",
            f"lines[{index}].unit_price": f"sku-{row}",
        }
        lines.append(po.OrderLineRequest(sku, parse_int(quantity, f"quantity-{row}")))
    if not lines:
        raise ValidationFailed("give at least one line: a SKU and a quantity", field="sku-0")
    return lines, aliases


async def _posted(request: Request) -> dict[str, str]:
    """The form's fields as posted (the rows are many, so they are read here, not one by one)."""
    data = await request.form()
    return {name: str(data.get(name, "")) for name in NEW.fields}


@router.post("/purchase-orders", response_class=HTMLResponse)
def create_order(
    request: Request, user: Viewer, posted: Annotated[dict[str, str], Depends(_posted)]
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = NEW.filled(**posted)
    try:
        lines, aliases = _lines(form)
    except WmsError as exc:
        return _form_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    form = replace(form, aliases=aliases)
    expected = form.value("expected_date").strip()

    def change(uow: UnitOfWork) -> po.PurchaseOrderView:
        if not form.value("supplier"):
            raise ValidationFailed("choose the supplier", field="supplier")
        return po.create_purchase_order(
            uow,
            supplier=form.value("supplier"),
            warehouse=form.value("warehouse"),
            lines=lines,
            actor=user.username,
            expected_date=parse_date(expected, "expected_date") if expected else None,
            notes=form.value("notes"),
        )

    try:
        view = write(request, change)
    except WmsError as exc:
        return _form_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    return redirect(f"{po_path(view.code)}?done=po-created")
