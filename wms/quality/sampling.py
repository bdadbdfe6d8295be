"""ISO 2859-1 single sampling: which plan a lot gets, and what a count of nonconforming units decides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from wms.quality import tables
from wms.quality.errors import (
    AqlNotInTable,
    InvalidLotSize,
    InvalidNonconformingCount,
    UnknownInspectionLevel,
    UnknownSeverity,
    UnknownStandard,
)

LEVELS: Final = tables.LEVELS
SEVERITIES: Final = ("normal", "tightened", "reduced")
STANDARDS: Final = ("iso2859-1", "z14")
AQLS: Final[tuple[Decimal, ...]] = tuple(Decimal(label) for label in tables.AQL_LABELS)

# Above this AQL the tables count nonconformities per hundred units, not nonconforming units.
MAX_PERCENT_NONCONFORMING_AQL: Final = Decimal(10)

Verdict = Literal["accept", "reject", "accept_return_to_normal"]

_LEVEL_ALIASES: Final = {level.replace("-", ""): level for level in LEVELS}
_STANDARD_ALIASES: Final = {
    "iso2859-1": "iso2859-1",
    "iso2859": "iso2859-1",
    "iso": "iso2859-1",
    "gb2828": "iso2859-1",
    "gb2828.1": "iso2859-1",
    "gb/t2828.1": "iso2859-1",
    "z14": "z14",
    "z1.4": "z14",
    "ansi/asqz1.4": "z14",
    "mil-std-105e": "z14",
}


@dataclass(frozen=True)
class SamplingPlan:
    """The single sampling plan for one lot: how many units to inspect and the Ac/Re that decide."""

    lot_size: int
    aql: Decimal
    level: str
    severity: str
    standard: str
    code_letter: str
    plan_letter: str
    table_sample_size: int
    sample_size: int
    ac: int
    re: int

    @property
    def whole_lot(self) -> bool:
        """True when every unit of the lot is inspected."""
        return self.sample_size == self.lot_size

    @property
    def counts_nonconformities(self) -> bool:
        """True when the AQL is in nonconformities per hundred units, so a unit can count twice."""
        return self.aql > MAX_PERCENT_NONCONFORMING_AQL

    def verdict(self, nonconforming: int) -> Verdict:
        """What a count found in the sample decides for the lot."""
        if isinstance(nonconforming, bool) or not isinstance(nonconforming, int):
            raise InvalidNonconformingCount(nonconforming, "give a whole number")
        if nonconforming < 0:
            raise InvalidNonconformingCount(nonconforming, "it cannot be negative")
        if nonconforming > self.sample_size and not self.counts_nonconformities:
            raise InvalidNonconformingCount(
                nonconforming, f"only {self.sample_size} units are inspected"
            )
        if nonconforming <= self.ac:
            return "accept"
        if nonconforming >= self.re:
            return "reject"
        # Only Z1.4 reduced plans have Re > Ac + 1: the lot passes but normal inspection returns.
        return "accept_return_to_normal"

    def to_dict(self) -> dict[str, str | int | bool]:
        """The plan as JSON-able values, the AQL spelled as in the standard."""
        return {
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "ac": self.ac,
            "re": self.re,
            "plan_letter": self.plan_letter,
            "table_sample_size": self.table_sample_size,
            "lot_size": self.lot_size,
            "aql": str(self.aql),
            "level": self.level,
            "severity": self.severity,
            "standard": self.standard,
            "whole_lot": self.whole_lot,
        }


def parse_aql(value: str | float | Decimal) -> Decimal:
    """The preferred AQL numerically equal to ``value`` ("1", "1.0" and 1.0 all give 1.0)."""
    if isinstance(value, bool):
        raise AqlNotInTable(value, tables.AQL_LABELS)
    try:
        # str() of a float is its shortest round-trip spelling, so 0.1 reads as 0.1, not 0.1000...055.
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise AqlNotInTable(value, tables.AQL_LABELS) from None
    if number.is_finite():
        for aql in AQLS:
            if aql == number:
                return aql
    raise AqlNotInTable(value, tables.AQL_LABELS)


def aql_label(aql: str | float | Decimal) -> str:
    """The AQL spelled as the standard's column head ("0.65", "1.0", "10")."""
    return tables.AQL_LABELS[AQLS.index(parse_aql(aql))]


