"""What a forecast needs from a fit, saved beside its results (``fit.json``), and the forecast
itself: the fit's final generation run again to a later end, its accepted histories weighted
and summarised, with the baselines beside them (`escalation forecast`).

The final generation's parameter sets are run again with the same root seed, so each run
continues its fitted history. Parameter sets none of whose runs the fit accepted are run for one
day only: their seeds keep their places, and no time is spent on histories with no weight.
"""

import json
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.figures import plot_fan
from sim.calibration.forecast import (
    SERIES,
    Ensemble,
    ensemble,
    run_weights,
    summary,
    weekly_table,
)
from sim.calibration.histories import FORECAST_COLUMNS, Batch, continue_batch, run_batch
from sim.calibration.record import history_from_record, load_events
from sim.calibration.skill import Forecast, Hawkes, baseline_forecasts
from sim.calibration.spec import window_config
from sim.errors import InputError
from sim.io import atomic_write, atomic_write_json, atomic_write_text
from sim.scenario import CalendarEvent, ScenarioConfig, validate_scenario

FIT_FILE = "fit.json"
POSTERIOR_FILE = "posterior.parquet"


@dataclass(frozen=True)
class FitInputs:
    """A fit's final generation and what its continuation needs."""

    config: ScenarioConfig  # the fitted scenario, knowing the record to ``until``
    until: date
    events: tuple[CalendarEvent, ...]  # later events announced by ``until``
    posterior: pd.DataFrame  # the final generation (`sim.calibration.abc.posterior_table`)
    parameters: list[str]
    replicates: int
    seed: int  # root seed of the final generation's runs
    record: Path
    baghdad_sites: tuple[str, ...]
    past_total: float  # attacks on sites up to ``until`` (the press tallies' count)
    recent_weeks: int
    hawkes_paths: int

    def points(self, end: date) -> list[dict[str, Any]]:
        """The final generation's parameter sets, run to ``end`` if any of their runs was
        accepted and for one day otherwise."""
        accepted = run_weights(self.posterior, self.replicates).sum(axis=1) > 0
        full = (end - self.config.start_date).days
        values = self.posterior[self.parameters].to_dict("records")
        return [
            {**row, "horizon_days": full if keep else 1}
            for row, keep in zip(values, accepted, strict=True)
        ]

    def continued(self, end: date) -> ScenarioConfig:
        """The fitted scenario with the announced events, run to ``end``."""
        return window_config(self.config, self.until, end, self.events)

    def save(self, results: Path) -> None:
        """Write ``fit.json`` and ``posterior.parquet`` into ``results``."""
        data = {
            "config": self.config.model_dump(mode="json"),
            "until": self.until.isoformat(),
            "events": [e.model_dump(mode="json") for e in self.events],
            "parameters": self.parameters,
            "replicates": self.replicates,
            "seed": self.seed,
            "record": os.path.relpath(self.record, results),
            "baghdad_sites": list(self.baghdad_sites),
            "past_total": self.past_total,
            "recent_weeks": self.recent_weeks,
            "hawkes_paths": self.hawkes_paths,
        }
        atomic_write_json(results / FIT_FILE, data)
        atomic_write(
            results / POSTERIOR_FILE, lambda tmp: self.posterior.to_parquet(tmp, index=False)
        )

    @classmethod
    def load(cls, results: Path) -> "FitInputs":
        """Read what `save` wrote; a folder without it is bad input."""
        path = results / FIT_FILE
        if not path.is_file() or not (results / POSTERIOR_FILE).is_file():
            raise InputError(
                str(results),
                "",
                f"not a calibration's results (no {FIT_FILE} and "
                f"{POSTERIOR_FILE}); run escalation calibrate first",
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            config=validate_scenario(data["config"], str(path)),
            until=date.fromisoformat(data["until"]),
            events=tuple(CalendarEvent.model_validate(e) for e in data["events"]),
            posterior=pd.read_parquet(results / POSTERIOR_FILE),
            parameters=data["parameters"],
            replicates=data["replicates"],
            seed=data["seed"],
            record=results / data["record"],
            baghdad_sites=tuple(data["baghdad_sites"]),
            past_total=data["past_total"],
            recent_weeks=data["recent_weeks"],
            hawkes_paths=data["hawkes_paths"],
        )


def continue_fit(
    fit: FitInputs,
    end: date,
    out: Path,
    executor: Executor | None = None,
    fitted: Batch | None = None,
) -> Batch:
    """The final generation continued to ``end`` (under `FitInputs.continued`); when the
    ``fitted`` runs are given, every continued run is checked to repeat its fitted history."""
    config = fit.continued(end)
    points = fit.points(end)
    if fitted is None:
        return run_batch(config, points, fit.replicates, fit.seed, out, executor, FORECAST_COLUMNS)
    return continue_batch(fitted, config, points, fit.seed, out, executor)


