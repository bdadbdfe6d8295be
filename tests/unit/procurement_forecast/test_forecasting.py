"""Demand forecasting: Syntetos-Boylan classes, model choice by backtest, and the fallbacks.

The first test to forecast pays for importing statsforecast (a few seconds); the fits are cheap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from wms.errors import ValidationFailed
from wms.procurement.forecasting import Forecast, classify, forecast_many

KEY = ("SKU-1", "SHA")


def one(history: Sequence[float], *, horizon: int = 4, season_length: int = 52) -> Forecast:
    return forecast_many({KEY: history}, horizon=horizon, season_length=season_length)[KEY]


def noisy(values: Sequence[float], spread: float, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [max(0.0, round(v + rng.gauss(0, spread), 1)) for v in values]


def intermittent(weeks: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [float(rng.choice([4, 5, 6])) if rng.random() < 0.3 else 0.0 for _ in range(weeks)]


def seasonal(weeks: int, season: int, seed: int = 5) -> list[float]:
    wave = [40 + 25 * math.sin(2 * math.pi * w / season) for w in range(weeks)]
    return noisy(wave, 0.5, seed)


# Classification ---------------------------------------------------------------------------


def test_steady_weekly_demand_is_regular() -> None:
    assert classify([10, 12, 9, 11, 10, 13, 9, 10]) == "regular"


def test_demand_every_week_with_wild_sizes_is_erratic() -> None:
    assert classify([1, 20, 2, 40, 3, 30, 1, 25]) == "erratic"


def test_sparse_demand_of_similar_size_is_intermittent() -> None:
    # 9 weeks from the first demand, 4 demands (ADI 2.25), sizes 5, 5, 6, 5 (CV^2 0.007).
    assert classify([0, 5, 0, 0, 5, 0, 6, 0, 0, 5]) == "intermittent"


def test_sparse_demand_of_wild_sizes_is_lumpy() -> None:
    assert classify([1, 0, 0, 40, 0, 0, 3, 0, 0, 60]) == "lumpy"


def test_no_demand_has_no_pattern() -> None:
    assert classify([0, 0, 0]) == "none"
    assert classify([]) == "none"


def test_weeks_before_the_first_demand_do_not_count_as_gaps() -> None:
    assert classify([0] * 30 + [5, 5, 6, 5]) == "regular"


# Model choice -----------------------------------------------------------------------------


def test_a_trend_gets_a_trend_following_forecast_that_beats_the_mean() -> None:
    history = noisy([10 + 2 * w for w in range(40)], 1.0)
    got = one(history, horizon=4)
    assert got.model == "ets"
    assert got.pattern == "regular"
    assert got.backtest["ets"] < got.backtest["mean"]
    assert got.backtest["ets"] < got.backtest["naive"]
    assert list(got.values) == sorted(got.values)  # still rising
    assert got.values[0] > max(history[-4:]) - 2


def test_intermittent_demand_gets_croston_or_tsb() -> None:
    got = one(intermittent(60))
    assert got.pattern == "intermittent"
    assert got.model in {"croston", "tsb"}
    assert set(got.backtest) == {"croston", "tsb"}
    assert len(set(got.values)) == 1  # a flat demand rate
    assert 0 < got.values[0] < 5
    assert got.sigma > 0


def test_two_seasons_of_history_bring_in_the_seasonal_naive() -> None:
    history = seasonal(110, 52)
    got = one(history, horizon=8)
    assert got.model == "seasonal_naive"
    assert got.backtest["seasonal_naive"] < got.backtest["ets"]
    # Next weeks repeat the same weeks of last season.
    assert got.values == pytest.approx(history[-52:-44])


def test_less_than_two_seasons_leaves_the_seasonal_naive_out() -> None:
    got = one(seasonal(90, 52))
    assert "seasonal_naive" not in got.backtest
    assert set(got.backtest) == {"ets", "naive", "mean"}


def test_a_short_season_is_followed_too() -> None:
    got = one([5, 20, 35, 20] * 6, horizon=4, season_length=4)
    assert got.model == "seasonal_naive"
    assert got.values == pytest.approx((5, 20, 35, 20))


# Fallbacks --------------------------------------------------------------------------------


def test_no_demand_forecasts_zero() -> None:
    got = one([0] * 30, horizon=3)
    assert (got.model, got.pattern, got.values, got.sigma) == ("zero", "none", (0.0,) * 3, 0.0)
    assert one([], horizon=2).values == (0.0, 0.0)


def test_one_week_of_demand_gets_the_mean_with_a_conservative_sigma() -> None:
    got = one([0] * 20 + [3, 0, 0], horizon=2)
    assert got.model == "mean"
    assert got.values == (1.0, 1.0)  # 3 units over the 3 weeks since the first demand
    assert got.sigma >= 1.0
    assert got.backtest == {}


def test_too_short_to_backtest_gets_the_mean() -> None:
    got = one([4, 6, 5], horizon=2)
    assert got.model == "mean"
    assert got.values == (5.0, 5.0)
    assert got.sigma > 0


# What every forecast keeps -----------------------------------------------------------------


def test_keeps_every_candidates_error_and_a_positive_sigma_where_demand_varies() -> None:
    got = one(noisy([30.0] * 50, 6.0))
    assert got.error == got.backtest[got.model]
    assert all(math.isfinite(e) and e >= 0 for e in got.backtest.values())
    assert got.sigma > 0
    assert len(got.values) == 4


def test_a_candidate_too_short_to_fit_is_left_out_of_the_backtest() -> None:
    got = one([3, 5, 4, 6, 5, 4])  # two weeks before the first origin: too few for ETS
    assert set(got.backtest) == {"naive", "mean"}
    assert got.model == "mean"
    assert got.values == (4.5,) * 4


def test_steady_demand_has_no_error_and_no_sigma() -> None:
    got = one([7] * 20)
    assert got.error == 0
    assert got.sigma == 0
    assert got.values == (7.0,) * 4


def test_a_falling_trend_never_forecasts_below_zero() -> None:
    got = one([40 - 2 * w for w in range(20)], horizon=8)
    assert all(v >= 0 for v in got.values)
    assert got.values[-1] == 0


def test_rejects_negative_demand_and_an_empty_horizon() -> None:
    with pytest.raises(ValidationFailed) as caught:
        one([3, -1, 4])
    assert caught.value.field == "history"
    with pytest.raises(ValidationFailed) as caught:
        one([3, 1, 4], horizon=0)
    assert caught.value.field == "horizon"


# A batch ----------------------------------------------------------------------------------


def test_a_batch_of_500_series_forecasts_each_in_input_order() -> None:
    makers = [
        lambda i: noisy([20 + 0.2 * w for w in range(40)], 4.0, seed=i),
        lambda i: intermittent(40, seed=i),
        lambda i: [0.0] * 40,
        lambda i: [0.0] * 38 + [2.0, 0.0],
        lambda i: seasonal(40, 8, seed=i),
    ]
    history = {(f"SKU-{i}", "SHA"): makers[i % 5](i) for i in range(500)}
    calls: list[tuple[int, int]] = []
    got = forecast_many(
        history, horizon=6, season_length=8, progress=lambda d, t: calls.append((d, t))
    )
    assert list(got) == list(history)
    assert all(len(f.values) == 6 and min(f.values) >= 0 for f in got.values())
    assert {f.model for f in got.values()} >= {"zero", "mean", "seasonal_naive"}
    assert {f.model for f in got.values()} & {"croston", "tsb"}
    assert calls[-1] == (500, 500)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    again = forecast_many(dict(list(history.items())[:50]), horizon=6, season_length=8)
    assert all(again[k] == got[k] for k in again)
