"""Weekly demand forecasts per (sku, warehouse): choose a model by backtest, refit, forecast.

Pure code over plain sequences. statsforecast (with pandas, scipy and statsmodels behind it) takes
seconds to import, so it is imported inside the functions that need it: once per process, never
at import time of the planning code. Version 2 of statsforecast is compiled C++, not numba, so
there is no JIT warm-up beyond that import; ``warm_up`` lets a worker pay it at start.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import statistics
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from wms.errors import ValidationFailed

if TYPE_CHECKING:
    import pandas as pd

Key = tuple[str, str]
Progress = Callable[[int, int], None]

# Syntetos & Boylan (2005) cut-offs: average inter-demand interval and squared coefficient of
# variation of the non-zero demand sizes.
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49
# Weeks of history before the first backtest origin; with less, a series gets the plain mean.
MIN_TRAIN_WEEKS = 2
# TSB has no optimised variant in statsforecast; low smoothing constants suit weekly SKU demand.
TSB_ALPHA = 0.1
# Below this many series a process pool costs more than it saves.
PARALLEL_FROM = 2_000

# Ties go to the first, simplest model.
MODELS = ("mean", "naive", "seasonal_naive", "tsb", "croston", "ets")
# Models that statsforecast can roll forward without refitting, so the rolling-origin backtest
# costs one fit; the others are refitted per origin (they are cheap).
_FORWARD = frozenset({"ets", "naive", "seasonal_naive"})


@dataclass(frozen=True)
class Forecast:
    """The chosen model's weekly forecast for one (sku, warehouse), with its backtest."""

    key: tuple[str, str]  # (sku, warehouse)
    model: str  # "ets" | "croston" | "tsb" | "seasonal_naive" | "naive" | "mean" | "zero"
    values: tuple[float, ...]  # units per week over the horizon, never negative
    error: float  # the chosen model's backtest MAE per week (in-sample for "mean" without one)
    sigma: float  # std of the one-week-ahead forecast error, for safety stock
    pattern: str  # "regular" | "erratic" | "intermittent" | "lumpy" | "none"
    backtest: dict[str, float]  # backtest MAE per candidate that could be fitted

    @property
    def total(self) -> float:
        """Units expected over the whole horizon."""
        return sum(self.values)


def classify(history: Sequence[float]) -> str:
    """Syntetos-Boylan demand pattern: regular, erratic, intermittent, lumpy, or none."""
    series = _trim(history)
    demands = [v for v in series if v > 0]
    if not demands:
        return "none"
    adi = len(series) / len(demands)
    cv2 = (statistics.pstdev(demands) / statistics.fmean(demands)) ** 2
    if adi < ADI_CUTOFF:
        return "regular" if cv2 < CV2_CUTOFF else "erratic"
    return "intermittent" if cv2 < CV2_CUTOFF else "lumpy"


def warm_up() -> None:
    """Import statsforecast now, so that the first forecast does not pay for it."""
    import statsforecast.models  # noqa: F401


