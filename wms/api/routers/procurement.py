"""Purchasing: suppliers with their lead times, supplier products with price breaks, and purchase
orders through their states. Plan runs and proposals are in ``procurement_plans`` (included here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool

from wms.api.deps import Admin, Reader, Uow
from wms.api.idempotency import IdempotencyKey
from wms.api.routers import procurement_plans
from wms.api.schemas import Body, Code, Sku
from wms.api.schemas_storefront import problem_responses
from wms.api.writes import actor, named_in_path, write
from wms.db.uow import UnitOfWork
from wms.inventory.stock import MAX_QUANTITY
from wms.procurement import purchase_orders as po
from wms.procurement import suppliers
from wms.quality.suppliers import get_supplier as get_supplier_row

router = APIRouter(tags=["purchasing"])
router.include_router(procurement_plans.router)

WRITE_ERRORS = problem_responses(400, 404, 409, 422)
SupplierCode = Annotated[str, Field(min_length=1, max_length=32, examples=["SZ-ANKE"])]
Count = Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("99999999"), allow_inf_nan=False)]
PoStatus = Literal[
    "draft", "approved", "sent", "partially_received", "received", "closed", "cancelled"
]


def _summary(s: suppliers.SupplierSummary) -> dict[str, Any]:
    return {  # money and dates as JSON numbers and strings, as the write answers have them
        **asdict(s.supplier),
        "products": s.products,
        "lead_time": {
            "planned_mean_days": s.planned_mean_days,
            "learned_samples": s.learned_samples,
            "learned_mean_days": s.learned_mean_days,
            "learned_sd_days": s.learned_sd_days,
            "deliveries": s.deliveries,
            "on_time_rate": s.on_time_rate,
        },
        "open_orders": s.open_orders,
    }


@router.get("/suppliers")
def get_suppliers(uow: Uow, _: Reader) -> list[dict[str, Any]]:
    """Suppliers with planned against learned lead time, samples and on-time rate."""
    return [_summary(s) for s in suppliers.supplier_list(uow.session)]


class SupplierIn(Body):
    code: SupplierCode
    name: Annotated[str, Field(min_length=1, max_length=200)]
    country: Annotated[str, Field(min_length=2, max_length=2, examples=["CN"])]
    city: Annotated[str, Field(max_length=80)] = ""
    email: Annotated[str, Field(max_length=200)] = ""
    phone: Annotated[str, Field(max_length=40)] = ""


@router.post("/suppliers", responses=WRITE_ERRORS, status_code=status.HTTP_201_CREATED)
def post_supplier(
    request: Request, body: SupplierIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Add a supplier."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        return asdict(suppliers.create_supplier(uow, **body.model_dump()))

    return write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


class SupplierPatch(Body):
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    country: Annotated[str | None, Field(min_length=2, max_length=2)] = None
    city: Annotated[str | None, Field(max_length=80)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    phone: Annotated[str | None, Field(max_length=40)] = None
    active: StrictBool | None = None


@router.patch("/suppliers/{code}", responses=WRITE_ERRORS)
def patch_supplier(
    request: Request,
    code: str,
    body: SupplierPatch,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Change a supplier's name, address, contact, or whether it is active."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        return asdict(suppliers.update_supplier(uow, code=code, **body.model_dump()))

    return write(request, principal, idempotency_key, body, work)


@router.get("/suppliers/{code}", responses=problem_responses(404))
def get_supplier(code: str, uow: Uow, _: Reader) -> dict[str, Any]:
    """A supplier, the products it offers with their price breaks and lead times."""
    with named_in_path():
        found = get_supplier_row(uow.session, code).code
    summary = next(s for s in suppliers.supplier_list(uow.session) if s.supplier.code == found)
    rates = {s.sku: s for s in suppliers.lead_time_stats(uow.session, supplier=found)}
    body: dict[str, Any] = jsonable_encoder(
        {
            **_summary(summary),
            "offers": [
                {
                    **asdict(offer),
                    "deliveries": rates[offer.sku].deliveries if offer.sku in rates else 0,
                    "on_time_rate": rates[offer.sku].on_time_rate if offer.sku in rates else None,
                }
                for offer in suppliers.supplier_products(uow.session, supplier=found)
            ],
        }
    )
    return body


class PriceBreakIn(Body):
    min_quantity: Count
    unit_price: Money


class SupplierProductIn(Body):
    currency: Annotated[str, Field(min_length=3, max_length=3, examples=["CNY"])]
    moq: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)] = 1
    pack_multiple: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)] = 1
    lead_time_days: Annotated[int, Field(strict=True, ge=0, le=suppliers.MAX_LEAD_TIME_DAYS)]
    price_breaks: Annotated[
        list[PriceBreakIn], Field(min_length=1, max_length=suppliers.MAX_PRICE_BREAKS)
    ]
    capacity_per_week: Count | None = None
    fixed_order_cost: Money = Decimal(0)
    active: StrictBool = True


@router.put("/suppliers/{code}/products/{sku}", responses=WRITE_ERRORS)
def put_supplier_product(
    request: Request,
    code: str,
    sku: str,
    body: SupplierProductIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """What a supplier charges for a product (all-units quantity breaks) and how to order it."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        values = body.model_dump(exclude={"price_breaks"})
        view = suppliers.set_supplier_product(
            uow,
            supplier=code,
            sku=sku,
            price_breaks=[(b.min_quantity, b.unit_price) for b in body.price_breaks],
            actor=actor(principal),
            **values,
        )
        return asdict(view)

    return write(request, principal, idempotency_key, body, work)


