"""The tiny interface the model builder writes to, and the recorded model every backend reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class ModelSink(Protocol):
    """What the builder writes to: integer variables, linear constraints and one objective."""

    wants_names: bool

    def add_var(self, lb: int, ub: int, *, binary: bool, name: str) -> int:
        """Add an integer variable in [lb, ub] and return its index."""
        ...

    def add_constraint(
        self,
        variables: Sequence[int],
        coefs: Sequence[int],
        lb: int | None,
        ub: int | None,
        name: str,
    ) -> None:
        """Add lb <= sum(coefs * variables) <= ub (None: no limit on that side)."""
        ...

    def set_objective(self, variables: Sequence[int], coefs: Sequence[int]) -> None:
        """Minimise sum(coefs * variables)."""
        ...


@dataclass
class LinearModel:
    """A recorded model: the sink every backend reads."""

    wants_names: bool = True
    lb: list[int] = field(default_factory=list)
    ub: list[int] = field(default_factory=list)
    binary: list[bool] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    rows: list[tuple[Sequence[int], Sequence[int], int | None, int | None, str]] = field(
        default_factory=list
    )
    objective: tuple[Sequence[int], Sequence[int]] = ((), ())

    def add_var(self, lb: int, ub: int, *, binary: bool, name: str) -> int:
        """Add an integer variable in [lb, ub] and return its index."""
        self.lb.append(lb)
        self.ub.append(ub)
        self.binary.append(binary)
        self.names.append(name)
        return len(self.lb) - 1

    def add_constraint(
        self,
        variables: Sequence[int],
        coefs: Sequence[int],
        lb: int | None,
        ub: int | None,
        name: str,
    ) -> None:
        """Add lb <= sum(coefs * variables) <= ub."""
        self.rows.append((variables, coefs, lb, ub, name))

    def set_objective(self, variables: Sequence[int], coefs: Sequence[int]) -> None:
        """Minimise sum(coefs * variables)."""
        self.objective = (variables, coefs)
