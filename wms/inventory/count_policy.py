"""Cycle-count policy: when a difference is large, when it needs a supervisor, which bins are due.

Pure functions over numbers, so that the thresholds and the ABC classification can be read and
tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from wms.inventory.models import CountStatus

VELOCITY_CLASSES = ("A", "B", "C")


@dataclass(frozen=True)
class CountPolicy:
    """Thresholds and intervals of cycle counting.

    With ``v = counted - expected`` for one product and lot in the bin:

    - a line is *large* when ``|v| > max(recount_units, expected * recount_pct / 100)``; a large
      line on the first attempt sends the whole bin back for a blind recount;
    - a line *needs approval* when ``|v| > max(approval_units, expected * approval_pct / 100)``;
      such a line (after the recount) waits for a supervisor; everything else posts at once.

    Velocity: per warehouse, products are ranked by units that left its stock locations for a
    virtual location other than the adjustment one over ``velocity_window_days``; the products that
    make up the first ``a_share_pct`` percent of units are A, the next ``b_share_pct`` percent B,
    the rest (and products that did not move) C. A bin takes the best class of what it holds and is
    due ``interval_days[class]`` days after its last posted count (at once if it never had one).
    """

    recount_units: int = 2
    recount_pct: float = 5.0
    approval_units: int = 5
    approval_pct: float = 10.0
    interval_days: Mapping[str, int] = field(default_factory=lambda: {"A": 7, "B": 30, "C": 90})
    max_scheduled_per_warehouse: int = 50
    velocity_window_days: int = 90
    a_share_pct: float = 80.0
    b_share_pct: float = 15.0

    def __post_init__(self) -> None:
        if min(self.recount_units, self.approval_units, self.max_scheduled_per_warehouse) < 0:
            raise ValueError("units and limits cannot be negative")
        if min(self.recount_pct, self.approval_pct) < 0:
            raise ValueError("percentages cannot be negative")
        if sorted(self.interval_days) != list(VELOCITY_CLASSES):
            raise ValueError("interval_days needs exactly the classes A, B and C")
        if min(self.interval_days.values()) <= 0 or self.velocity_window_days <= 0:
            raise ValueError("intervals and the velocity window are positive numbers of days")
        if not 0 < self.a_share_pct <= self.a_share_pct + self.b_share_pct <= 100:
            raise ValueError("velocity shares must satisfy 0 < A <= A + B <= 100")

    def is_large(self, expected: int, counted: int) -> bool:
        """Whether the difference is big enough to ask for a recount."""
        return abs(counted - expected) > max(self.recount_units, expected * self.recount_pct / 100)

    def needs_approval(self, expected: int, counted: int) -> bool:
        """Whether the difference is big enough that a supervisor must decide."""
        return abs(counted - expected) > max(
            self.approval_units, expected * self.approval_pct / 100
        )


DEFAULT_POLICY = CountPolicy()


def decide(
    lines: Iterable[tuple[int, int]], *, attempt: int, policy: CountPolicy = DEFAULT_POLICY
) -> CountStatus:
    """What a count of (expected, counted) lines leads to: recount, approval, or posting."""
    lines = list(lines)
    if attempt == 1 and any(policy.is_large(e, c) for e, c in lines):
        return CountStatus.RECOUNT
    if any(policy.needs_approval(e, c) for e, c in lines):
        return CountStatus.PENDING_APPROVAL
    return CountStatus.POSTED


def classify_velocity(
    units_by_product: Mapping[int, int], policy: CountPolicy = DEFAULT_POLICY
) -> dict[int, str]:
    """A, B or C per product from units moved out; products absent from the mapping are C."""
    total = sum(u for u in units_by_product.values() if u > 0)
    ranked = sorted(
        ((p, u) for p, u in units_by_product.items() if u > 0), key=lambda pu: (-pu[1], pu[0])
    )
    classes: dict[int, str] = {}
    before = 0
    for product_id, units in ranked:
        # A product belongs to the class in which its first unit falls.
        if before * 100 < total * policy.a_share_pct:
            classes[product_id] = "A"
        elif before * 100 < total * (policy.a_share_pct + policy.b_share_pct):
            classes[product_id] = "B"
        else:
            classes[product_id] = "C"
        before += units
    return classes


@dataclass(frozen=True)
class BinDue:
    """A storage bin's standing for scheduling: its class and when it was last counted."""

    location_id: int
    velocity_class: str
    last_counted: date | None


def due_bins(
    bins: Iterable[BinDue], *, today: date, policy: CountPolicy = DEFAULT_POLICY
) -> list[BinDue]:
    """The bins due for a count, most overdue first (never counted first; A before B before C)."""

    def overdue(b: BinDue) -> int | None:
        if b.last_counted is None:
            return None
        return (today - b.last_counted).days - policy.interval_days[b.velocity_class]

    due = [b for b in bins if (days := overdue(b)) is None or days >= 0]
    due.sort(key=lambda b: (overdue(b) is not None, -(overdue(b) or 0), b.velocity_class))
    return due[: policy.max_scheduled_per_warehouse]
