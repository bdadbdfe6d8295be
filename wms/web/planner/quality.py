"""Quality tools: the OC curve of any sampling plan, and pulling products from sale (delisting)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed, WmsError
from wms.quality import sampling, tables
from wms.quality.errors import InvalidLotSize
from wms.quality.ncr import delist
from wms.quality.scorecard import blocked_products
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    page,
    parse_date,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.oc_charts import CurvePlan, curve_plan, oc_chart

router = APIRouter()

OC_FORM = FormState(
    "oc",
    ("lot_size", "aql", "level", "severity", "standard"),
    values={"aql": "1.0", "level": "II", "severity": "normal", "standard": "iso2859-1"},
)
STANDARDS = {"iso2859-1": "ISO 2859-1 / GB/T 2828.1", "z14": "ANSI/ASQ Z1.4"}
DELIST = FormState(
    "delist",
    ("sku", "reason", "action", "owner", "due_date"),
    aliases={"description": "action"},
)


def _lot_size(text: str) -> int:
    try:
        lot = int(text.strip())
    except ValueError:
        raise InvalidLotSize(text.strip()) from None
    if lot < 1:
        raise InvalidLotSize(lot)
    return lot


def _plan(form: FormState) -> tuple[FormState, CurvePlan | None]:
    """The plan the OC form asks for, or the form with an error at each field that is wrong."""
    v = form.value
    checks: list[Callable[[], object]] = [
        lambda: _lot_size(v("lot_size")),
        lambda: sampling.parse_aql(v("aql")),
        lambda: sampling.normalise_level(v("level")),
        lambda: sampling.normalise_severity(v("severity")),
        lambda: sampling.normalise_standard(v("standard")),
    ]
    for check in checks:
        try:
            check()
        except WmsError as exc:
            form = form.failed(exc)
    if form.has_errors:
        return form, None
    try:
        plan = sampling.sampling_plan(
            _lot_size(v("lot_size")),
            v("aql"),
            level=v("level"),
            severity=v("severity"),
            standard=v("standard"),
        )
    except WmsError as exc:
        return form.failed(exc), None
    return form, curve_plan(plan)


@router.get("/quality/oc", response_class=HTMLResponse)
def oc_tool(
    request: Request,
    user: Viewer,
    lot_size: str | None = None,
    aql: str = "1.0",
    level: str = "II",
    severity: str = "normal",
    standard: str = "iso2859-1",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    context: dict[str, Any] = {
        "levels": sampling.LEVELS,
        "severities": sampling.SEVERITIES,
        "standards": STANDARDS,
        "aqls": tables.AQL_LABELS,
        "curve": None,
        "chart_svg": None,
    }
    form, status_code = OC_FORM, 200
    if lot_size is not None:
        form, curve = _plan(
            form.filled(
                lot_size=lot_size, aql=aql, level=level, severity=severity, standard=standard
            )
        )
        if curve is None:
            status_code = 422
        else:
            context["curve"] = curve
            context["chart_svg"] = oc_chart([curve], chart_id="oc-tool", quality_points=True)
    return page(
        request,
        "oc.html",
        user=user,
        title="OC curve",
        status_code=status_code,
        form=form,
        **context,
    )


def _blocks(session: Session) -> list[dict[str, str | None]]:
    return [
        {
            "sku": block.sku,
            "reason": block.reason,
            "ncr": block.ncr,
            "since": block.since.strftime("%Y-%m-%d"),
            "owner": ", ".join(block.owners) or None,
        }
        for block in blocked_products(session)
    ]


def _blocks_page(
    request: Request, user: UserRef, *, form: FormState = DELIST, status_code: int = 200
) -> Response:
    return page(
        request,
        "blocks.html",
        user=user,
        title="Delisting",
        status_code=status_code,
        blocks=read(request, _blocks),
        form=form,
    )


@router.get("/quality/blocks", response_class=HTMLResponse)
def blocks(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _blocks_page(request, user)


@router.post("/quality/blocks", response_class=HTMLResponse)
def delist_product(
    request: Request,
    user: Viewer,
    sku: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    owner: Annotated[str, Form()] = "",
    due_date: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = DELIST.filled(sku=sku, reason=reason, action=action, owner=owner, due_date=due_date)

    def change(uow: UnitOfWork) -> None:
        if not sku.strip():
            raise ValidationFailed("name the product (SKU) to pull from sale", field="sku")
        delist(
            uow,
            sku=sku.strip(),
            reason=reason,
            action=action,
            owner=owner,
            due_date=parse_date(due_date, "due_date"),
            actor=user.username,
        )

    try:
        write(request, change)
    except WmsError as exc:
        return _blocks_page(request, user, form=form.failed(exc), status_code=error_status(exc))
    return redirect("/planner/quality/blocks?done=delisted")
