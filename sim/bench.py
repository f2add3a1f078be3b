"""Benchmarks of the experiment runner: `make bench` (python -m sim.bench), not part of the tests.

Reports, in one run on one machine: runs per second of `escalation sweep` against `mesa.batch_run`
on the same model, parameters and seeds (and checks that both give the same results); the speed-up
from 1 to 2 workers; peak memory of sweeps of 1,000 and 10,000 runs; time per simulated day; and
the peak memory of the exploratory analyses (`discover`, `robust`, `compare`, the Morris `plot`)
on 100,000-run tables against loading those tables whole (`sim.bench_tables` makes them).
"""

import cProfile
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import mesa
import psutil

from sim.model import EscalationModel, EscalationScenario, simulate
from sim.runner import RunOptions, load_runs, run_points, run_seed
from sim.scenario import ScenarioConfig, apply_overrides

SEED = 2020
REPLICATES = 15
GRID = {
    "us.policy": ["proportionate", "disproportionate", "escalation_dominance"],
    "militias.*.restraint": [0.2, 0.4, 0.6],
    "government.enforcement": [0.1, 0.5],
}
BASE = ScenarioConfig()
MEMORY_HORIZON_DAYS = 30
SWEEP_FINAL = ("us_killed", "iraqi_casualties", "troops_final", "us_credibility_final")
BATCH_FINAL = ("us_killed", "iraqi_casualties", "troops", "us_credibility")


class BatchRunModel(EscalationModel):
    """The model as `mesa.batch_run` calls it: parameters and seed as keyword arguments."""

    def __init__(self, rng: int | None = None, **parameters: Any):
        config = apply_overrides(BASE, parameters)
        super().__init__(EscalationScenario(rng=rng, config=config))


def grid_points() -> list[dict[str, Any]]:
    return [dict(zip(GRID, values, strict=True)) for values in product(*GRID.values())]


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def with_mesa_batch_run(processes: int) -> tuple[float, list[dict[str, Any]]]:
    seeds = [run_seed(SEED, 0, r, crn=True) for r in range(REPLICATES)]
    return timed(
        lambda: mesa.batch_run(
            BatchRunModel,
            parameters=GRID,
            number_processes=processes,
            rng=seeds,
            max_steps=10**6,
            display_progress=False,
        )
    )


def with_sweep(workers: int, folder: Path, series: bool) -> tuple[float, Any]:
    """The same runs with common random numbers, so seed r is batch_run's r-th seed."""
    return timed(
        lambda: run_points(
            BASE,
            grid_points(),
            replicates=REPLICATES,
            seed=SEED,
            out=folder / f"sweep-{workers}-{series}",
            series=series,
            crn=True,
            options=RunOptions(workers=workers, progress=False),
        )
    )


def check_same_results(batch: list[dict[str, Any]], runs: Any) -> None:
    """Both runners must have run the same simulations: compare final states run by run."""
    ours = {
        (*(row[name] for name in GRID), int(row["seed"])): tuple(row[c] for c in SWEEP_FINAL)
        for row in runs.to_dict("records")
    }
    seeds = [run_seed(SEED, 0, r, crn=True) for r in range(REPLICATES)]
    theirs = {
        (*(row[name] for name in GRID), seeds[row["iteration"]]): tuple(row[c] for c in BATCH_FINAL)
        for row in batch
    }
    if ours != theirs:
        raise SystemExit("error: escalation sweep and mesa.batch_run disagree")


def peak_memory(runs: int, folder: Path) -> tuple[float, float, float]:
    """Seconds, and peak resident memory (MB) of the sweep process and of it plus its workers."""
    experiment = folder / f"memory-{runs}.toml"
    experiment.write_text(
        f"""name = "memory-{runs}"
scenario = "{Path(__file__).resolve().parents[1] / "scenarios" / "june2020.toml"}"
seed = 1
replicates = 10
horizon_days = {MEMORY_HORIZON_DAYS}
[design]
kind = "random"
samples = {runs // 10}
[parameters."us_types.disproportionate.answer_deadly"]
kind = "uniform"
low = 0.1
high = 0.9
""",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "sim", "sweep", str(experiment), "--workers", "2"]
    command += ["--out", str(folder / f"memory-{runs}"), "--no-progress"]
    start = time.perf_counter()
    main_peak, total_peak = _watch_memory(subprocess.Popen(command, stdout=subprocess.DEVNULL))
    return time.perf_counter() - start, main_peak, total_peak


def _watch_memory(process: subprocess.Popen) -> tuple[float, float]:
    main, peak_main, peak_total = psutil.Process(process.pid), 0, 0
    while process.poll() is None:
        try:
            rss = main.memory_info().rss
            total = rss + sum(c.memory_info().rss for c in main.children(recursive=True))
        except psutil.Error:
            continue
        peak_main, peak_total = max(peak_main, rss), max(peak_total, total)
        time.sleep(0.05)
    if process.returncode:
        raise SystemExit(f"error: the memory sweep failed (exit {process.returncode})")
    return peak_main / 2**20, peak_total / 2**20


