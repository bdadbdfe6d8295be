"""Errors of the fulfilment floor: each names what was scanned or asked and what was expected."""

from __future__ import annotations

from wms.errors import Conflict, NotFound, ValidationFailed
from wms.fulfillment.models import PickTask


class UnknownFulfillment(NotFound):
    code = "unknown_fulfillment"

    def __init__(self, fulfillment: str, *, field: str | None = None) -> None:
        super().__init__(
            f"no fulfilment order {fulfillment!r}", field=field, fulfillment=fulfillment
        )


class WrongWarehouse(Conflict):
    code = "wrong_warehouse"

    def __init__(self, fulfillment: str, ships_from: str, here: str) -> None:
        super().__init__(
            f"fulfilment {fulfillment} ships from {ships_from}, not {here}",
            field="fulfillment",
            fulfillment=fulfillment,
            warehouse=ships_from,
        )


class UnknownPickTask(NotFound):
    code = "unknown_pick_task"

    def __init__(self, task_id: int) -> None:
        super().__init__(f"no pick task {task_id}", field="task", task=task_id)


class ScanMismatch(ValidationFailed):
    """A scan does not match the pick task: says what was scanned and what was expected."""

    def __init__(self, what: str, scanned: str, expected: str, *, field: str) -> None:
        super().__init__(
            f"scanned {what} {scanned}, expected {expected}",
            field=field,
            scanned=scanned,
            expected=expected,
        )


class WrongBin(ScanMismatch):
    code = "wrong_bin"

    def __init__(self, scanned: str, expected: str) -> None:
        super().__init__("bin", scanned, expected, field="bin")


class WrongItem(ScanMismatch):
    code = "wrong_item"

    def __init__(self, scanned: str, expected: str) -> None:
        super().__init__("item", scanned, expected, field="item")


class WrongLot(ScanMismatch):
    code = "wrong_lot"

    def __init__(self, scanned: str, expected: str) -> None:
        super().__init__("lot", scanned, expected, field="lot")


class TaskClosed(Conflict):
    code = "pick_task_closed"

    def __init__(self, task: PickTask) -> None:
        by = f" by {task.picked_by}" if task.picked_by else ""
        super().__init__(
            f"pick task {task.id} is {task.status}: {task.picked_quantity} of {task.quantity} "
            f"picked{by}",
            field="task",
            task=task.id,
            current=task.status,
        )


class BinShort(Conflict):
    code = "bin_short"

    def __init__(self, location: str, sku: str, held: int, wanted: int) -> None:
        super().__init__(
            f"bin {location} holds only {held} of {sku}, not {wanted}: pick what is there "
            "and report the pick short",
            field="quantity",
            location=location,
            sku=sku,
            available=held,
            requested=wanted,
        )
