"""The whole calibration: fit, check, forecast, write (`escalation calibrate FILE`).

Every batch of runs goes through the experiment runner (`sim.runner.run_points`) on one pool of
workers (`sim.pool.worker_pool`), so it runs in parallel, is seeded from the calibration's seed,
resumes from its folder under ``out`` and stops cleanly on Ctrl-C. Everything written is a
function of the calibration file, so a second run writes the same bytes.
"""

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.apmc import (
    generation_seed,
    posterior_table,
    resample,
    run_abc,
)
from sim.calibration.figures import plot_cumulative, plot_monthly, plot_posterior
from sim.calibration.outputs import (
    calibrated_scenario,
    coverage_table,
    forecast_scenario,
    forecast_summary,
    forecast_table,
    parameter_table,
    posterior_medians,
)
from sim.calibration.record import (
    Daily,
    daily_from_series,
    monthly_attacks,
    statistic_names,
    statistics_matrix,
)
from sim.calibration.report import report_data, report_markdown
from sim.calibration.spec import Calibration, load_calibration
from sim.io import atomic_write, atomic_write_json, atomic_write_text
from sim.pool import worker_pool
from sim.runner import RunOptions, load_series, run_points
from sim.scenario import ScenarioConfig

SERIES_COLUMNS = ["date", "attacks", "us_killed", "us_rung", "iran_rung"]
FORECAST_COLUMNS = ["date", "attacks", "us_killed", "troops", "system_rung", "iran_rung", "us_rung"]
PREDICTIVE, FORECAST = 101, 102  # generation numbers of the two checking batches (seeding only)


def calibrate(
    path: str | Path, workers: int | None = None, log: Callable[[str], None] = print
) -> Calibration:
    """Fit a calibration file's priors to the record and write everything that follows.

    Writes the posterior, the calibrated scenario, the posterior predictive check, the forecast,
    figures and report (``report.md``, ``report.json``) into the file's ``results`` folder, and
    the runs of every batch into its ``out`` folder, from which an interrupted fit resumes.

    Args:
        path: the calibration file (e.g. ``experiments/calibrate_2020.toml``).
        workers: worker processes (default: the file's ``workers``; 1 runs in this process).
        log: called with one line of progress at a time.

    Returns:
        The loaded calibration (its paths, priors and observed statistics).
    """
    calibration = load_calibration(path)
    with worker_pool(workers or calibration.spec.workers) as pool:
        posterior, history = fit(calibration, pool.executor, log)
        write_outputs(calibration, posterior, history, pool.executor, log)
    return calibration


def run_series(
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    seed: int,
    out: Path,
    executor: Executor | None = None,
    columns: list[str] = SERIES_COLUMNS,
) -> list[pd.DataFrame]:
    """One run per point through the experiment runner (in this process without an
    ``executor``); each run's daily series, in point order."""
    options = RunOptions(executor=executor, resume=True, progress=False)
    runs = run_points(
        config, points, replicates=1, seed=seed, out=out, series=columns, options=options
    )
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} runs failed, first: {failed['error'].iloc[0]}")
    by_run = dict(tuple(load_series(out).groupby("run_id", sort=False)))
    return [by_run[run_id] for run_id in runs.sort_values("point")["run_id"]]


def fit(
    calibration: Calibration, executor: Executor, log: Callable[[str], None]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ABC fit: the posterior table and one row of diagnostics per generation."""
    names = statistic_names(calibration.statistics)

    def simulate(points: list[dict[str, Any]], generation: int, seed: int) -> np.ndarray:
        out = calibration.out / f"generation_{generation:02d}"
        tables = run_series(calibration.fit_config, points, seed, out, executor)
        return statistics_matrix([daily_from_series(t) for t in tables], calibration.statistics)

    log(f"fitting {len(calibration.priors)} parameters to {calibration.spec.record}")
    population, history = run_abc(
        simulate,
        calibration.priors,
        np.array([calibration.observed[name] for name in names]),
        calibration.settings,
        calibration.spec.seed,
        log,
    )
    return posterior_table(population, calibration.priors, names), pd.DataFrame(history)


def predictive_runs(
    calibration: Calibration, posterior: pd.DataFrame, executor: Executor
) -> list[Daily]:
    """Runs of the fitted scenario with parameters drawn from the posterior."""
    spec = calibration.spec
    draws = resample(posterior, spec.validation.draws, spec.seed)
    points = draws[[p.path for p in calibration.priors]].to_dict("records")
    seed = generation_seed(spec.seed, PREDICTIVE)
    out = calibration.out / "predictive"
    tables = run_series(calibration.fit_config, points, seed, out, executor)
    return [daily_from_series(table) for table in tables]


def forecast_runs(
    calibration: Calibration, posterior: pd.DataFrame, config: ScenarioConfig, executor: Executor
) -> pd.DataFrame:
    """Runs of the forecast scenario with parameters drawn from the posterior, one row each."""
    spec = calibration.spec
    draws = resample(posterior, spec.forecast.draws, spec.seed + 1)
    points = draws[[p.path for p in calibration.priors]].to_dict("records")
    seed = generation_seed(spec.seed, FORECAST)
    out = calibration.out / "forecast"
    tables = run_series(config, points, seed, out, executor, FORECAST_COLUMNS)
    return forecast_table(tables, config)


def write_outputs(
    calibration: Calibration,
    posterior: pd.DataFrame,
    history: pd.DataFrame,
    executor: Executor,
    log: Callable[[str], None],
) -> None:
    """Posterior predictive check, calibrated scenario, forecast, figures and report."""
    spec = calibration.spec
    calibrated_text, calibrated = calibrated_scenario(
        calibration, posterior_medians(calibration, posterior)
    )

    log(f"posterior predictive check: {spec.validation.draws} runs")
    dailies = predictive_runs(calibration, posterior, executor)
    names = statistic_names(calibration.statistics)
    simulated = pd.DataFrame(statistics_matrix(dailies, calibration.statistics), columns=names)
    coverage = coverage_table(calibration.observed, simulated)
    monthly = pd.DataFrame([monthly_attacks(d) for d in dailies]).fillna(0)

    forecast_config = forecast_scenario(calibrated, spec.forecast)
    log(f"forecast from {spec.forecast.start}: {spec.forecast.draws} runs")
    forecast = forecast_runs(calibration, posterior, forecast_config, executor)

    results = calibration.results
    atomic_write_text(calibration.calibrated_path, calibrated_text)
    atomic_write(results / "posterior.parquet", lambda tmp: posterior.to_parquet(tmp, index=False))
    atomic_write(results / "coverage.csv", lambda tmp: coverage.to_csv(tmp, index=False))
    atomic_write(results / "forecast_runs.csv", lambda tmp: forecast.to_csv(tmp, index=False))
    parameters = parameter_table(calibration, posterior)
    plot_monthly(calibration, monthly, results / "monthly_attacks.png")
    plot_cumulative(calibration, dailies, results / "cumulative_attacks.png")
    plot_posterior(calibration, posterior, results / "posterior.png")
    summary = forecast_summary(forecast, forecast_config)
    report = report_data(calibration, parameters, coverage, history, summary)
    atomic_write_json(results / "report.json", report)
    atomic_write_text(
        results / "report.md", report_markdown(calibration, parameters, coverage, history, summary)
    )
    log(f"wrote {calibration.calibrated_path} and {results}/")