def tighter_aql(aql: str | float | Decimal) -> Decimal | None:
    """The next smaller preferred AQL, or None for the smallest."""
    position = AQLS.index(parse_aql(aql))
    return AQLS[position - 1] if position else None


def normalise_level(level: str) -> str:
    """The inspection level as the standard spells it ("s1" -> "S-1", "ii" -> "II")."""
    key = level.strip().upper().replace("-", "").replace(" ", "") if isinstance(level, str) else ""
    if key not in _LEVEL_ALIASES:
        raise UnknownInspectionLevel(level, LEVELS)
    return _LEVEL_ALIASES[key]


def normalise_severity(severity: str) -> str:
    """The inspection severity in lower case, checked against SEVERITIES."""
    name = severity.strip().lower() if isinstance(severity, str) else ""
    if name not in SEVERITIES:
        raise UnknownSeverity(severity, SEVERITIES)
    return name


def normalise_standard(standard: str) -> str:
    """The standard's short name: "iso2859-1" (also ISO, GB/T 2828.1) or "z14" (Z1.4, MIL-STD-105E)."""
    key = standard.strip().lower().replace(" ", "") if isinstance(standard, str) else ""
    if key not in _STANDARD_ALIASES:
        raise UnknownStandard(standard, STANDARDS)
    return _STANDARD_ALIASES[key]


def _checked_lot_size(lot_size: int) -> int:
    if isinstance(lot_size, bool) or not isinstance(lot_size, int) or lot_size < 1:
        raise InvalidLotSize(lot_size)
    return lot_size


def code_letter(lot_size: int, level: str = "II") -> str:
    """The sample size code letter of Table 1 for a lot size and inspection level."""
    lot = _checked_lot_size(lot_size)
    column = LEVELS.index(normalise_level(level))
    # Table 1 starts at 2 units; a single unit is inspected whole on the code letter A plan.
    if lot == 1:
        return "A"
    for _lowest, highest, letters in tables.CODE_LETTERS:
        if highest is None or lot <= highest:
            return letters.split()[column]
    raise AssertionError("the last row of Table 1 has no upper bound")


def _master_table(severity: str, standard: str) -> tables.MasterTable:
    if severity == "normal":
        return tables.NORMAL
    if severity == "tightened":
        return tables.TIGHTENED
    return tables.REDUCED_Z14 if standard == "z14" else tables.REDUCED


def sampling_plan(
    lot_size: int,
    aql: str | float | Decimal,
    level: str = "II",
    severity: str = "normal",
    standard: str = "iso2859-1",
) -> SamplingPlan:
    """The single sampling plan for a lot: Table 1 for the code letter, then the master table."""
    lot = _checked_lot_size(lot_size)
    aql_value = parse_aql(aql)
    level_name = normalise_level(level)
    severity_name = normalise_severity(severity)
    standard_name = normalise_standard(standard)
    letter = code_letter(lot, level_name)
    table = _master_table(severity_name, standard_name)
    row, ac, re = table.plan_at(letter, AQLS.index(aql_value))
    return SamplingPlan(
        lot_size=lot,
        aql=aql_value,
        level=level_name,
        severity=severity_name,
        standard=standard_name,
        code_letter=letter,
        plan_letter=row.letter,
        table_sample_size=row.sample_size,
        sample_size=min(row.sample_size, lot),
        ac=ac,
        re=re,
    )


def tighter_acceptance_number(plan: SamplingPlan) -> int | None:
    """The Ac the same sample would face one AQL step tighter, or None if that cell is an arrow."""
    position = AQLS.index(plan.aql)
    if position == 0:
        return None
    table = _master_table(plan.severity, plan.standard)
    # Read along the row of the plan used, not the code letter's: the count came from that sample.
    cell = table.rows[table.index(plan.plan_letter)].cells[position - 1]
    return cell[0] if isinstance(cell, tuple) else None
