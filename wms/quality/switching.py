"""ISO 2859-1:1999 clause 9 switching rules over one inspection history (supplier, product, class).

A pure state machine: the caller keeps one ``SwitchingState`` per history, feeds it each lot's
outcome on original inspection (not resubmitted lots) and stores what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from wms.errors import InvalidTransition
from wms.quality.errors import (
    InconsistentLotOutcome,
    InspectionDiscontinued,
    UnknownSeverity,
    WrongInspectionSeverity,
)
from wms.quality.sampling import SamplingPlan, tighter_acceptance_number

__all__ = [
    "SWITCHING_SEVERITIES",
    "InspectionDiscontinued",
    "LotOutcome",
    "SwitchingState",
    "Transition",
    "production_irregular",
    "record_lot",
    "resume_after_corrective_action",
    "switching_score_after",
]

SWITCHING_SEVERITIES: Final = ("normal", "tightened", "reduced", "discontinued")

# Clause 9: the window and counts the rules are stated in.
NORMAL_WINDOW: Final = 5  # 2 non-accepted lots in 5 or fewer consecutive lots -> tightened
NOT_ACCEPTED_FOR_TIGHTENED: Final = 2
ACCEPTED_TO_LEAVE_TIGHTENED: Final = 5
NOT_ACCEPTED_TO_DISCONTINUE: Final = 5
SCORE_FOR_REDUCED: Final = 30


@dataclass(frozen=True)
class SwitchingState:
    """Where one inspection history stands under the switching rules."""

    severity: str = "normal"
    recent: tuple[bool, ...] = ()  # accepted? for the last 5 lots in the current severity
    consecutive_accepted: int = 0
    not_accepted_in_tightened: int = 0  # since tightened inspection began
    switching_score: int = 0  # kept on normal inspection only

    def __post_init__(self) -> None:
        if self.severity not in SWITCHING_SEVERITIES:
            raise UnknownSeverity(self.severity, SWITCHING_SEVERITIES)


@dataclass(frozen=True)
class LotOutcome:
    """The result of a lot on original inspection, with the plan it was inspected on."""

    accepted: bool
    nonconforming: int
    plan: SamplingPlan
    return_to_normal: bool = False  # Z1.4 reduced: Ac < count < Re accepts but reinstates normal

    def __post_init__(self) -> None:
        verdict = self.plan.verdict(self.nonconforming)
        # The switching history is only as good as its inputs; a flag contradicting the count would
        # silently steer the rules.
        if self.accepted != (verdict != "reject"):
            raise InconsistentLotOutcome(
                f"{self.nonconforming} nonconforming against Ac {self.plan.ac} / "
                f"Re {self.plan.re} means {verdict}"
            )
        if self.return_to_normal != (verdict == "accept_return_to_normal"):
            raise InconsistentLotOutcome(
                f"{self.nonconforming} nonconforming against Ac {self.plan.ac} / "
                f"Re {self.plan.re} means {verdict}",
                field="return_to_normal",
            )

    @classmethod
    def from_count(cls, plan: SamplingPlan, nonconforming: int) -> LotOutcome:
        """The outcome a count found in the sample gives on a plan."""
        verdict = plan.verdict(nonconforming)
        return cls(
            accepted=verdict != "reject",
            nonconforming=nonconforming,
            plan=plan,
            return_to_normal=verdict == "accept_return_to_normal",
        )


@dataclass(frozen=True)
class Transition:
    """A switch between severities and the rule that caused it."""

    from_severity: str
    to_severity: str
    reason: str


def _switch(state: SwitchingState, to: str, reason: str) -> tuple[SwitchingState, Transition]:
    # Every severity starts with fresh counters; the switching score starts at 0 on normal.
    return SwitchingState(severity=to), Transition(state.severity, to, reason)


def _counted(state: SwitchingState, accepted: bool) -> SwitchingState:
    return replace(
        state,
        recent=(*state.recent, accepted)[-NORMAL_WINDOW:],
        consecutive_accepted=state.consecutive_accepted + 1 if accepted else 0,
    )


def switching_score_after(score: int, outcome: LotOutcome) -> int:
    """The switching score after a lot on normal inspection (clause 9.3.3.2, single sampling)."""
    if not outcome.accepted:
        return 0
    plan = outcome.plan
    if plan.ac >= 2:
        tighter_ac = tighter_acceptance_number(plan)
        passes_tighter = tighter_ac is not None and outcome.nonconforming <= tighter_ac
        return score + 3 if passes_tighter else 0
    return score + 2


def _on_normal(
    state: SwitchingState, outcome: LotOutcome, *, steady_production: bool, reduced_approved: bool
) -> tuple[SwitchingState, Transition | None]:
    counted = _counted(state, outcome.accepted)
    if counted.recent.count(False) >= NOT_ACCEPTED_FOR_TIGHTENED:
        return _switch(state, "tightened", "2 of the last 5 or fewer lots were not accepted.")
    score = switching_score_after(state.switching_score, outcome)
    if score >= SCORE_FOR_REDUCED and steady_production and reduced_approved:
        return _switch(
            state,
            "reduced",
            f"The switching score reached {score} with production steady and reduced inspection "
            "approved.",
        )
    return replace(counted, switching_score=score), None


def _on_tightened(
    state: SwitchingState, outcome: LotOutcome
) -> tuple[SwitchingState, Transition | None]:
    counted = _counted(state, outcome.accepted)
    if counted.consecutive_accepted >= ACCEPTED_TO_LEAVE_TIGHTENED:
        return _switch(state, "normal", "5 consecutive lots were accepted on tightened inspection.")
    not_accepted = state.not_accepted_in_tightened + (0 if outcome.accepted else 1)
    if not_accepted >= NOT_ACCEPTED_TO_DISCONTINUE:
        return _switch(
            state,
            "discontinued",
            "5 lots were not accepted since tightened inspection began; inspection stops until "
            "the supplier has taken corrective action.",
        )
    return replace(counted, not_accepted_in_tightened=not_accepted), None


def _on_reduced(
    state: SwitchingState, outcome: LotOutcome
) -> tuple[SwitchingState, Transition | None]:
    if not outcome.accepted:
        return _switch(state, "normal", "A lot was not accepted on reduced inspection.")
    if outcome.return_to_normal:
        return _switch(
            state,
            "normal",
            "A lot was accepted with a count between Ac and Re, which reinstates normal inspection.",
        )
    return _counted(state, outcome.accepted), None


def record_lot(
    state: SwitchingState,
    outcome: LotOutcome,
    *,
    steady_production: bool = True,
    reduced_approved: bool = False,
) -> tuple[SwitchingState, Transition | None]:
    """The state after a lot on original inspection, and the switch it caused if any."""
    if state.severity == "discontinued":
        raise InspectionDiscontinued
    if outcome.plan.severity != state.severity:
        raise WrongInspectionSeverity(outcome.plan.severity, state.severity)
    if state.severity == "normal":
        return _on_normal(
            state, outcome, steady_production=steady_production, reduced_approved=reduced_approved
        )
    if state.severity == "tightened":
        return _on_tightened(state, outcome)
    return _on_reduced(state, outcome)


def production_irregular(state: SwitchingState) -> tuple[SwitchingState, Transition | None]:
    """Reduced inspection returns to normal when production becomes irregular or delayed."""
    if state.severity != "reduced":
        return state, None
    return _switch(state, "normal", "Production became irregular or delayed.")


def resume_after_corrective_action(state: SwitchingState) -> SwitchingState:
    """Discontinued inspection resumes on tightened once the supplier has acted."""
    if state.severity != "discontinued":
        raise InvalidTransition("inspection", state.severity, "tightened")
    return SwitchingState(severity="tightened")
