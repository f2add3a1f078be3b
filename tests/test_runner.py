"""The sweep runner: seeding, worker-independence, resume, failures, manifest and status."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import EXPERIMENTS, JUNE, SCENARIOS

from sim.errors import SweepError
from sim.model import simulate
from sim.runner import (
    RunOptions,
    flatten_outcomes,
    load_runs,
    load_series,
    run_experiment,
    run_points,
    sweep_status,
)
from sim.scenario import ScenarioConfig, apply_overrides

SMOKE = EXPERIMENTS / "smoke.toml"
QUIET = RunOptions(progress=False)
CONFIG = apply_overrides(ScenarioConfig(), {"horizon_days": 60})
POINTS = [{"us.policy": "never"}, {"us.policy": "disproportionate", "government.enforcement": 0.7}]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    """The smoke experiment run once, in this process."""
    out = tmp_path_factory.mktemp("smoke") / "out"
    run_experiment(SMOKE, out, QUIET)
    return out


def points_sweep(
    out: Path,
    points: list[dict] = POINTS,
    replicates: int = 2,
    seed: int = 11,
    resume: bool = False,
    chunk_size: int | None = None,
    **fields,
) -> pd.DataFrame:
    options = RunOptions(resume=resume, progress=False, chunk_size=chunk_size)
    return run_points(
        CONFIG, points, replicates=replicates, seed=seed, out=out, options=options, **fields
    )


def test_rows_are_ordered_and_seeded_from_the_seed_sequence(tmp_path):
    runs = points_sweep(tmp_path / "out")
    assert runs["run_id"].tolist() == [0, 1, 2, 3]
    assert runs["point"].tolist() == [0, 0, 1, 1]
    assert runs["replicate"].tolist() == [0, 1, 0, 1]
    for row in runs.itertuples():
        expected = np.random.SeedSequence(11, spawn_key=(row.point, row.replicate))
        assert int(row.seed) == int(expected.generate_state(1, np.uint64)[0])
    assert runs["seed"].nunique() == 4
    assert runs["us.policy"].tolist() == ["never", "never", "disproportionate", "disproportionate"]
    assert runs["government.enforcement"].isna().tolist() == [True, True, False, False]


def test_a_row_is_reproduced_by_simulate_with_its_seed(tmp_path):
    runs = points_sweep(tmp_path / "out")
    row = runs.iloc[3]
    again = flatten_outcomes(
        simulate(apply_overrides(CONFIG, POINTS[1]), int(row["seed"])).outcomes
    )
    assert row["n_attacks"] == again["n_attacks"]
    assert row["days_at_rung.TALKS"] == again["days_at_rung.TALKS"]
    assert row["us_credibility_final"] == again["us_credibility_final"]


def test_common_random_numbers_share_seeds_across_points(tmp_path):
    runs = points_sweep(tmp_path / "out", crn=True)
    by_point = runs.pivot(index="replicate", columns="point", values="seed")
    assert (by_point[0] == by_point[1]).all()
    assert by_point[0].nunique() == 2


def test_extra_columns_and_chosen_series(tmp_path):
    extra = [{"candidate": "a"}, {"candidate": "b"}]
    runs = points_sweep(tmp_path / "out", extra_columns=extra, series=["troops"])
    assert runs["candidate"].tolist() == ["a", "a", "b", "b"]
    series = load_series(tmp_path / "out")
    assert {"run_id", "day", "troops"} <= set(series.columns)
    assert len(series) == 4 * 61  # day 0 to day 60 for each run
    assert series.groupby("run_id")["day"].max().tolist() == [60] * 4


def test_a_failing_run_is_recorded_and_the_others_run(tmp_path):
    points = [{"us.threat_prob": 0.5}, {"us.policy": "hawk"}, {"us.policy": "never"}]
    runs = points_sweep(tmp_path / "out", points=points)
    assert runs["status"].tolist() == ["ok", "ok", "error", "error", "ok", "ok"]
    failed = runs[runs.status == "error"]
    assert failed["error"].str.contains("Traceback").all()
    assert failed["error"].str.contains("not a US type").all()
    assert failed["n_attacks"].isna().all()
    assert runs.loc[runs.status == "ok", "error"].isna().all()
    status = sweep_status(tmp_path / "out")
    assert (status["done"], status["ok"], status["error"]) == (6, 4, 2)


def test_sweep_exits_3_when_runs_fail_and_status_lists_them(cli, tmp_path):
    # A 5,000-troop drawdown target is valid alone but not with 700 troops at each of six sites.
    experiment = tmp_path / "failing.toml"
    experiment.write_text(
        f"""
