"""What the outbound flows (pick, pack, ship) share: reading a scanned fulfilment, handing over.

A fulfilment order's barcode is its id; a package's label carries its SSCC, which also names the
fulfilment. Scanned on the menu, either opens the task the fulfilment is waiting for.
"""

from __future__ import annotations

from sqlalchemy import select

from wms.errors import ValidationFailed
from wms.fulfillment.models import FulfillmentOrder, FulfillmentStatus, Package
from wms.fulfillment.workflow import id_candidates, list_fulfillments
from wms.inventory.scanning import clean, printable
from wms.web.handheld.flows.base import Ctx, Flow
from wms.web.handheld.screens import Choice, Outcome, Screen

# Which task a scanned fulfilment opens, by its status.
TASK_FOR_STATUS = {
    FulfillmentStatus.RELEASED: "pick",
    FulfillmentStatus.PICKING: "pick",
    FulfillmentStatus.PICKED: "pack",
    FulfillmentStatus.PACKED: "ship",
}


def fulfillment_of_scan(ctx: Ctx, value: str) -> FulfillmentOrder | None:
    """The fulfilment a scan names: its id (barcode) or the SSCC of one of its packages."""
    code = clean(value)
    if not code:
        return None
    row = ctx.session.scalar(
        select(FulfillmentOrder).where(FulfillmentOrder.public_id.in_(id_candidates(code)))
    )
    digits = code.removeprefix("]C1").replace("(00)", "").replace(" ", "")
    if row is None and digits.isdigit() and len(digits) in (18, 20):
        row = ctx.session.scalar(
            select(FulfillmentOrder)
            .join(Package, Package.fulfillment_order_id == FulfillmentOrder.id)
            .where(Package.sscc == digits[-18:])
        )
    return row


def task_for_scan(ctx: Ctx, value: str) -> tuple[str, str] | None:
    """The task (pick, pack or ship) and fulfilment id a scan on the menu opens.

    None when the scan names no fulfilment; an error naming it when it is another warehouse's or
    has nothing left to do.
    """
    if fulfillment_of_scan(ctx, value) is None:
        return None
    row = expect_fulfillment(ctx, value, wanted="a fulfilment order")
    task = TASK_FOR_STATUS.get(FulfillmentStatus(row.status))
    if task is None:
        raise ValidationFailed(
            f"fulfilment {row.public_id} is {row.status}: nothing is left to do on it",
            field="fulfillment",
        )
    return task, row.public_id


def expect_fulfillment(ctx: Ctx, value: str, *, wanted: str) -> FulfillmentOrder:
    """The scanned fulfilment of this warehouse, or an error naming the scan and what was wanted."""
    row = fulfillment_of_scan(ctx, value)
    if row is None:
        raise ValidationFailed(
            f"scanned {printable(clean(value)) or 'nothing'}: no fulfilment order has this "
            f"barcode; expected {wanted}",
            field="fulfillment",
        )
    if row.warehouse_id != ctx.warehouse.id:
        raise ValidationFailed(
            f"fulfilment {row.public_id} ships from another warehouse, not {ctx.warehouse.code}",
            field="fulfillment",
        )
    return row


def short_id(public_id: str) -> str:
    """A fulfilment id short enough for a phone's title bar (its last 8 characters)."""
    return public_id if len(public_id) <= 12 else "…" + public_id[-8:]


def hand_over(ctx: Ctx, flow: Flow, arg: str) -> Outcome:
    """Continue with another task (pick, then pack, then ship) on the same fulfilment."""
    ctx.state.clear()
    ctx.state.update({"flow": flow.name, "step": "", "data": {}})
    return flow.start(ctx, arg)


def choose_fulfillment(
    ctx: Ctx,
    *,
    name: str,
    title: str,
    prompt: str,
    expects: str,
    statuses: list[FulfillmentStatus],
    hint: str,
    empty: str,
) -> Screen:
    """The first screen of pick, pack and ship: scan a fulfilment, or choose one of those waiting
    in this warehouse (oldest first)."""
    page = list_fulfillments(ctx.session, warehouse=ctx.warehouse.code, statuses=statuses, limit=30)
    status_shown = len(statuses) > 1
    return Screen(
        name=name,
        title=title,
        prompt=prompt,
        hint=hint if page.items else empty,
        expects=expects,
        choices=[
            Choice(
                f.external_ref,
                "open",
                f.fulfillment_id,
                f"{short_id(f.fulfillment_id)} · {f.units} units"
                + (f" · {f.status}" if status_shown else ""),
            )
            for f in page.items
        ],
    )
