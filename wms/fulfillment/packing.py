"""Packing: picked items go into packages, each with an SSCC, a weight and a label.

A package is opened on a picked fulfilment and gets the next SSCC (``sscc.next_sscc``). Items are
scanned into it: only what was picked for the fulfilment and is not packed yet, lot by lot. Closing
records the weight in grams. When every picked unit is in a closed package, the fulfilment is
``packed`` (event ``fulfillment.packed``). Stock does not move while packing: it sits in the packing
location from the pick until it ships.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wms.db.base import utcnow
from wms.db.uow import UnitOfWork
from wms.errors import Conflict, NotFound, ValidationFailed
from wms.fulfillment.floor_errors import WrongItem, WrongLot
from wms.fulfillment.models import (
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Package,
    PackageItem,
    PickTask,
)
from wms.fulfillment.sscc import DEFAULT_COMPANY_PREFIX, next_sscc
from wms.fulfillment.workflow import (
    check_warehouse,
    find_fulfillment,
    lock_fulfillment_by_id,
    move_to,
    record_fulfillment_event,
    require_status,
)
from wms.inventory.models import Lot, Product
from wms.inventory.scanning import clean, printable, resolve_product
from wms.inventory.stock import positive_quantity

OPEN = "open"
CLOSED = "closed"
MAX_WEIGHT_G = 2_000_000  # two tonnes: a loaded pallet, not a typing slip


class UnknownPackage(NotFound):
    code = "unknown_package"

    def __init__(self, sscc: str, *, field: str | None = "sscc") -> None:
        super().__init__(f"no package with SSCC {sscc!r}", field=field, sscc=sscc)


class PackageClosed(Conflict):
    code = "package_closed"

    def __init__(self, sscc: str) -> None:
        super().__init__(f"package {sscc} is closed; open a new package", field="sscc", sscc=sscc)


@dataclass(frozen=True)
class PackedItem:
    sku: str
    name: str
    lot: str | None
    quantity: int


@dataclass(frozen=True)
class PackageView:
    sscc: str
    number: int  # 1 for the fulfilment's first package
    status: str
    weight_g: int | None
    items: list[PackedItem]


@dataclass(frozen=True)
class ToPack:
    """Picked units of one fulfilment line and lot that are not packed yet."""

    line_id: int
    sku: str
    name: str
    lot: str | None
    remaining: int


@dataclass(frozen=True)
class PackingView:
    fulfillment: str
    status: str
    packages: list[PackageView]
    to_pack: list[ToPack] = field(default_factory=list)

    @property
    def open_package(self) -> PackageView | None:
        return next((p for p in reversed(self.packages) if p.status == OPEN), None)

    @property
    def remaining(self) -> int:
        return sum(t.remaining for t in self.to_pack)


def packing_view(session: Session, fulfillment_public_id: str) -> PackingView:
    """The fulfilment's packages and what is left to pack."""
    return _view(session, find_fulfillment(session, fulfillment_public_id))


def _view(session: Session, fulfillment: FulfillmentOrder) -> PackingView:
    session.flush()
    packages = session.scalars(
        select(Package).where(Package.fulfillment_order_id == fulfillment.id).order_by(Package.id)
    ).all()
    product_ids = {i.product_id for p in packages for i in p.items}
    lot_ids = {i.lot_id for p in packages for i in p.items if i.lot_id is not None}
    names = _names(session, product_ids)
    lots = _lot_codes(session, lot_ids)
    return PackingView(
        fulfillment=fulfillment.public_id,
        status=fulfillment.status,
        packages=[
            PackageView(
                sscc=p.sscc,
                number=number,
                status=p.status,
                weight_g=p.weight_g,
                items=[
                    PackedItem(
                        sku=names[i.product_id][0],
                        name=names[i.product_id][1],
                        lot=lots.get(i.lot_id) if i.lot_id is not None else None,
                        quantity=i.quantity,
                    )
                    for i in p.items
                ],
            )
            for number, p in enumerate(packages, start=1)
        ],
        to_pack=_to_pack(session, fulfillment.id),
    )


def _names(session: Session, product_ids: set[int]) -> dict[int, tuple[str, str]]:
    if not product_ids:
        return {}
    rows = session.execute(
        select(Product.id, Product.sku, Product.name).where(Product.id.in_(product_ids))
    )
    return {r.id: (r.sku, r.name) for r in rows}


def _lot_codes(session: Session, lot_ids: set[int]) -> dict[int, str]:
    if not lot_ids:
        return {}
    return dict(session.execute(select(Lot.id, Lot.code).where(Lot.id.in_(lot_ids))).all())


