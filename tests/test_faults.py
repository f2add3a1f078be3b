"""Faults: a killed worker, SIGTERM, damaged part files, two sweeps into one folder, fewer
replicates on resume, a full disk, a read-only folder, an unreachable Dask scheduler, designs
too large for memory, and the set-up's apt-get. Each keeps every finished result, says what
happened in one line, and, where a sweep goes on or resumes, gives the uninterrupted table."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from conftest import EXPERIMENTS, JUNE, ROOT, SCENARIOS

from sim.errors import SweepError
from sim.out_folder import folder_lock
from sim.pool import MAX_ATTEMPTS, Faults, WorkerPool, WorkersKeepDying, run_tasks
from sim.runner import RunOptions, load_runs, load_series, run_experiment, run_points
from sim.scenario import ScenarioConfig, apply_overrides
from sim.sweep_folder import sweep_status

QUIET = RunOptions(progress=False)
CONFIG = apply_overrides(ScenarioConfig(), {"horizon_days": 30})
POINTS = [{"us.policy": "never"}, {"us.policy": "proportionate"}]


def points_sweep(out: Path, replicates: int = 2, **options) -> pd.DataFrame:
    """Four 30-day runs, one per chunk, with their daily troops."""
    options = RunOptions(progress=False, chunk_size=1, **options)
    return run_points(
        CONFIG, POINTS, replicates=replicates, seed=5, out=out, series=["troops"], options=options
    )


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def long_experiment(folder: Path, replicates: int = 10, days: int = 365) -> Path:
    """The smoke experiment made longer: 4 points x ``replicates`` one-year runs."""
    text = (EXPERIMENTS / "smoke.toml").read_text(encoding="utf-8")
    text = text.replace("../scenarios", str(SCENARIOS)).replace(
        "replicates = 3", f"replicates = {replicates}"
    )
    path = folder / "long.toml"
    path.write_text(text.replace("horizon_days = 120", f"horizon_days = {days}"), encoding="utf-8")
    return path


# --- a killed worker ----------------------------------------------------------------------------


class FlakyExecutor(Executor):
    """Runs tasks at once in this process; ``kills(task)`` says a task kills its worker, which
    fails its future with `BrokenProcessPool` as a real pool would. Counts its rebuilds."""

    def __init__(self, kills) -> None:
        self.kills, self.rebuilds, self._max_workers = kills, 0, 2

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        if self.kills(args[0]):
            future.set_exception(BrokenProcessPool("a worker died"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future

    def rebuild(self) -> None:
        self.rebuilds += 1


def flaky_pool(kills) -> WorkerPool:
    executor = FlakyExecutor(kills)
    return WorkerPool(executor, 2, executor.rebuild)


def test_a_task_that_kills_its_worker_is_retried_alone_then_given_up():
    pool, faults = flaky_pool(lambda task: task == 3), Faults()
    results = dict(run_tasks(str, iter(range(8)), pool, lambda task, why: why, faults))
    assert sorted(results) == list(range(8))
    assert results[3] == f"its worker process died {MAX_ATTEMPTS} times"
    assert all(results[i] == str(i) for i in range(8) if i != 3)
    assert (faults.deaths, faults.given_up, pool.executor.rebuilds) == (3, [3], 3)


def test_a_task_whose_worker_died_once_runs_again():
    tries = []

    def kills(task):
        tries.append(task)
        return task == 2 and tries.count(2) == 1

    faults = Faults()
    results = dict(run_tasks(str, iter(range(5)), flaky_pool(kills), None, faults))
    assert results == {i: str(i) for i in range(5)}
    assert (faults.deaths, faults.rerun, faults.given_up) == (1, 1, [])


class KilledWorker(Exception):
    """What Dask raises for a task that took down too many workers."""


class DaskLike(Executor):
    """Runs tasks at once; task 1 fails as Dask fails a task that killed its workers."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        if args[0] == 1:
            future.set_exception(KilledWorker("task 1 killed 3 workers"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_task_dask_gives_up_on_is_given_up_and_the_others_run():
    faults = Faults()
    pool = WorkerPool(DaskLike(), 2)
    results = dict(run_tasks(str, iter(range(4)), pool, lambda task, why: why, faults))
    assert results == {0: "0", 1: "it killed the Dask workers that ran it", 2: "2", 3: "3"}
    assert (faults.deaths, faults.given_up) == (0, [1])


def test_workers_that_always_die_stop_the_batch():
    with pytest.raises(WorkersKeepDying, match="in a row"):
        list(run_tasks(str, iter(range(20)), flaky_pool(lambda task: True), lambda t, w: w))


def test_a_chunk_given_up_is_recorded_as_failed_runs_and_the_sweep_finishes(tmp_path):
    executor = FlakyExecutor(lambda task: task.runs[0].run_id == 1)
    runs = points_sweep(tmp_path / "out", executor=executor)
    assert runs["status"].tolist() == ["ok", "error", "ok", "ok"]
    assert runs["error"][1].startswith("WorkerDied: the chunk of runs 1 to 1 was given up")
    assert sweep_status(tmp_path / "out")["error"] == 1


@pytest.fixture
def long_sweep(tmp_path_factory) -> tuple[Path, Path]:
    """A 20-run one-year experiment and its uninterrupted sweep, in this process."""
    folder = tmp_path_factory.mktemp("long")
    experiment = long_experiment(folder, replicates=5)
    run_experiment(experiment, folder / "whole", QUIET)
    return experiment, folder / "whole"


def sweep_process(experiment: Path, out: Path, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(out)]
    command += ["--workers", "2", "--chunk-size", "1", "--no-progress", *options]
    return subprocess.Popen(command, start_new_session=True, stderr=subprocess.PIPE, text=True)


def workers_of(process: subprocess.Popen) -> list:
    """The worker processes of a sweep: the children of its fork server."""
    psutil = pytest.importorskip("psutil")
    workers = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:
            if "forkserver" in " ".join(child.cmdline()):
                workers += child.children()
        except psutil.Error:
            continue
    return workers


def assert_same_tables(out: Path, whole: Path) -> None:
    pd.testing.assert_frame_equal(load_runs(out), load_runs(whole))
    pd.testing.assert_frame_equal(load_series(out), load_series(whole))


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_the_table_is_the_uninterrupted_one(long_sweep, tmp_path):
    experiment, whole = long_sweep
    sweep = sweep_process(experiment, tmp_path / "out")
    deadline = time.monotonic() + 120
    while not (workers := workers_of(sweep)):
        assert sweep.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    workers[0].kill()  # as the out-of-memory killer would
    _, stderr = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, stderr
    assert one_line(stderr).startswith("note: a worker process died 1 time(s); the workers were")
    assert_same_tables(tmp_path / "out", whole)


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_keeping_finished_runs(tmp_path):
    out = tmp_path / "out"
    sweep = sweep_process(long_experiment(tmp_path), out)
    deadline = time.monotonic() + 120
    while not list((out / "runs.parquet").glob("part-*")):
        assert sweep.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(sweep.pid, signal.SIGTERM)  # as a batch scheduler does: every process of the job
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == 143
    line = one_line(stderr)  # and so no "leaked semaphore" warning
    assert line.startswith("error: terminated; the ") and line.endswith(f"--out {out} --resume")
    assert_group_ends(sweep.pid)
    assert 1 <= sweep_status(out)["done"] < 40


def assert_group_ends(group: int) -> None:
    """Every process of a sweep's process group (workers, fork server) exits."""
    deadline = time.monotonic() + 10
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "processes of the sweep are left running"
        time.sleep(0.05)


# --- the sweep folder ----------------------------------------------------------------------------


def test_damaged_part_files_are_reported_set_aside_and_rerun(cli, tmp_path):
    whole = points_sweep(tmp_path / "whole")
    out = tmp_path / "out"
    shutil.copytree(tmp_path / "whole", out)
    (out / "runs.parquet" / "part-000001.parquet").write_bytes(b"")  # what a power loss leaves
    series = out / "series.parquet" / "part-000002.parquet"
    series.write_bytes(series.read_bytes()[:100])
    status = cli("status", out)
    assert status.exit_code == 0, status.output
    assert "3 of 4 runs done" in status.stdout
    assert "damaged part file, not counted:" in status.stdout
    plot = cli("plot", out)
    assert plot.exit_code == 2
    assert "damaged part file (truncated or empty)" in one_line(plot.stderr)
    with pytest.raises(SweepError, match="--resume` sets it aside"):
        load_series(out)
    resumed = points_sweep(out, resume=True)
    pd.testing.assert_frame_equal(resumed, whole)
    pd.testing.assert_frame_equal(load_series(out), load_series(tmp_path / "whole"))
    aside = sorted(p.relative_to(out).as_posix() for p in (out / "damaged").rglob("part-*"))
    assert aside == [
        "damaged/runs.parquet/part-000001.parquet",
        "damaged/runs.parquet/part-000002.parquet",
        "damaged/series.parquet/part-000001.parquet",
        "damaged/series.parquet/part-000002.parquet",
    ]


def tiny_experiment(folder: Path, replicates: int) -> Path:
    path = folder / "tiny.toml"
    path.write_text(
        f'name = "tiny"\nscenario = "{JUNE}"\nseed = 3\nreplicates = {replicates}\n'
        'horizon_days = 10\n[design]\nkind = "grid"\n[parameters]\n"us.threat_prob" = [0.1, 0.2]\n',
        encoding="utf-8",
    )
    return path


def test_a_second_sweep_into_a_busy_folder_is_refused_with_the_holders_pid(cli, tmp_path):
    out = tmp_path / "out"
    with folder_lock(out):
        result = cli("sweep", tiny_experiment(tmp_path, 2), "--out", out, "--workers", "1")
        assert sorted(p.name for p in out.iterdir()) == [".lock"]
    assert result.exit_code == 2
    assert f"in use by another sweep (process {os.getpid()})" in one_line(result.stderr)
    assert not out.exists()  # the lock's folder goes with it
    again = cli("sweep", tiny_experiment(tmp_path, 2), "--out", out, "--workers", "1")
    assert again.exit_code == 0, again.output
    assert not (out / ".lock").exists()


def test_resume_with_fewer_replicates_never_deletes_runs(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("sweep", tiny_experiment(tmp_path, 3), "--out", out, "--workers", "1").exit_code == 0
    fewer = cli("sweep", tiny_experiment(tmp_path, 2), "--out", out, "--resume", "--workers", "1")
    assert fewer.exit_code == 2
    assert "holds runs of 3 replicates, more than the 2 asked for" in one_line(fewer.stderr)
    assert len(load_runs(out)) == 6


# --- operating-system errors --------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """Mount a small tmpfs (root only): ``small_disk(size, read_only=False)`` gives its folder."""
    mounted = []

    def mount(size: str, read_only: bool = False) -> Path:
        folder = tmp_path / f"disk{len(mounted)}"
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
        )
        if done.returncode:
            pytest.skip("making a full or read-only disk needs root and mount (a small tmpfs)")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte."""
    with (folder / "filler").open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        except OSError:
            pass


def leftovers(folder: Path) -> list[Path]:
    """Temporary files of half-done writes."""
    return sorted(folder.rglob(".*.tmp"))


@pytest.mark.slow
def test_a_full_disk_stops_a_sweep_keeping_its_runs_and_it_resumes(cli, small_disk, tmp_path):
    experiment = long_experiment(tmp_path, replicates=3, days=120)
    run_experiment(experiment, tmp_path / "whole", QUIET)
    disk = small_disk("64k")
    out = disk / "out"
    result = cli(
        "sweep", experiment, "--out", out, "--workers", "1", "--chunk-size", "1", "--no-progress"
    )
    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert "No space left on device" in line and line.endswith(f"--out {out} --resume")
    assert "finished run(s) are kept in" in line
    assert leftovers(out) == []
    status = sweep_status(out)
    assert 0 < status["done"] < 12 and status["damaged"] == []
    subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)
    resumed = cli("sweep", experiment, "--out", out, "--workers", "1", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert_same_tables(out, tmp_path / "whole")


def test_a_full_disk_stops_run_leaving_nothing(cli, small_disk):
    disk = small_disk("16k")
    result = cli("run", JUNE, "--days", "120", "--out", disk / "june")
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "june/timeseries.csv: No space left on device; nothing is half-written" in line
    assert list(disk.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_stops_plot_without_half_written_figures(cli, small_disk):
    disk = small_disk("8m")
    out = disk / "smoke"
    run_experiment(EXPERIMENTS / "smoke.toml", out, QUIET)
    fill(disk)
    result = cli("plot", out)
    assert result.exit_code == 1
    assert "No space left on device" in one_line(result.stderr)
    assert leftovers(out) == []


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_a_read_only_folder_is_refused_before_anything_runs(cli, small_disk, command):
    disk = small_disk("1m", read_only=True)
    target = JUNE if command == "run" else EXPERIMENTS / "smoke.toml"
    result = cli(command, target, "--out", disk / "out")
    assert result.exit_code == 2
    assert one_line(result.stderr).endswith(f"cannot write in {disk} (a read-only file system)")


@pytest.mark.slow
def test_an_unreachable_dask_scheduler_is_bad_input_and_writes_nothing(cli, tmp_path):
    dask = pytest.importorskip("dask")
    out = tmp_path / "out"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = cli(
            "sweep", tiny_experiment(tmp_path, 1), "--out", out, "--dask", "tcp://127.0.0.1:9"
        )
    assert result.exit_code == 2
    assert "--dask: tcp://127.0.0.1:9: no scheduler answers" in one_line(result.stderr)
    assert not out.exists()


# --- bounded memory ------------------------------------------------------------------------------

LIMIT = 1024 * 2**20  # bytes of address space: the command line needs about 600 MB
LIMITED = f"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({LIMIT}, {LIMIT}))
from typer.testing import CliRunner
from sim.cli import app
outcomes = [CliRunner().invoke(app, args) for args in json.loads(sys.argv[1])]
print(json.dumps([[o.exit_code, o.stdout, o.stderr] for o in outcomes]))
"""


def grid(folder: Path, levels: int, design: str = "") -> Path:
    """An experiment of four parameters, as a grid of ``levels`` each unless ``design``."""
    names = ["enforcement", "credibility", "political_capital", "raid_cost"]
    tables = "".join(
        f'[parameters."government.{name}"]\nkind = "uniform"\nlow = 0.1\nhigh = 0.9\n'
        for name in names
    )
    design = design or f'kind = "grid"\nlevels = {levels}'
    path = folder / f"grid{levels}.toml"
    path.write_text(
        f'name = "grid"\nscenario = "{JUNE}"\nseed = 1\nreplicates = 1\nhorizon_days = 5\n'
        f"[design]\n{design}\n{tables}",
        encoding="utf-8",
    )
    return path


@pytest.mark.slow
def test_unbounded_inputs_are_refused_and_large_grids_counted_in_bounded_memory(tmp_path):
    (tmp_path / "s.toml").write_text('extends = "/dev/zero"\n')
    sobol = grid(tmp_path, 1, 'kind = "sobol"\nsamples = 1073741824')  # 2^30 samples
    cases = [  # (arguments, exit code, what stdout or stderr starts with)
        (["check", tmp_path / "s.toml"], 2, "error: "),
        (["sweep", grid(tmp_path, 1000), "--dry-run"], 2, "error: "),
        (["sweep", sobol], 2, "error: "),
        # 810,000 points made in memory would take more than the limit (about 700 MB more)
        (["sweep", grid(tmp_path, 30), "--dry-run", "--out", tmp_path / "out"], 0, "grid: 810,000"),
    ]
    arguments = json.dumps([[str(arg) for arg in case[0]] for case in cases])
    done = subprocess.run(
        [sys.executable, "-c", LIMITED, arguments],
        capture_output=True,
        text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # its threads' stacks count too
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for (args, code, start), (exit_code, stdout, stderr) in zip(
        cases, json.loads(done.stdout), strict=True
    ):
        assert exit_code == code, (args, stdout, stderr)
        assert (stdout + stderr).startswith(start) and len((stdout + stderr).splitlines()) == 1
    assert "extends: /dev/zero: not a regular file" in json.loads(done.stdout)[0][2]
    assert not (tmp_path / "out").exists()


# --- set-up ---------------------------------------------------------------------------------------


def fake_apt(tmp_path: Path, plan: str) -> tuple[Path, Path]:
    """An apt-get that records its arguments and simulates ``plan``."""
    calls = tmp_path / "calls"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "apt-get"
    stub.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        echo "$*" >> {calls}
        case "$*" in *--simulate*) printf '%s\\n' "{plan}";; *) echo "apt output";; esac
        """)
    )
    stub.chmod(0o755)
    return bin_dir, calls


def install_chromium(bin_dir: Path, log: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        [ROOT / ".ci" / "install-chromium", log], capture_output=True, text=True, env=env
    )


@pytest.fixture
def as_root():
    if os.geteuid() != 0:
        pytest.skip("the chromium installer runs as root only")


def test_chromium_is_installed_quietly_without_upgrades(as_root, tmp_path):
    bin_dir, calls = fake_apt(tmp_path, "Inst chromium (156.0 Debian:12/stable [amd64])")
    done = install_chromium(bin_dir, tmp_path / "apt.log")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert calls.read_text().splitlines() == [
        "update -qq",
        "install --simulate --no-upgrade chromium",
        "install --no-upgrade -y -qq chromium",
    ]
    assert "apt output" in (tmp_path / "apt.log").read_text()


def test_chromium_is_not_installed_when_that_would_upgrade_a_package(as_root, tmp_path):
    plan = "Inst libudev1 [252.30-1] (252.33-1 Debian:12/stable [amd64])"
    bin_dir, calls = fake_apt(tmp_path, plan)
    done = install_chromium(bin_dir, tmp_path / "apt.log")
    assert done.returncode == 1
    assert "would upgrade 1 installed package(s)" in done.stderr.splitlines()[-1]
    assert calls.read_text().splitlines() == [  # nothing installed, nothing upgraded
        "update -qq",
        "install --simulate --no-upgrade chromium",
    ]
