"""The pieces every flow shares: the context of one scan, the Flow base, item and lot steps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.db.uow import UnitOfWork
from wms.errors import ValidationFailed
from wms.inventory import inquiry
from wms.inventory.catalog import (
    LocationRef,
    WarehouseRef,
    get_location,
)
from wms.inventory.errors import UnknownLocation
from wms.inventory.scanning import (
    clean,
    parse_quantity,
    printable,
    resolve_product,
)
from wms.web.handheld.screens import (
    Button,
    Choice,
    Outcome,
    Screen,
    info,
)


@dataclass
class Ctx:
    uow: UnitOfWork
    user: UserRef
    warehouse: WarehouseRef
    state: dict[str, Any]

    @property
    def session(self) -> Session:
        return self.uow.session

    @property
    def step(self) -> str:
        return str(self.state.get("step", ""))

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.state.setdefault("data", {})
        return data

    def go(self, step: str, **updates: Any) -> None:
        self.state["step"] = step
        self.data.update(updates)

    def location(self, raw: str, *, field: str = "location") -> LocationRef:
        value = clean(raw)
        if not value:
            raise ValidationFailed("scanned nothing: scan a bin barcode", field=field)
        try:
            return get_location(
                self.session,
                value,
                warehouse_id=self.warehouse.id,
                warehouse_code=self.warehouse.code,
                field=field,
            )
        except UnknownLocation:
            raise ValidationFailed(
                f"scanned {printable(value)}: no location in {self.warehouse.code} has this "
                "barcode",
                field=field,
            ) from None


def label_of(loc: LocationRef) -> str:
    return loc.barcode or loc.code


def item_text(item: dict[str, Any]) -> str:
    lot = f" lot {item['lot']}" if item.get("lot") else ""
    return f"{item['sku']}{lot}"


def read_quantity(ctx: Ctx, raw: str) -> int:
    """A typed quantity, or the offered default when Enter is pressed on an empty field."""
    if not clean(raw):
        default = ctx.data.get("default_qty")
        if default:
            return int(default)
        raise ValidationFailed("entered nothing: type the quantity", field="quantity")
    return parse_quantity(raw)


class Flow:
    name: ClassVar[str]
    title: ClassVar[str]
    supervisors_only: ClassVar[bool] = False

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        return info(self.title)

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        raise NotImplementedError

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        raise NotImplementedError

    # Shared steps ---------------------------------------------------------------------------

    def read_item(
        self, ctx: Ctx, value: str, *, from_location_id: int | None, expected: str = "product"
    ) -> Outcome | None:
        """Read a product scan into ``data['item']``; pick its lot from the location when unique.

        Returns None when the item is complete, or an info outcome when a lot must be chosen.
        """
        scanned = resolve_product(ctx.session, value, expected=expected)
        product = scanned.product
        item: dict[str, Any] = {
            "sku": product.sku,
            "name": scanned.name,
            "lot_tracked": product.lot_tracked,
            "lot": scanned.lot if product.lot_tracked else None,
            "expiry": scanned.expiry_date.isoformat() if scanned.expiry_date else None,
        }
        if scanned.lot and not product.lot_tracked:
            raise ValidationFailed(
                f"scanned {printable(value)}: {product.sku} is not lot-tracked, "
                "but the barcode carries a lot",
                field="scan",
            )
        ctx.data["item"] = item
        ctx.data["default_qty"] = scanned.count
        if from_location_id is None or not product.lot_tracked:
            if from_location_id is not None:
                held = inquiry.quantity_at(
                    ctx.session,
                    product_id=product.id,
                    lot_id=None,
                    location_id=from_location_id,
                )
                if held <= 0:
                    raise ValidationFailed(
                        f"scanned {product.sku}: there is none of it here", field="scan"
                    )
                ctx.data["available"] = held
            return None
        lots = inquiry.lots_at(ctx.session, product_id=product.id, location_id=from_location_id)
        if item["lot"]:
            match = [lq for lq in lots if lq.lot == item["lot"]]
            if not match:
                raise ValidationFailed(
                    f"scanned {product.sku} lot {item['lot']}: that lot is not here "
                    f"({', '.join(str(lq.lot) for lq in lots) or 'none of this product'})",
                    field="scan",
                )
            ctx.data["available"] = match[0].quantity
            return None
        if not lots:
            raise ValidationFailed(f"scanned {product.sku}: there is none of it here", field="scan")
        if len(lots) == 1:
            item["lot"] = lots[0].lot
            ctx.data["available"] = lots[0].quantity
            return None
        ctx.data["lot_choices"] = [[lq.lot, lq.quantity] for lq in lots]
        return info(f"{product.sku} has {len(lots)} lots here: scan or choose the lot")

    def take_item_step(self, ctx: Ctx, step: str, value: str) -> Outcome:
        """The item and lot steps of a flow that takes stock out of the bin in ``data['from_id']``."""
        data = ctx.data
        if step == "item":
            pending = self.read_item(ctx, value, from_location_id=int(data["from_id"]))
            if pending is not None:
                ctx.go("lot")
                return pending
        else:
            self.choose_lot(ctx, value)
        ctx.go("quantity")
        return info(f"{item_text(data['item'])}: {data['available']} here")

    def choose_lot(self, ctx: Ctx, lot: str) -> None:
        choices = {str(c[0]): int(c[1]) for c in ctx.data.get("lot_choices", [])}
        lot = clean(lot)
        if lot not in choices:
            raise ValidationFailed(
                f"scanned {printable(lot)}: expected one of the lots {', '.join(choices)}",
                field="lot",
            )
        ctx.data["item"]["lot"] = lot
        ctx.data["available"] = choices[lot]
        ctx.data.pop("lot_choices", None)

    def lot_screen(self, ctx: Ctx, title: str) -> Screen:
        item = ctx.data["item"]
        return Screen(
            name=f"{self.name}.lot",
            title=title,
            prompt=f"Scan the lot of {item['sku']}",
            hint="Or tap the lot below",
            choices=[
                Choice(f"Lot {lot}", "lot", str(lot), f"{qty} here")
                for lot, qty in ctx.data.get("lot_choices", [])
            ],
            buttons=[Button("Back", "back")],
        )
