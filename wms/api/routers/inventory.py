"""Stock levels and stock adjustments."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import Field

from wms.api.deps import Admin, Reader, Uow
from wms.api.schemas import AdjustmentIn, AdjustmentOut, LevelOut, PageOut
from wms.errors import ValidationFailed
from wms.events import feed
from wms.inventory import queries, stock

router = APIRouter(tags=["inventory"])


class LevelPageOut(PageOut[LevelOut]):
    as_of_cursor: str = Field(
        description=(
            "The event feed position of this snapshot: `GET /events?after=<as_of_cursor>` yields "
            "every change these levels do not show yet (and perhaps a few they do; compare "
            "`version`). When paging, keep the first page's value."
        )
    )


@router.get("/inventory-levels", response_model=LevelPageOut)
def list_levels(
    uow: Uow,
    _: Reader,
    sku: Annotated[
        list[str],
        Query(max_length=queries.MAX_SKUS, description="One or more SKUs (repeat the parameter)."),
    ] = [],  # noqa: B006
    skus: Annotated[
        str | None,
        Query(
            max_length=40_000,
            description=f"SKUs separated by commas (with `sku`, at most {queries.MAX_SKUS}).",
            examples=["MUG-1,TEA-1"],
        ),
    ] = None,
    warehouse: str | None = None,
    updated_since: Annotated[
        datetime | None,
        Query(description="Only levels changed after this time (with a time zone)."),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, object]:
    if updated_since is not None and updated_since.tzinfo is None:
        raise ValidationFailed(
            "give updated_since with a time zone, e.g. 2026-01-01T00:00:00Z", field="updated_since"
        )
    wanted = [*sku, *(part.strip() for part in (skus or "").split(",") if part.strip())]
    if uow.dialect == "postgresql":
        # The levels and the feed cursor must come from one snapshot.
        uow.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    as_of = feed.current_cursor(uow.session)
    page = queries.list_levels(
        uow.session,
        skus=wanted,
        warehouse=warehouse,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
        sku_field="sku" if sku else "skus",
    )
    return {
        "data": [asdict(level) for level in page.items],
        "next_cursor": page.next_cursor,
        "as_of_cursor": str(as_of),
    }


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