def _to_pack(session: Session, fulfillment_id: int) -> list[ToPack]:
    """Picked minus packed per (line, lot), in line order; only what is left."""
    picked = session.execute(
        select(PickTask.fulfillment_line_id, PickTask.lot_id, func.sum(PickTask.picked_quantity))
        .where(PickTask.fulfillment_order_id == fulfillment_id)
        .group_by(PickTask.fulfillment_line_id, PickTask.lot_id)
    ).all()
    packed = session.execute(
        select(PackageItem.fulfillment_line_id, PackageItem.lot_id, func.sum(PackageItem.quantity))
        .join(Package, Package.id == PackageItem.package_id)
        .where(Package.fulfillment_order_id == fulfillment_id)
        .group_by(PackageItem.fulfillment_line_id, PackageItem.lot_id)
    ).all()
    left: defaultdict[tuple[int, int | None], int] = defaultdict(int)
    for line_id, lot_id, quantity in picked:
        left[(line_id, lot_id)] += int(quantity or 0)
    for line_id, lot_id, quantity in packed:
        left[(line_id, lot_id)] -= int(quantity or 0)
    lines = {
        ln.id: ln.product_id
        for ln in session.scalars(
            select(FulfillmentLine).where(FulfillmentLine.fulfillment_order_id == fulfillment_id)
        )
    }
    names = _names(session, set(lines.values()))
    lots = _lot_codes(session, {lot for _, lot in left if lot is not None})
    return [
        ToPack(
            line_id=line_id,
            sku=names[lines[line_id]][0],
            name=names[lines[line_id]][1],
            lot=lots.get(lot_id) if lot_id is not None else None,
            remaining=quantity,
        )
        for (line_id, lot_id), quantity in sorted(
            left.items(), key=lambda kv: (kv[0][0], lots.get(kv[0][1] or 0, ""))
        )
        if quantity > 0
    ]


def open_package(
    uow: UnitOfWork,
    fulfillment_public_id: str,
    *,
    actor: str,
    company_prefix: str = DEFAULT_COMPANY_PREFIX,
    extension_digit: int = 0,
    warehouse: str | None = None,
) -> PackageView:
    """Open a new package on a picked fulfilment, with the next SSCC."""
    session = uow.session
    found = find_fulfillment(session, fulfillment_public_id)
    check_warehouse(session, found, warehouse)
    fulfillment = lock_fulfillment_by_id(session, found.id)
    require_status(fulfillment, FulfillmentStatus.PICKED, doing="packing")
    view = _view(session, fulfillment)
    if view.remaining == 0:
        raise Conflict(
            f"everything picked for {fulfillment.public_id} is packed; close the open package",
            field="fulfillment",
        )
    empty = next((p for p in view.packages if p.status == OPEN and not p.items), None)
    if empty is not None:
        raise Conflict(
            f"package {empty.sscc} is open and empty: pack into it first",
            field="fulfillment",
            sscc=empty.sscc,
        )
    sscc = next_sscc(session, company_prefix=company_prefix, extension_digit=extension_digit)
    session.add(
        Package(fulfillment_order_id=fulfillment.id, sscc=sscc, status=OPEN, created_by=actor)
    )
    return next(p for p in _view(session, fulfillment).packages if p.sscc == sscc)


