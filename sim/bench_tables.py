"""100,000-run sweep folders for `make bench`, and the peak memory of analysing them.

Running 100,000 one-year runs takes an hour, and the analyses' memory does not depend on what
the model computed, so `make bench` writes synthetic sweep folders with the real layout: every
outcome column a run of the June 2020 scenario has (names and types from a probe run), random
values, the manifest the runner writes. One has candidate policies, variants and worlds (for
`discover`, `robust`, `compare`), one a Morris design over every numeric field (for `plot`).

Each analysis runs as its own process, which reports its peak resident memory (VmHWM) as it
exits, on 100,000 runs and on 1,000; the difference is what the data costs it, compared with the
same difference for loading the whole table (`sim.sweep_folder.load_runs`).
"""

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.runner import flatten_outcomes, probe_run
from sim.scenario import ScenarioConfig
from sim.screening import MORRIS_COLUMNS, screened_fields
from sim.sweep_folder import MANIFEST, RUNS, part_name

ANALYSIS_RUNS = 100_000
SMALL_RUNS = 1_000  # the same analyses on this many runs: their memory without the data
WRITE_ROWS = 5_000
POLICIES = ["never", "proportionate", "disproportionate", "escalation_dominance"]
VARIANTS = ["v2", "flat_choice"]
REPLICATES = 50
MORRIS_REPLICATES = 2


def outcome_columns(rng: np.random.Generator, rows: int) -> dict[str, np.ndarray]:
    """Random values for every outcome column of a real run, of the same types."""
    outcomes = flatten_outcomes(probe_run(ScenarioConfig())[0])
    columns = {}
    for name, value in outcomes.items():
        if isinstance(value, bool):
            columns[name] = rng.random(rows) < 0.3
        elif isinstance(value, int) or value is None:
            columns[name] = rng.poisson(5, rows)
        elif isinstance(value, float):
            columns[name] = rng.random(rows)
        else:
            columns[name] = np.full(rows, str(value), dtype=object)
    columns["redline_crossed"] = rng.random(rows) < 0.3
    columns["max_rung"] = rng.integers(0, 12, rows)
    drawdown = rng.integers(1, 365, rows).astype(float)
    columns["drawdown_day"] = np.where(rng.random(rows) < 0.5, drawdown, np.nan)
    return columns


