"""The whole calibration and validation (`escalation calibrate FILE`, `make validation`).

1. Fit the record up to its end by ABC (`sim.calibration.abc`).
2. Simulation-based calibration on the fit's prior draws (`sim.calibration.sbc`).
3. Rolling-origin tests: fit the record up to each origin, continue the accepted histories to
   the record's end, and score their weekly attacks against the baselines
   (`sim.calibration.skill`).
4. The forecast: the main fit's accepted histories continued past the record
   (`sim.calibration.continuation`).
5. The calibrated scenario, the figures and the report.

Every batch of runs goes through the experiment runner on one pool of workers, into its own
folder under ``out``, so it runs in parallel, is seeded from the calibration's seed, resumes after
an interruption and stops cleanly on Ctrl-C. Everything written is a function of the calibration
file, so a second run, with any number of workers, writes the same bytes.
"""

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.abc import Fit, generation_seed, posterior_table, run_abc
from sim.calibration.continuation import FitInputs, continue_fit, forecasts, write_forecast
from sim.calibration.figures import plot_posterior, plot_rolling, plot_sbc
from sim.calibration.histories import Batch, run_batch, statistics_array
from sim.calibration.outputs import calibrated_scenario
from sim.calibration.record import history_from_record, statistic_names, weekly_counts
from sim.calibration.report import report_data, report_markdown
from sim.calibration.sbc import SBCResult, simulation_based_calibration
from sim.calibration.skill import skill
from sim.calibration.spec import Calibration, load_calibration, window_config
from sim.io import atomic_write, atomic_write_json, atomic_write_text
from sim.pool import worker_pool


@dataclass(frozen=True)
class FitResult:
    """One ABC fit of the record up to ``until``."""

    name: str
    until: date
    observed: np.ndarray  # the record's statistics
    abc: Fit
    last: Batch  # the final generation's runs
    inputs: FitInputs


def fit_record(
    calibration: Calibration,
    until: date,
    index: int,
    executor: Executor,
    log: Callable[[str], None],
) -> FitResult:
    """ABC fit of the record up to ``until``; runs in ``out/<name>/generation_NN``."""
    name = "fit" if until == calibration.fit_end else f"origin_{until}"
    statistics = calibration.statistics(until)
    observed = calibration.observed(until)
    config = window_config(calibration.fit_config, until)
    replicates = calibration.spec.abc.replicates
    last: Batch | None = None  # the latest generation's runs

    def simulate(points: list[dict[str, Any]], number: int, seed: int) -> np.ndarray:
        nonlocal last
        out = calibration.out / name / f"generation_{number:02d}"
        last = run_batch(config, points, replicates, seed, out, executor)
        return statistics_array(last.histories(statistics.baghdad_sites), statistics)

    log(f"{name}: fitting {len(calibration.priors)} parameters to the record up to {until}")
    seed = generation_seed(calibration.spec.seed, index)  # the fit's root seed
    abc = run_abc(simulate, calibration.priors, observed, calibration.settings, seed, log)
    posterior = abc.posterior
    windows = len(statistics.windows)
    inputs = FitInputs(
        config=config,
        until=until,
        events=tuple(calibration.spec.forecast.events) if index == 0 else (),
        posterior=posterior_table(posterior, calibration.priors),
        parameters=[p.path for p in calibration.priors],
        replicates=replicates,
        seed=generation_seed(seed, posterior.number),
        record=calibration.record_path,
        baghdad_sites=statistics.baghdad_sites,
        past_total=float(observed[:windows].sum()),
        recent_weeks=calibration.spec.baselines.recent_weeks,
        hawkes_paths=calibration.spec.baselines.hawkes_paths,
    )
    return FitResult(name, until, observed, abc, last, inputs)


@dataclass(frozen=True)
class RollingResult:
    """A rolling-origin test: the fit up to the origin and the scores of its forecast."""

    fit: FitResult
    weeks: list[date]
    observed: np.ndarray  # attacks on sites per held-back week (the listing)
    scores: pd.DataFrame  # per forecaster: mean CRPS, mean log score, interval coverage
    weekly: pd.DataFrame  # per forecaster and week: observed, mean, 5%, 25%, 75%, 95%
    hawkes: dict[str, float]


