"""ISO 2859-1:1999 clause 9 switching rules, lot by lot."""

from __future__ import annotations

import pytest

from wms.errors import Conflict, InvalidTransition
from wms.quality.errors import (
    InconsistentLotOutcome,
    InspectionDiscontinued,
    UnknownSeverity,
    WrongInspectionSeverity,
)
from wms.quality.sampling import SamplingPlan, sampling_plan
from wms.quality.switching import (
    LotOutcome,
    SwitchingState,
    Transition,
    production_irregular,
    record_lot,
    resume_after_corrective_action,
    switching_score_after,
)

LOT_SIZE = 1000  # code letter J, n = 80 on normal and tightened, 32 on reduced
OK = 0  # nonconforming units found in an accepted lot
BAD = 5  # found in a lot that is not accepted on every plan used here


def _plan(severity: str = "normal", aql: str = "1.0", standard: str = "iso2859-1") -> SamplingPlan:
    return sampling_plan(LOT_SIZE, aql, "II", severity, standard)


def _run(
    state: SwitchingState,
    counts: list[int],
    *,
    aql: str = "1.0",
    standard: str = "iso2859-1",
    steady_production: bool = True,
    reduced_approved: bool = False,
) -> tuple[SwitchingState, list[Transition]]:
    """Feed lots on the plan of the state's current severity; collect the switches."""
    transitions = []
    for count in counts:
        outcome = LotOutcome.from_count(_plan(state.severity, aql, standard), count)
        state, transition = record_lot(
            state, outcome, steady_production=steady_production, reduced_approved=reduced_approved
        )
        if transition is not None:
            transitions.append(transition)
    return state, transitions


def _discontinued() -> SwitchingState:
    state, _ = _run(SwitchingState(severity="tightened"), [BAD] * 5)
    return state


def test_inspection_starts_on_normal_with_a_zero_score() -> None:
    state = SwitchingState()
    assert (state.severity, state.recent, state.switching_score) == ("normal", (), 0)


def test_switches_to_tightened_after_two_rejections_in_five_lots() -> None:
    state, transitions = _run(SwitchingState(), [BAD, OK, OK, OK])
    assert (state.severity, transitions) == ("normal", [])
    state, transitions = _run(state, [BAD])
    assert state == SwitchingState(severity="tightened")
    assert transitions == [
        Transition("normal", "tightened", "2 of the last 5 or fewer lots were not accepted.")
    ]


def test_switches_to_tightened_after_two_consecutive_rejections() -> None:
    state, _ = _run(SwitchingState(), [OK, BAD, BAD])
    assert state.severity == "tightened"


def test_stays_on_normal_when_two_rejections_are_six_lots_apart() -> None:
    state, transitions = _run(SwitchingState(), [BAD, OK, OK, OK, OK, BAD])
    assert (state.severity, transitions) == ("normal", [])
    assert state.recent == (True, True, True, True, False)


def test_returns_to_normal_after_five_consecutive_acceptances_on_tightened() -> None:
    state, transitions = _run(SwitchingState(severity="tightened"), [OK] * 4)
    assert (state.severity, state.consecutive_accepted, transitions) == ("tightened", 4, [])
    state, transitions = _run(state, [OK])
    assert state == SwitchingState(severity="normal")
    assert [(t.from_severity, t.to_severity) for t in transitions] == [("tightened", "normal")]


def test_a_rejection_on_tightened_restarts_the_run_of_acceptances() -> None:
    state, _ = _run(SwitchingState(severity="tightened"), [OK, OK, OK, OK, BAD, OK, OK, OK, OK])
    assert (state.severity, state.consecutive_accepted, state.not_accepted_in_tightened) == (
        "tightened",
        4,
        1,
    )
    state, _ = _run(state, [OK])
    assert state.severity == "normal"


def test_discontinues_when_five_lots_in_all_are_not_accepted_on_tightened() -> None:
    state, transitions = _run(
        SwitchingState(severity="tightened"), [BAD, OK, BAD, OK, OK, BAD, BAD]
    )
    assert (state.severity, state.not_accepted_in_tightened) == ("tightened", 4)
    state, transitions = _run(state, [BAD])
    assert state.severity == "discontinued"
    assert [(t.from_severity, t.to_severity) for t in transitions] == [
        ("tightened", "discontinued")
    ]
    assert "corrective action" in transitions[0].reason


def test_refuses_lots_while_inspection_is_discontinued() -> None:
    outcome = LotOutcome.from_count(_plan("tightened"), OK)
    with pytest.raises(InspectionDiscontinued) as caught:
        record_lot(_discontinued(), outcome)
    assert isinstance(caught.value, Conflict)
    assert caught.value.code == "inspection_discontinued"


def test_resumes_on_tightened_with_fresh_counters_after_corrective_action() -> None:
    assert resume_after_corrective_action(_discontinued()) == SwitchingState(severity="tightened")


@pytest.mark.parametrize("severity", ["normal", "tightened", "reduced"])
def test_only_discontinued_inspection_can_resume_after_corrective_action(severity: str) -> None:
    with pytest.raises(InvalidTransition) as caught:
        resume_after_corrective_action(SwitchingState(severity=severity))
    assert isinstance(caught.value, Conflict)


def test_score_adds_two_per_accepted_lot_when_ac_is_0_or_1() -> None:
    assert _plan(aql="0.65").ac == 1
    state, _ = _run(SwitchingState(), [OK, 1, OK], aql="0.65")
    assert state.switching_score == 6


