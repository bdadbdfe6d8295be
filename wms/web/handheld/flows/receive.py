"""Receive against an expected receipt; a lot that must be inspected goes to the quality hold."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from wms.auth.sessions import check_supervisor
from wms.errors import ValidationFailed
from wms.inventory import receipts
from wms.inventory.catalog import (
    get_product,
)
from wms.inventory.models import (
    Lot,
    Receipt,
)
from wms.inventory.scanning import (
    clean,
    parse_date,
    printable,
)
from wms.quality import inbound
from wms.web.handheld.flows.base import Ctx, Flow, item_text, read_quantity
from wms.web.handheld.screens import (
    Button,
    Choice,
    Outcome,
    Screen,
    Table,
    info,
    ok,
)


def _inspect_buttons(data: dict[str, Any]) -> list[Button]:
    """Open the inspections that hold what this receipt brought in (the newest three)."""
    return [
        Button(f"Inspect {code}", "start", f"inspect:{code}")
        for code in data.get("inspections", [])[:3]
    ]


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
            return self._book(ctx, read_quantity(ctx, value), approved_by=None)
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
            f"{item_text(item)}: press Enter for {default}"
            if default
            else f"{item_text(item)}: enter the quantity"
        )

    def _book(self, ctx: Ctx, quantity: int, *, approved_by: str | None) -> Outcome:
        data = ctx.data
        item = data["item"]
        try:
            booked = inbound.receive_line(
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
        booking = booked.booking
        approved = f" (approved by {approved_by})" if approved_by else ""
        held = ""
        if booked.inspection:
            held = f"; held for inspection {booked.inspection}"
            # The newest first; a lot received again grows its open inspection (same code).
            others = [c for c in data.get("inspections", []) if c != booked.inspection]
            data["inspections"] = [booked.inspection, *others]
        return ok(
            f"Received {booking.quantity} x {booking.sku}"
            f"{' lot ' + booking.lot if booking.lot else ''} into {booking.location}{approved}: "
            f"{booking.received}/{booking.expected}{held}"
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
            report = inbound.close_receipt(
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
                buttons=[*_inspect_buttons(data), Button("Close receipt", "close", style="danger")],
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
                *_inspect_buttons(data),
                Button("Menu", "menu"),
            ],
        )
