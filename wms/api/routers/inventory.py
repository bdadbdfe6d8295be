"""Stock levels and stock adjustments."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status

from wms.api.deps import Admin, Reader, Uow
from wms.api.schemas import AdjustmentIn, AdjustmentOut, LevelOut, PageOut
from wms.errors import ValidationFailed
from wms.inventory import queries, stock

router = APIRouter(tags=["inventory"])


@router.get("/inventory-levels", response_model=PageOut[LevelOut])
def list_levels(
    uow: Uow,
    _: Reader,
    sku: Annotated[
        list[str], Query(max_length=500, description="One or more SKUs (repeat the parameter).")
    ] = [],  # noqa: B006
    warehouse: str | None = None,
    updated_since: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, object]:
    if updated_since is not None and updated_since.tzinfo is None:
        raise ValidationFailed(
            "give updated_since with a time zone, e.g. 2026-01-01T00:00:00Z", field="updated_since"
        )
    page = queries.list_levels(
        uow.session,
        skus=sku,
        warehouse=warehouse,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return {"data": [asdict(level) for level in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/stock-adjustments", response_model=AdjustmentOut, status_code=status.HTTP_201_CREATED
)
def create_adjustment(body: AdjustmentIn, uow: Uow, principal: Admin) -> dict[str, object]:
    posting = stock.adjust(
        uow,
        sku=body.sku,
        warehouse=body.warehouse,
        quantity=body.quantity,
        reason=body.reason,
        location=body.location,
        lot=body.lot,
        expiry_date=body.expiry_date,
        reference=body.reference,
        actor=f"apikey:{principal.name}",
    )
    uow.commit()
    levels = queries.snapshot_views(uow.session, posting.levels)
    return {"moves": posting.moves, "levels": [asdict(v) for v in levels]}