def _lock_package(session: Session, sscc: str) -> tuple[FulfillmentOrder, Package]:
    value = clean(sscc)
    if value.startswith("(00)"):
        value = value[4:].strip().replace(" ", "")
    elif len(value) == 20 and value.startswith("00"):
        value = value[2:]  # scanned from the label: AI 00 and the SSCC
    fulfillment_id = session.scalar(
        select(Package.fulfillment_order_id).where(Package.sscc == value)
    )
    if fulfillment_id is None:
        raise UnknownPackage(printable(value))
    fulfillment = lock_fulfillment_by_id(session, fulfillment_id)
    package = session.scalar(
        select(Package)
        .where(Package.sscc == value)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert package is not None
    if package.status != OPEN:
        raise PackageClosed(package.sscc)
    require_status(fulfillment, FulfillmentStatus.PICKED, doing="packing")
    return fulfillment, package


def pack_item(
    uow: UnitOfWork,
    sscc: str,
    *,
    item: str,
    lot: str | None = None,
    quantity: int = 1,
    actor: str,
) -> PackingView:
    """Put picked units (scanned by SKU, GTIN or GS1 barcode) into an open package."""
    session = uow.session
    fulfillment, package = _lock_package(session, sscc)
    positive_quantity(quantity)
    value = clean(item)
    if not value:
        raise WrongItem("(nothing)", "a picked item of this fulfilment")
    scanned = resolve_product(session, value, expected="product")
    product = scanned.product
    to_pack = [t for t in _to_pack(session, fulfillment.id) if t.sku == product.sku]
    if not to_pack:
        listed = sorted({t.sku for t in _to_pack(session, fulfillment.id)})
        expected = ", ".join(listed) if listed else "nothing: everything is packed"
        raise WrongItem(f"{product.sku} ({printable(value)})", expected)
    wanted_lot = (clean(lot) or None) if lot is not None else scanned.lot
    if not product.lot_tracked:
        wanted_lot = None
    candidates = _choose_lot(to_pack, product.sku, product.lot_tracked, wanted_lot)
    available = sum(t.remaining for t in candidates)
    if quantity > available:
        lot_text = f" lot {candidates[0].lot}" if candidates[0].lot else ""
        raise ValidationFailed(
            f"entered {quantity}: only {available} x {product.sku}{lot_text} left to pack",
            field="quantity",
        )
    lot_id = (
        session.scalar(
            select(Lot.id).where(Lot.product_id == product.id, Lot.code == candidates[0].lot)
        )
        if candidates[0].lot
        else None
    )
    left = quantity
    for target in candidates:
        take = min(left, target.remaining)
        _add_item(session, package, target.line_id, product.id, lot_id, take)
        left -= take
        if left == 0:
            break
    return _view(session, fulfillment)


def _choose_lot(
    to_pack: list[ToPack], sku: str, lot_tracked: bool, wanted: str | None
) -> list[ToPack]:
    if not lot_tracked:
        return to_pack
    lots = sorted({str(t.lot) for t in to_pack})
    if wanted is None:
        if len(lots) > 1:
            raise WrongLot("(nothing)", f"one of lots {', '.join(lots)} of {sku}: scan the lot")
        wanted = lots[0]
    chosen = [t for t in to_pack if t.lot == wanted]
    if not chosen:
        raise WrongLot(f"{wanted} of {sku}", f"one of lots {', '.join(lots)} (picked, not packed)")
    return chosen


def _add_item(
    session: Session, package: Package, line_id: int, product_id: int, lot_id: int | None, qty: int
) -> None:
    existing = next(
        (i for i in package.items if i.fulfillment_line_id == line_id and i.lot_id == lot_id),
        None,
    )
    if existing is None:
        package.items.append(
            PackageItem(
                fulfillment_line_id=line_id, product_id=product_id, lot_id=lot_id, quantity=qty
            )
        )
    else:
        existing.quantity += qty
    line = session.get(FulfillmentLine, line_id)
    assert line is not None
    line.packed_quantity += qty
    session.flush()


def close_package(uow: UnitOfWork, sscc: str, *, weight_g: int, actor: str) -> PackingView:
    """Record a package's weight and close it; the last one packs the fulfilment."""
    session = uow.session
    if isinstance(weight_g, bool) or not isinstance(weight_g, int) or weight_g <= 0:
        raise ValidationFailed(
            f"weight {weight_g}: a weight is a whole number of grams above 0", field="weight_g"
        )
    if weight_g > MAX_WEIGHT_G:
        raise ValidationFailed(
            f"weight {weight_g} g is more than {MAX_WEIGHT_G} g; is it in grams?", field="weight_g"
        )
    fulfillment, package = _lock_package(session, sscc)
    if not package.items:
        raise Conflict(
            f"package {package.sscc} is empty: scan items into it before closing",
            field="sscc",
            sscc=package.sscc,
        )
    package.weight_g = weight_g
    package.status = CLOSED
    package.closed_at = utcnow()
    session.flush()
    _settle(session, fulfillment)
    return _view(session, fulfillment)


def _settle(session: Session, fulfillment: FulfillmentOrder) -> None:
    """Packed once nothing is left to pack and no package with items is open."""
    if _to_pack(session, fulfillment.id):
        return
    packages = session.scalars(
        select(Package).where(Package.fulfillment_order_id == fulfillment.id)
    ).all()
    if any(p.status == OPEN and p.items for p in packages):
        return
    for empty in (p for p in packages if p.status == OPEN):
        session.delete(empty)  # opened by mistake; its SSCC is not used again
    move_to(fulfillment, FulfillmentStatus.PACKED)
    fulfillment.packed_at = utcnow()
    record_fulfillment_event(session, "packed", fulfillment)
