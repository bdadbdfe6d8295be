"""The handheld's scan-driven flows: each one a small state machine kept in the session.

A device sends scans and button presses one at a time, in order. Each is applied to the flow's
current step on the server, inside the same transaction as the stock it books, so that a scan
queued offline and replayed later means exactly what it would have meant when it was made. A
refused scan changes nothing: its stock writes roll back to a savepoint and the step stays put.

Flows: receive, put away, move, count, approvals (supervisors), transfer out, transfer in and
inquiry. Picking, packing and shipping slot in the same way: a ``Flow`` subclass and a menu tile.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.auth.services import UserRef
from wms.auth.sessions import can_supervise, check_supervisor
from wms.db.uow import UnitOfWork
from wms.errors import Forbidden, ValidationFailed, WmsError
from wms.inventory import counts, inquiry, putaway, receipts, stock
from wms.inventory.catalog import (
    LocationRef,
    WarehouseRef,
    get_location,
    get_product,
    storage_location_of_kind,
)
from wms.inventory.errors import UnknownLocation
from wms.inventory.models import (
    CountStatus,
    CountTask,
    Location,
    LocationKind,
    Lot,
    Product,
    Receipt,
    Transfer,
    Warehouse,
)
from wms.inventory.scanning import (
    clean,
    parse_date,
    parse_quantity,
    printable,
    resolve_product,
)
from wms.web.handheld.screens import (
    Button,
    Choice,
    Link,
    Outcome,
    Screen,
    Table,
    info,
    ok,
)

MENU = "menu"


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


def _label(loc: LocationRef) -> str:
    return loc.barcode or loc.code


def _item_text(item: dict[str, Any]) -> str:
    lot = f" lot {item['lot']}" if item.get("lot") else ""
    return f"{item['sku']}{lot}"


def _quantity(ctx: Ctx, raw: str) -> int:
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


# Receive --------------------------------------------------------------------------------------


class ReceiveFlow(Flow):
    name = "receive"
    title = "Receive"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.go("receipt")
        if arg:
            return self._open(ctx, arg)
        return info("Scan the receipt's barcode or choose it")

    def _open(self, ctx: Ctx, code: str) -> Outcome:
        code = clean(code).upper()
        row = ctx.session.scalar(select(Receipt).where(Receipt.code == code))
        if row is None:
            raise ValidationFailed(f"scanned {printable(code)}: no receipt has this barcode")
        if row.warehouse_id != ctx.warehouse.id:
            raise ValidationFailed(
                f"receipt {code} is for another warehouse, not {ctx.warehouse.code}"
            )
        if row.status not in receipts.OPEN_STATUSES:
            raise ValidationFailed(f"receipt {code} is {row.status}; choose an open receipt")
        ctx.state["data"] = {"receipt": code}
        ctx.go("product")
        return ok(f"Receipt {code} open: scan a product")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "receipt":
            return self._open(ctx, value)
        if step == "product":
            view = receipts.receipt_view(ctx.session, data["receipt"])
            self.read_item(ctx, value, from_location_id=None, expected="product")
            item = data["item"]
            if item["sku"] not in {line.sku for line in view.lines}:
                expected = ", ".join(line.sku for line in view.lines)
                data.pop("item")
                raise ValidationFailed(
                    f"scanned {item['sku']} ({item['name']}): not on receipt {view.code}; "
                    f"expected {expected}",
                    field="scan",
                )
            return self._after_item(ctx)
        if step == "lot":
            lot = clean(value)
            if not lot or len(lot) > 64 or not lot.isprintable():
                raise ValidationFailed(
                    "entered no usable lot code: scan or type the lot", field="lot"
                )
            data["item"]["lot"] = lot
            return self._after_item(ctx)
        if step == "expiry":
            data["item"]["expiry"] = parse_date(value).isoformat()
            return self._after_item(ctx)
        if step == "quantity":
            return self._book(ctx, _quantity(ctx, value), approved_by=None)
        if step == "supervisor":
            supervisor = check_supervisor(ctx.uow, badge=clean(value))
            return self._book(ctx, int(data["pending_qty"]), approved_by=supervisor.username)
        raise ValidationFailed("nothing to scan here", field="scan")

    def _after_item(self, ctx: Ctx) -> Outcome:
        item = ctx.data["item"]
        if item["lot_tracked"]:
            if not item.get("lot"):
                ctx.go("lot")
                return info(f"{item['sku']} is lot-tracked: scan or type the lot")
            product = get_product(ctx.session, item["sku"])
            known = ctx.session.scalar(
                select(Lot.expiry_date).where(Lot.product_id == product.id, Lot.code == item["lot"])
            )
            if not item.get("expiry") and known is not None:
                item["expiry"] = known.isoformat()
            if not item.get("expiry") and product.shelf_life_days is not None:
                ctx.go("expiry")
                return info(f"Lot {item['lot']} is new: enter its expiry date")
        ctx.go("quantity")
        default = ctx.data.get("default_qty")
        return info(
            f"{_item_text(item)}: press Enter for {default}"
            if default
            else f"{_item_text(item)}: enter the quantity"
        )

    def _book(self, ctx: Ctx, quantity: int, *, approved_by: str | None) -> Outcome:
        data = ctx.data
        item = data["item"]
        try:
            booking = receipts.receive_line(
                ctx.uow,
                receipt=data["receipt"],
                sku=item["sku"],
                quantity=quantity,
                lot=item.get("lot"),
                expiry_date=date.fromisoformat(item["expiry"]) if item.get("expiry") else None,
                approved_by=approved_by,
                actor=ctx.user.username,
            )
        except receipts.OverTolerance as exc:
            ctx.go("supervisor", pending_qty=quantity)
            return Outcome(
                "error",
                f"Over tolerance: {exc.message}",
                scanned=str(quantity),
                expected=f"at most {exc.allowed - int(exc.context['received'])} more",
                next_step="A supervisor scans their badge to approve, or press Cancel",
            )
        for key in ("item", "default_qty", "pending_qty"):
            data.pop(key, None)
        ctx.go("product")
        approved = f" (approved by {approved_by})" if approved_by else ""
        return ok(
            f"Received {booking.quantity} x {booking.sku}"
            f"{' lot ' + booking.lot if booking.lot else ''} into {booking.location}{approved}: "
            f"{booking.received}/{booking.expected}"
        )

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "open" and ctx.step == "receipt":
            return self._open(ctx, arg)
        if action == "cancel_line":
            for key in ("item", "default_qty", "pending_qty"):
                ctx.data.pop(key, None)
            ctx.go("product")
            return info("Line cancelled: nothing booked; scan a product")
        if action == "close" and ctx.step in ("product", "lot", "expiry", "quantity"):
            ctx.go("confirm_close")
            return info("Check the differences, then confirm closing")
        if action == "confirm_close" and ctx.step == "confirm_close":
            report = receipts.close_receipt(
                ctx.uow, receipt=ctx.data["receipt"], actor=ctx.user.username
            )
            ctx.go("closed")
            short, over = len(report.shortages), len(report.overages)
            return ok(f"Receipt {report.code} closed: {short} short, {over} over")
        if action == "back" and ctx.step == "confirm_close":
            ctx.go("product")
            return info("Scan a product")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "receipt":
            rows = receipts.list_receipts(ctx.session, warehouse=ctx.warehouse.code)
            return Screen(
                name="receive.receipt",
                title="Receive",
                prompt="Scan the receipt barcode",
                expects=f"an open receipt of {ctx.warehouse.code} (RC-...)",
                on_error="Scan the receipt's barcode, or tap it in the list",
                hint="Or choose an expected receipt",
                choices=[
                    Choice(
                        r.code,
                        "open",
                        r.code,
                        f"{r.supplier_name} · due {r.expected_date:%d %b} · {r.received}/{r.expected}",
                    )
                    for r in rows
                ],
            )
        view = receipts.receipt_view(ctx.session, data["receipt"])
        table = Table(
            columns=["SKU", "Expected", "Received"],
            rows=[
                (
                    [f"{ln.sku} {ln.name}", str(ln.expected), str(ln.received)],
                    "over"
                    if ln.received > ln.expected
                    else "done"
                    if ln.received == ln.expected
                    else "",
                )
                for ln in view.lines
            ],
        )
        facts = [("Receipt", view.code), ("Supplier", view.supplier_name)]
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
            if item.get("expiry"):
                facts.append(("Expiry", item["expiry"]))
        title = f"Receive {view.code}"
        if step == "product":
            return Screen(
                name="receive.product",
                title=title,
                prompt="Scan a product",
                expects=f"a product on {view.code}: "
                + (
                    ", ".join(ln.sku for ln in view.lines if ln.outstanding) or "all lines received"
                ),
                on_error="Scan a product from the list; set aside goods that are not on it",
                hint="GS1 barcodes fill in lot, expiry and count",
                facts=facts,
                table=table,
                buttons=[Button("Close receipt", "close", style="danger")],
            )
        if step == "lot":
            return Screen(
                name="receive.lot",
                title=title,
                prompt=f"Scan or type the lot of {item['sku'] if item else ''}",
                facts=facts,
                buttons=[Button("Cancel line", "cancel_line")],
            )
        if step == "expiry":
            return Screen(
                name="receive.expiry",
                title=title,
                prompt="Enter the expiry date",
                hint="YYYY-MM-DD or YYMMDD",
                input="number",
                facts=facts,
                buttons=[Button("Cancel line", "cancel_line")],
            )
        if step == "quantity":
            default = data.get("default_qty")
            return Screen(
                name="receive.quantity",
                title=title,
                prompt=f"Quantity — Enter for {default}" if default else "Enter the quantity",
                input="number",
                placeholder=str(default or ""),
                facts=facts,
                buttons=[Button("Cancel line", "cancel_line")],
            )
        if step == "supervisor":
            return Screen(
                name="receive.supervisor",
                title=title,
                prompt="Supervisor: scan your badge to approve",
                expects="a supervisor's badge",
                on_error="Call a supervisor to scan their badge, or press Cancel",
                secret=True,
                hint=f"{data.get('pending_qty')} of {item['sku'] if item else ''} is over tolerance",
                facts=facts,
                table=table,
                buttons=[Button("Cancel", "cancel_line", style="danger")],
            )
        if step == "confirm_close":
            return Screen(
                name="receive.confirm_close",
                title=title,
                prompt="Close this receipt?",
                hint="Lines not fully received are reported short",
                facts=facts,
                table=table,
                buttons=[
                    Button("Confirm close", "confirm_close", style="danger"),
                    Button("Back", "back"),
                ],
            )
        return Screen(
            name="receive.closed",
            title=title,
            prompt="Receipt closed",
            hint="Put the goods away next",
            facts=[
                ("Receipt", view.code),
                (
                    "Short",
                    ", ".join(f"{ln.sku} -{ln.outstanding}" for ln in view.lines if ln.outstanding)
                    or "none",
                ),
                (
                    "Over",
                    ", ".join(f"{ln.sku} +{ln.over}" for ln in view.lines if ln.over) or "none",
                ),
            ],
            table=table,
            buttons=[
                Button("Put away", "start", "putaway", style="primary"),
                Button("Menu", "menu"),
            ],
        )


# Put away -------------------------------------------------------------------------------------


class PutawayFlow(Flow):
    name = "putaway"
    title = "Put away"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("item")
        return info("Scan a product in receiving")

    def _dock(self, ctx: Ctx) -> LocationRef:
        return storage_location_of_kind(ctx.session, ctx.warehouse.id, LocationKind.RECEIVING)

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "item":
            for key in ("item", "default_qty", "available", "suggested", "override"):
                data.pop(key, None)
            pending = self.read_item(ctx, value, from_location_id=self._dock(ctx).id)
            if pending is not None:
                ctx.go("lot")
                return pending
            return self._ask_quantity(ctx)
        if step == "lot":
            self.choose_lot(ctx, value)
            return self._ask_quantity(ctx)
        if step == "quantity":
            quantity = _quantity(ctx, value)
            if quantity > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {data['available']} in receiving", field="quantity"
                )
            item = data["item"]
            suggestion = putaway.suggest(
                ctx.session,
                warehouse=ctx.warehouse.code,
                sku=item["sku"],
                lot=item.get("lot"),
                quantity=quantity,
            )
            ctx.go(
                "bin",
                quantity=quantity,
                suggested=_label(suggestion.location),
                rule=putaway.RULE_LABELS[suggestion.rule],
            )
            return info(f"Take {quantity} to {_label(suggestion.location)}")
        if step == "bin":
            target = ctx.location(value)
            if _label(target) != data["suggested"] and target.code != data["suggested"]:
                data["override"] = _label(target)
                return Outcome(
                    "error",
                    f"Wrong bin: scanned {_label(target)}, expected {data['suggested']}",
                    scanned=_label(target),
                    expected=data["suggested"],
                    next_step=f"Scan {data['suggested']}, or press Override to use {_label(target)}",
                )
            return self._book(ctx, target.code, override=False)
        raise ValidationFailed("nothing to scan here", field="scan")

    def _ask_quantity(self, ctx: Ctx) -> Outcome:
        data = ctx.data
        if not data.get("default_qty") or int(data["default_qty"]) > int(data["available"]):
            data["default_qty"] = data["available"]
        ctx.go("quantity")
        return info(f"{_item_text(data['item'])}: {data['available']} in receiving")

    def _book(self, ctx: Ctx, location: str, *, override: bool) -> Outcome:
        data = ctx.data
        item = data["item"]
        result = putaway.putaway(
            ctx.uow,
            warehouse=ctx.warehouse.code,
            sku=item["sku"],
            lot=item.get("lot"),
            quantity=int(data["quantity"]),
            to_location=location,
            override=override,
            actor=ctx.user.username,
        )
        ctx.state["data"] = {}
        ctx.go("item")
        note = " (override)" if result.overridden else ""
        return ok(f"Put {result.quantity} x {_item_text(item)} in {result.to_location}{note}")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            return self._ask_quantity(ctx)
        if action == "override" and ctx.step == "bin" and ctx.data.get("override"):
            return self._book(ctx, ctx.data["override"], override=True)
        if action == "back":
            ctx.state["data"] = {}
            ctx.go("item")
            return info("Scan a product in receiving")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        item = data.get("item")
        facts: list[tuple[str, str]] = []
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
        if step == "item":
            rows = inquiry.location_contents(ctx.session, self._dock(ctx))
            return Screen(
                name="putaway.item",
                title="Put away",
                prompt="Scan a product in receiving",
                expects="a product that is in receiving",
                table=Table(
                    columns=["In receiving", "Lot", "Qty"],
                    rows=[([f"{r.sku} {r.name}", r.lot or "", str(r.quantity)], "") for r in rows],
                )
                if rows
                else None,
                hint="" if rows else "Receiving is empty",
            )
        if step == "lot":
            return self.lot_screen(ctx, "Put away")
        if step == "quantity":
            return Screen(
                name="putaway.quantity",
                title="Put away",
                prompt=f"Quantity — Enter for {data.get('default_qty')}",
                input="number",
                placeholder=str(data.get("default_qty") or ""),
                facts=[*facts, ("In receiving", str(data.get("available")))],
                buttons=[Button("Back", "back")],
            )
        buttons = [Button("Back", "back")]
        if data.get("override"):
            buttons.insert(
                0, Button(f"Override: use {data['override']}", "override", style="danger")
            )
        return Screen(
            name="putaway.bin",
            title="Put away",
            prompt=f"Take to {data.get('suggested')}",
            expects=f"bin {data.get('suggested')}",
            hint=f"Suggested: {data.get('rule')}. Scan the bin to confirm",
            facts=[
                *facts,
                ("Quantity", str(data.get("quantity"))),
                ("Bin", str(data.get("suggested"))),
            ],
            buttons=buttons,
        )


# Move -----------------------------------------------------------------------------------------


class MoveFlow(Flow):
    name = "move"
    title = "Move"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("from")
        return info("Scan the bin to take from")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "from":
            source = ctx.location(value, field="from")
            if not source.holds_stock:
                raise ValidationFailed(f"scanned {_label(source)}: it holds no stock", field="from")
            ctx.state["data"] = {
                "from": source.code,
                "from_label": _label(source),
                "from_id": source.id,
            }
            ctx.go("item")
            return ok(f"From {_label(source)}: scan the product")
        if step == "item":
            pending = self.read_item(ctx, value, from_location_id=int(data["from_id"]))
            if pending is not None:
                ctx.go("lot")
                return pending
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: {data['available']} here")
        if step == "lot":
            self.choose_lot(ctx, value)
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: {data['available']} here")
        if step == "quantity":
            quantity = _quantity(ctx, value)
            if quantity > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {data['available']} in {data['from_label']}",
                    field="quantity",
                )
            ctx.go("to", quantity=quantity)
            return info(f"Take {quantity}: scan the destination bin")
        if step == "to":
            target = ctx.location(value, field="to")
            item = data["item"]
            stock.move(
                ctx.uow,
                sku=item["sku"],
                lot=item.get("lot"),
                quantity=int(data["quantity"]),
                warehouse=ctx.warehouse.code,
                from_location=data["from"],
                to_location=target.code,
                actor=ctx.user.username,
            )
            moved = f"Moved {data['quantity']} x {_item_text(item)} {data['from_label']} → {_label(target)}"
            ctx.state["data"] = {}
            ctx.go("from")
            return ok(moved)
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            ctx.go("quantity")
            return info(f"{_item_text(ctx.data['item'])}: {ctx.data['available']} here")
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        facts: list[tuple[str, str]] = []
        if data.get("from_label"):
            facts.append(("From", data["from_label"]))
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
            if item.get("lot"):
                facts.append(("Lot", item["lot"]))
        if data.get("quantity"):
            facts.append(("Quantity", str(data["quantity"])))
        back = [Button("Start over", "back")]
        if step == "from":
            return Screen(name="move.from", title="Move", prompt="Scan the bin to take from")
        if step == "item":
            return Screen(
                name="move.item", title="Move", prompt="Scan the product", facts=facts, buttons=back
            )
        if step == "lot":
            return self.lot_screen(ctx, "Move")
        if step == "quantity":
            return Screen(
                name="move.quantity",
                title="Move",
                prompt="Enter the quantity",
                hint=f"{data.get('available')} here",
                input="number",
                facts=facts,
                buttons=back,
            )
        return Screen(
            name="move.to",
            title="Move",
            prompt="Scan the destination bin",
            facts=facts,
            buttons=back,
        )


# Count ----------------------------------------------------------------------------------------


class CountFlow(Flow):
    name = "count"
    title = "Count"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("task")
        if arg:
            return self._open(ctx, arg)
        return info("Scan a bin to count or choose a task")

    def _open(self, ctx: Ctx, value: str) -> Outcome:
        value = clean(value)
        task = ctx.session.scalar(
            select(CountTask).where(
                CountTask.code == value.upper(), CountTask.warehouse_id == ctx.warehouse.id
            )
        )
        if task is None:
            loc = ctx.location(value)
            task = ctx.session.scalar(
                select(CountTask).where(
                    CountTask.location_id == loc.id,
                    CountTask.status.in_([CountStatus.OPEN, CountStatus.RECOUNT]),
                )
            )
            if task is None:
                raise ValidationFailed(
                    f"scanned {_label(loc)}: no count is waiting for this bin", field="scan"
                )
        if task.status not in (CountStatus.OPEN, CountStatus.RECOUNT):
            raise ValidationFailed(f"count {task.code} is {task.status}, not waiting for a count")
        loc_row = ctx.session.get(Location, task.location_id)
        assert loc_row is not None
        ctx.state["data"] = {
            "task": task.code,
            "bin": loc_row.barcode or loc_row.code,
            "bin_id": loc_row.id,
            "counted": [],
        }
        ctx.go("count")
        return ok(f"Count {loc_row.barcode or loc_row.code}: scan every product in the bin")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "task":
            return self._open(ctx, value)
        if step == "count":
            if clean(value).upper() in (str(data["bin"]).upper(),):
                raise ValidationFailed(
                    f"scanned the bin {data['bin']} again: scan the products in it, then Done",
                    field="scan",
                )
            scanned = resolve_product(ctx.session, value)
            item = {
                "sku": scanned.product.sku,
                "name": scanned.name,
                "lot_tracked": scanned.product.lot_tracked,
                "lot": scanned.lot if scanned.product.lot_tracked else None,
                "expiry": scanned.expiry_date.isoformat() if scanned.expiry_date else None,
            }
            data["item"] = item
            data["default_qty"] = scanned.count
            if item["lot_tracked"] and not item["lot"]:
                ctx.go("lot")
                return info(f"{item['sku']} is lot-tracked: scan or type the lot")
            ctx.go("quantity")
            return info(f"{_item_text(item)}: how many?")
        if step == "lot":
            lot = clean(value)
            if not lot:
                raise ValidationFailed("entered no lot: scan or type the lot", field="lot")
            data["item"]["lot"] = lot
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: how many?")
        if step == "quantity":
            value_clean = clean(value)
            quantity = 0 if value_clean == "0" else _quantity(ctx, value)
            item = data.pop("item")
            data.pop("default_qty", None)
            data["counted"].append(
                {
                    "sku": item["sku"],
                    "lot": item.get("lot"),
                    "expiry": item.get("expiry"),
                    "quantity": quantity,
                }
            )
            ctx.go("count")
            return ok(f"Counted {quantity} x {_item_text(item)}")
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        data = ctx.data
        if action == "open" and ctx.step == "task":
            return self._open(ctx, arg)
        if action == "done" and ctx.step == "count":
            outcome = counts.submit_count(
                ctx.uow,
                task_code=data["task"],
                lines=[
                    counts.CountedLine(
                        sku=c["sku"],
                        quantity=int(c["quantity"]),
                        lot=c.get("lot"),
                        expiry_date=date.fromisoformat(c["expiry"]) if c.get("expiry") else None,
                    )
                    for c in data["counted"]
                ],
                actor=ctx.user.username,
            )
            if outcome.status == CountStatus.RECOUNT:
                data["counted"] = []
                return Outcome(
                    "error",
                    f"Large difference in {data['bin']}: count the bin again",
                    expected="a second, blind count",
                    next_step="Scan every product in the bin again, then Done",
                )
            ctx.state["data"] = {}
            ctx.go("task")
            if outcome.status == CountStatus.PENDING_APPROVAL:
                return info(f"Count {outcome.task_code} sent to a supervisor for approval")
            return ok(f"Count {outcome.task_code} posted: {outcome.posted_moves} adjustment(s)")
        if action == "undo" and ctx.step == "count" and data.get("counted"):
            last = data["counted"].pop()
            return info(f"Removed {last['quantity']} x {last['sku']}")
        if action == "back":
            data.pop("item", None)
            ctx.go("count" if data.get("task") else "task")
            return info("Scan a product")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "task":
            tasks = counts.list_count_tasks(
                ctx.session,
                warehouse=ctx.warehouse.code,
                statuses=[CountStatus.OPEN, CountStatus.RECOUNT],
                limit=30,
            )
            return Screen(
                name="count.task",
                title="Count",
                prompt="Scan a bin to count",
                hint="Or choose a count task",
                choices=[
                    Choice(
                        t.location_barcode or t.location,
                        "open",
                        t.code,
                        f"{t.code} · {t.status}{' · class ' + t.velocity_class if t.velocity_class else ''}",
                    )
                    for t in tasks
                ],
            )
        counted = Table(
            columns=["Counted", "Lot", "Qty"],
            rows=[
                ([c["sku"], c.get("lot") or "", str(c["quantity"])], "")
                for c in data.get("counted", [])
            ],
        )
        facts = [("Bin", str(data.get("bin"))), ("Task", str(data.get("task")))]
        item = data.get("item")
        if step == "count":
            return Screen(
                name="count.count",
                title=f"Count {data.get('bin')}",
                prompt="Scan a product in the bin",
                expects="a product barcode (EAN/UPC, GTIN or GS1)",
                hint="Blind count: count what you see. Press Done when the bin is finished",
                facts=facts,
                table=counted if data.get("counted") else None,
                buttons=[
                    Button("Done", "done", style="primary"),
                    Button("Undo last", "undo"),
                ],
            )
        if step == "lot":
            return Screen(
                name="count.lot",
                title=f"Count {data.get('bin')}",
                prompt=f"Scan or type the lot of {item['sku'] if item else ''}",
                facts=facts,
                buttons=[Button("Back", "back")],
            )
        return Screen(
            name="count.quantity",
            title=f"Count {data.get('bin')}",
            prompt=f"How many {_item_text(item) if item else ''}?",
            hint=f"Enter for {data['default_qty']}"
            if data.get("default_qty")
            else "Type the quantity (0 if none)",
            input="number",
            facts=facts,
            buttons=[Button("Back", "back")],
        )


class ApprovalsFlow(Flow):
    name = "approvals"
    title = "Approvals"
    supervisors_only = True

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("list")
        return info("Counts waiting for approval")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        if ctx.step == "list":
            return self._open(ctx, value)
        raise ValidationFailed("use Approve or Reject", field="scan")

    def _open(self, ctx: Ctx, code: str) -> Outcome:
        detail = counts.get_count_task(ctx.session, clean(code).upper(), reveal_expected=True)
        if detail.status != CountStatus.PENDING_APPROVAL:
            raise ValidationFailed(
                f"count {detail.code} is {detail.status}, not waiting for approval"
            )
        ctx.go("review", task=detail.code)
        return info(f"Review count {detail.code}")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "open" and ctx.step == "list":
            return self._open(ctx, arg)
        if ctx.step == "review" and action in ("approve", "reject"):
            code = ctx.data["task"]
            if action == "approve":
                counts.approve_count(ctx.uow, task_code=code, actor=ctx.user.username)
                message = f"Count {code} approved and posted"
            else:
                counts.reject_count(ctx.uow, task_code=code, actor=ctx.user.username)
                message = f"Count {code} rejected: nothing posted"
            ctx.state["data"] = {}
            ctx.go("list")
            return ok(message)
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        if ctx.step == "list":
            tasks = counts.list_count_tasks(
                ctx.session, warehouse=ctx.warehouse.code, statuses=[CountStatus.PENDING_APPROVAL]
            )
            return Screen(
                name="approvals.list",
                title="Approvals",
                prompt="Choose a count to review",
                hint="" if tasks else "Nothing is waiting",
                choices=[
                    Choice(
                        t.location_barcode or t.location,
                        "open",
                        t.code,
                        f"{t.code} · counted by {t.counted_by or '?'}",
                    )
                    for t in tasks
                ],
            )
        detail = counts.get_count_task(ctx.session, ctx.data["task"], reveal_expected=True)
        return Screen(
            name="approvals.review",
            title=f"Approve {detail.code}",
            prompt=f"Bin {detail.location_barcode or detail.location}",
            hint="Approve posts the differences to the ledger",
            table=Table(
                columns=["SKU", "Lot", "System", "Counted", "Diff"],
                rows=[
                    (
                        [
                            ln.sku,
                            ln.lot or "",
                            str(ln.expected),
                            str(ln.counted),
                            f"{ln.variance:+d}",
                        ],
                        "over" if ln.variance else "",
                    )
                    for ln in detail.lines
                ],
            ),
            buttons=[
                Button("Approve", "approve", style="primary"),
                Button("Reject", "reject", style="danger"),
                Button("Back", "back"),
            ],
        )


# Transfers ------------------------------------------------------------------------------------


class TransferOutFlow(Flow):
    name = "transfer_out"
    title = "Transfer out"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {"lines": []}
        ctx.go("destination")
        return info("Choose the destination warehouse")

    def _destination(self, ctx: Ctx, code: str) -> Outcome:
        code = clean(code).upper()
        row = ctx.session.scalar(select(Warehouse).where(Warehouse.code == code, Warehouse.active))
        if row is None or row.id == ctx.warehouse.id:
            raise ValidationFailed(
                f"scanned {printable(code)}: expected another warehouse's code",
                field="to_warehouse",
            )
        ctx.go("from", to=row.code)
        return ok(f"To {row.code}: scan the bin to take from")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step == "destination":
            return self._destination(ctx, value)
        if step == "from":
            source = ctx.location(value, field="from")
            if not source.holds_stock:
                raise ValidationFailed(f"scanned {_label(source)}: it holds no stock", field="from")
            ctx.go(
                "item", **{"from": source.code, "from_label": _label(source), "from_id": source.id}
            )
            return ok(f"From {_label(source)}: scan the product")
        if step == "item":
            pending = self.read_item(ctx, value, from_location_id=int(data["from_id"]))
            if pending is not None:
                ctx.go("lot")
                return pending
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: {data['available']} here")
        if step == "lot":
            self.choose_lot(ctx, value)
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: {data['available']} here")
        if step == "quantity":
            quantity = _quantity(ctx, value)
            already = sum(
                int(ln["quantity"])
                for ln in data["lines"]
                if ln["sku"] == data["item"]["sku"]
                and ln.get("lot") == data["item"].get("lot")
                and ln["from"] == data["from"]
            )
            if quantity + already > int(data["available"]):
                raise ValidationFailed(
                    f"entered {quantity}: only {int(data['available']) - already} left in {data['from_label']}",
                    field="quantity",
                )
            item = data.pop("item")
            data["lines"].append(
                {
                    "sku": item["sku"],
                    "lot": item.get("lot"),
                    "from": data["from"],
                    "quantity": quantity,
                }
            )
            data.pop("default_qty", None)
            ctx.go("from")
            return ok(f"Added {quantity} x {_item_text(item)}; scan the next bin or press Ship")
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        data = ctx.data
        if action == "pick" and ctx.step == "destination":
            return self._destination(ctx, arg)
        if action == "lot" and ctx.step == "lot":
            self.choose_lot(ctx, arg)
            ctx.go("quantity")
            return info(f"{_item_text(data['item'])}: {data['available']} here")
        if action == "ship" and data.get("lines"):
            result = stock.ship_transfer(
                ctx.uow,
                from_warehouse=ctx.warehouse.code,
                to_warehouse=data["to"],
                lines=[
                    stock.TransferLineRequest(
                        sku=ln["sku"],
                        quantity=int(ln["quantity"]),
                        location=ln["from"],
                        lot=ln.get("lot"),
                    )
                    for ln in data["lines"]
                ],
                actor=ctx.user.username,
            )
            ctx.state["data"] = {"reference": result.reference, "to": data["to"]}
            ctx.go("shipped")
            return ok(f"Transfer {result.reference} shipped to {data['to']}: in transit")
        if action == "back":
            for key in ("item", "default_qty", "available"):
                data.pop(key, None)
            ctx.go("from" if data.get("to") else "destination")
            return info("Scan the bin to take from")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step, data = ctx.step, ctx.data
        if step == "destination":
            rows = ctx.session.scalars(
                select(Warehouse)
                .where(Warehouse.active, Warehouse.id != ctx.warehouse.id)
                .order_by(Warehouse.code)
            ).all()
            return Screen(
                name="transfer_out.destination",
                title="Transfer out",
                prompt="Choose the destination warehouse",
                choices=[Choice(w.code, "pick", w.code, w.name) for w in rows],
            )
        if step == "shipped":
            return Screen(
                name="transfer_out.shipped",
                title="Transfer out",
                prompt=f"Shipped {data.get('reference')}",
                hint=f"Label the goods with {data.get('reference')}; {data.get('to')} receives them",
                facts=[("Transfer", str(data.get("reference"))), ("To", str(data.get("to")))],
                buttons=[
                    Button("New transfer", "start", "transfer_out", style="primary"),
                    Button("Menu", "menu"),
                ],
            )
        lines = Table(
            columns=["SKU", "Lot", "From", "Qty"],
            rows=[
                ([ln["sku"], ln.get("lot") or "", ln["from"], str(ln["quantity"])], "")
                for ln in data.get("lines", [])
            ],
        )
        facts = [("To", str(data.get("to")))]
        if data.get("from_label") and step != "from":
            facts.append(("From", data["from_label"]))
        item = data.get("item")
        if item:
            facts.append(("Item", f"{item['sku']} {item['name']}"))
        buttons = [Button("Back", "back")]
        if data.get("lines"):
            buttons.insert(0, Button(f"Ship {len(data['lines'])} line(s)", "ship", style="primary"))
        prompts = {
            "from": "Scan the bin to take from",
            "item": "Scan the product",
            "quantity": "Enter the quantity",
        }
        if step == "lot":
            return self.lot_screen(ctx, "Transfer out")
        return Screen(
            name=f"transfer_out.{step}",
            title=f"Transfer to {data.get('to')}",
            prompt=prompts.get(step, ""),
            hint=f"{data.get('available')} here" if step == "quantity" else "",
            input="number" if step == "quantity" else "text",
            facts=facts,
            table=lines if data.get("lines") else None,
            buttons=buttons,
        )


class TransferInFlow(Flow):
    name = "transfer_in"
    title = "Transfer in"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("transfer")
        if arg:
            return self._open(ctx, arg)
        return info("Scan the transfer's barcode or choose it")

    def _open(self, ctx: Ctx, reference: str) -> Outcome:
        reference = clean(reference).upper()
        row = ctx.session.scalar(select(Transfer).where(Transfer.reference == reference))
        if row is None:
            raise ValidationFailed(f"scanned {printable(reference)}: no transfer has this barcode")
        if row.to_warehouse_id != ctx.warehouse.id:
            raise ValidationFailed(
                f"transfer {reference} goes to another warehouse, not {ctx.warehouse.code}"
            )
        if row.status == "received":
            raise ValidationFailed(f"transfer {reference} was already received")
        ctx.go("confirm", reference=reference)
        return ok(f"Transfer {reference}: check the goods, then Receive")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        if ctx.step == "transfer":
            return self._open(ctx, value)
        if ctx.step == "confirm":
            scanned = resolve_product(ctx.session, value)
            lines = self._lines(ctx)
            if scanned.product.sku not in {ln[0] for ln in lines}:
                raise ValidationFailed(
                    f"scanned {scanned.product.sku}: not on transfer {ctx.data['reference']}",
                    field="scan",
                )
            return ok(f"{scanned.product.sku} is on this transfer")
        raise ValidationFailed("nothing to scan here", field="scan")

    def _lines(self, ctx: Ctx) -> list[tuple[str, str, int, int]]:
        transfer = ctx.session.scalar(
            select(Transfer).where(Transfer.reference == ctx.data["reference"])
        )
        assert transfer is not None
        out = []
        for line in transfer.lines:
            product = ctx.session.get(Product, line.product_id)
            lot = ctx.session.get(Lot, line.lot_id) if line.lot_id else None
            out.append(
                (
                    product.sku if product else "?",
                    lot.code if lot else "",
                    line.quantity,
                    line.received_quantity,
                )
            )
        return out

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        if action == "open" and ctx.step == "transfer":
            return self._open(ctx, arg)
        if action == "receive" and ctx.step == "confirm":
            result = stock.receive_transfer(
                ctx.uow, reference=ctx.data["reference"], actor=ctx.user.username
            )
            ctx.state["data"] = {}
            ctx.go("transfer")
            return ok(f"Transfer {result.reference} received into receiving: put it away next")
        if action == "back":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        if ctx.step == "transfer":
            rows = ctx.session.execute(
                select(Transfer.reference, Warehouse.code, Transfer.shipped_at)
                .join(Warehouse, Warehouse.id == Transfer.from_warehouse_id)
                .where(Transfer.to_warehouse_id == ctx.warehouse.id, Transfer.status != "received")
                .order_by(Transfer.shipped_at)
                .limit(30)
            ).all()
            return Screen(
                name="transfer_in.transfer",
                title="Transfer in",
                prompt="Scan the transfer barcode",
                hint="Or choose an incoming transfer" if rows else "No transfers are on their way",
                choices=[
                    Choice(
                        r.reference,
                        "open",
                        r.reference,
                        f"from {r.code} · {r.shipped_at:%d %b %H:%M}",
                    )
                    for r in rows
                ],
            )
        return Screen(
            name="transfer_in.confirm",
            title=f"Transfer {ctx.data['reference']}",
            prompt="Check the goods, then Receive",
            hint="Scanning a product checks it is on this transfer",
            table=Table(
                columns=["SKU", "Lot", "Shipped", "Received"],
                rows=[([sku, lot, str(q), str(r)], "") for sku, lot, q, r in self._lines(ctx)],
            ),
            buttons=[Button("Receive all", "receive", style="primary"), Button("Back", "back")],
        )


# Inquiry --------------------------------------------------------------------------------------


class InquiryFlow(Flow):
    name = "inquiry"
    title = "Inquiry"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("scan")
        if arg:
            return self.on_scan(ctx, arg)
        return info("Scan a bin or a product")

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        value = clean(value)
        loc_id = ctx.session.scalar(
            select(Location.id).where(
                Location.warehouse_id == ctx.warehouse.id,
                (Location.barcode == value) | (Location.code == value.upper()),
            )
        )
        if loc_id is not None:
            loc = ctx.location(value)
            ctx.state["data"] = {"kind": "location", "value": loc.code, "label": _label(loc)}
            return ok(f"Bin {_label(loc)}")
        scanned = resolve_product(ctx.session, value, expected="bin or product")
        ctx.state["data"] = {"kind": "product", "value": scanned.product.sku, "name": scanned.name}
        return ok(f"Product {scanned.product.sku}")

    def screen(self, ctx: Ctx) -> Screen:
        data = ctx.data
        screen = Screen(name="inquiry.scan", title="Inquiry", prompt="Scan a bin or a product")
        if data.get("kind") == "location":
            loc = ctx.location(data["value"])
            rows = inquiry.location_contents(ctx.session, loc)
            screen.facts = [("Bin", data["label"]), ("Items", str(sum(r.quantity for r in rows)))]
            screen.table = Table(
                columns=["SKU", "Lot", "Expiry", "Qty"],
                rows=[
                    (
                        [
                            f"{r.sku} {r.name}",
                            r.lot or "",
                            r.expiry_date.isoformat() if r.expiry_date else "",
                            str(r.quantity),
                        ],
                        "",
                    )
                    for r in rows
                ],
                caption="" if rows else "Empty",
            )
        elif data.get("kind") == "product":
            product = get_product(ctx.session, data["value"])
            rows = inquiry.product_whereabouts(ctx.session, product)
            here = [r for r in rows if r.warehouse == ctx.warehouse.code]
            elsewhere: dict[str, int] = {}
            for r in rows:
                if r.warehouse != ctx.warehouse.code:
                    elsewhere[r.warehouse] = elsewhere.get(r.warehouse, 0) + r.quantity
            screen.facts = [
                ("Product", f"{product.sku} {data.get('name', '')}"),
                (f"In {ctx.warehouse.code}", str(sum(r.quantity for r in here))),
                *[(f"In {wh}", str(qty)) for wh, qty in sorted(elsewhere.items())],
            ]
            screen.links = [
                Link(
                    f"Print a label for {product.sku}",
                    f"/handheld/labels/product.pdf?sku={quote(product.sku)}",
                    new_tab=True,
                )
            ]
            screen.table = Table(
                columns=["Location", "Lot", "Qty"],
                rows=[([r.barcode or r.location, r.lot or "", str(r.quantity)], "") for r in here],
                caption="" if here else f"None in {ctx.warehouse.code}",
            )
        return screen


# Registry and dispatch ------------------------------------------------------------------------

FLOWS: dict[str, Flow] = {
    flow.name: flow
    for flow in (
        ReceiveFlow(),
        PutawayFlow(),
        MoveFlow(),
        CountFlow(),
        TransferOutFlow(),
        TransferInFlow(),
        InquiryFlow(),
        ApprovalsFlow(),
    )
}
MENU_ORDER = [
    "receive",
    "putaway",
    "move",
    "count",
    "transfer_out",
    "transfer_in",
    "inquiry",
    "approvals",
]


def menu_screen(ctx: Ctx) -> Screen:
    tiles = [
        Choice(FLOWS[name].title, "start", name)
        for name in MENU_ORDER
        if not FLOWS[name].supervisors_only or can_supervise(ctx.user)
    ]
    return Screen(
        name="menu",
        title=f"{ctx.warehouse.code} · {ctx.user.display_name}",
        prompt="Scan anything, or choose a task",
        hint="A receipt, transfer, bin or product barcode opens the right task",
        menu=tiles,
        links=[
            Link(f"Change warehouse ({ctx.warehouse.code})", "/handheld/switch-warehouse"),
            *(
                [Link("Print bin labels (PDF)", "/handheld/labels/bins.pdf", new_tab=True)]
                if can_supervise(ctx.user)
                else []
            ),
        ],
    )


def _start(ctx: Ctx, name: str, arg: str = "") -> Outcome:
    flow = FLOWS.get(name)
    if flow is None:
        raise ValidationFailed(f"there is no task {name!r}", field="action")
    if flow.supervisors_only and not can_supervise(ctx.user):
        raise Forbidden(f"{flow.title} is for supervisors", field="action")
    ctx.state.clear()
    ctx.state.update({"flow": name, "step": "", "data": {}})
    return flow.start(ctx, arg)


def _menu_scan(ctx: Ctx, value: str) -> Outcome:
    """A scan on the menu opens the task it belongs to."""
    code = clean(value).upper()
    session = ctx.session
    if session.scalar(select(Receipt.id).where(Receipt.code == code)) is not None:
        return _start(ctx, "receive", code)
    if session.scalar(select(Transfer.id).where(Transfer.reference == code)) is not None:
        return _start(ctx, "transfer_in", code)
    if session.scalar(select(CountTask.id).where(CountTask.code == code)) is not None:
        return _start(ctx, "count", code)
    return _start(ctx, "inquiry", clean(value))


def screen_for(ctx: Ctx) -> Screen:
    flow = FLOWS.get(str(ctx.state.get("flow", MENU)))
    if flow is None:
        return menu_screen(ctx)
    return flow.screen(ctx)


@dataclass(frozen=True)
class Entry:
    """One scan or button press from a device, with the id the device gave it."""

    id: str
    kind: str  # "scan" or "action"
    value: str = ""
    action: str = ""
    arg: str = ""


def apply(ctx: Ctx, entry: Entry) -> Outcome:
    """Apply one entry to the session's flow; a refused entry leaves stock and state unchanged."""
    before = copy.deepcopy(ctx.state)
    try:
        with ctx.session.begin_nested():
            outcome = _dispatch(ctx, entry)
    except WmsError as exc:
        ctx.state.clear()
        ctx.state.update(before)
        current = screen_for(ctx)
        if current.on_error:
            next_step = current.on_error
        elif current.input == "number":
            next_step = "Type it again and press Enter"
        else:
            next_step = "Check the label and scan again"
        if entry.kind != "scan":
            scanned = entry.action
        elif current.secret:
            scanned = "(a badge; not shown)"  # the answer is stored: keep the credential out
        else:
            scanned = printable(entry.value) or "(empty)"
        return Outcome(
            "error",
            _sentence(exc.message),
            scanned=scanned,
            expected=current.expects or current.prompt,
            next_step=next_step,
        )
    return outcome


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] if message else message


def _dispatch(ctx: Ctx, entry: Entry) -> Outcome:
    flow_name = str(ctx.state.get("flow", MENU))
    if entry.kind == "action":
        if entry.action == "menu":
            ctx.state.clear()
            ctx.state.update({"flow": MENU})
            return info("Menu")
        if entry.action == "start":
            return _start(ctx, entry.arg)
    flow = FLOWS.get(flow_name)
    if flow is None:
        if entry.kind == "scan":
            if not clean(entry.value):
                raise ValidationFailed(
                    "scanned nothing: scan a barcode or choose a task", field="scan"
                )
            return _menu_scan(ctx, entry.value)
        raise ValidationFailed(f"{entry.action} is not available on the menu", field="action")
    if entry.kind == "scan":
        return flow.on_scan(ctx, entry.value)
    return flow.on_action(ctx, entry.action, entry.arg)
