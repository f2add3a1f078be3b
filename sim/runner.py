"""Run many simulations: seeding, parallel execution, crash-safe Parquet output, resume, status.

Every run has a seed derived from the experiment seed and its (design point, replicate) only, so
results do not depend on the number of workers, the backend, the chunking or the completion order,
and adding replicates leaves earlier runs unchanged. Finished chunks of runs are written as they
complete, each as its own part file (temporary file, then rename) inside ``OUT/runs.parquet/``,
a dataset folder that `pandas.read_parquet` reads whole; a resumed sweep runs only the missing runs.

Python API: `run_experiment` (an experiment file) and `run_points` (a list of override dicts), both
returning the runs table sorted by ``run_id``; `load_runs`, `load_series` and `sweep_status` read a
sweep's folder.
"""

import hashlib
import itertools
import json
import math
import multiprocessing
import os
import platform
import re
import signal
import subprocess
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from sim.experiment import Experiment, ExperimentError, design_points, load_experiment
from sim.io import atomic_write, atomic_write_json
from sim.provenance import source_hash, sweep_inputs_hash
from sim.run import simulate
from sim.scenario import ScenarioConfig, apply_overrides, field_exists

RUNS = "runs.parquet"
SERIES = "series.parquet"
MANIFEST = "manifest.json"
PART = re.compile(r"part-(\d{6})\.parquet")
RUN_KEYS = ("run_id", "point", "replicate")
LIBRARIES = ("mesa", "numpy", "scipy", "pandas", "pyarrow", "pydantic")
MAX_CHUNK = 25


def run_seed(seed: int, point: int, replicate: int, crn: bool = False) -> int:
    """The seed of one run: a child of ``SeedSequence(seed)`` keyed by (point, replicate).

    Under common random numbers every design point shares the seed of a replicate.
    """
    key = (replicate,) if crn else (point, replicate)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)
    return int(state[0])


def flatten_outcomes(outcomes: dict[str, Any]) -> dict[str, Any]:
    """Dict outcomes become one entry per key, e.g. ``n_attacks_by_site.Erbil``."""
    flat: dict[str, Any] = {}
    for name, value in outcomes.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": item for key, item in value.items()})
        else:
            flat[name] = value
    return flat


def probe_run(config: ScenarioConfig) -> tuple[dict[str, Any], pd.DataFrame]:
    """Outcomes and daily series of a one-day run: the names and types a sweep will produce."""
    result = simulate(apply_overrides(config, {"horizon_days": 1}), 0, series=True)
    return result.outcomes, result.series


# --- what to run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """Everything that determines a sweep's runs, plus the description its manifest carries."""

    config: ScenarioConfig
    points: list[dict[str, Any]]
    extra: list[dict[str, Any]]
    replicates: int
    seed: int
    crn: bool = False
    outcomes: list[str] | None = None
    series: bool | list[str] = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def parameters(self) -> list[str]:
        """Swept parameter names, in order of first appearance."""
        return list(dict.fromkeys(name for point in self.points for name in point))

    @property
    def total(self) -> int:
        return len(self.points) * self.replicates

    def run_id(self, point: int, replicate: int) -> int:
        return point * self.replicates + replicate

    def fingerprint(self) -> str:
        """Hash of what fixes each run's result (the replicate count aside)."""
        content = {
            "config": self.config.model_dump(mode="json"),
            "points": self.points,
            "extra": self.extra,
            "seed": self.seed,
            "crn": self.crn,
            "outcomes": self.outcomes,
            "series": self.series,
        }
        return _sha256(json.dumps(content, sort_keys=True, default=str))


@dataclass(frozen=True)
class RunSpec:
    run_id: int
    point: int
    replicate: int
    seed: int
    overrides: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """A chunk of runs for one worker."""

    config: ScenarioConfig
    runs: tuple[RunSpec, ...]
    outcome_columns: tuple[str, ...]
    series_columns: tuple[str, ...]


