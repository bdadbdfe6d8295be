"""Errors of the quality domain."""

from __future__ import annotations

from collections.abc import Sequence

from wms.errors import Conflict, ValidationFailed


class AqlNotInTable(ValidationFailed):
    code = "aql_not_in_table"

    def __init__(self, aql: object, allowed: Sequence[str], *, field: str | None = "aql") -> None:
        super().__init__(
            f"AQL {aql!s} is not in the ISO 2859-1 tables; use one of {', '.join(allowed)}",
            field=field,
            aql=str(aql),
            allowed=list(allowed),
        )


class InvalidLotSize(ValidationFailed):
    code = "invalid_lot_size"

    def __init__(self, lot_size: object, *, field: str | None = "lot_size") -> None:
        super().__init__(
            f"lot size {lot_size!r} is not valid; give a whole number of units, at least 1",
            field=field,
            lot_size=repr(lot_size),
        )


class UnknownInspectionLevel(ValidationFailed):
    code = "unknown_inspection_level"

    def __init__(
        self, level: object, allowed: Sequence[str], *, field: str | None = "level"
    ) -> None:
        super().__init__(
            f"inspection level {level!r} is unknown; use one of {', '.join(allowed)}",
            field=field,
            level=str(level),
            allowed=list(allowed),
        )


class UnknownSeverity(ValidationFailed):
    code = "unknown_severity"

    def __init__(
        self, severity: object, allowed: Sequence[str], *, field: str | None = "severity"
    ) -> None:
        super().__init__(
            f"inspection severity {severity!r} is unknown; use one of {', '.join(allowed)}",
            field=field,
            severity=str(severity),
            allowed=list(allowed),
        )


class UnknownStandard(ValidationFailed):
    code = "unknown_standard"

    def __init__(
        self, standard: object, allowed: Sequence[str], *, field: str | None = "standard"
    ) -> None:
        super().__init__(
            f"sampling standard {standard!r} is unknown; use one of {', '.join(allowed)}",
            field=field,
            standard=str(standard),
            allowed=list(allowed),
        )


class InvalidNonconformingCount(ValidationFailed):
    code = "invalid_nonconforming_count"

    def __init__(self, count: object, reason: str, *, field: str | None = "nonconforming") -> None:
        super().__init__(
            f"nonconforming count {count!r} is not valid: {reason}", field=field, count=repr(count)
        )


class ValueOutOfRange(ValidationFailed):
    code = "value_out_of_range"

    def __init__(self, value: object, allowed: str, *, field: str) -> None:
        super().__init__(
            f"{field} {value!r} is out of range; it must be {allowed}",
            field=field,
            value=repr(value),
            allowed=allowed,
        )


class InconsistentLotOutcome(ValidationFailed):
    code = "inconsistent_lot_outcome"

    def __init__(self, reason: str, *, field: str | None = "accepted") -> None:
        super().__init__(f"the lot outcome contradicts its sampling plan: {reason}", field=field)


class InspectionDiscontinued(Conflict):
    code = "inspection_discontinued"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "inspection is discontinued after 5 lots were not accepted on tightened "
            "inspection; record the supplier's corrective action to resume on tightened inspection"
        )


class WrongInspectionSeverity(Conflict):
    code = "wrong_inspection_severity"

    def __init__(self, used: str, current: str, *, field: str | None = "plan") -> None:
        super().__init__(
            f"the lot was inspected on a {used} plan but inspection is {current}; "
            f"inspect it on a {current} plan",
            field=field,
            used=used,
            current=current,
        )
