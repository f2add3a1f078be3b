"""The forecast: the accepted fitted histories continued past the record, week by week.

A continued run's weight is its parameter set's posterior weight shared among those of the
set's runs the fit accepted (`run_weights`): the forecast continues the histories that came
close to the record, not fresh runs of the fitted parameters.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from sim.calibration.abc import weighted_quantiles
from sim.calibration.histories import Batch
from sim.calibration.skill import Forecast
from sim.calibration.skill import weekly as weekly_sums
from sim.ladder import Rung

#: Weekly series of the forecast: attacks on sites, and attacks by mode.
SERIES = {
    "site attacks": ("rocket", "drone"),
    "rocket": ("rocket",),
    "drone": ("drone",),
    "ied": ("ied",),
}
QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95]


def run_weights(posterior: pd.DataFrame, replicates: int) -> np.ndarray:
    """Weight of each (point, replicate) run: the point's weight over its accepted runs."""
    accepted = posterior[[f"accepted_{r}" for r in range(replicates)]].to_numpy(dtype=float)
    shares = accepted / np.maximum(accepted.sum(axis=1), 1.0)[:, None]
    weights = posterior["weight"].to_numpy()[:, None] * shares
    return weights / weights.sum()


@dataclass(frozen=True)
class Ensemble:
    """The weighted runs of a forecast and its window: ``days`` days from day ``first``."""

    series: list[pd.DataFrame]
    weights: np.ndarray
    first: int
    days: int
    start: date  # the date of day 0

    @property
    def weeks(self) -> int:
        return self.days // 7

    @property
    def effective_size(self) -> float:
        return float(1.0 / ((self.weights / self.weights.sum()) ** 2).sum())

    def window(self, column: str) -> np.ndarray:
        """A daily column over the window, one row per run."""
        last = self.first + self.days
        return np.array([s[column].to_numpy()[self.first : last] for s in self.series])

    def weekly(self, modes: tuple[str, ...]) -> np.ndarray:
        """Weekly attacks of ``modes``, one row per run."""
        return weekly_sums(sum(self.window(f"attacks:{mode}") for mode in modes), self.weeks)

    def forecast(self, modes: tuple[str, ...] = SERIES["site attacks"]) -> Forecast:
        return Forecast("model", members=self.weekly(modes), weights=self.weights)

    def week_starts(self) -> list[date]:
        first = self.start + timedelta(days=self.first)
        return [first + timedelta(days=7 * w) for w in range(self.weeks)]


def ensemble(batch: Batch, weights: np.ndarray, start: date, first: date, days: int) -> Ensemble:
    """The runs of ``batch`` with positive weight, over ``days`` days from ``first``."""
    runs = [
        (table, weights[p, r])
        for p, tables in enumerate(batch.series)
        for r, table in enumerate(tables)
        if weights[p, r] > 0
    ]
    return Ensemble(
        [table for table, _ in runs],
        np.array([w for _, w in runs]),
        (first - start).days,
        days,
        start,
    )


def weekly_table(forecasts: dict[str, dict[str, Forecast]], weeks: list[date]) -> pd.DataFrame:
    """One row per (forecaster, series, week): the mean and the `QUANTILES`."""
    rows = []
    for forecaster, by_series in forecasts.items():
        for series, forecast in by_series.items():
            quantiles = forecast.quantiles(QUANTILES)
            mean = forecast.mean()
            for w, week in enumerate(weeks):
                rows.append(
                    {
                        "forecaster": forecaster,
                        "series": series,
                        "week_start": week.isoformat(),
                        "mean": round(float(mean[w]), 4),
                        **{
                            f"q{round(100 * q):02d}": float(quantiles[i, w])
                            for i, q in enumerate(QUANTILES)
                        },
                    }
                )
    return pd.DataFrame(rows)


def probability(events: np.ndarray, weights: np.ndarray, size: float) -> dict[str, float]:
    """A weighted probability and its 90% Monte Carlo interval (Wilson, effective size)."""
    p = float(weights @ events / weights.sum())
    z = norm.ppf(0.95)
    centre = (p + z**2 / (2 * size)) / (1 + z**2 / size)
    half = z * np.sqrt(p * (1 - p) / size + z**2 / (4 * size**2)) / (1 + z**2 / size)
    return {
        "p": round(p, 4),
        "low": round(max(0.0, centre - half), 4),
        "high": round(min(1.0, centre + half), 4),
    }


def summary(ens: Ensemble) -> dict[str, Any]:
    """The forecast's probabilities (with Monte Carlo intervals), troop levels and posture
    changes over the window."""
    w, size = ens.weights, ens.effective_size
    killed = ens.window("us_killed")[:, -1] - _before(ens, "us_killed")
    troops = ens.window("troops")
    change = np.diff(np.column_stack([_before(ens, "troops"), troops]), axis=1)
    end_troops = troops[:, -1]
    start = ens.start + timedelta(days=ens.first)
    return {
        "window": [start.isoformat(), (start + timedelta(days=ens.days - 1)).isoformat()],
        "runs": len(ens.series),
        "effective_runs": round(size, 1),
        "p_red_line": probability(killed > 0, w, size),
        "p_us_answer": probability(
            (ens.window("us_rung") >= Rung.STRIKES_ON_MILITIAS).any(1), w, size
        ),
        "p_iranian_strike": probability(
            (ens.window("iran_rung") == Rung.STATE_ON_STATE).any(1), w, size
        ),
        "p_open_war": probability((ens.window("system_rung") == Rung.OPEN_WAR).any(1), w, size),
        "p_drawdown": probability((change < 0).any(1), w, size),
        "p_reinforcement": probability((change > 0).any(1), w, size),
        "p_withdrawal_complete": probability(end_troops <= 0, w, size),
        "drawdown_steps_5_50_95": weighted_quantiles((change < 0).sum(1), w, [0.05, 0.5, 0.95]),
        "troops_start": weighted_quantiles(_before(ens, "troops"), w, [0.5])[0],
        "troops_end_5_25_50_75_95": weighted_quantiles(end_troops, w, QUANTILES),
        "site_attacks_5_50_95": weighted_quantiles(
            ens.weekly(SERIES["site attacks"]).sum(1), w, [0.05, 0.5, 0.95]
        ),
    }


def _before(ens: Ensemble, column: str) -> np.ndarray:
    """A column's value on the day before the window, one per run."""
    return np.array([s[column].to_numpy()[ens.first - 1] for s in ens.series])