def run_chunk(task: Task) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Run a chunk; a run that raises becomes a row with status "error" and its traceback."""
    rows, frames = [], []
    for spec in task.runs:
        row: dict[str, Any] = {key: getattr(spec, key) for key in (*RUN_KEYS, "seed")}
        try:
            config = apply_overrides(task.config, spec.overrides, f"point {spec.point}")
            result = simulate(config, spec.seed, series=bool(task.series_columns))
        except Exception:
            rows.append({**row, "status": "error", "error": traceback.format_exc()})
            continue
        outcomes = flatten_outcomes(result.outcomes)
        rows.append({**row, **{c: outcomes.get(c) for c in task.outcome_columns}, "status": "ok"})
        if task.series_columns:
            frame = result.series.loc[:, list(task.series_columns)]
            frames.append(frame.assign(**{key: row[key] for key in RUN_KEYS}))
    series = pd.concat(frames, ignore_index=True) if frames else None
    return rows, series


# --- output layout ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Column names and Arrow schemas of a sweep's tables."""

    outcome_columns: tuple[str, ...]
    series_columns: tuple[str, ...]
    runs: pa.Schema
    series: pa.Schema | None


def plan_layout(sweep: Sweep, source: str) -> Layout:
    """Columns and types, from a one-day probe run; validates the outcome and series names."""
    outcomes, probe_series = probe_run(sweep.config)
    flat = flatten_outcomes(outcomes)
    wanted = sweep.outcomes
    columns = [c for c in flat if wanted is None or c in wanted or c.split(".", 1)[0] in wanted]
    for name in wanted or []:
        if name not in outcomes and name not in flat:
            raise ExperimentError(source, "outcomes", f"unknown outcome {name!r}")
    for name in sweep.parameters:
        if name in columns:
            raise ExperimentError(
                source, f"parameters.{name}", "same name as an outcome; leave it out of outcomes"
            )
    fields = [
        pa.field("run_id", pa.int64()),
        pa.field("point", pa.int64()),
        pa.field("replicate", pa.int64()),
        pa.field("seed", pa.uint64()),
        *(pa.field(n, _arrow_type([p.get(n) for p in sweep.points])) for n in sweep.parameters),
        *(pa.field(n, _arrow_type([e.get(n) for e in sweep.extra])) for n in _extra_names(sweep)),
        *(pa.field(c, _arrow_type([flat[c]])) for c in columns),
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
    ]
    series_columns: list[str] = []
    series_schema = None
    if sweep.series:
        available = list(probe_series.columns)
        chosen = available if sweep.series is True else ["day", *sweep.series]
        for name in chosen:
            if name not in available:
                raise ExperimentError(source, "series", f"unknown series column {name!r}")
        series_columns = list(dict.fromkeys(chosen))
        keys = pa.schema([pa.field(k, pa.int64()) for k in RUN_KEYS])
        body = pa.Schema.from_pandas(probe_series[series_columns], preserve_index=False)
        series_schema = pa.unify_schemas([keys, body.remove_metadata()])
    return Layout(tuple(columns), tuple(series_columns), pa.schema(fields), series_schema)


def _extra_names(sweep: Sweep) -> list[str]:
    return list(dict.fromkeys(name for extra in sweep.extra for name in extra))


def _arrow_type(values: list[Any]) -> pa.DataType:
    """Arrow type of a column's values; all-missing columns (censored days) are integers."""
    present = [v for v in values if v is not None]
    if not present:
        return pa.int64()
    kind = pa.array(present).type
    return pa.string() if pa.types.is_large_string(kind) else kind


