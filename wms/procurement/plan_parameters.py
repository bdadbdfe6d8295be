"""The parameters of a replenishment plan run: validated on creation, stored with the run as JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from wms.errors import ValidationFailed
from wms.procurement.planning.problem import MAX_WEEKS

MAX_TIME_LIMIT_SECONDS = 3600.0
MAX_BUDGET = Decimal("1000000000")


def _fail(message: str, field: str) -> None:
    raise ValidationFailed(message, field=field)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class PlanParameters:
    """What to plan (a warehouse or all), how far ahead, to which service level and budget."""

    warehouse: str | None = None
    horizon_weeks: int = 12
    service_level: float = 0.95
    budget_per_week: Decimal | None = None  # in ``currency``; None: no budget
    time_limit_seconds: float = 30.0
    history_weeks: int = 26
    currency: str = "CNY"
    holding_rate: float = 0.005  # of the unit price, per unit and week in stock
    shortage_factor: float = 2.0  # times the unit price, per unit of demand not met
    below_safety_rate: float = 0.05  # of the unit price, per unit and week below safety stock
    relative_gap: float = 0.01
    seed: int = 0
    today: date | None = None  # the first day of week 0; None: the day the run starts

    def __post_init__(self) -> None:
        h = self.horizon_weeks
        if isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= MAX_WEEKS:
            _fail(f"the horizon is 1 to {MAX_WEEKS} weeks, not {h}", "horizon_weeks")
        if not _number(self.service_level) or not 0.5 <= self.service_level < 1:
            _fail(
                f"service level {self.service_level} must be at least 0.5 and below 1",
                "service_level",
            )
        t = self.time_limit_seconds
        if not _number(t) or not 0 < t <= MAX_TIME_LIMIT_SECONDS:
            _fail(
                f"time limit {t} s must be more than 0 and at most {MAX_TIME_LIMIT_SECONDS:g}",
                "time_limit_seconds",
            )
        if self.budget_per_week is not None:
            b = self.budget_per_week
            if not isinstance(b, Decimal) or not b.is_finite() or not 0 <= b <= MAX_BUDGET:
                _fail(f"budget {b} a week must be from 0 to {MAX_BUDGET}", "budget_per_week")
        w = self.history_weeks
        if isinstance(w, bool) or not isinstance(w, int) or not 4 <= w <= 156:
            _fail(f"history of {w} weeks: 4 to 156", "history_weeks")
        if (
            not isinstance(self.currency, str)
            or len(self.currency) != 3
            or not self.currency.isupper()
        ):
            _fail(f"currency {self.currency!r} is not an ISO 4217 code", "currency")
        for name, most in (
            ("holding_rate", 1),
            ("shortage_factor", 100),
            ("below_safety_rate", 10),
        ):
            value = getattr(self, name)
            if not _number(value) or not 0 <= value <= most:
                _fail(f"{name} {value} must be from 0 to {most}", name)
        if not _number(self.relative_gap) or not 0 <= self.relative_gap < 1:
            _fail(f"gap {self.relative_gap} must be at least 0 and below 1", "relative_gap")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, int)
            or not 0 <= self.seed < 2**31
        ):
            _fail("the seed is a whole number from 0", "seed")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["budget_per_week"] = (
            None if self.budget_per_week is None else str(self.budget_per_week)
        )
        data["today"] = None if self.today is None else self.today.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlanParameters:
        """Parameters stored by ``to_json`` (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        try:
            if values.get("budget_per_week") is not None:
                values["budget_per_week"] = Decimal(str(values["budget_per_week"]))
            if values.get("today") is not None:
                values["today"] = date.fromisoformat(str(values["today"]))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationFailed(f"stored parameters are unreadable: {exc}") from exc
        return cls(**values)
