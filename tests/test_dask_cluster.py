"""A sweep on a real Dask cluster (a scheduler and two workers as separate processes on
127.0.0.1, as on a cluster's nodes) survives losing a worker and gives the local pool's table."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from sim.runner import RunOptions, load_runs, load_series, run_experiment, sweep_status

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "experiments" / "smoke.toml"
RUNS = 100  # 4 points x 25 replicates of one year: about 5 s of work for one worker
KILL_AFTER = 10  # runs written before a worker is killed

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]


def one_year_smoke(folder: Path) -> Path:
    """The smoke experiment with 25 replicates of a one-year horizon (100 runs)."""
    text = SMOKE.read_text(encoding="utf-8")
    text = text.replace("replicates = 3", "replicates = 25").replace("= 120", "= 365")
    path = folder / "long.toml"
    path.write_text(text.replace("../scenarios", str(ROOT / "scenarios")), encoding="utf-8")
    return path


def start(arguments: list[str], folder: Path, log: str) -> subprocess.Popen:
    """A process in its own session, so that its whole group (a worker's nanny and the worker
    it spawns) can be killed at once, as when a node is lost."""
    with (folder / log).open("wb") as output:
        return subprocess.Popen(
            [sys.executable, *arguments],
            cwd=folder,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """Stop a process group: SIGTERM, then SIGKILL if it is still there after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_for(condition, what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


@contextmanager
def dask_cluster(folder: Path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A scheduler and two one-thread workers on 127.0.0.1; yields its address and the workers."""
    scheduler_file = folder / "scheduler.json"
    processes = [
        start(
            [
                "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                "--no-dashboard", "--scheduler-file", str(scheduler_file),
            ],
            folder,
            "scheduler.log",
        )
    ]  # fmt: skip
    try:
        wait_for(lambda: scheduler_address(scheduler_file) is not None, "the scheduler")
        address = scheduler_address(scheduler_file)
        for name in ("a", "b"):
            arguments = ["-m", "dask", "worker", address, "--nthreads", "1", "--nworkers", "1"]
            arguments += ["--no-dashboard", "--local-directory", str(folder / f"worker-{name}")]
            processes.append(start(arguments, folder, f"worker-{name}.log"))
        yield address, processes[1:]
    finally:
        for process in reversed(processes):
            stop(process)


def scheduler_address(scheduler_file: Path) -> str | None:
    """The address the scheduler wrote to its file, or None while it has not (fully) written it."""
    try:
        return json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None


def parts_written(out: Path) -> int:
    return len(list((out / "runs.parquet").glob("part-*.parquet")))


def busy_worker(client, workers: list[subprocess.Popen], sweep: subprocess.Popen):
    """The worker process group whose worker has tasks assigned, as soon as one has some."""
    pids = client.run(os.getpid)
    deadline = time.monotonic() + 60
    while sweep.poll() is None and time.monotonic() < deadline:
        for address, keys in client.processing().items():
            if keys:
                group = os.getpgid(pids[address])
                return next(worker for worker in workers if worker.pid == group)
        time.sleep(0.005)
    pytest.fail("no worker had a task while the sweep ran")


def test_a_sweep_survives_a_killed_worker_with_an_identical_table(tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client

    experiment = one_year_smoke(tmp_path)
    out = tmp_path / "dask"
    command = ["-m", "sim", "sweep", str(experiment), "--dask", "ADDRESS", "--out", str(out)]
    with dask_cluster(tmp_path) as (address, workers), Client(address, timeout=120) as client:
        client.wait_for_workers(2, timeout=120)
        command[command.index("ADDRESS")] = address
        sweep = start([*command, "--chunk-size", "1", "--no-progress"], tmp_path, "sweep.log")
        try:
            wait_for(lambda: parts_written(out) >= KILL_AFTER or sweep.poll() is not None, "runs")
            victim = busy_worker(client, workers, sweep)
            os.killpg(victim.pid, signal.SIGKILL)  # the worker and its nanny, as kill -9 would
            assert parts_written(out) < RUNS, "the sweep finished before the kill; make it longer"
            assert sweep.wait(timeout=240) == 0, (tmp_path / "sweep.log").read_text()
        finally:
            stop(sweep)
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert len(client.scheduler_info()["workers"]) == 1  # the lost worker stayed lost
    assert sweep_status(out)["ok"] == RUNS
    local = run_experiment(experiment, tmp_path / "local", RunOptions(progress=False))
    pd.testing.assert_frame_equal(load_runs(out), local)
    pd.testing.assert_frame_equal(load_series(out), load_series(tmp_path / "local"))
