"""Expected receipts: inbound documents that the handheld receives against."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from wms.api.deps import Admin, Reader, Uow
from wms.api.schemas import Body, Code, Sku
from wms.errors import ValidationFailed
from wms.inventory import receipts
from wms.inventory.models import ReceiptStatus
from wms.inventory.stock import MAX_QUANTITY
from wms.quality import inbound

router = APIRouter(tags=["receipts"])


class ReceiptLineIn(Body):
    sku: Sku
    quantity: Annotated[int, Field(strict=True, ge=1, le=MAX_QUANTITY)]


class ReceiptIn(Body):
    warehouse: Code = Field(examples=["SHA"])
    supplier: Annotated[str, Field(min_length=1, max_length=32, examples=["SUP-001"])]
    expected_date: date
    supplier_reference: Annotated[str, Field(max_length=64)] = ""
    over_tolerance_pct: Annotated[int, Field(strict=True, ge=0, le=1000)] = (
        receipts.DEFAULT_TOLERANCE_PCT
    )
    code: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=32,
            description="The receipt's barcode; generated (RC-<warehouse>-<number>) when omitted.",
        ),
    ] = None
    lines: Annotated[list[ReceiptLineIn], Field(min_length=1, max_length=receipts.MAX_LINES)]


class ReceiptLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    lot_tracked: bool
    expected: int
    received: int
    outstanding: int
    over: int


class ReceiptOut(BaseModel):
    code: str
    warehouse: str
    supplier: str
    supplier_name: str
    supplier_reference: str
    expected_date: date
    status: str
    over_tolerance_pct: int
    created_at: datetime
    closed_at: datetime | None
    lines: list[ReceiptLineOut]


class ReceiptSummaryOut(BaseModel):
    code: str
    supplier: str
    supplier_name: str
    expected_date: date
    status: str
    lines: int
    expected: int
    received: int


def _out(view: receipts.ReceiptView) -> ReceiptOut:
    return ReceiptOut(
        code=view.code,
        warehouse=view.warehouse,
        supplier=view.supplier,
        supplier_name=view.supplier_name,
        supplier_reference=view.supplier_reference,
        expected_date=view.expected_date,
        status=view.status,
        over_tolerance_pct=view.over_tolerance_pct,
        created_at=view.created_at,
        closed_at=view.closed_at,
        lines=[
            ReceiptLineOut(
                line_no=ln.line_no,
                sku=ln.sku,
                name=ln.name,
                lot_tracked=ln.lot_tracked,
                expected=ln.expected,
                received=ln.received,
                outstanding=ln.outstanding,
                over=ln.over,
            )
            for ln in view.lines
        ],
    )


@router.post("/receipts", response_model=ReceiptOut, status_code=status.HTTP_201_CREATED)
def create_receipt(body: ReceiptIn, uow: Uow, principal: Admin) -> ReceiptOut:
    """Announce an expected delivery; its quantities count as the warehouse's `incoming`."""
    view = receipts.create_receipt(
        uow,
        warehouse=body.warehouse,
        supplier=body.supplier,
        expected_date=body.expected_date,
        supplier_reference=body.supplier_reference,
        over_tolerance_pct=body.over_tolerance_pct,
        code=body.code,
        lines=[receipts.ReceiptLineRequest(ln.sku, ln.quantity) for ln in body.lines],
        actor=f"apikey:{principal.name}",
    )
    uow.commit()
    return _out(view)


@router.get("/receipts", response_model=list[ReceiptSummaryOut])
def list_receipts(
    uow: Uow,
    _: Reader,
    warehouse: Annotated[str, Query(min_length=1, max_length=16)],
    status: Annotated[
        list[str], Query(description="open, receiving, closed or cancelled (repeatable).")
    ] = ["open", "receiving"],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReceiptSummaryOut]:
    unknown = [s for s in status if s not in {v.value for v in ReceiptStatus}]
    if unknown:
        raise ValidationFailed(
            f"unknown status {unknown[0]!r}; use open, receiving, closed or cancelled",
            field="status",
        )
    rows = receipts.list_receipts(uow.session, warehouse=warehouse, statuses=status, limit=limit)
    return [ReceiptSummaryOut(**row.__dict__) for row in rows]


@contextmanager
def _receipt_in_path(code: str) -> Iterator[None]:
    # A receipt named in the path that does not exist is a missing resource (404), not a bad body.
    try:
        yield
    except receipts.UnknownReceipt as exc:
        raise receipts.UnknownReceipt(code, field=None) from exc


@router.get("/receipts/{code}", response_model=ReceiptOut)
def get_receipt(code: str, uow: Uow, _: Reader) -> ReceiptOut:
    with _receipt_in_path(code):
        return _out(receipts.receipt_view(uow.session, code))


@router.post("/receipts/{code}/close", response_model=ReceiptOut)
def close_receipt(code: str, uow: Uow, principal: Admin) -> ReceiptOut:
    """Close a receipt: what never came leaves `incoming`; the lines show shortages and overages."""
    with _receipt_in_path(code):
        inbound.close_receipt(uow, receipt=code, actor=f"apikey:{principal.name}")
    uow.commit()
    return _out(receipts.receipt_view(uow.session, code))
