"""ISO 2859-1 tables as data: Table 1 (code letters) and the single-sampling master tables.

The master tables are laid out as the standard prints them: one row per sample size code letter with
the row's sample size ``n``, then one cell per AQL column: ``Ac/Re``, ``v`` (use the first plan below
the arrow, with that row's sample size), ``^`` (the first plan above) or ``.`` (printed empty).
Tables 2-A and 2-B serve ISO 2859-1 and ANSI/ASQ Z1.4 (= MIL-STD-105E) alike (one tightened cell is
unsettled, see TIGHTENED); their reduced tables differ, so both are kept. Values above AQL 10 are
nonconformities per hundred units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

LEVELS: Final = ("S-1", "S-2", "S-3", "S-4", "I", "II", "III")

# Table 1: lot size from, to (None: and over), then the code letter for each level in LEVELS order.
CODE_LETTERS: Final[tuple[tuple[int, int | None, str], ...]] = (
    (2, 8, "A A A A A A B"),
    (9, 15, "A A A A A B C"),
    (16, 25, "A A B B B C D"),
    (26, 50, "A B B C C D E"),
    (51, 90, "B B C C C E F"),
    (91, 150, "B B C D D F G"),
    (151, 280, "B C D E E G H"),
    (281, 500, "B C D E F H J"),
    (501, 1200, "C C E F G J K"),
    (1201, 3200, "C D E G H K L"),
    (3201, 10000, "C D F G J L M"),
    (10001, 35000, "C D F H K M N"),
    (35001, 150000, "D E G J L N P"),
    (150001, 500000, "D E G J M P Q"),
    (500001, None, "D E H K N Q R"),
)

# The preferred AQLs spelled as the tables' column heads; the spelling is what users see.
AQL_LABELS: Final = (
    "0.010", "0.015", "0.025", "0.040", "0.065", "0.10", "0.15", "0.25", "0.40", "0.65",
    "1.0", "1.5", "2.5", "4.0", "6.5", "10", "15", "25", "40", "65",
    "100", "150", "250", "400", "650", "1000",
)  # fmt: skip

DOWN: Final = "v"
UP: Final = "^"
BLANK: Final = "."

Cell: TypeAlias = tuple[int, int] | str  # (Ac, Re), or DOWN, UP, BLANK


@dataclass(frozen=True)
class TableRow:
    """One code letter's row of a master table."""

    letter: str
    sample_size: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class MasterTable:
    """A single-sampling master table (2-A, 2-B or 2-C)."""

    title: str
    rows: tuple[TableRow, ...]

    def index(self, letter: str) -> int:
        """The position of a code letter's row."""
        for position, row in enumerate(self.rows):
            if row.letter == letter:
                return position
        raise KeyError(f"{self.title} has no code letter {letter}")

    def plan_at(self, letter: str, column: int) -> tuple[TableRow, int, int]:
        """The row, Ac and Re a code letter gets in an AQL column once the arrows are followed."""
        index = self.index(letter)
        cell = self.rows[index].cells[column]
        if cell == DOWN:
            candidates = self.rows[index + 1 :]
        elif cell == UP:
            candidates = self.rows[index - 1 :: -1] if index else ()
        else:
            candidates = (self.rows[index],)
        # An arrow points past other arrows to the first cell that holds a plan.
        for row in candidates:
            found = row.cells[column]
            if isinstance(found, tuple):
                return row, found[0], found[1]
        raise LookupError(f"{self.title}, code letter {letter}, column {column}: no plan")


def _cell(token: str) -> Cell:
    if token in (DOWN, UP, BLANK):
        return token
    ac, re = token.split("/")
    return int(ac), int(re)


def _master_table(title: str, text: str) -> MasterTable:
    header, *lines = text.strip("\n").splitlines()
    # Checking the heads and the cell count catches a cell slipped into the wrong column.
    if tuple(header.split()) != ("n", *AQL_LABELS):
        raise ValueError(f"{title}: the column heads are not the preferred AQLs")
    rows = []
    for line in lines:
        letter, sample_size, *tokens = line.split()
        if len(tokens) != len(AQL_LABELS):
            raise ValueError(f"{title}, row {letter}: {len(tokens)} cells, not {len(AQL_LABELS)}")
        rows.append(TableRow(letter, int(sample_size), tuple(_cell(t) for t in tokens)))
    return MasterTable(title, tuple(rows))