def test_score_adds_three_when_the_lot_passes_one_aql_step_tighter() -> None:
    # J at AQL 1.0 is 2/3; one step tighter (0.65) the same 80 units face 1/2.
    assert (_plan().ac, _plan(aql="0.65").ac) == (2, 1)
    state, _ = _run(SwitchingState(), [OK, 1])
    assert state.switching_score == 6


def test_score_resets_when_the_lot_passes_but_would_fail_one_step_tighter() -> None:
    state, _ = _run(SwitchingState(), [OK, OK, 2])
    assert (state.severity, state.switching_score, state.recent) == ("normal", 0, (True,) * 3)


def test_score_resets_on_a_lot_not_accepted() -> None:
    state, _ = _run(SwitchingState(), [OK, OK, BAD], aql="0.65")
    assert (state.severity, state.switching_score) == ("normal", 0)


def test_score_resets_on_a_rejection_with_ac_of_2_or_more() -> None:
    outcome = LotOutcome.from_count(_plan(), 3)
    assert switching_score_after(27, outcome) == 0


def test_switches_to_reduced_at_a_score_of_30_with_steady_production_and_approval() -> None:
    state, transitions = _run(SwitchingState(), [OK] * 9, reduced_approved=True)
    assert (state.severity, state.switching_score, transitions) == ("normal", 27, [])
    state, transitions = _run(state, [OK], reduced_approved=True)
    assert state == SwitchingState(severity="reduced")
    assert [(t.from_severity, t.to_severity) for t in transitions] == [("normal", "reduced")]
    assert "30" in transitions[0].reason


def test_score_keeps_accumulating_until_reduced_inspection_is_approved() -> None:
    state, transitions = _run(SwitchingState(), [OK] * 12)
    assert (state.severity, state.switching_score, transitions) == ("normal", 36, [])
    state, _ = _run(state, [OK], reduced_approved=True)
    assert state.severity == "reduced"


def test_score_keeps_accumulating_while_production_is_not_steady() -> None:
    state, transitions = _run(
        SwitchingState(), [OK] * 11, steady_production=False, reduced_approved=True
    )
    assert (state.severity, state.switching_score, transitions) == ("normal", 33, [])


def test_stays_on_reduced_while_lots_are_accepted() -> None:
    state, transitions = _run(SwitchingState(severity="reduced"), [OK] * 10)
    assert (state.severity, transitions) == ("reduced", [])


def test_returns_from_reduced_to_normal_when_a_lot_is_not_accepted() -> None:
    state, transitions = _run(SwitchingState(severity="reduced"), [OK, BAD])
    assert state == SwitchingState(severity="normal")
    assert transitions == [
        Transition("reduced", "normal", "A lot was not accepted on reduced inspection.")
    ]


def test_z14_count_between_ac_and_re_accepts_the_lot_and_returns_to_normal() -> None:
    plan = sampling_plan(60, "4.0", "II", "reduced", "z14")  # E on reduced Z1.4: n=5, 0/2
    outcome = LotOutcome.from_count(plan, 1)
    assert (outcome.accepted, outcome.return_to_normal) == (True, True)
    state, transition = record_lot(SwitchingState(severity="reduced"), outcome)
    assert state == SwitchingState(severity="normal")
    assert transition is not None
    assert (transition.from_severity, transition.to_severity) == ("reduced", "normal")


def test_irregular_production_returns_reduced_inspection_to_normal() -> None:
    state, transition = production_irregular(SwitchingState(severity="reduced", recent=(True,)))
    assert state == SwitchingState(severity="normal")
    assert transition == Transition("reduced", "normal", "Production became irregular or delayed.")


@pytest.mark.parametrize("severity", ["normal", "tightened", "discontinued"])
def test_irregular_production_changes_nothing_off_reduced(severity: str) -> None:
    state = SwitchingState(severity=severity, switching_score=4 if severity == "normal" else 0)
    assert production_irregular(state) == (state, None)


def test_refuses_a_lot_inspected_on_a_plan_of_another_severity() -> None:
    outcome = LotOutcome.from_count(_plan("normal"), OK)
    with pytest.raises(WrongInspectionSeverity) as caught:
        record_lot(SwitchingState(severity="tightened"), outcome)
    assert caught.value.context == {"used": "normal", "current": "tightened"}


def test_lot_outcome_refuses_an_accepted_flag_that_contradicts_the_count() -> None:
    with pytest.raises(InconsistentLotOutcome):
        LotOutcome(accepted=True, nonconforming=BAD, plan=_plan())
    with pytest.raises(InconsistentLotOutcome):
        LotOutcome(accepted=False, nonconforming=OK, plan=_plan())


def test_lot_outcome_refuses_a_return_to_normal_flag_the_plan_cannot_give() -> None:
    with pytest.raises(InconsistentLotOutcome) as caught:
        LotOutcome(accepted=True, nonconforming=OK, plan=_plan(), return_to_normal=True)
    assert caught.value.field == "return_to_normal"


def test_a_state_with_an_unknown_severity_is_refused() -> None:
    with pytest.raises(UnknownSeverity):
        SwitchingState(severity="relaxed")


def test_recent_keeps_only_the_last_five_lots() -> None:
    state, _ = _run(SwitchingState(), [OK] * 7, aql="0.65")
    assert state.recent == (True,) * 5
    assert state.consecutive_accepted == 7