def record_daily(fit: FitInputs) -> np.ndarray:
    """The record's daily attacks on sites from the fit's start to ``until``."""
    events = load_events(fit.record)
    history = history_from_record(events, fit.config.start_date, fit.until, fit.baghdad_sites)
    return history.site_attacks


def forecasts(
    fit: FitInputs, batch: Batch, first: date, days: int
) -> tuple[dict[str, dict[str, Forecast]], Ensemble, Hawkes]:
    """The model's weekly forecasts by series and the baselines' of attacks on sites, over
    ``days`` days from ``first``; also the model's ensemble and the fitted Hawkes process."""
    weights = run_weights(fit.posterior, fit.replicates)
    ens = ensemble(batch, weights, fit.config.start_date, first, days)
    table = {"model": {name: ens.forecast(modes) for name, modes in SERIES.items()}}
    baselines, hawkes = baseline_forecasts(
        record_daily(fit),
        fit.past_total,
        ens.weeks,
        fit.recent_weeks,
        fit.hawkes_paths,
        fit.seed,
        gap=(first - fit.until).days - 1,
    )
    table.update({baseline.name: {"site attacks": baseline} for baseline in baselines})
    return table, ens, hawkes


def write_forecast(
    fit: FitInputs,
    when: date,
    days: int,
    out: Path,
    runs: Path,
    executor: Executor | None = None,
    fitted: Batch | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The forecast of ``days`` days after ``when`` from a fit: ``weekly.csv`` (model and
    baselines, mean and quantiles per week), ``summary.json`` and ``forecast.md`` in ``out``;
    the continued runs in ``runs``. Returns the summary."""
    if when < fit.until:
        raise InputError(
            "--date",
            "",
            f"{when} is before the end of the fitted record ({fit.until}); a "
            "forecast continues the fitted histories from there",
        )
    first, end = when + timedelta(days=1), when + timedelta(days=days)
    log(f"forecast: continuing the fitted histories to {end}")
    batch = continue_fit(fit, end, runs, executor, fitted)
    by_forecaster, ens, hawkes = forecasts(fit, batch, first, days)
    weekly = weekly_table(by_forecaster, ens.week_starts())
    result = summary(ens) | {
        "from": when.isoformat(),
        "days": days,
        "hawkes": {"mu": hawkes.mu, "alpha": hawkes.alpha, "beta": hawkes.beta},
    }
    atomic_write(out / "weekly.csv", lambda tmp: weekly.to_csv(tmp, index=False))
    atomic_write_json(out / "summary.json", result)
    atomic_write_text(out / "forecast.md", forecast_markdown(result, weekly))
    plot_fan(weekly, out / "fan.png")
    log(f"wrote {out}/")
    return result


def monthly_site_attacks(weekly: pd.DataFrame) -> pd.DataFrame:
    """Expected attacks on sites by forecaster, the weeks grouped by the month they start in."""
    rows = weekly[weekly["series"] == "site attacks"].copy()
    rows["month"] = rows["week_start"].str[:7]
    return rows.groupby(["month", "forecaster"], sort=True)[["mean"]].sum().unstack()


def forecast_markdown(result: dict[str, Any], weekly: pd.DataFrame) -> str:
    """A short account of one forecast."""

    def prob(key: str) -> str:
        p = result[key]
        return f"{p['p']:.2f} (90% Monte Carlo interval {p['low']:.2f}-{p['high']:.2f})"

    means = monthly_site_attacks(weekly)
    forecasters = [c[1] for c in means.columns]
    troops = result["troops_end_5_25_50_75_95"]
    lines = [
        f"# Forecast from {result['from']} ({result['days']} days)",
        "",
        f"{result['runs']} continued histories (effective {result['effective_runs']:.0f}), "
        f"window {result['window'][0]} to {result['window'][1]}.",
        "",
        f"- US red line crossed (an American killed): {prob('p_red_line')}",
        f"- US answers at least one attack: {prob('p_us_answer')}",
        f"- Iranian direct strike: {prob('p_iranian_strike')}; open war: {prob('p_open_war')}",
        f"- US draws down at least once: {prob('p_drawdown')}; reinforces: "
        f"{prob('p_reinforcement')}; completes a withdrawal: {prob('p_withdrawal_complete')}",
        f"- Troops at the end, 5/25/50/75/95%: {', '.join(f'{t:,.0f}' for t in troops)} "
        f"(from {result['troops_start']:,.0f})",
        "- Attacks on sites over the window, 5/50/95%: "
        + ", ".join(f"{v:g}" for v in result["site_attacks_5_50_95"]),
        "",
        "Expected attacks on sites by the month the week starts in:",
        "",
        "| month | " + " | ".join(forecasters) + " |",
        "|---|" + "---|" * len(forecasters),
        *(
            f"| {month} | " + " | ".join(f"{v:.1f}" for v in row.to_numpy()) + " |"
            for month, row in means.iterrows()
        ),
        "",
        "Weekly quantiles of every series (attacks on sites, rockets, drones, IEDs) are in "
        "`weekly.csv`; `fan.png` draws them.",
        "",
    ]
    return "\n".join(lines)