def forecast_many(
    history: Mapping[tuple[str, str], Sequence[float]],
    *,
    horizon: int,
    season_length: int = 52,
    holdout: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> dict[tuple[str, str], Forecast]:
    """Forecast ``horizon`` weeks for every series, each with the model that backtested best."""
    _check_positive(horizon=horizon, season_length=season_length, holdout=holdout)
    done: dict[Key, Forecast] = {}
    batch: dict[Key, tuple[list[float], str]] = {}
    for key, values in history.items():
        series = _trim(_checked(key, values))
        pattern = classify(series)
        if pattern == "none":
            done[key] = Forecast(key, "zero", (0.0,) * horizon, 0.0, 0.0, "none", {})
        elif sum(v > 0 for v in series) < 2 or len(series) < holdout + MIN_TRAIN_WEEKS:
            done[key] = _mean_forecast(key, series, horizon, pattern)
        else:
            batch[key] = (series, pattern)
    _report(progress, len(done), len(history))
    if batch:
        done.update(
            _forecast_batch(
                batch,
                horizon=horizon,
                season_length=season_length,
                holdout=holdout,
                report=lambda n: _report(progress, len(done) + n, len(history)),
            )
        )
    return {key: done[key] for key in history}


def _forecast_batch(
    batch: dict[Key, tuple[list[float], str]],
    *,
    horizon: int,
    season_length: int,
    holdout: int,
    report: Callable[[int], None],
) -> dict[Key, Forecast]:
    keys = list(batch)
    series = [batch[k][0] for k in keys]
    patterns = [batch[k][1] for k in keys]
    candidates = [
        _candidates(p, len(s), season_length) for p, s in zip(patterns, series, strict=True)
    ]
    errors = _backtest(series, candidates, season_length=season_length, holdout=holdout)
    chosen = [_choose(e) for e in errors]
    out: dict[Key, Forecast] = {}
    for name in MODELS:
        ids = [i for i, c in enumerate(chosen) if c == name]
        if not ids:
            continue
        fitted = _fit(name, [series[i] for i in ids], horizon=horizon, season_length=season_length)
        for i, (values, in_sample_rmse) in zip(ids, fitted, strict=True):
            key, mae_rmse = keys[i], errors[i]
            backtest = {m: mae for m, (mae, _) in mae_rmse.items() if math.isfinite(mae)}
            if any(math.isnan(v) for v in values):
                out[key] = _mean_forecast(key, series[i], horizon, patterns[i], backtest)
                continue
            mae, holdout_rmse = mae_rmse[name]
            sigma = max(in_sample_rmse, holdout_rmse)
            out[key] = Forecast(
                key, name, tuple(max(0.0, v) for v in values), mae, sigma, patterns[i], backtest
            )
        report(len(out))
    return out


def _candidates(pattern: str, length: int, season_length: int) -> tuple[str, ...]:
    """Models worth backtesting for a series of this pattern and length.

    Intermittent and lumpy series compete only between Croston and TSB: an absolute-error
    backtest rewards forecasts near zero there (the median week sells nothing), so a naive or
    zero-heavy forecast would win while leaving the shelf empty.
    """
    if pattern in ("intermittent", "lumpy"):
        return ("croston", "tsb")
    seasonal = ("seasonal_naive",) if season_length > 1 and length >= 2 * season_length else ()
    return ("ets", "naive", "mean", *seasonal)


def _choose(errors: Mapping[str, tuple[float, float]]) -> str:
    """The candidate with the lowest backtest MAE; "mean" when every candidate failed."""
    finite = [m for m in MODELS if m in errors and math.isfinite(errors[m][0])]
    return min(finite, key=lambda m: errors[m][0], default="mean")


def _backtest(
    series: list[list[float]],
    candidates: list[tuple[str, ...]],
    *,
    season_length: int,
    holdout: int,
) -> list[dict[str, tuple[float, float]]]:
    """Rolling-origin one-week-ahead (MAE, RMSE) per candidate over the last ``holdout`` weeks."""
    errors: list[dict[str, tuple[float, float]]] = [{} for _ in series]
    for name in MODELS:
        ids = [i for i, c in enumerate(candidates) if name in c]
        if not ids:
            continue
        engine = _engine(name, season_length, len(ids))
        with _quiet():
            cv = engine.cross_validation(
                h=1,
                df=_frame([series[i] for i in ids]),
                n_windows=holdout,
                step_size=1,
                refit=name not in _FORWARD,
            )
        cv = cv.sort_values(["unique_id", "ds"])
        actual = cv["y"].to_numpy(dtype=float).reshape(len(ids), holdout)
        predicted = cv[name].to_numpy(dtype=float).reshape(len(ids), holdout)
        miss = np.abs(actual - np.maximum(predicted, 0.0))
        maes = miss.mean(axis=1)  # NaN where the model failed to fit: never chosen, not kept
        rmses = np.sqrt((miss**2).mean(axis=1))
        for row, i in enumerate(ids):
            errors[i][name] = (float(maes[row]), float(rmses[row]))
    return errors


def _fit(
    name: str, series: list[list[float]], *, horizon: int, season_length: int
) -> list[tuple[list[float], float]]:
    """Refit ``name`` on full histories: the forecast and the in-sample one-step RMSE of each."""
    engine = _engine(name, season_length, len(series))
    with _quiet():
        predicted = engine.forecast(h=horizon, df=_frame(series), fitted=True)
    fitted = engine.forecast_fitted_values()
    predicted = predicted.sort_values(["unique_id", "ds"])
    values = predicted[name].to_numpy(dtype=float).reshape(len(series), horizon)
    squared = (fitted["y"] - fitted[name]) ** 2
    rmse = squared.groupby(fitted["unique_id"]).mean().pow(0.5).fillna(0.0).sort_index()
    return [(values[row].tolist(), float(r)) for row, r in enumerate(rmse.to_numpy(dtype=float))]


def _engine(name: str, season_length: int, count: int) -> Any:
    """A StatsForecast over integer weeks with one model; a failed fit yields NaN, not an error."""
    from statsforecast import StatsForecast
    from statsforecast.models import NaNModel

    return StatsForecast(
        models=[_model(name, season_length)],
        freq=1,
        n_jobs=_jobs(count),
        fallback_model=NaNModel(),
    )


def _model(name: str, season_length: int) -> Any:
    """The statsforecast model behind one of our model names, aliased to that name."""
    from statsforecast import models as sf

    if name == "ets":
        # Non-seasonal ETS with additive errors (trend none, additive or damped, by AICc):
        # weekly seasonality (m = 52) is beyond ETS, and multiplicative errors break on zeros.
        return sf.AutoETS(season_length=1, model="AZN", alias=name)
    if name == "croston":
        return sf.CrostonOptimized(alias=name)
    if name == "tsb":
        return sf.TSB(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA, alias=name)
    if name == "seasonal_naive":
        return sf.SeasonalNaive(season_length=season_length, alias=name)
    if name == "naive":
        return sf.Naive(alias=name)
    return sf.HistoricAverage(alias=name)


def _frame(series: list[list[float]]) -> pd.DataFrame:
    """The long (unique_id, ds, y) frame statsforecast expects; ids are list positions."""
    import pandas as pd

    lengths = [len(s) for s in series]
    return pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(len(series)), lengths),
            "ds": np.concatenate([np.arange(n) for n in lengths]),
            "y": np.concatenate([np.asarray(s, dtype=float) for s in series]),
        }
    )