# Table 2-A. The plans run along diagonals (each row's 0/1 one column left of the row above's); the
# Ac/Re series stops at 21/22 for rows F and below, and 30/31, 44/45 appear only from AQL 150.
NORMAL: Final = _master_table(
    "Table 2-A (normal inspection)",
    """
      n   0.010 0.015 0.025 0.040 0.065 0.10  0.15  0.25  0.40  0.65  1.0   1.5   2.5   4.0   6.5   10    15    25    40    65    100   150   250   400   650   1000
A     2   v     v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31
B     3   v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31 44/45
C     5   v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31 44/45 ^
D     8   v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31 44/45 ^     ^
E    13   v     v     v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31 44/45 ^     ^     ^
F    20   v     v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^
G    32   v     v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^
H    50   v     v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^
J    80   v     v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^
K   125   v     v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L   200   v     v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   315   v     v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   500   v     v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   800   v     0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q  1250   0/1   ^     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R  2000   ^     ^     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
""",
)

# Table 2-B. Row S (n = 3150) holds a single plan, reached only through the arrows of Q and R.
# Cell A / 10 is unsettled: MIL-STD-105E-derived tables print an arrow down (n = 8, 1/2), as here;
# one ISO-following source prints 0/1 with n = 2.
TIGHTENED: Final = _master_table(
    "Table 2-B (tightened inspection)",
    """
      n   0.010 0.015 0.025 0.040 0.065 0.10  0.15  0.25  0.40  0.65  1.0   1.5   2.5   4.0   6.5   10    15    25    40    65    100   150   250   400   650   1000
A     2   v     v     v     v     v     v     v     v     v     v     v     v     v     v     v     v     v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 27/28
B     3   v     v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 27/28 41/42
C     5   v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 27/28 41/42 ^
D     8   v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 27/28 41/42 ^     ^
E    13   v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 27/28 41/42 ^     ^     ^
F    20   v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^
G    32   v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^
H    50   v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^
J    80   v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^
K   125   v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L   200   v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   315   v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   500   v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   800   v     v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q  1250   v     0/1   v     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R  2000   0/1   ^     v     1/2   2/3   3/4   5/6   8/9   12/13 18/19 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
S  3150   .     .     1/2   .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .     .
""",
)

# Table 2-C as in ISO 2859-1:1999 (= GB/T 2828.1-2012): Re is always Ac + 1.
REDUCED: Final = _master_table(
    "Table 2-C (reduced inspection, ISO 2859-1:1999)",
    """
      n   0.010 0.015 0.025 0.040 0.065 0.10  0.15  0.25  0.40  0.65  1.0   1.5   2.5   4.0   6.5   10    15    25    40    65    100   150   250   400   650   1000
A     2   v     v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31
B     2   v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31
C     2   v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 14/15 21/22 ^
D     3   v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 14/15 21/22 ^     ^
E     5   v     v     v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 14/15 21/22 ^     ^     ^
F     8   v     v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^
G    13   v     v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^
H    20   v     v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^
J    32   v     v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^
K    50   v     v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L    80   v     v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   125   v     v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   200   v     v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   315   v     0/1   ^     v     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q   500   0/1   ^     ^     v     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R   800   ^     ^     ^     1/2   2/3   3/4   5/6   6/7   8/9   10/11 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
""",
)

# Reduced inspection as in ANSI/ASQ Z1.4 and MIL-STD-105E: where Re > Ac + 1, a count between them
# accepts the lot but reinstates normal inspection.
REDUCED_Z14: Final = _master_table(
    "Table II-C (reduced inspection, ANSI/ASQ Z1.4)",
    """
      n   0.010 0.015 0.025 0.040 0.065 0.10  0.15  0.25  0.40  0.65  1.0   1.5   2.5   4.0   6.5   10    15    25    40    65    100   150   250   400   650   1000
A     2   v     v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   v     0/2   1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22 30/31
B     2   v     v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   2/4   3/5   5/6   7/8   10/11 14/15 21/22 30/31
C     2   v     v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 14/17 21/24 ^
D     3   v     v     v     v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 14/17 21/24 ^     ^
E     5   v     v     v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 14/17 21/24 ^     ^     ^
F     8   v     v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^
G    13   v     v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^
H    20   v     v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^
J    32   v     v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^
K    50   v     v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L    80   v     v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M   125   v     v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N   200   v     v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P   315   v     0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q   500   0/1   ^     v     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R   800   ^     ^     0/2   1/3   1/4   2/5   3/6   5/8   7/10  10/13 ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
""",
)