def _parts(folder: Path) -> dict[int, Path]:
    found = {}
    if folder.is_dir():
        for path in folder.iterdir():
            if match := PART.fullmatch(path.name):
                found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def _part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def _write_table(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def _read_parts(folder: Path, columns: list[str] | None = None) -> pa.Table | None:
    tables = [pq.read_table(path, columns=columns) for path in _parts(folder).values()]
    return pa.concat_tables(tables) if tables else None


def load_runs(out: str | Path) -> pd.DataFrame:
    """A sweep's runs table (finished runs only), sorted by ``run_id``."""
    table = _read_parts(Path(out) / RUNS)
    if table is None:
        return pd.DataFrame(columns=[*RUN_KEYS, "seed", "status", "error"])
    return table.to_pandas().sort_values("run_id", ignore_index=True)


def load_series(out: str | Path) -> pd.DataFrame | None:
    """A sweep's daily series, sorted by ``run_id`` and day; None if none were kept."""
    table = _read_parts(Path(out) / SERIES)
    if table is None:
        return None
    return table.to_pandas().sort_values(["run_id", "day"], ignore_index=True)


# --- resuming --------------------------------------------------------------------------------


def _check_folder(out: Path, sweep: Sweep, resume: bool) -> None:
    """Check ``out`` may take this sweep, without writing anything.

    Raises `ExperimentError` when ``out`` holds results of another sweep, or results without
    ``resume``.
    """
    if not _parts(out / RUNS):
        return
    if not resume:
        raise ExperimentError(
            str(out),
            "",
            "holds results already; pass --resume to finish them, or pick another --out",
        )
    manifest = _read_manifest(out)
    if manifest.get("fingerprint") != sweep.fingerprint():
        raise ExperimentError(
            str(out / MANIFEST),
            "fingerprint",
            "results come from a different sweep (scenario, points, seed or outputs differ); "
            "use another --out",
        )


def _done(out: Path, replicates: int) -> set[tuple[int, int]]:
    """The (point, replicate) pairs with a result in ``out``."""
    table = _read_parts(out / RUNS, columns=["point", "replicate"])
    if table is None:
        return set()
    pairs = zip(table["point"].to_pylist(), table["replicate"].to_pylist(), strict=True)
    return {(p, r) for p, r in pairs if r < replicates}


def _tidy_parts(out: Path, sweep: Sweep) -> None:
    """Drop leftovers of a crash and renumber runs if the replicate count changed.

    Series parts are written before their runs part, so a series part without one is an orphan.
    Every fix is idempotent, so a crash during this step is repaired by the next resume.
    """
    for folder in (out / RUNS, out / SERIES):
        for tmp in folder.glob(".part-*.tmp"):
            tmp.unlink()
    runs_parts = _parts(out / RUNS)
    for index, path in _parts(out / SERIES).items():
        if index not in runs_parts:
            path.unlink()
        else:
            _renumber(path, sweep)
    for path in runs_parts.values():
        _renumber(path, sweep)


def _renumber(path: Path, sweep: Sweep) -> None:
    """Recompute run ids of a part from (point, replicate); drop replicates beyond the count."""
    table = pq.read_table(path)
    point = table["point"].to_numpy()
    replicate = table["replicate"].to_numpy()
    keep = replicate < sweep.replicates
    run_id = point * sweep.replicates + replicate
    if keep.all() and (run_id == table["run_id"].to_numpy()).all():
        return
    table = table.set_column(0, "run_id", pa.array(run_id, pa.int64())).filter(pa.array(keep))
    if table.num_rows:
        _write_table(path, table)
    else:
        path.unlink()


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExperimentError(str(out), MANIFEST, "missing; not a sweep folder") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ExperimentError(str(out / MANIFEST), "", f"unreadable ({error})") from None


# --- manifest --------------------------------------------------------------------------------


def _manifest(sweep: Sweep, layout: Layout, counts: dict[str, int]) -> dict[str, Any]:
    config = sweep.config
    return {
        "name": sweep.info.get("name", "points"),
        "description": sweep.info.get("description", ""),
        "experiment_file": sweep.info.get("experiment_file"),
        "experiment_sha256": sweep.info.get("experiment_sha256"),
        "scenario_file": sweep.info.get("scenario_file"),
        "scenario_name": config.name,
        "scenario_sha256": _sha256(config.model_dump_json()),
        "parameters": sweep.info.get("parameters")
        or [{"name": name, "kind": "points"} for name in sweep.parameters],
        "design": sweep.info.get("design", {"kind": "points"}),
        "samples": len(sweep.points),
        "replicates": sweep.replicates,
        "seed": sweep.seed,
        "common_random_numbers": sweep.crn,
        "horizon_days": config.horizon_days,
        "outcomes": list(layout.outcome_columns),
        "series": list(layout.series_columns),
        "fingerprint": sweep.fingerprint(),
        "source_sha256": source_hash(),
        "inputs_sha256": sweep_inputs_hash(
            config.model_dump_json(), sweep.info.get("experiment_sha256")
        ),
        "counts": counts,
        "environment": _environment(),
    }


def _environment() -> dict[str, Any]:
    """Package, git commit, Python and library versions (the manifest's only varying part)."""
    return {
        "escalation": _version("escalation"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
    }


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _counts(out: Path, total: int) -> dict[str, int]:
    table = _read_parts(out / RUNS, columns=["status"])
    statuses = table["status"].to_pylist() if table is not None else []
    ok = statuses.count("ok")
    return {"total": total, "done": len(statuses), "ok": ok, "error": len(statuses) - ok}


# --- execution -------------------------------------------------------------------------------


def _run_spec(sweep: Sweep, point: int, replicate: int) -> RunSpec:
    seed = run_seed(sweep.seed, point, replicate, sweep.crn)
    return RunSpec(sweep.run_id(point, replicate), point, replicate, seed, sweep.points[point])


def _tasks(
    sweep: Sweep, layout: Layout, done: set[tuple[int, int]], chunk_size: int | None
) -> Iterator[Task]:
    """Chunks of the runs not done yet, made as they are needed (memory stays flat)."""
    missing = sweep.total - len(done)
    size = chunk_size or min(MAX_CHUNK, max(1, math.ceil(missing / 16)))
    specs = (
        _run_spec(sweep, point, replicate)
        for point in range(len(sweep.points))
        for replicate in range(sweep.replicates)
        if (point, replicate) not in done
    )
    for chunk in itertools.batched(specs, size):
        yield Task(sweep.config, chunk, layout.outcome_columns, layout.series_columns)


class InlineExecutor(Executor):
    """Runs each task at submission, in this process (one worker, no pickling)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as error:
            future.set_exception(error)
        return future


def _start_worker(sweep_pid: int) -> None:
    """Leave Ctrl-C to the sweep (it stops its workers), and exit if the sweep is killed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(sweep_pid,), daemon=True).start()


def _exit_with(pid: int) -> None:
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(1)


@contextmanager
def _executor(workers: int, dask: str | None) -> Iterator[tuple[Executor, int]]:
    """The executor for ``workers`` local processes, or a Dask cluster, and its parallelism."""
    if dask is not None:
        with _dask_executor(dask, workers) as pair:
            yield pair
    elif workers == 1:
        yield InlineExecutor(), 1
    else:
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=_process_context(),
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )
        try:
            yield pool, workers
        except BaseException:
            _stop_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the workers at once (Ctrl-C or an error): the chunks they hold would be dropped."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):
        process.terminate()


