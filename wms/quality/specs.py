"""Which inbound lots are inspected, and how: specs per product, per supplier, per supplier's
product; the most specific one wins, and a supplier that is not fully qualified is always inspected."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.inventory.catalog import get_product
from wms.procurement.models import Supplier
from wms.quality import sampling
from wms.quality.models import InspectionSpec, SupplierStatus
from wms.quality.suppliers import get_supplier

DEFAULT_LEVEL = "II"
DEFAULT_MAJOR_AQL = "1.0"
DEFAULT_MINOR_AQL = "4.0"
DEFAULT_STANDARD = "iso2859-1"


@dataclass(frozen=True)
class EffectiveSpec:
    """What applies to one supplier's product, and why."""

    required: bool
    level: str
    major_aql: str
    minor_aql: str
    standard: str
    reduced_allowed: bool
    source: str  # "supplier+product", "product", "supplier" or "default"
    reason: str  # why the lot is (or is not) inspected, in a sentence


def _aql_text(value: str, field: str) -> str:
    return sampling.aql_label(sampling.parse_aql(value)) if value else _missing(field)


def _missing(field: str) -> str:
    raise ValidationFailed(f"{field} is required", field=field)


def set_spec(
    uow: UnitOfWork,
    *,
    actor: str,
    sku: str | None = None,
    supplier: str | None = None,
    required: bool = True,
    level: str = DEFAULT_LEVEL,
    major_aql: str = DEFAULT_MAJOR_AQL,
    minor_aql: str = DEFAULT_MINOR_AQL,
    standard: str = DEFAULT_STANDARD,
    reduced_allowed: bool = False,
) -> EffectiveSpec:
    """Create or replace the spec of a product, a supplier, or a supplier's product."""
    session = uow.session
    if sku is None and supplier is None:
        raise ValidationFailed("name a product (sku), a supplier, or both", field="sku")
    product_id = get_product(session, sku).id if sku else None
    supplier_id = get_supplier(session, supplier).id if supplier else None
    level = sampling.normalise_level(level)
    standard = sampling.normalise_standard(standard)
    major = _aql_text(major_aql, "major_aql")
    minor = _aql_text(minor_aql, "minor_aql")
    row = session.scalar(
        select(InspectionSpec)
        .where(
            InspectionSpec.product_id.is_(None)
            if product_id is None
            else InspectionSpec.product_id == product_id,
            InspectionSpec.supplier_id.is_(None)
            if supplier_id is None
            else InspectionSpec.supplier_id == supplier_id,
        )
        .with_for_update()
    )
    if row is None:
        row = InspectionSpec(product_id=product_id, supplier_id=supplier_id, updated_by=actor)
        session.add(row)
    row.required = required
    row.level = level
    row.major_aql = major
    row.minor_aql = minor
    row.standard = standard
    row.reduced_allowed = reduced_allowed
    row.updated_by = actor
    session.flush()
    return _effective(row, source=_source(row), required=required, reason="")


def _source(row: InspectionSpec) -> str:
    if row.product_id is not None and row.supplier_id is not None:
        return "supplier+product"
    return "product" if row.product_id is not None else "supplier"


def _effective(
    row: InspectionSpec | None, *, source: str, required: bool, reason: str
) -> EffectiveSpec:
    if row is None:
        return EffectiveSpec(
            required=required,
            level=DEFAULT_LEVEL,
            major_aql=DEFAULT_MAJOR_AQL,
            minor_aql=DEFAULT_MINOR_AQL,
            standard=DEFAULT_STANDARD,
            reduced_allowed=False,
            source=source,
            reason=reason,
        )
    return EffectiveSpec(
        required=required,
        level=row.level,
        major_aql=row.major_aql,
        minor_aql=row.minor_aql,
        standard=row.standard,
        reduced_allowed=row.reduced_allowed,
        source=source,
        reason=reason,
    )


def resolve_spec(session: Session, *, supplier_id: int, product_id: int) -> EffectiveSpec:
    """The spec for a supplier's product: the most specific row, forced on for a supplier that
    is not fully qualified."""
    rows = session.scalars(
        select(InspectionSpec).where(
            or_(InspectionSpec.product_id == product_id, InspectionSpec.product_id.is_(None)),
            or_(InspectionSpec.supplier_id == supplier_id, InspectionSpec.supplier_id.is_(None)),
        )
    ).all()

    def rank(row: InspectionSpec) -> int:
        return {"supplier+product": 0, "product": 1, "supplier": 2}[_source(row)]

    best = min(rows, key=rank) if rows else None
    supplier = session.get(Supplier, supplier_id)
    status = supplier.quality_status if supplier else SupplierStatus.APPROVED
    source = _source(best) if best else "default"
    if status != SupplierStatus.APPROVED:
        return _effective(
            best,
            source=source,
            required=True,
            reason=f"the supplier is {status}, not fully qualified",
        )
    if best is None:
        return _effective(None, source=source, required=False, reason="no inspection spec")
    reason = (
        f"the {source} spec requires inspection"
        if best.required
        else f"the {source} spec waives inspection"
    )
    return _effective(best, source=source, required=best.required, reason=reason)


@dataclass(frozen=True)
class SpecView:
    sku: str | None
    supplier: str | None
    spec: EffectiveSpec


def list_specs(session: Session) -> list[SpecView]:
    """Every spec row, suppliers' products first."""
    from wms.inventory.models import Product

    rows = session.execute(
        select(InspectionSpec, Product.sku, Supplier.code)
        .outerjoin(Product, Product.id == InspectionSpec.product_id)
        .outerjoin(Supplier, Supplier.id == InspectionSpec.supplier_id)
        .order_by(Supplier.code.nulls_last(), Product.sku.nulls_last())
    ).all()
    return [
        SpecView(sku, code, _effective(row, source=_source(row), required=row.required, reason=""))
        for row, sku, code in rows
    ]
