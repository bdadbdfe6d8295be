"""Operating characteristic curves: Pa against process quality for a sampling plan."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from wms.errors import ValidationFailed
from wms.quality.errors import ValueOutOfRange
from wms.quality.oc import acceptance_probability, oc_curve, p_at
from wms.quality.sampling import SamplingPlan, sampling_plan

PLANS = {
    "J-0.15 n=80 0/1": sampling_plan(1000, "0.15"),
    "J-0.65 n=80 1/2": sampling_plan(1000, "0.65"),
    "K-1.0 n=125 3/4": sampling_plan(2000, "1.0"),
    "R-0.65 n=2000 21/22": sampling_plan(600_000, "0.65", "III"),
    "B-6.5 n=3 0/1": sampling_plan(12, "6.5"),
    "E-100 n=13 21/22 per hundred units": sampling_plan(1000, "100"),
    "A-1000 n=2 30/31 per hundred units": sampling_plan(5, "1000"),
    "E-4.0 z14 reduced n=5 0/2": sampling_plan(60, "4.0", "II", "reduced", "z14"),
}
plans = pytest.mark.parametrize("plan", list(PLANS.values()), ids=list(PLANS))


def _exact_binomial(n: int, accept_up_to: int, p: Fraction) -> float:
    return float(sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(accept_up_to + 1)))


def _exact_poisson(mean: Fraction, accept_up_to: int) -> float:
    return math.exp(-mean) * float(
        sum(mean**k / math.factorial(k) for k in range(accept_up_to + 1))
    )


@plans
def test_every_lot_is_accepted_at_perfect_quality(plan: SamplingPlan) -> None:
    assert acceptance_probability(plan, 0.0) == 1.0


@plans
def test_the_curve_falls_as_quality_worsens(plan: SamplingPlan) -> None:
    curve = oc_curve(plan)
    assert len(curve) == 41
    assert curve[0] == (0.0, 1.0)
    ps = [p for p, _ in curve]
    pas = [pa for _, pa in curve]
    assert ps == sorted(ps)
    assert all(0.0 <= pa <= 1.0 for pa in pas)
    # Never rising; strictly falling once Pa is clear of 1 (near 1 it sits at float resolution).
    steps = list(itertools.pairwise(pas))
    assert all(later <= earlier for earlier, later in steps)
    assert all(later < earlier for earlier, later in steps if earlier < 0.999)


@plans
def test_the_curve_runs_until_almost_no_lot_is_accepted(plan: SamplingPlan) -> None:
    _, last_pa = oc_curve(plan, points=11)[-1]
    assert last_pa == pytest.approx(0.01, abs=1e-9)


def test_a_fraction_nonconforming_of_1_rejects_every_lot() -> None:
    assert acceptance_probability(PLANS["K-1.0 n=125 3/4"], 1.0) == 0.0


def test_binomial_pa_matches_the_exact_sum_for_n_125_ac_3() -> None:
    plan = PLANS["K-1.0 n=125 3/4"]
    assert (plan.sample_size, plan.ac) == (125, 3)
    expected = _exact_binomial(125, 3, Fraction(1, 100))
    assert expected == pytest.approx(0.96255, abs=5e-6)
    assert acceptance_probability(plan, 0.01) == pytest.approx(expected, rel=1e-12)


def test_binomial_pa_stays_exact_for_a_sample_of_2000() -> None:
    plan = PLANS["R-0.65 n=2000 21/22"]
    for p in (Fraction(1, 200), Fraction(1, 100), Fraction(3, 200)):
        expected = _exact_binomial(2000, 21, p)
        assert acceptance_probability(plan, float(p)) == pytest.approx(expected, rel=1e-10)


def test_poisson_pa_is_used_above_aql_10_and_matches_the_exact_sum() -> None:
    plan = PLANS["E-100 n=13 21/22 per hundred units"]
    assert (plan.sample_size, plan.ac) == (13, 21)
    for per_unit in (Fraction(1, 2), Fraction(1), Fraction(2)):
        expected = _exact_poisson(13 * per_unit, 21)
        assert acceptance_probability(plan, float(per_unit)) == pytest.approx(expected, rel=1e-12)


def test_z14_reduced_counts_between_ac_and_re_as_accepted_lots() -> None:
    plan = PLANS["E-4.0 z14 reduced n=5 0/2"]
    expected = _exact_binomial(5, 1, Fraction(1, 10))
    assert acceptance_probability(plan, 0.1) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("aql", "p95", "p10"),
    [
        # ISO 2859-1 Table 10-J (n = 80), percent nonconforming at Pa 95 % and 10 %.
        ("0.15", 0.0641, 2.84),
        ("0.65", 0.446, 4.78),
    ],
)
def test_p_at_reproduces_the_published_points_for_code_letter_j(
    aql: str, p95: float, p10: float
) -> None:
    plan = sampling_plan(1000, aql)
    assert 100 * (p_at(plan, 0.95) or 0) == pytest.approx(p95, rel=5e-3)
    assert 100 * (p_at(plan, 0.10) or 0) == pytest.approx(p10, rel=5e-3)


@plans
@pytest.mark.parametrize("pa", [0.99, 0.95, 0.5, 0.10, 0.01])
def test_p_at_round_trips_through_acceptance_probability(plan: SamplingPlan, pa: float) -> None:
    p = p_at(plan, pa)
    assert p is not None
    assert acceptance_probability(plan, p) == pytest.approx(pa, abs=1e-9)


def test_a_plan_that_accepts_every_sample_has_no_p_for_a_probability_and_a_flat_curve() -> None:
    plan = sampling_plan(1, "10")  # the whole single unit is inspected against Ac 1
    assert (plan.sample_size, plan.ac) == (1, 1)
    assert p_at(plan, 0.5) is None
    assert oc_curve(plan, points=3) == [(0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]


@pytest.mark.parametrize("p", [-0.01, 1.01, math.nan])
def test_a_fraction_nonconforming_outside_0_to_1_is_refused(p: float) -> None:
    with pytest.raises(ValueOutOfRange) as caught:
        acceptance_probability(PLANS["J-0.65 n=80 1/2"], p)
    assert caught.value.field == "p"


def test_nonconformities_per_unit_may_exceed_1_but_not_fall_below_0() -> None:
    plan = PLANS["E-100 n=13 21/22 per hundred units"]
    assert 0 < acceptance_probability(plan, 1.5) < 1
    with pytest.raises(ValueOutOfRange):
        acceptance_probability(plan, -0.5)


@pytest.mark.parametrize("pa", [0.0, 1.0, -0.5, 2.0])
def test_p_at_needs_a_probability_strictly_between_0_and_1(pa: float) -> None:
    with pytest.raises(ValueOutOfRange) as caught:
        p_at(PLANS["J-0.65 n=80 1/2"], pa)
    assert caught.value.field == "pa"


def test_an_oc_curve_needs_at_least_two_points() -> None:
    with pytest.raises(ValidationFailed) as caught:
        oc_curve(PLANS["J-0.65 n=80 1/2"], points=1)
    assert caught.value.field == "points"