def write_sweep(folder: Path, design: pd.DataFrame, manifest: dict, seed: int) -> None:
    """A sweep folder holding ``design`` (one row per run) with random outcomes."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    (folder / RUNS).mkdir(parents=True)
    for index, start in enumerate(range(0, len(design), WRITE_ROWS)):
        part = design.iloc[start : start + WRITE_ROWS].reset_index(drop=True)
        outcomes = {**outcome_columns(rng, len(part)), "status": "ok", "error": None}
        frame = pd.concat([part, pd.DataFrame(outcomes, index=part.index)], axis=1)
        table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
        pq.write_table(table, folder / RUNS / part_name(index))
    counts = {"total": len(design), "done": len(design), "ok": len(design), "error": 0}
    (folder / MANIFEST).write_text(json.dumps({**manifest, "counts": counts}), encoding="utf-8")


def policies_sweep(folder: Path, runs: int) -> Path:
    """Variants x policies x worlds x replicates = ``runs`` runs, as a robust-policy sweep."""
    worlds = runs // (len(VARIANTS) * len(POLICIES) * REPLICATES)
    rng = np.random.default_rng(np.random.SeedSequence(1))
    restraint, enforcement = rng.random(worlds), rng.random(worlds)
    rows = [
        (variant, policy, world, replicate)
        for variant in VARIANTS
        for policy in POLICIES
        for world in range(worlds)
        for replicate in range(REPLICATES)
    ]
    design = pd.DataFrame(rows, columns=["variant", "us.policy", "world", "replicate"])
    design.insert(0, "run_id", np.arange(len(design)))
    design.insert(1, "point", design["run_id"] // REPLICATES)
    design["seed"] = np.arange(len(design), dtype=np.uint64)
    design["militias.*.restraint"] = restraint[design["world"]]
    design["government.enforcement"] = enforcement[design["world"]]
    design["policy"] = "us.policy=" + design["us.policy"]
    manifest = {
        "name": "bench_policies",
        "design": {"kind": "lhs", "samples": worlds},
        "horizon_days": 365,
        "replicates": REPLICATES,
        "common_random_numbers": True,
        "parameters": [
            {"name": "militias.*.restraint", "kind": "uniform"},
            {"name": "government.enforcement", "kind": "uniform"},
            {"name": "us.policy", "kind": "categorical", "values": POLICIES, "role": "lever"},
            {"name": "variant", "kind": "categorical", "values": VARIANTS, "role": "variant"},
        ],
    }
    write_sweep(folder, design, manifest, 2)
    return folder


def morris_sweep(folder: Path, runs: int) -> Path:
    """A Morris design over every numeric June 2020 field, about ``runs`` runs (wide: a column
    each)."""
    fields = list(screened_fields(ScenarioConfig()))
    steps = len(fields) + 1
    trajectories = max(2, runs // (steps * MORRIS_REPLICATES))
    rng = np.random.default_rng(np.random.SeedSequence(3))
    points = trajectories * steps
    step = np.arange(points) % steps
    point = np.repeat(np.arange(points), MORRIS_REPLICATES)
    runs = len(point)
    values = rng.random((points, len(fields)))[point]
    tags = {
        "morris_trajectory": np.arange(points) // steps,
        "morris_step": step,
        "morris_param": np.where(step > 0, (step - 1) % len(fields), -1),
        "morris_sign": np.where(step > 0, 1, 0),
    }
    design = pd.DataFrame(
        {
            "run_id": np.arange(runs),
            "point": point,
            "replicate": np.tile(np.arange(MORRIS_REPLICATES), points),
            "seed": np.arange(runs, dtype=np.uint64),
            **{name: values[:, column] for column, name in enumerate(fields)},
            **{name: tags[name][point] for name in MORRIS_COLUMNS},
        }
    )
    manifest = {
        "name": "bench_morris",
        "design": {"kind": "morris", "samples": trajectories, "levels": 4},
        "horizon_days": 365,
        "replicates": MORRIS_REPLICATES,
        "common_random_numbers": True,
        "parameters": [{"name": name, "kind": "uniform"} for name in fields],
    }
    write_sweep(folder, design, manifest, 4)
    return folder


def peak_rss(code: str, folder: Path) -> float:
    """Peak resident memory (MB) of a Python process running ``code``, read from its own
    ``/proc/self/status`` (VmHWM) as it exits: that high-water mark starts at its ``exec``, so
    it does not include the memory of this process, which forked it."""
    report = folder / "peak.txt"
    hook = (
        "import atexit\n"
        "def _peak():\n"
        "    lines = open('/proc/self/status').read().splitlines()\n"
        "    peak = next(line.split()[1] for line in lines if line.startswith('VmHWM'))\n"
        f"    open({str(report)!r}, 'w').write(peak)\n"
        "atexit.register(_peak)\n"
    )
    done = subprocess.run([sys.executable, "-c", hook + code], stdout=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(f"error: {code} failed (exit {done.returncode})")
    return int(report.read_text()) / 1024


def escalation(*args: str | Path) -> str:
    """Python code that runs `escalation ARGS...` (the CLI exits through SystemExit)."""
    words = [str(arg) for arg in args]
    return f"import sys; sys.argv = ['escalation', *{words!r}]; from sim.cli import main; main()"


def analyses() -> Iterator[tuple[str, str, Callable[[Path], list[str | Path]]]]:
    """(name, the table it reads, its `escalation` arguments for a folder) of each analysis."""
    yield (
        "discover --where 'max_rung >= 9'",
        "policies",
        lambda folder: ["discover", folder, "--where", "max_rung >= 9"],
    )
    yield (
        "robust --outcome redline_crossed",
        "policies",
        lambda folder: [
            "robust",
            folder,
            "--outcome",
            "redline_crossed",
            "--goal",
            "min",
            "--threshold",
            "0.3",
        ],
    )
    yield (
        "compare --outcome redline_crossed --outcome us_killed",
        "policies",
        lambda folder: [
            "compare",
            folder,
            "--outcome",
            "redline_crossed",
            "--outcome",
            "us_killed",
        ],
    )
    factors = len(screened_fields(ScenarioConfig()))
    yield f"plot (Morris, {factors} factors)", "Morris", lambda folder: ["plot", folder]


def load_code(path: Path) -> str:
    """Python that loads a whole runs table (`sim.sweep_folder.load_runs`)."""
    return f"from sim.sweep_folder import load_runs; load_runs({str(path)!r})"


def measure_analyses(folder: Path) -> list[tuple[str, float, float, float]]:
    """(analysis, peak MB on 100,000 runs, peak MB on 1,000, data share against the whole
    table's) for loading each table whole and for each analysis.

    The data's share of an analysis is its peak less its peak on 1,000 runs (the imports and
    the work that does not grow with the runs), against the same for loading the whole table.
    """
    sizes = {"large": ANALYSIS_RUNS, "small": SMALL_RUNS}
    tables = {
        size: (policies_sweep(folder / f"policies-{size}", runs),
               morris_sweep(folder / f"morris-{size}", runs))
        for size, runs in sizes.items()
    }  # fmt: skip
    rows, whole = [], {}
    for index, kind in enumerate(("policies", "Morris")):
        large, small = (peak_rss(load_code(tables[s][index]), folder) for s in sizes)
        whole[kind] = large - small
        rows.append((f"load the whole table ({kind} sweep)", large, small, 1.0))
    for name, kind, arguments in analyses():
        index = 0 if kind == "policies" else 1
        large, small = (peak_rss(escalation(*arguments(tables[s][index])), folder) for s in sizes)
        rows.append((name, large, small, (large - small) / whole[kind]))
    return rows
