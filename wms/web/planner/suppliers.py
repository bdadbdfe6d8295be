"""Supplier pages: every supplier's scorecard, and one supplier with its OC curves,
certificates, audits, qualification status, switching history, inspections, and the products it
sells with their order rules and prices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import NotFound, WmsError
from wms.procurement.suppliers import supplier_products
from wms.quality import scorecard as scorecards
from wms.quality import suppliers
from wms.quality.models import SupplierStatus
from wms.quality.views import list_inspections, list_ncrs
from wms.web.planner.auth import Viewer
from wms.web.planner.common import (
    FormState,
    error_status,
    not_found,
    page,
    parse_date,
    parse_int,
    read,
    redirect,
    sign_in_redirect,
    write,
)
from wms.web.planner.oc_charts import oc_chart, plans_in_use_chart

router = APIRouter()

STATUSES = tuple(s.value for s in SupplierStatus)
CERTIFICATE = FormState(
    "certificate",
    ("type", "number", "issued_by", "valid_until"),
    aliases={"supplier": "number"},
)
AUDIT = FormState(
    "audit",
    ("audit_date", "auditor", "score", "result", "findings"),
    values={"result": "pass"},
)
STATUS = FormState("status", ("status", "reason"))


def _warnings(card: scorecards.Scorecard) -> dict[str, int]:
    states = [c.state for c in card.certificates]
    return {"expired": states.count("expired"), "expiring": states.count("expiring")}


@router.get("/suppliers", response_class=HTMLResponse)
def supplier_list(request: Request, user: Viewer) -> Response:
    if user is None:
        return sign_in_redirect(request)

    def load(session: Session) -> dict[str, Any]:
        cards = scorecards.scorecards(session)
        return {
            "cards": cards,
            "warnings": {c.supplier: _warnings(c) for c in cards},
            "expiring": suppliers.expiring_certificates(session),
        }

    return page(request, "suppliers.html", user=user, title="Suppliers", **read(request, load))


def _detail(session: Session, code: str) -> dict[str, Any]:
    card = scorecards.scorecard(session, code)
    chart = plans_in_use_chart(scorecards.plans_in_use(session, card.supplier))
    inspections = list_inspections(session, supplier=card.supplier, limit=50, newest_first=True)
    return {
        "card": card,
        "chart": chart,
        "chart_svg": oc_chart(chart.curves, chart_id="oc-plans-in-use") if chart.curves else None,
        "audits": suppliers.audits(session, suppliers.get_supplier(session, card.supplier).id),
        "inspections": inspections,
        "ncrs": list_ncrs(session, supplier=card.supplier, limit=20),
        "products": supplier_products(session, supplier=card.supplier),
    }


def _supplier_page(
    request: Request,
    user: UserRef,
    code: str,
    *,
    forms: Mapping[str, FormState] = {},
    status_code: int = 200,
) -> Response:
    try:
        context = read(request, lambda session: _detail(session, code))
    except NotFound as exc:
        return not_found(request, user, exc)
    card = context["card"]
    all_forms = {
        "certificate": CERTIFICATE,
        "audit": AUDIT,
        "status": STATUS.filled(status=card.status),
        **forms,
    }
    return page(
        request,
        "supplier.html",
        user=user,
        title=f"{card.supplier} · {card.name}",
        status_code=status_code,
        forms=all_forms,
        statuses=STATUSES,
        audit_results=suppliers.AUDIT_RESULTS,
        **context,
    )


@router.get("/suppliers/{code}", response_class=HTMLResponse)
def supplier_detail(request: Request, user: Viewer, code: str) -> Response:
    if user is None:
        return sign_in_redirect(request)
    return _supplier_page(request, user, code)


def _submit(
    request: Request, user: UserRef, code: str, form: FormState, change: Any, done: str
) -> Response:
    """Run ``change`` in a unit of work; on a domain error show the supplier page with the form."""
    try:
        write(request, change)
    except WmsError as exc:
        return _supplier_page(
            request, user, code, forms={form.name: form.failed(exc)}, status_code=error_status(exc)
        )
    return redirect(f"/planner/suppliers/{quote(code, safe='')}?done={done}#{form.name}")


@router.post("/suppliers/{code}/certificates", response_class=HTMLResponse)
def add_certificate(
    request: Request,
    user: Viewer,
    code: str,
    cert_type: Annotated[str, Form(alias="type")] = "",
    number: Annotated[str, Form()] = "",
    issued_by: Annotated[str, Form()] = "",
    valid_until: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = CERTIFICATE.filled(
        type=cert_type, number=number, issued_by=issued_by, valid_until=valid_until
    )

    def change(uow: UnitOfWork) -> None:
        suppliers.add_certificate(
            uow,
            supplier=code,
            type=cert_type,
            number=number,
            issued_by=issued_by,
            valid_until=parse_date(valid_until, "valid_until"),
            actor=user.username,
        )

    return _submit(request, user, code, form, change, "certificate")


@router.post("/suppliers/{code}/audits", response_class=HTMLResponse)
def record_audit(
    request: Request,
    user: Viewer,
    code: str,
    audit_date: Annotated[str, Form()] = "",
    auditor: Annotated[str, Form()] = "",
    score: Annotated[str, Form()] = "",
    result: Annotated[str, Form()] = "",
    findings: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = AUDIT.filled(
        audit_date=audit_date, auditor=auditor, score=score, result=result, findings=findings
    )

    def change(uow: UnitOfWork) -> None:
        suppliers.record_audit(
            uow,
            supplier=code,
            audit_date=parse_date(audit_date, "audit_date"),
            auditor=auditor,
            score=parse_int(score, "score"),
            result=result,
            findings=findings,
            actor=user.username,
        )

    return _submit(request, user, code, form, change, "audit")


@router.post("/suppliers/{code}/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    user: Viewer,
    code: str,
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    if user is None:
        return sign_in_redirect(request)
    form = STATUS.filled(status=status, reason=reason)

    def change(uow: UnitOfWork) -> None:
        suppliers.set_status(uow, supplier=code, status=status, reason=reason, actor=user.username)

    return _submit(request, user, code, form, change, "status")