def time_per_day(runs: int = 20) -> tuple[float, float]:
    """Milliseconds per simulated day of the June 2020 scenario, without and with the series."""
    days = BASE.horizon_days * runs
    plain, _ = timed(lambda: [simulate(BASE, seed) for seed in range(runs)])
    recorded, _ = timed(lambda: [simulate(BASE, seed, series=True) for seed in range(runs)])
    return 1000 * plain / days, 1000 * recorded / days


def profile_top(runs: int = 10, top: int = 8) -> list[tuple[str, float, float]]:
    """The functions with the most own time in ``runs`` June 2020 runs (cProfile): name, share
    of the profiled time, and milliseconds per simulated day (inflated by the profiler)."""
    profile = cProfile.Profile()
    profile.runcall(lambda: [simulate(BASE, seed) for seed in range(runs)])
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())
    rows = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    days = BASE.horizon_days * runs
    return [
        (f"{Path(file).name}:{line}({name})", own / total, 1000 * own / days)
        for (file, line, name), (_, _, own, _, _) in rows
    ]


def throughput(folder: Path) -> None:
    """Runs per second against mesa.batch_run, at 1 and 2 workers."""
    n = len(grid_points()) * REPLICATES
    rows = []
    for workers in (1, 2):
        batch_seconds, batch = with_mesa_batch_run(workers)
        plain_seconds, runs = with_sweep(workers, folder, series=False)
        series_seconds, _ = with_sweep(workers, folder, series=True)
        check_same_results(batch, runs)
        rows.append((workers, n / plain_seconds, n / series_seconds, n / batch_seconds))
    print("| workers | escalation sweep (runs/s) | with daily series (runs/s) | "
          "mesa.batch_run (runs/s) | ratio | ratio, with series |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for workers, plain, series, batch in rows:
        print(f"| {workers} | {plain:.1f} | {series:.1f} | {batch:.1f} | "
              f"{plain / batch:.2f} | {series / batch:.2f} |")  # fmt: skip
    print(f"\nspeed-up of escalation sweep from 1 to 2 workers: {rows[1][1] / rows[0][1]:.2f}"
          f" ({rows[1][2] / rows[0][2]:.2f} with series; times include starting the workers)\n",
          flush=True)  # fmt: skip


def memory(folder: Path) -> None:
    """Peak memory of sweeps of 1,000 and 10,000 short runs."""
    print(f"| runs ({MEMORY_HORIZON_DAYS}-day horizon, 2 workers) | seconds | "
          "peak memory, sweep process (MB) | peak memory, with workers (MB) |")  # fmt: skip
    print("|---|---|---|---|")
    for size in (1_000, 10_000):
        seconds, main_peak, total_peak = peak_memory(size, folder)
        assert len(load_runs(folder / f"memory-{size}")) == size
        print(f"| {size:,} | {seconds:.1f} | {main_peak:.0f} | {total_peak:.0f} |", flush=True)


def analysis_memory(folder: Path) -> None:
    """Peak memory of each analysis on a 100,000-run table, against loading the table whole."""
    from sim.bench_tables import ANALYSIS_RUNS, SMALL_RUNS, measure_analyses

    print(f"\n| on {ANALYSIS_RUNS:,} runs | peak memory (MB) | on {SMALL_RUNS:,} runs (MB) | "
          "growth / the whole table's |")  # fmt: skip
    print("|---|---|---|---|")
    for name, large, small, ratio in measure_analyses(folder):
        print(f"| {name} | {large:.0f} | {small:.0f} | {ratio:.2f} |", flush=True)


def main() -> None:
    start_load = os.getloadavg()[0]
    machine = platform.processor() or platform.machine()
    print(f"escalation benchmark: {machine}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, mesa {mesa.__version__}")  # fmt: skip
    points = len(grid_points())
    print(f"{points * REPLICATES} runs of the {BASE.horizon_days}-day June 2020 scenario "
          f"({points} grid points x {REPLICATES} seeds)\n", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        throughput(Path(tmp))
        memory(Path(tmp))
        analysis_memory(Path(tmp))
    plain, recorded = time_per_day()
    print(f"\ntime per simulated day: {plain:.3f} ms ({recorded:.3f} ms with the daily series)")
    print("\n| function (cProfile, own time) | share | ms per day under the profiler |")
    print("|---|---|---|")
    for name, share, per_day in profile_top():
        print(f"| `{name}` | {share:.0%} | {per_day:.4f} |")
    print(f"load average at the start and at the end: {start_load:.2f}, {os.getloadavg()[0]:.2f}"
          " (other work on the machine slows the 2-worker figures first)")  # fmt: skip


if __name__ == "__main__":
    main()
