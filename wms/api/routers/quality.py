"""Quality: sampling plans and OC curves, inspection specs, inspections and their dispositions,
nonconformance reports with corrective actions, delisting, supplier qualification and scorecards."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import Field

from wms.api.deps import Admin, Reader, Uow
from wms.api.idempotency import IdempotencyKey
from wms.api.schemas import Body, Sku
from wms.api.schemas_storefront import problem_responses
from wms.api.writes import actor, named_in_path, write
from wms.db.uow import UnitOfWork
from wms.quality import dispositions, inspections, ncr, oc, sampling, scorecard, specs, suppliers
from wms.quality.models import NonconformanceReport
from wms.quality.views import inspection_view, list_inspections, list_ncrs, ncr_view

router = APIRouter(tags=["quality"])

Level = Annotated[str, Query(max_length=8, description="S-1..S-4, I, II or III")]
Severity = Annotated[str, Query(max_length=16, description="normal, tightened or reduced")]
Standard = Annotated[str, Query(max_length=16, description="iso2859-1, or z14 (ANSI/ASQ Z1.4)")]
LotSize = Annotated[int, Query(ge=1, le=10**9, description="Units in the lot")]
Aql = Annotated[
    str, Query(min_length=1, max_length=8, description="0.010 to 1000", examples=["1.0"])
]
SupplierCode = Annotated[str, Field(min_length=1, max_length=32)]
Text = Annotated[str, Field(max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=64)]
WRITE_ERRORS = problem_responses(400, 404, 409, 422)


def _actor(principal: Any) -> str:
    return actor(principal)


def _write(
    request: Request,
    principal: Any,
    key: str | None,
    body: Any,
    work: Any,
    code: int = status.HTTP_200_OK,
) -> JSONResponse:
    return write(request, principal, key, body, work, code)


@router.get("/quality/plan", responses=problem_responses(422))
def get_plan(
    _: Reader,
    lot_size: LotSize,
    aql: Aql,
    level: Level = "II",
    severity: Severity = "normal",
    standard: Standard = "iso2859-1",
) -> dict[str, Any]:
    """The ISO 2859-1 single sampling plan for a lot: code letter, sample size, Ac and Re."""
    plan = sampling.sampling_plan(lot_size, aql, level=level, severity=severity, standard=standard)
    return {
        **plan.to_dict(),
        "oc_curve": [{"p": p, "pa": pa} for p, pa in oc.oc_curve(plan)],
        "p95": oc.p_at(plan, 0.95),
        "p10": oc.p_at(plan, 0.10),
    }


class SpecIn(Body):
    sku: Annotated[Sku | None, Field(description="A product; with a supplier, that pair")] = None
    supplier: SupplierCode | None = None
    required: bool = True
    level: Annotated[str, Field(max_length=8)] = specs.DEFAULT_LEVEL
    major_aql: Annotated[str, Field(max_length=8)] = specs.DEFAULT_MAJOR_AQL
    minor_aql: Annotated[str, Field(max_length=8)] = specs.DEFAULT_MINOR_AQL
    standard: Annotated[str, Field(max_length=16)] = specs.DEFAULT_STANDARD
    reduced_allowed: bool = False


@router.post("/quality/specs", responses=WRITE_ERRORS)
def put_spec(
    request: Request, body: SpecIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Require (or waive) inspection of a product, a supplier, or a supplier's product."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        spec = specs.set_spec(uow, actor=_actor(principal), **body.model_dump())
        return {"sku": body.sku, "supplier": body.supplier, **asdict(spec)}

    return _write(request, principal, idempotency_key, body, work)


@router.get("/quality/specs")
def get_specs(uow: Uow, _: Reader) -> list[dict[str, Any]]:
    return [
        {"sku": v.sku, "supplier": v.supplier, **asdict(v.spec)}
        for v in specs.list_specs(uow.session)
    ]


InspectionStatusQuery = Literal["open", "inspecting", "accepted", "rejected", "closed", "cancelled"]


@router.get("/inspections")
def get_inspections(
    uow: Uow,
    _: Reader,
    warehouse: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[list[InspectionStatusQuery] | None, Query()] = None,
    supplier: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    rows = list_inspections(
        uow.session, warehouse=warehouse, statuses=status or (), supplier=supplier, limit=limit
    )
    return [asdict(r) for r in rows]


@router.get("/inspections/{code}", responses=problem_responses(404))
def get_inspection(code: str, uow: Uow, _: Reader) -> dict[str, Any]:
    with named_in_path():
        return asdict(inspection_view(uow.session, code))


class FindingIn(Body):
    defect_class: Literal["critical", "major", "minor"]
    unit: Annotated[int | None, Field(strict=True, ge=1, le=10**6)] = None
    note: Text = ""


class FindingsIn(Body):
    findings: Annotated[list[FindingIn], Field(min_length=1, max_length=2000)]


@router.post("/inspections/{code}/findings", responses=WRITE_ERRORS)
def post_findings(
    request: Request,
    code: str,
    body: FindingsIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record nonconformities found on sampled units (unit = 1..sample size)."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        inspections.record_findings(
            uow,
            inspection=code,
            findings=[
                inspections.FindingInput(f.defect_class, f.unit, f.note) for f in body.findings
            ],
            actor=_actor(principal),
        )
        return asdict(inspection_view(uow.session, code))

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


class DecideIn(Body):
    steady_production: bool = True


@router.post("/inspections/{code}/decide", responses=WRITE_ERRORS)
def post_decide(
    request: Request,
    code: str,
    body: DecideIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Give the verdict from each class's Ac/Re; the switching rules move for original lots."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        decision = inspections.decide(
            uow, inspection=code, actor=_actor(principal), steady_production=body.steady_production
        )
        view = asdict(inspection_view(uow.session, code))
        view["ncr"] = decision.ncr_code
        view["switches"] = [{"defect_class": cls, **asdict(t)} for cls, t in decision.transitions]
        return view

    return _write(request, principal, idempotency_key, body, work)


class DispositionIn(Body):
    disposition: Literal["accept", "return", "scrap", "rework", "use_as_is"]
    approved_by: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    note: Text = ""


@router.post("/inspections/{code}/disposition", responses=WRITE_ERRORS)
def post_disposition(
    request: Request,
    code: str,
    body: DispositionIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Release, return, scrap, rework or use as is (with an approver) a decided lot."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        result = dispositions.dispose(
            uow,
            inspection=code,
            disposition=body.disposition,
            actor=_actor(principal),
            approved_by=body.approved_by,
            note=body.note,
        )
        view = asdict(inspection_view(uow.session, code))
        view["resubmission"] = result.resubmission
        return view

    return _write(request, principal, idempotency_key, body, work)


class NcrIn(Body):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Text = ""
    sku: Sku | None = None
    supplier: SupplierCode | None = None


@router.post("/ncrs", responses=WRITE_ERRORS)
def post_ncr(
    request: Request, body: NcrIn, principal: Admin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        report = ncr.create_ncr(uow, actor=_actor(principal), **body.model_dump())
        return asdict(ncr_view(uow.session, report.code))

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


@router.get("/ncrs")
def get_ncrs(
    uow: Uow,
    _: Reader,
    status: Literal["open", "closed"] | None = None,
    supplier: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    return [asdict(v) for v in list_ncrs(uow.session, status=status, supplier=supplier)]


@router.get("/ncrs/{code}", responses=problem_responses(404))
def get_ncr(code: str, uow: Uow, _: Reader) -> dict[str, Any]:
    with named_in_path():
        return asdict(ncr_view(uow.session, code))


class ActionIn(Body):
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    owner: Name
    due_date: date


@router.post("/ncrs/{code}/corrective-actions", responses=WRITE_ERRORS)
def post_action(
    request: Request,
    code: str,
    body: ActionIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        ncr.request_corrective_action(uow, ncr=code, actor=_actor(principal), **body.model_dump())
        return asdict(ncr_view(uow.session, code))

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


class CloseActionIn(Body):
    resolution: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/corrective-actions/{action_id}/close", responses=WRITE_ERRORS)
def post_close_action(
    request: Request,
    action_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: CloseActionIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Close a corrective action; the last one closes its NCR (and relists a delisted product)."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        action = ncr.close_corrective_action(
            uow, action_id=action_id, resolution=body.resolution, actor=_actor(principal)
        )
        report = uow.session.get(NonconformanceReport, action.ncr_id)
        assert report is not None
        return asdict(ncr_view(uow.session, report.code))

    return _write(request, principal, idempotency_key, body, work)


class DelistIn(Body):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    action: Annotated[str, Field(min_length=1, max_length=2000)]
    owner: Name
    due_date: date


@router.post("/products/{sku}/delist", responses=WRITE_ERRORS)
def post_delist(
    request: Request,
    sku: str,
    body: DelistIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pull a product from sale everywhere until its corrective action is closed."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        result = ncr.delist(uow, sku=sku, actor=_actor(principal), **body.model_dump())
        return {"sku": result.sku, "ncr": result.ncr, "warehouses": len(result.levels)}

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


@router.get("/quality/blocks")
def get_blocks(uow: Uow, _: Reader) -> list[dict[str, Any]]:
    """Products off sale now, with their NCR and the owners of its open corrective actions."""
    return [asdict(block) for block in scorecard.blocked_products(uow.session)]


@router.get("/supplier-scorecards")
def get_scorecards(uow: Uow, _: Reader) -> list[dict[str, Any]]:
    return [card.to_dict() for card in scorecard.scorecards(uow.session)]


@router.get("/suppliers/{code}/quality", responses=problem_responses(404))
def get_supplier_quality(code: str, uow: Uow, _: Reader) -> dict[str, Any]:
    """A supplier's scorecard, certificates, audits and recent switches."""
    with named_in_path():
        card = scorecard.scorecard(uow.session, code)
    supplier_id = suppliers.get_supplier(uow.session, code).id
    return {
        **card.to_dict(),
        "certificates": [{**asdict(c), "state": c.state} for c in card.certificates],
        "audits": [asdict(a) for a in suppliers.audits(uow.session, supplier_id)],
        "switches": [asdict(s) for s in card.switches],
    }