def _order(view: po.PurchaseOrderView) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder(
        {
            **asdict(view),
            "total": view.total,
            "lines": [
                {**asdict(line), "outstanding": line.outstanding, "amount": line.amount}
                for line in view.lines
            ],
        }
    )
    return body


class OrderLineIn(Body):
    sku: Sku
    quantity: Count
    unit_price: Money | None = None


class PurchaseOrderIn(Body):
    supplier: SupplierCode
    warehouse: Code
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]
    expected_date: date | None = None
    currency: Annotated[str | None, Field(min_length=3, max_length=3)] = None
    notes: Annotated[str, Field(max_length=2000)] = ""


def _requests(lines: list[OrderLineIn]) -> list[po.OrderLineRequest]:
    return [po.OrderLineRequest(ln.sku, ln.quantity, ln.unit_price) for ln in lines]


@router.post("/purchase-orders", responses=WRITE_ERRORS, status_code=status.HTTP_201_CREATED)
def post_purchase_order(
    request: Request,
    body: PurchaseOrderIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Write a draft order, priced from the supplier's breaks unless a line gives its price."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        view = po.create_purchase_order(
            uow,
            supplier=body.supplier,
            warehouse=body.warehouse,
            lines=_requests(body.lines),
            actor=actor(principal),
            expected_date=body.expected_date,
            currency=body.currency,
            notes=body.notes,
        )
        return _order(view)

    return write(
        request, principal, idempotency_key, body, work, status.HTTP_201_CREATED, path_names=False
    )


@router.get("/purchase-orders")
def get_purchase_orders(
    uow: Uow,
    _: Reader,
    status: Annotated[list[PoStatus] | None, Query()] = None,
    supplier: Annotated[str | None, Query(max_length=32)] = None,
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
    plan_run: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Purchase orders, the newest first."""
    rows = po.list_purchase_orders(
        uow.session,
        statuses=status or (),
        supplier=supplier,
        warehouse=warehouse,
        plan_run_id=plan_run,
        limit=limit,
    )
    return [jsonable_encoder(asdict(row)) for row in rows]


@router.get("/purchase-orders/{code}", responses=problem_responses(404))
def get_purchase_order(code: str, uow: Uow, _: Reader) -> dict[str, Any]:
    with named_in_path():
        return _order(po.purchase_order_view(uow.session, code))


class LinesIn(Body):
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=500)]


@router.put("/purchase-orders/{code}/lines", responses=WRITE_ERRORS)
def put_purchase_order_lines(
    request: Request,
    code: str,
    body: LinesIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Replace the lines of a draft order."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        with named_in_path():
            po.purchase_order_view(uow.session, code)
        view = po.edit_purchase_order_lines(
            uow, code=code, lines=_requests(body.lines), actor=actor(principal)
        )
        return _order(view)

    return write(request, principal, idempotency_key, body, work, path_names=False)


TRANSITIONS: dict[str, Callable[..., po.PurchaseOrderView]] = {
    "approve": po.approve_purchase_order,
    "send": po.send_purchase_order,
    "cancel": po.cancel_purchase_order,
    "close": po.close_purchase_order,
}


def _transition(name: str, summary: str) -> None:
    def endpoint(
        request: Request, code: str, principal: Admin, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        def work(uow: UnitOfWork) -> dict[str, Any]:
            with named_in_path():
                po.purchase_order_view(uow.session, code)
            return _order(TRANSITIONS[name](uow, code=code, actor=actor(principal)))

        return write(request, principal, idempotency_key, None, work, path_names=False)

    endpoint.__name__ = f"post_purchase_order_{name}"
    router.add_api_route(
        f"/purchase-orders/{{code}}/{name}",
        endpoint,
        methods=["POST"],
        responses=WRITE_ERRORS,
        summary=summary,
        description=summary,
    )


_transition("approve", "Approve a draft: a qualified supplier, and its receipt makes it incoming")
_transition("send", "Mark an approved order as sent to the supplier")
_transition("cancel", "Cancel an order nothing was received on; its incoming is released")
_transition("close", "Close a (partly) received order; what never came leaves incoming")