def rolling_origin(
    calibration: Calibration,
    origin: date,
    index: int,
    executor: Executor,
    log: Callable[[str], None],
) -> RollingResult:
    """Fit up to ``origin``, continue to the record's end, score the whole held-back weeks."""
    fitted = fit_record(calibration, origin, index, executor, log)
    end = calibration.fit_end
    weeks = (end - origin).days // 7
    out = calibration.out / fitted.name / "continuation"
    batch = continue_fit(fitted.inputs, end, out, executor, fitted.last)
    first = origin + timedelta(days=1)
    by_forecaster, ens, hawkes = forecasts(fitted.inputs, batch, first, 7 * weeks)
    history = history_from_record(calibration.events, calibration.fit_start, end)
    observed = weekly_counts(history.site_attacks, history.day(first), weeks)
    flat = {name: series["site attacks"] for name, series in by_forecaster.items()}
    rows, weekly = [], []
    for name, forecast in flat.items():
        q = forecast.quantiles([0.05, 0.25, 0.75, 0.95])
        mean = forecast.mean()
        rows.append(
            {
                "forecaster": name,
                "crps": float(forecast.crps(observed).mean()),
                "log_score": float(forecast.log_score(observed).mean()),
                "covered_50": float(((q[1] <= observed) & (observed <= q[2])).mean()),
                "covered_90": float(((q[0] <= observed) & (observed <= q[3])).mean()),
            }
        )
        weekly += [
            {
                "forecaster": name,
                "week_start": week.isoformat(),
                "observed": int(observed[w]),
                "mean": float(mean[w]),
                "q05": q[0, w],
                "q25": q[1, w],
                "q75": q[2, w],
                "q95": q[3, w],
            }
            for w, week in enumerate(ens.week_starts())
        ]
    scores = pd.DataFrame(rows)
    model = scores.iloc[0]
    for score in ("crps", "log_score"):
        scores[f"model_skill_{score}"] = [skill(model[score], s) for s in scores[score]]
    log(f"{fitted.name}: {weeks} held-back weeks scored")
    return RollingResult(
        fitted,
        ens.week_starts(),
        observed,
        scores,
        pd.DataFrame(weekly),
        {"mu": hawkes.mu, "alpha": hawkes.alpha, "beta": hawkes.beta},
    )


def calibrate(
    path: str | Path, workers: int | None = None, log: Callable[[str], None] = print
) -> Calibration:
    """Fit, check and forecast as a calibration file says; write the results and the
    calibrated scenario.

    Args:
        path: the calibration file (e.g. ``experiments/calibrate_2020.toml``).
        workers: worker processes (default: the file's ``workers``; 1 runs in this process).
        log: called with one line of progress at a time.

    Returns:
        The loaded calibration.
    """
    calibration = load_calibration(path)
    spec = calibration.spec
    with worker_pool(workers or spec.workers) as pool:
        main = fit_record(calibration, calibration.fit_end, 0, pool.executor, log)
        sbc = simulation_based_calibration(
            main.abc, calibration.priors, spec.sbc.histories, spec.sbc.nearest
        )
        rolling = [
            rolling_origin(calibration, origin, index, pool.executor, log)
            for index, origin in enumerate(spec.rolling.origins, start=1)
        ]
        results = calibration.results
        main.inputs.save(results)
        forecast = write_forecast(
            main.inputs,
            spec.forecast.date,
            spec.forecast.days,
            results / "forecast",
            calibration.out / "forecast",
            pool.executor,
            main.last,
            log,
        )
    write_results(calibration, main, sbc, rolling, forecast, log)
    return calibration


def write_results(
    calibration: Calibration,
    main: FitResult,
    sbc: SBCResult,
    rolling: list[RollingResult],
    forecast: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """Tables, figures, report and calibrated scenario."""
    results = calibration.results
    generations = pd.concat(
        [
            pd.DataFrame([g.diagnostics() for g in r.abc.generations]).assign(fit=r.name)
            for r in [main, *(o.fit for o in rolling)]
        ],
        ignore_index=True,
    )
    skill_table = pd.concat(
        [r.scores.assign(origin=r.fit.until.isoformat()) for r in rolling], ignore_index=True
    )
    weekly = pd.concat(
        [r.weekly.assign(origin=r.fit.until.isoformat()) for r in rolling], ignore_index=True
    )
    for name, table in (
        ("generations.csv", generations),
        ("skill.csv", skill_table),
        ("rolling_weekly.csv", weekly),
        ("sbc.csv", sbc.summary),
        ("sbc_ranks.csv", sbc.ranks),
    ):
        atomic_write(results / name, lambda tmp, t=table: t.to_csv(tmp, index=False))
    plot_posterior(calibration.priors, main.inputs.posterior, results / "posterior.png")
    plot_sbc(sbc, results / "sbc_ranks.png")
    plot_rolling(weekly, results / "rolling_origin.png")
    text, particle = calibrated_scenario(calibration, main)
    atomic_write_text(calibration.calibrated_path, text)
    names = statistic_names(calibration.statistics(calibration.fit_end))
    data = report_data(calibration, main, names, sbc, rolling, forecast, particle)
    atomic_write_json(results / "report.json", data)
    atomic_write_text(results / "report.md", report_markdown(data))
    log(f"wrote {calibration.calibrated_path} and {results}/")