name = "failing"
scenario = "{JUNE}"
seed = 5
replicates = 1
horizon_days = 20
[fixed]
"mechanisms.posture" = "fixed_target"
"us.drawdown_target" = 3000
[design]
kind = "grid"
[parameters]
"us.drawdown_target" = [3000, 5000]
"sites.*.us_troops" = [700, 900]
""",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = cli("sweep", experiment, "--out", out, "--workers", "1")
    assert result.exit_code == 3, result.output
    assert "3 ok, 1 failed" in result.output
    status = cli("status", out)
    assert status.exit_code == 0
    assert "4 of 4 runs done (100%), 3 ok, 1 failed" in status.output
    assert "run 2 failed" in status.output


@pytest.mark.slow
def test_one_and_two_workers_give_identical_results(smoke, tmp_path):
    two = run_experiment(SMOKE, tmp_path / "two", RunOptions(workers=2, progress=False))
    one = load_runs(smoke)
    pd.testing.assert_frame_equal(one, two)
    pd.testing.assert_frame_equal(load_series(smoke), load_series(tmp_path / "two"))
    assert len(one) == 12 and (one.status == "ok").all()


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(smoke, tmp_path):
    pytest.importorskip("distributed")
    dask = run_experiment(SMOKE, tmp_path / "dask", RunOptions(dask="local", progress=False))
    pd.testing.assert_frame_equal(load_runs(smoke), dask)


def test_manifest_describes_the_sweep_deterministically(smoke, tmp_path):
    run_experiment(SMOKE, tmp_path / "b", QUIET)
    first = json.loads((smoke / "manifest.json").read_text())
    assert first == json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert first["name"] == "smoke"
    assert first["counts"] == {"total": 12, "done": 12, "ok": 12, "error": 0}
    assert [p["name"] for p in first["parameters"]] == ["us.policy", "militias.*.restraint"]
    assert (first["samples"], first["replicates"], first["seed"]) == (4, 3, 7)
    assert len(first["experiment_sha256"]) == 64
    assert {"escalation", "git_commit", "python", "libraries"} <= set(first["environment"])
    # pandas reads the dataset folder whole
    assert len(pd.read_parquet(smoke / "runs.parquet")) == 12


def test_the_run_command_reproduces_a_row(cli, smoke, tmp_path):
    row = load_runs(smoke).iloc[7]
    overrides = [f"{name}={row[name]}" for name in ("us.policy", "militias.*.restraint")]
    command = ["run", JUNE, "--seed", row["seed"], "--days", "120", "--out", tmp_path]
    result = cli(*command, *(f"--set={o}" for o in overrides))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    for name in ("n_attacks", "us_killed", "max_rung", "us_credibility_final"):
        assert summary[name] == row[name]
    assert summary["days_at_rung"]["THREATS"] == row["days_at_rung.THREATS"]


def test_existing_results_need_resume_and_the_same_sweep(tmp_path):
    out = tmp_path / "out"
    points_sweep(out)
    with pytest.raises(SweepError, match="--resume"):
        points_sweep(out)
    with pytest.raises(SweepError, match="different sweep"):
        points_sweep(out, seed=12, resume=True)
    pd.testing.assert_frame_equal(points_sweep(out, resume=True), load_runs(out))


def test_resume_runs_only_what_is_missing_after_a_crash(tmp_path):
    whole = points_sweep(tmp_path / "whole", chunk_size=1, series=True)
    crashed = tmp_path / "crashed"
    shutil.copytree(tmp_path / "whole", crashed)
    # A crash leaves: runs parts missing, a series part without its runs part, a temp file.
    (crashed / "runs.parquet" / "part-000001.parquet").unlink()
    (crashed / "runs.parquet" / "part-000002.parquet").unlink()
    (crashed / "series.parquet" / "part-000001.parquet").unlink()
    (crashed / "runs.parquet" / ".part-000003.parquet.x.tmp").write_bytes(b"half")
    assert sweep_status(crashed)["done"] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(crashed / "manifest.json", empty)
    assert (sweep_status(empty)["done"], sweep_status(empty)["total"]) == (0, 4)
    resumed = points_sweep(crashed, chunk_size=1, series=True, resume=True)
    pd.testing.assert_frame_equal(whole, resumed)
    pd.testing.assert_frame_equal(load_series(tmp_path / "whole"), load_series(crashed))
    assert not list((crashed / "runs.parquet").glob(".*"))


def test_adding_replicates_keeps_earlier_runs(tmp_path):
    out = tmp_path / "out"
    two = points_sweep(out, series=True)
    three = points_sweep(out, series=True, replicates=3, resume=True)
    fresh = points_sweep(tmp_path / "fresh", series=True, replicates=3)
    pd.testing.assert_frame_equal(three, fresh)
    pd.testing.assert_frame_equal(load_series(out), load_series(tmp_path / "fresh"))
    kept = three[three.replicate < 2].drop(columns="run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, two.drop(columns="run_id"))


@pytest.mark.slow
def test_resume_after_kill_equals_an_uninterrupted_sweep(tmp_path):
    experiment = tmp_path / "long.toml"
    text = SMOKE.read_text(encoding="utf-8").replace("replicates = 3", "replicates = 10")
    experiment.write_text(text.replace("../scenarios", str(SCENARIOS)), encoding="utf-8")
    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "sim", "sweep", str(experiment), "--out", str(killed)]
    options = ["--workers", "1", "--chunk-size", "1", "--no-progress"]
    sweep = subprocess.Popen([*command, *options], start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list((killed / "runs.parquet").glob("part-*"))) < 3:
        assert sweep.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(sweep.pid, signal.SIGKILL)  # the sweep and its workers, as kill -9 would
    sweep.wait()
    assert sweep_status(killed)["done"] < 40  # it really was interrupted
    subprocess.run([*command, *options, "--resume"], check=True)
    whole = run_experiment(experiment, tmp_path / "whole", QUIET)
    pd.testing.assert_frame_equal(load_runs(killed), whole)
    pd.testing.assert_frame_equal(load_series(killed), load_series(tmp_path / "whole"))


def test_resume_refuses_runs_made_by_other_code(tmp_path):
    out = tmp_path / "out"
    points_sweep(out, chunk_size=1)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["source_sha256"] = "0" * 64  # as if the model had changed since
    manifest_path.write_text(json.dumps(manifest))
    before = load_runs(out)
    with pytest.raises(SweepError, match="made by other code"):
        points_sweep(out, resume=True)
    pd.testing.assert_frame_equal(load_runs(out), before)
