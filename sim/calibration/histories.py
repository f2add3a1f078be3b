"""Simulated histories: batches of runs through the experiment runner, their statistics, and
their continuation past the date they were fitted to.

Every batch is one call of `sim.runner.run_points` into its own folder, so it runs in parallel,
is seeded (run (point, replicate) of a batch with root seed ``s`` has the runner's seed for
``(s, point, replicate)``), resumes after an interruption and gives the same runs with any number
of workers. A run depends only on its scenario, its parameters and its seed, and a longer
horizon does not change the days before the shorter one ends; so running a batch's points again
with the same root seed and a later end *continues* the very histories that were fitted
(`continue_batch` checks that the first days agree exactly).
"""

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibration.record import (
    SERIES_COLUMNS,
    History,
    StatisticSpec,
    history_from_run,
    summary_statistics,
)
from sim.runner import RunOptions, SweepPlan, execute_sweep, load_runs, load_series
from sim.scenario import ScenarioConfig

#: Columns a continued run keeps: the fitted ones and what a forecast reports.
FORECAST_COLUMNS = [*SERIES_COLUMNS, "troops", "system_rung"]
#: Outcomes a batch keeps (the whole-run totals of `history_from_run`).
OUTCOMES = ["us_threats", "n_attacks_by_site"]


@dataclass(frozen=True)
class Batch:
    """The runs of one batch: the runs table (one row per run, by run_id) and each run's daily
    series, indexed [point][replicate]."""

    runs: pd.DataFrame
    series: list[list[pd.DataFrame]]

    def outcomes(self, point: int, replicate: int) -> dict[str, Any]:
        replicates = len(self.series[0])
        return self.runs.iloc[point * replicates + replicate].to_dict()

    def histories(self, baghdad_sites: tuple[str, ...]) -> list[list[History]]:
        """Each run as a `History`, indexed [point][replicate]."""
        return [
            [
                history_from_run(table, self.outcomes(point, replicate), baghdad_sites)
                for replicate, table in enumerate(tables)
            ]
            for point, tables in enumerate(self.series)
        ]


def run_batch(
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    replicates: int,
    seed: int,
    out: Path,
    executor: Executor | None = None,
    columns: list[str] = SERIES_COLUMNS,
) -> Batch:
    """Run every point ``replicates`` times into ``out`` (resuming what is there), in this
    process without an ``executor``. A point may set ``horizon_days`` of its own."""
    plan = SweepPlan(
        config=config,
        points=points,
        extra=[{} for _ in points],
        replicates=replicates,
        seed=seed,
        outcomes=OUTCOMES,
        series=columns,
        info={"name": out.name},
    )
    execute_sweep(plan, out, RunOptions(executor=executor, resume=True, progress=False))
    runs = load_runs(out)
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} runs failed, first: {failed['error'].iloc[0]}")
    by_run = {
        run_id: table.reset_index(drop=True)
        for run_id, table in load_series(out).groupby("run_id", sort=True)
    }
    series = [
        [by_run[point * replicates + r] for r in range(replicates)] for point in range(len(points))
    ]
    return Batch(runs.reset_index(drop=True), series)


def statistics_array(histories: list[list[History]], spec: StatisticSpec) -> np.ndarray:
    """Statistics of every run, shape (points, replicates, statistics)."""
    return np.array([[summary_statistics(h, spec) for h in row] for row in histories])


def continue_batch(
    fitted: Batch,
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    seed: int,
    out: Path,
    executor: Executor | None = None,
) -> Batch:
    """The fitted batch's runs continued with ``config`` (same start; the points may set their
    own ``horizon_days``): the same points and root seed. Raises `RuntimeError` if a continued
    run and its fitted run differ on a day both cover, which would mean the forecast does not
    continue the fitted histories."""
    replicates = len(fitted.series[0])
    continued = run_batch(config, points, replicates, seed, out, executor, FORECAST_COLUMNS)
    for point, (old, new) in enumerate(zip(fitted.series, continued.series, strict=True)):
        for replicate, (before, after) in enumerate(zip(old, new, strict=True)):
            days = min(len(before), len(after))
            same = after.loc[: days - 1, SERIES_COLUMNS].equals(
                before.loc[: days - 1, SERIES_COLUMNS]
            )
            if not same:
                raise RuntimeError(
                    f"continued run (point {point}, replicate {replicate}) in {out} does not "
                    "repeat its fitted history"
                )
    return continued