class StatusIn(Body):
    status: Literal["approved", "conditional", "suspended", "disqualified"]
    reason: Text = ""


@router.post("/suppliers/{code}/status", responses=WRITE_ERRORS)
def post_status(
    request: Request,
    code: str,
    body: StatusIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        row = suppliers.set_status(
            uow, supplier=code, status=body.status, reason=body.reason, actor=_actor(principal)
        )
        return {
            "supplier": row.code,
            "status": row.quality_status,
            "reason": row.quality_status_reason,
        }

    return _write(request, principal, idempotency_key, body, work)


class CertificateIn(Body):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    number: Annotated[str, Field(min_length=1, max_length=64)]
    valid_until: date
    issued_by: Annotated[str, Field(max_length=120)] = ""


@router.post("/suppliers/{code}/certificates", responses=WRITE_ERRORS)
def post_certificate(
    request: Request,
    code: str,
    body: CertificateIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    def work(uow: UnitOfWork) -> dict[str, Any]:
        cert = suppliers.add_certificate(
            uow, supplier=code, actor=_actor(principal), **body.model_dump()
        )
        return {**asdict(cert), "state": cert.state}

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)


class AuditIn(Body):
    audit_date: date
    auditor: Annotated[str, Field(min_length=1, max_length=120)]
    score: Annotated[int, Field(strict=True, ge=0, le=100)]
    result: Literal["pass", "conditional", "fail"]
    findings: Text = ""


@router.post("/suppliers/{code}/audits", responses=WRITE_ERRORS)
def post_audit(
    request: Request,
    code: str,
    body: AuditIn,
    principal: Admin,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record an audit; a failed audit suspends the supplier."""

    def work(uow: UnitOfWork) -> dict[str, Any]:
        audit = suppliers.record_audit(
            uow, supplier=code, actor=_actor(principal), **body.model_dump()
        )
        return asdict(audit)

    return _write(request, principal, idempotency_key, body, work, status.HTTP_201_CREATED)
