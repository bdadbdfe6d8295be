"""Picking on the handheld: a fulfilment's stops in walking order, bin, item, lot and quantity.

Each stop says where to go; the picker scans the bin, the item (its lot when the barcode carries
it) and, for lot-tracked items, the lot, then confirms the quantity (Enter takes what the stop asks
for). Every scan is checked against the stop before anything is booked; the pick itself is booked by
``picking.confirm_pick``, which checks the same scans again on the locked task. "Short" records what
was found when the bin holds less.
"""

from __future__ import annotations

from wms.errors import ValidationFailed
from wms.fulfillment import picking, pickscan
from wms.fulfillment.models import FulfillmentStatus
from wms.fulfillment.picking import PickList, PickStop
from wms.fulfillment.workflow import find_fulfillment
from wms.inventory.scanning import clean, printable
from wms.web.handheld.flows.base import Ctx, Flow, read_quantity
from wms.web.handheld.flows.outbound import (
    choose_fulfillment,
    expect_fulfillment,
    hand_over,
    short_id,
)
from wms.web.handheld.flows.pack import PackFlow
from wms.web.handheld.screens import Button, Outcome, Screen, Table, info, ok


class PickFlow(Flow):
    name = "pick"
    title = "Pick"

    def start(self, ctx: Ctx, arg: str) -> Outcome:
        ctx.state["data"] = {}
        ctx.go("choose")
        if arg:
            return self._open(ctx, arg)
        return info("Scan or choose a fulfilment order to pick")

    def _open(self, ctx: Ctx, value: str) -> Outcome:
        row = expect_fulfillment(ctx, value, wanted="a fulfilment order to pick")
        if row.status not in (FulfillmentStatus.RELEASED, FulfillmentStatus.PICKING):
            raise ValidationFailed(
                f"fulfilment {row.public_id} is {row.status}, not waiting to be picked",
                field="fulfillment",
            )
        listed = picking.pick_list(
            ctx.uow, row.public_id, warehouse=ctx.warehouse.code, actor=ctx.user.username
        )
        ctx.state["data"] = {"fulfillment": listed.fulfillment}
        return self._next(ctx, listed, ok(f"{len(listed.stops)} stops: follow them in order"))

    def _list(self, ctx: Ctx) -> PickList:
        return picking.view(ctx.session, find_fulfillment(ctx.session, ctx.data["fulfillment"]))

    def _stop(self, ctx: Ctx) -> PickStop:
        task_id = int(ctx.data["task"])
        stop = next((s for s in self._list(ctx).stops if s.task_id == task_id), None)
        if stop is None:
            raise ValidationFailed(f"pick task {task_id} is gone", field="task")
        return stop

    def _next(self, ctx: Ctx, listed: PickList, outcome: Outcome) -> Outcome:
        data = {"fulfillment": listed.fulfillment}
        stop = listed.next_stop
        if stop is None:
            ctx.state["data"] = data
            ctx.go("done")
            if listed.status == FulfillmentStatus.PICKED:
                return ok(f"{outcome.message}. All picked: take it to packing")
            return outcome
        ctx.state["data"] = {**data, "task": stop.task_id}
        ctx.go("bin")
        return outcome

    def on_scan(self, ctx: Ctx, value: str) -> Outcome:
        step, data = ctx.step, ctx.data
        if step in ("choose", "done"):
            return self._open(ctx, value)
        stop = self._stop(ctx)
        if step == "bin":
            pickscan.check_bin(stop, value)
            ctx.go("item", bin_scan=clean(value))
            return ok(f"At {stop.bin_label}: scan {stop.sku}")
        if step == "item":
            carried = pickscan.check_item(ctx.session, stop, value)
            ctx.go("item", item_scan=clean(value), lot=carried, default_qty=stop.remaining)
            if stop.lot_tracked and carried is None:
                ctx.go("lot")
                return info(f"Scan the lot of {stop.sku}: {stop.lot}")
            ctx.go("quantity")
            return info(f"{stop.sku}: take {stop.remaining}")
        if step == "lot":
            pickscan.check_lot(stop, value)
            ctx.go("quantity", lot=clean(value))
            return info(f"{stop.sku} lot {stop.lot}: take {stop.remaining}")
        if step == "quantity":
            quantity = read_quantity(ctx, value)
            listed = picking.confirm_pick(
                ctx.uow,
                stop.task_id,
                bin_barcode=data["bin_scan"],
                item=data["item_scan"],
                lot=data.get("lot"),
                quantity=quantity,
                actor=ctx.user.username,
            )
            picked = ok(f"Picked {quantity} x {stop.sku} from {stop.bin_label}")
            after = next(s for s in listed.stops if s.task_id == stop.task_id)
            if after.status == "open":
                ctx.go("quantity", default_qty=after.remaining)
                return ok(f"{picked.message}; {after.remaining} more here, or press Short")
            return self._next(ctx, listed, picked)
        if step == "short":
            found = _count(value)
            listed = picking.report_short(
                ctx.uow, stop.task_id, found=found, actor=ctx.user.username
            )
            missing = stop.remaining - found
            return self._next(
                ctx,
                listed,
                ok(f"Short pick recorded: {missing} x {stop.sku} missing; a supervisor decides"),
            )
        raise ValidationFailed("nothing to scan here", field="scan")

    def on_action(self, ctx: Ctx, action: str, arg: str) -> Outcome:
        step = ctx.step
        if action == "open" and step in ("choose", "done"):
            return self._open(ctx, arg)
        if action == "short" and step in ("bin", "item", "lot", "quantity"):
            stop = self._stop(ctx)
            ctx.go("short")
            return info(f"How many {stop.sku} are in {stop.bin_label}?")
        if action == "back" and step in ("item", "lot", "quantity", "short"):
            for key in ("bin_scan", "item_scan", "lot", "default_qty"):
                ctx.data.pop(key, None)
            ctx.go("bin")
            return info(f"Go to bin {self._stop(ctx).bin_label}")
        if action == "pack" and step == "done":
            return hand_over(ctx, PackFlow(), ctx.data["fulfillment"])
        if action == "list":
            return self.start(ctx, "")
        raise ValidationFailed(f"{action} is not available here", field="action")

    def screen(self, ctx: Ctx) -> Screen:
        step = ctx.step
        if step == "choose":
            return self._choose_screen(ctx)
        listed = self._list(ctx)
        title = f"Pick {short_id(listed.fulfillment)}"
        table = _stops_table(listed)
        if step == "done":
            picked = listed.status == FulfillmentStatus.PICKED
            return Screen(
                name="pick.done",
                title=title,
                prompt="All picked: take it to packing"
                if picked
                else f"Waiting for a supervisor: {listed.open_exceptions} short pick(s)",
                hint="Scan the next fulfilment order to pick",
                expects="a fulfilment order to pick",
                facts=[("Fulfilment", listed.fulfillment), ("Status", listed.status)],
                table=table,
                buttons=[
                    *([Button("Pack it", "pack", style="primary")] if picked else []),
                    Button("Next fulfilment", "list"),
                ],
            )
        stop = self._stop(ctx)
        facts = [
            ("Stop", f"{stop.seq} of {len(listed.stops)}"),
            ("Bin", stop.bin_label),
            ("Item", f"{stop.sku} {stop.name}"),
            *([("Lot", str(stop.lot))] if stop.lot_tracked else []),
            ("Take", f"{stop.remaining}" + (f" ({stop.picked} picked)" if stop.picked else "")),
        ]
        short = Button("Short", "short", style="danger")
        back = Button("Back to bin", "back")
        if step == "bin":
            return Screen(
                name="pick.bin",
                title=title,
                prompt=f"Go to bin {stop.bin_label}",
                hint="Scan the bin label",
                expects=f"bin {stop.bin_label}",
                facts=facts,
                table=table,
                buttons=[short],
            )
        if step == "item":
            return Screen(
                name="pick.item",
                title=title,
                prompt=f"Scan {stop.sku}",
                expects=f"{stop.sku} ({stop.name})",
                facts=facts,
                buttons=[short, back],
            )
        if step == "lot":
            return Screen(
                name="pick.lot",
                title=title,
                prompt=f"Scan lot {stop.lot}",
                expects=f"lot {stop.lot} of {stop.sku}",
                facts=facts,
                buttons=[short, back],
            )
        if step == "quantity":
            default = ctx.data.get("default_qty") or stop.remaining
            return Screen(
                name="pick.quantity",
                title=title,
                prompt=f"Quantity — Enter for {default}",
                input="number",
                placeholder=str(default),
                expects=f"a quantity up to {stop.remaining}",
                facts=facts,
                buttons=[short, back],
            )
        return Screen(
            name="pick.short",
            title=title,
            prompt=f"How many {stop.sku} did you find in {stop.bin_label}?",
            hint=f"The stop asks for {stop.remaining}; enter 0 if there are none",
            input="number",
            expects=f"a count from 0 to {stop.remaining - 1}",
            facts=facts,
            buttons=[Button("Back", "back")],
        )

    def _choose_screen(self, ctx: Ctx) -> Screen:
        return choose_fulfillment(
            ctx,
            name="pick.choose",
            title="Pick",
            prompt="Scan a fulfilment order",
            expects="a fulfilment order to pick",
            statuses=[FulfillmentStatus.RELEASED, FulfillmentStatus.PICKING],
            hint="Or choose one to pick",
            empty="Nothing is waiting to be picked",
        )


def _stops_table(listed: PickList) -> Table:
    css = {"done": "done", "short": "over", "cancelled": "done"}
    return Table(
        columns=["#", "Bin", "Item", "Qty"],
        rows=[
            (
                [
                    str(s.seq),
                    s.bin_label,
                    f"{s.sku}" + (f" {s.lot}" if s.lot else ""),
                    str(s.quantity) if s.picked in (0, s.quantity) else f"{s.picked}/{s.quantity}",
                ],
                css.get(s.status, ""),
            )
            for s in listed.stops
        ],
    )


def _count(raw: str) -> int:
    """A count typed on the short screen: 0 or more."""
    value = clean(raw)
    if not value.isascii() or not value.isdigit():
        raise ValidationFailed(
            f"entered {printable(value) or 'nothing'}: type how many you found (0 if none)",
            field="found",
        )
    return int(value)
