"""Blind cycle counts, and their approval by a supervisor."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from wms.errors import ValidationFailed
from wms.inventory import counts
from wms.inventory.models import (
    CountStatus,
    CountTask,
    Location,
)
from wms.inventory.scanning import (
    clean,
    resolve_product,
)
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
                    CountTask.status.in_(
                        [CountStatus.OPEN, CountStatus.RECOUNT, CountStatus.PENDING_APPROVAL]
                    ),
                )
            )
            if task is None:
                # No count planned for this bin: count it now, on demand (a found discrepancy).
                created = counts.create_count(
                    ctx.uow,
                    warehouse=ctx.warehouse.code,
                    location=loc.code,
                    actor=ctx.user.username,
                )
                task = ctx.session.scalar(select(CountTask).where(CountTask.code == created.code))
                assert task is not None
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
            return info(f"{item_text(item)}: how many?")
        if step == "lot":
            lot = clean(value)
            if not lot:
                raise ValidationFailed("entered no lot: scan or type the lot", field="lot")
            data["item"]["lot"] = lot
            ctx.go("quantity")
            return info(f"{item_text(data['item'])}: how many?")
        if step == "quantity":
            value_clean = clean(value)
            quantity = 0 if value_clean == "0" else read_quantity(ctx, value)
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
            return ok(f"Counted {quantity} x {item_text(item)}")
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
                hint="Or choose a count task; a bin without one is counted on demand",
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
            prompt=f"How many {item_text(item) if item else ''}?",
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
