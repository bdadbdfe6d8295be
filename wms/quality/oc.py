"""Operating characteristic of a single sampling plan: the chance a lot is accepted at a quality."""

from __future__ import annotations

import math
from typing import Final

from wms.errors import ValidationFailed
from wms.quality.errors import ValueOutOfRange
from wms.quality.sampling import SamplingPlan

# Pa at the right end of oc_curve: by then the curve has fallen to nothing worth drawing.
CURVE_END_PA: Final = 0.01
_BISECTION_STEPS: Final = 200


def _accepts_up_to(plan: SamplingPlan) -> int:
    # A lot is accepted on every count below Re; that is Ac except on Z1.4 reduced plans, where a
    # count between Ac and Re still accepts the lot (and only reinstates normal inspection).
    return plan.re - 1


def _binomial_cdf(k: int, n: int, p: float) -> float:
    if k >= n or p == 0.0:
        return 1.0
    if p == 1.0:
        return 0.0
    # Summed in log space: p**k * (1-p)**(n-k) underflows long before n = 2000 does any harm.
    log_p, log_q = math.log(p), math.log1p(-p)
    return min(
        1.0,
        math.fsum(
            math.exp(math.log(math.comb(n, i)) + i * log_p + (n - i) * log_q) for i in range(k + 1)
        ),
    )


def _poisson_cdf(k: int, mean: float) -> float:
    if mean == 0.0:
        return 1.0
    log_mean = math.log(mean)
    return min(
        1.0, math.fsum(math.exp(i * log_mean - mean - math.lgamma(i + 1)) for i in range(k + 1))
    )


def acceptance_probability(plan: SamplingPlan, p: float) -> float:
    """Pa at process quality p: fraction nonconforming (binomial) up to AQL 10, else per unit (Poisson)."""
    if plan.counts_nonconformities:
        if not (math.isfinite(p) and p >= 0):
            raise ValueOutOfRange(p, "nonconformities per unit, 0 or more", field="p")
        return _poisson_cdf(_accepts_up_to(plan), plan.sample_size * p)
    if not 0 <= p <= 1:
        raise ValueOutOfRange(p, "a fraction nonconforming from 0 to 1", field="p")
    return _binomial_cdf(_accepts_up_to(plan), plan.sample_size, p)


def p_at(plan: SamplingPlan, pa: float) -> float | None:
    """The quality p at which Pa equals pa (0.95: producer's risk point, 0.10: LQ), by bisection.

    None when no quality gives that Pa: the plan accepts every possible sample (Re exceeds n).
    """
    if not 0 < pa < 1:
        raise ValueOutOfRange(pa, "a probability strictly between 0 and 1", field="pa")
    if plan.counts_nonconformities:
        high = (_accepts_up_to(plan) + 1) / plan.sample_size
        while acceptance_probability(plan, high) > pa:
            high *= 2
    else:
        high = 1.0
        if acceptance_probability(plan, high) > pa:
            return None
    low = 0.0
    # Pa falls strictly with p on [low, high], so halving the bracket converges on the one root.
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if acceptance_probability(plan, middle) > pa:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def oc_curve(plan: SamplingPlan, points: int = 41) -> list[tuple[float, float]]:
    """(p, Pa) pairs from p = 0 to where Pa falls to 1%, evenly spaced, to draw the OC curve."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ValidationFailed(
            f"an OC curve needs at least 2 points, not {points!r}", field="points"
        )
    end = p_at(plan, CURVE_END_PA)
    # A plan that accepts every sample is flat at Pa = 1; show it over the whole range of p.
    upper = 1.0 if end is None else end
    return [
        (upper * i / (points - 1), acceptance_probability(plan, upper * i / (points - 1)))
        for i in range(points)
    ]