def _process_context() -> multiprocessing.context.BaseContext:
    """A fork server that has imported the model once: workers start fast and, unlike plain
    fork, safely (numpy's and Arrow's threads make this process multi-threaded)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.runner"])
    return context


@contextmanager
def _dask_executor(address: str, workers: int) -> Iterator[tuple[Executor, int]]:
    """``local``: a LocalCluster of ``workers`` (at least 2) processes; else a scheduler address."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExperimentError(
            "--dask", "", "needs the dask extra: pip install 'escalation[dask]'"
        ) from None
    if address == "local":
        cluster = LocalCluster(
            n_workers=max(2, workers),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
    else:
        cluster = nullcontext(address)
    with cluster as target, Client(target) as client:
        executor = client.get_executor()
        yield executor, max(1, sum(client.nthreads().values()))


def _execute(
    tasks: Iterator[Task], executor: Executor, parallelism: int
) -> Iterator[tuple[int, tuple[list[dict[str, Any]], pd.DataFrame | None]]]:
    """Yield (task index, result) as tasks finish, keeping a few tasks per worker in flight."""
    queue = iter(enumerate(tasks))
    pending: dict[Future, int] = {}

    def refill() -> None:
        while len(pending) < 2 * parallelism and (item := next(queue, None)) is not None:
            pending[executor.submit(run_chunk, item[1])] = item[0]

    refill()
    while pending:
        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
        for future in sorted(finished, key=pending.get):
            index = pending.pop(future)
            yield index, future.result()
        refill()


def _write_chunk(
    out: Path,
    index: int,
    sweep: Sweep,
    layout: Layout,
    result: tuple[list[dict[str, Any]], pd.DataFrame | None],
) -> None:
    """Write a finished chunk: its series part first, then its runs part (the commit)."""
    rows, series = result
    for row in rows:
        row.update(sweep.points[row["point"]])
        row.update(sweep.extra[row["point"]])
    if layout.series is not None:
        frame = series if series is not None else pd.DataFrame(columns=layout.series.names)
        table = pa.Table.from_pandas(frame, schema=layout.series, preserve_index=False)
        _write_table(out / SERIES / _part_name(index), table.replace_schema_metadata(None))
    _write_table(out / RUNS / _part_name(index), pa.Table.from_pylist(rows, schema=layout.runs))


def execute_sweep(
    sweep: Sweep,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    dask: str | None = None,
    resume: bool = False,
    progress: bool = True,
    chunk_size: int | None = None,
    source: str = "<points>",
) -> dict[str, int]:
    """Run the missing runs of ``sweep`` into ``out``; return the counts of runs (total, done,
    ok, error)."""
    out = Path(out)
    layout = plan_layout(sweep, source)
    _check_folder(out, sweep, resume)
    _tidy_parts(out, sweep)
    done = _done(out, sweep.replicates)
    atomic_write_json(out / MANIFEST, _manifest(sweep, layout, _counts(out, sweep.total)))
    tasks = _tasks(sweep, layout, done, chunk_size)
    first = max([*_parts(out / RUNS), *_parts(out / SERIES), -1]) + 1
    if executor is not None:
        backend = nullcontext((executor, getattr(executor, "_max_workers", workers)))
    else:
        backend = _executor(workers, dask)
    bar = tqdm(
        total=sweep.total,
        initial=len(done),
        unit="run",
        desc=sweep.info.get("name", "points"),
        disable=not progress,
        dynamic_ncols=True,
    )
    try:
        with backend as (pool, parallelism), bar:
            for index, result in _execute(tasks, pool, parallelism):
                _write_chunk(out, first + index, sweep, layout, result)
                bar.update(len(result[0]))
    finally:
        counts = _counts(out, sweep.total)
        atomic_write_json(out / MANIFEST, _manifest(sweep, layout, counts))
    return counts


# --- public API ------------------------------------------------------------------------------


def run_points(
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    *,
    replicates: int,
    seed: int,
    out: Path,
    workers: int = 1,
    executor: Executor | None = None,
    series: bool | list[str] = False,
    resume: bool = False,
    crn: bool = False,
    progress: bool = True,
    extra_columns: list[dict[str, Any]] | None = None,
    name: str = "points",
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Run every point (a dict of dotted overrides of ``config``) ``replicates`` times.

    Returns one row per run (see the module docstring for the columns), sorted by ``run_id``.
    ``extra_columns[i]`` adds columns to the rows of point i. Unknown field paths raise
    `ExperimentError` before anything is written; a point whose values do not validate gives
    runs with status "error".
    """
    if replicates < 1:
        raise ExperimentError("<points>", "replicates", "must be at least 1")
    if extra_columns is not None and len(extra_columns) != len(points):
        raise ExperimentError("<points>", "extra_columns", "needs one dict per point")
    for i, point in enumerate(points):
        for path in point:
            if not field_exists(path, config):
                raise ExperimentError("<points>", f"points[{i}].{path}", "no such scenario field")
    sweep = Sweep(
        config=config,
        points=[dict(p) for p in points],
        extra=[dict(e) for e in extra_columns] if extra_columns else [{} for _ in points],
        replicates=replicates,
        seed=seed,
        crn=crn,
        series=series,
        info={"name": name},
    )
    execute_sweep(
        sweep,
        out,
        workers=workers,
        executor=executor,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
    )
    return load_runs(out)


def experiment_sweep(experiment: Experiment) -> Sweep:
    """The sweep an experiment describes: its design points, replicates and outputs."""
    spec = experiment.spec
    points, extra = design_points(experiment)
    return Sweep(
        config=experiment.config,
        points=points,
        extra=extra,
        replicates=spec.replicates,
        seed=spec.seed,
        crn=spec.common_random_numbers,
        outcomes=spec.outcomes,
        series=spec.series,
        info={
            "name": spec.name,
            "description": spec.description,
            "experiment_file": str(experiment.path) if experiment.path else None,
            "experiment_sha256": experiment.sha256 or None,
            "scenario_file": os.path.normpath(experiment.scenario_path),
            "parameters": experiment.describe_parameters(),
            "design": spec.design.model_dump(exclude_none=True),
        },
    )


def run_experiment(
    path_or_experiment: str | Path | Experiment,
    out: str | Path,
    workers: int = 1,
    resume: bool = False,
    dask: str | None = None,
    *,
    executor: Executor | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Run an experiment file (or a loaded `Experiment`) into ``out``; return the runs table."""
    sweep_experiment(
        path_or_experiment,
        out,
        workers,
        resume,
        dask,
        executor=executor,
        progress=progress,
        chunk_size=chunk_size,
    )
    return load_runs(out)


def sweep_experiment(
    path_or_experiment: str | Path | Experiment,
    out: str | Path,
    workers: int = 1,
    resume: bool = False,
    dask: str | None = None,
    *,
    executor: Executor | None = None,
    progress: bool = True,
    chunk_size: int | None = None,
) -> dict[str, int]:
    """`run_experiment` without reading the table back: returns the counts of runs."""
    experiment = _as_experiment(path_or_experiment)
    return execute_sweep(
        experiment_sweep(experiment),
        out,
        workers=workers,
        executor=executor,
        dask=dask,
        resume=resume,
        progress=progress,
        chunk_size=chunk_size,
        source=str(experiment.path or "<experiment>"),
    )


def _as_experiment(path_or_experiment: str | Path | Experiment) -> Experiment:
    if isinstance(path_or_experiment, Experiment):
        return path_or_experiment
    return load_experiment(path_or_experiment)


def estimate(
    path_or_experiment: str | Path | Experiment,
    out: str | Path | None = None,
    workers: int = 1,
    timed_runs: int = 3,
) -> dict[str, Any]:
    """Number of runs (those missing from ``out``, if given) and a time estimate from a few runs."""
    experiment = _as_experiment(path_or_experiment)
    sweep = experiment_sweep(experiment)
    layout = plan_layout(sweep, str(experiment.path))
    done: set[tuple[int, int]] = set()
    if out is not None:
        _check_folder(Path(out), sweep, resume=True)
        done = _done(Path(out), sweep.replicates)
    picks = np.linspace(0, sweep.total - 1, min(timed_runs, sweep.total)).astype(int)
    specs = tuple(_run_spec(sweep, *divmod(int(i), sweep.replicates)) for i in picks)
    start = time.perf_counter()
    run_chunk(Task(sweep.config, specs, layout.outcome_columns, layout.series_columns))
    per_run = (time.perf_counter() - start) / len(specs)
    runs = sweep.total - len(done)
    return {
        "name": sweep.info["name"],
        "points": len(sweep.points),
        "replicates": sweep.replicates,
        "runs": runs,
        "seconds_per_run": per_run,
        "estimated_seconds": per_run * runs / workers,
        "workers": workers,
    }


def sweep_status(out: str | Path) -> dict[str, Any]:
    """Progress of the sweep in ``out``: counts, and the first failed runs with their errors."""
    out = Path(out)
    manifest = _read_manifest(out)
    counts = _counts(out, manifest["counts"]["total"])
    columns = ["run_id", "status", "error"]
    table = _read_parts(out / RUNS, columns=columns)
    runs = table.to_pandas() if table is not None else pd.DataFrame(columns=columns)
    failed = runs[runs["status"] == "error"].sort_values("run_id").head(5)
    return {
        "name": manifest["name"],
        "experiment_file": manifest.get("experiment_file"),
        **counts,
        "failed": [
            {"run_id": int(r.run_id), "error": r.error.strip().splitlines()[-1]}
            for r in failed.itertuples()
        ],
    }


def format_status(status: dict[str, Any], out: Path) -> str:
    """`sweep_status` as a few lines of text."""
    share = status["done"] / status["total"] if status["total"] else 1.0
    lines = [
        f"{status['name']}: {status['done']:,} of {status['total']:,} runs done ({share:.0%}), "
        f"{status['ok']:,} ok, {status['error']:,} failed"
    ]
    lines += [f"  run {f['run_id']} failed: {f['error']}" for f in status["failed"]]
    if status["error"] > len(status["failed"]):
        lines.append(f"  ... and {status['error'] - len(status['failed'])} more")
    if status["done"] < status["total"] and status["experiment_file"]:
        lines.append(
            f"finish with: escalation sweep {status['experiment_file']} --out {out} --resume"
        )
    return "\n".join(lines)


def format_estimate(estimate: dict[str, Any]) -> str:
    """`estimate` as one line of text."""
    minutes = estimate["estimated_seconds"] / 60
    return (
        f"{estimate['name']}: {estimate['runs']:,} runs to do ({estimate['points']:,} points x "
        f"{estimate['replicates']} replicates); {estimate['seconds_per_run']:.3f} s per run "
        f"(timed on a few runs), about {minutes:.1f} min on {estimate['workers']} worker(s)"
    )
