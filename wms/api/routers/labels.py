"""Printable labels as PDF: bins, products (GS1-128), receipts and transfers."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from wms.api.deps import Reader, Uow
from wms.inventory.labels import (
    Layout,
    bin_labels_pdf,
    document_label_pdf,
    product_labels_pdf,
)

router = APIRouter(prefix="/labels", tags=["labels"])

_PDF: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        "description": "A PDF: one 100 x 50 mm label a page (thermal) or 24 to an A4 sheet (a4).",
    }
}
LayoutQuery = Annotated[
    Layout, Query(description="thermal: 100 x 50 mm, one a page; a4: 3 x 8 labels of 70 x 37 mm.")
]


def _pdf(content: bytes, name: str) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/bins.pdf", response_class=Response, responses=_PDF)
def bin_labels(
    uow: Uow,
    _: Reader,
    warehouse: str,
    location: Annotated[
        list[str] | None,
        Query(
            max_length=1000,
            description="Location codes or barcodes (repeat the parameter); all bins if none.",
        ),
    ] = None,
    layout: LayoutQuery = "thermal",
) -> Response:
    pdf = bin_labels_pdf(uow.session, warehouse=warehouse, locations=location, layout=layout)
    return _pdf(pdf, f"bins-{warehouse}")


@router.get("/products.pdf", response_class=Response, responses=_PDF)
def product_labels(
    uow: Uow,
    _: Reader,
    sku: str,
    lot: str | None = None,
    expiry: Annotated[date | None, Query(description="Expiry date, YYYY-MM-DD.")] = None,
    quantity: Annotated[int | None, Query(description="Units the labelled item holds.")] = None,
    copies: int = 1,
    layout: LayoutQuery = "thermal",
) -> Response:
    pdf = product_labels_pdf(
        uow.session,
        sku=sku,
        lot=lot or None,
        expiry_date=expiry,
        quantity=quantity,
        copies=copies,
        layout=layout,
    )
    return _pdf(pdf, f"product-{sku}")


@router.get("/documents/{code:path}.pdf", response_class=Response, responses=_PDF)
def document_label(code: str, uow: Uow, _: Reader, layout: LayoutQuery = "thermal") -> Response:
    pdf = document_label_pdf(uow.session, code=code, layout=layout)
    return _pdf(pdf, code)