def _jobs(count: int) -> int:
    """Worker processes for a batch: one for small batches, the cores for large ones.

    A daemonic process (a Celery prefork child) may not start children, so it stays serial.
    """
    if count < PARALLEL_FROM or multiprocessing.current_process().daemon:
        return 1
    return max(1, os.cpu_count() or 1)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence statsforecast's note that Croston's fitted values are expensive (we want them)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Computing fitted values", category=UserWarning)
        yield


def _mean_forecast(
    key: Key,
    series: Sequence[float],
    horizon: int,
    pattern: str,
    backtest: dict[str, float] | None = None,
) -> Forecast:
    """The plain mean with a conservative sigma: Poisson spread or a CV of one, if larger."""
    mean = statistics.fmean(series)
    sigma = max(statistics.pstdev(series), mean, math.sqrt(mean))
    backtest = backtest or {}
    error = backtest.get("mean", statistics.fmean(abs(v - mean) for v in series))
    return Forecast(key, "mean", (mean,) * horizon, error, sigma, pattern, backtest)


def _trim(history: Sequence[float]) -> list[float]:
    """The series from its first week of demand on (earlier zeros predate the product)."""
    values = [float(v) for v in history]
    start = next((i for i, v in enumerate(values) if v > 0), len(values))
    return values[start:]


def _checked(key: Key, values: Sequence[float]) -> Sequence[float]:
    for week, value in enumerate(values):
        if not math.isfinite(value) or value < 0:
            raise ValidationFailed(
                f"demand of {key[0]} at {key[1]} in week {week} is {value}; "
                "weekly demand is a finite number of units, never negative",
                field="history",
                sku=key[0],
                warehouse=key[1],
                week=week,
            )
    return values


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationFailed(
                f"{name} must be a whole number of weeks, at least 1", field=name
            )


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
