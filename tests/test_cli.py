"""The `escalation` command line: run, bad input, missing extras, and the demo from a clean
checkout."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import EXPERIMENTS, JUNE, ROOT


def test_run_writes_daily_series_and_summary(cli, tmp_path):
    result = cli("run", JUNE, "--seed", "7", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    series = pd.read_csv(tmp_path / "timeseries.csv")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(series) == 366  # day 0 and 365 days
    assert series["date"].iloc[0] == "2020-06-01"
    assert summary["seed"] == 7
    assert summary["us_killed"] == series["us_killed"].iloc[-1]
    assert summary["n_attacks"] == series["attacks"].sum()  # militia attacks, not Iran's strikes
    assert "drawdown started on day" in result.stdout
    assert sorted(tmp_path.iterdir()) == [tmp_path / "summary.json", tmp_path / "timeseries.csv"]


def test_set_overrides_reach_the_model_and_the_summary(cli, tmp_path):
    args = ["run", JUNE, "--seed", "3", "--out", tmp_path, "--set", "us.policy=never"]
    result = cli(*args, "--set", "militias.*.restraint=0.9")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["overrides"] == {"us.policy": "never", "militias.*.restraint": 0.9}
    assert summary["us_answers"] == 0


@pytest.mark.parametrize("assignment", ["no-equals-sign", "=0.5"])
def test_malformed_set_exits_2(cli, assignment):
    result = cli("run", JUNE, "--set", assignment)
    assert result.exit_code == 2
    assert result.stderr == f"error: --set: {assignment!r}: expected PATH=VALUE\n"


def test_python_m_sim_is_the_same_command(cli):
    args = ["run", JUNE, "--seed", "5", "--days", "60"]
    via_module = cli(*args, in_subprocess=True)
    assert via_module.exit_code == 0, via_module.stderr
    assert via_module.stdout == cli(*args).stdout


def test_internal_errors_exit_1_not_2(cli, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("sim.model.simulate", broken)
    result = cli("run", JUNE, "--days", "5")
    assert result.exit_code == 1


def test_missing_viz_extra_is_bad_input_with_the_install_line(cli, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "solara" else find_spec(name)
    )
    result = cli("viz", JUNE)
    assert result.exit_code == 2
    assert result.stderr == "error: escalation viz: needs the viz extra: pip install -e '.[viz]'\n"


def test_missing_dask_extra_is_bad_input_and_writes_nothing(cli, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    out = tmp_path / "out"
    result = cli("sweep", EXPERIMENTS / "smoke.toml", "--out", out, "--dask", "local")
    assert result.exit_code == 2
    assert result.stderr == "error: --dask: needs the dask extra: pip install -e '.[dask]'\n"
    assert not out.exists()


@pytest.mark.slow
def test_make_demo_works_from_a_clean_checkout(tmp_path):
    """Clone the committed tree and run `make demo` there with this environment's .venv.

    The clone's own `sim` package comes first on PYTHONPATH, so what runs is what was committed.
    """
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    make = ["make", "-C", str(clone), "demo", f"VENV={venv}", f"STAMP={stamp}", "-o", str(stamp)]
    result = subprocess.run(
        make, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(clone)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = clone / "out"
    assert (out / "june2020/summary.json").is_file()
    assert (out / "drawdown/manifest.json").is_file()
    assert (out / "drawdown/report.md").is_file()
    figures = {p.name for p in (out / "drawdown/figures").iterdir()}
    assert {"survival.pdf", "survival.png", "survival.txt", "heatmap.pdf"} <= figures
