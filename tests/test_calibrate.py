"""ABC calibration: recovery of known parameters, SBC, reproducible outputs, continued
histories, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from conftest import ROOT, SCENARIOS

from sim.calibration import calibrate, load_calibration
from sim.calibration.abc import (
    ABCSettings,
    Generation,
    Prior,
    Projection,
    kernel_covariance,
    log_proposal_density,
    particle_values,
    perturb,
    posterior_table,
    proposal_count,
    run_abc,
    sample_prior,
    to_points,
    weighted_quantiles,
    weighted_sd,
)
from sim.calibration.histories import continue_batch, run_batch
from sim.calibration.sbc import simulation_based_calibration
from sim.calibration.spec import forecast_config, window_config
from sim.model import simulate
from sim.rounding import round_significant
from sim.runner import load_runs, load_series
from sim.scenario import load_scenario

CALIBRATION = ROOT / "experiments" / "calibrate_2020.toml"

# --- a toy simulator with known structure ----------------------------------------------------
# Three windows of Poisson(rate) attacks and the deadly ones among them (Binomial(total, p)).
# The third parameter does nothing: no statistic can identify it.
TOY = [Prior("rate", 1.0, 30.0, log=True), Prior("p", 0.0, 0.5), Prior("noise", 0.0, 1.0)]


def toy_statistics(theta: np.ndarray, replicates: int, rng: np.random.Generator) -> np.ndarray:
    rate, p = np.exp(theta[:, 0]), theta[:, 1]
    counts = rng.poisson(rate[:, None, None], size=(len(theta), replicates, 3))
    deadly = rng.binomial(counts.sum(axis=2), p[:, None])
    return np.concatenate([counts, deadly[..., None]], axis=2).astype(float)


def toy_simulator(replicates: int):
    def simulate_toy(points, generation, seed):
        theta = np.array([[np.log(pt["rate"]), pt["p"], pt["noise"]] for pt in points])
        return toy_statistics(theta, replicates, np.random.default_rng(seed))

    return simulate_toy


def test_abc_recovers_toy_parameters_with_stated_coverage():
    settings = ABCSettings(replicates=2, prior_draws=200, accepted=100, max_proposals=300,
                           min_acceptance=0.15, max_generations=8)  # fmt: skip
    rng = np.random.default_rng(5)
    truths = sample_prior(TOY, 16, rng)
    covered, ratios = [], []
    for i, truth in enumerate(truths):
        observed = toy_statistics(truth[None, :], 1, rng)[0, 0]
        fit = run_abc(toy_simulator(2), TOY, observed, settings, seed=100 + i)
        last = fit.posterior
        for j in (0, 1):
            low, high = weighted_quantiles(last.theta[:, j], last.weights, [0.05, 0.95])
            covered.append(low <= truth[j] <= high)
        ratios.append(weighted_sd(last.theta[:, 0], last.weights) / TOY[0].internal_sd)
    # 32 intervals at a nominal 90% (ABC errs wide): fewer than 27 covering has probability
    # under 5% for a calibrated method; the rate's posterior is at most half as wide as its prior
    assert sum(covered) >= 27
    assert np.mean(ratios) < 0.5


def test_sbc_ranks_are_uniform_for_identified_parameters_and_flag_the_rest():
    settings = ABCSettings(replicates=2, prior_draws=1500, max_generations=1)
    fit = run_abc(toy_simulator(2), TOY, np.array([5.0, 5.0, 5.0, 2.0]), settings, seed=9)
    result = simulation_based_calibration(fit, TOY, histories=200, nearest=60)
    summary = result.summary.set_index("parameter")
    for name in ("rate", "p"):
        assert summary.loc[name, "verdict"] == "identified"
        assert summary.loc[name, "uniformity_p"] > 0.01  # chi-square over 10 bins
        assert 0.8 <= summary.loc[name, "coverage_90"] <= 1.0
        assert 0.38 <= summary.loc[name, "coverage_50"] <= 0.75
    assert summary.loc["noise", "verdict"] == "not identified"
    assert result.histogram("rate").sum() == 200


def test_projection_recovers_a_linear_relation():
    rng = np.random.default_rng(2)
    statistics = rng.normal(size=(400, 2, 3))
    theta = np.column_stack([statistics[:, 0, 0] * 2.0 + 1.0, rng.normal(size=400)])
    projection = Projection.fit(theta, statistics[:, :1, :])
    assert projection.r2[0] == pytest.approx(1.0, abs=1e-9)
    assert projection.r2[1] < 0.05
    assert projection(np.array([[0.5, 0.0, 0.0]]))[0, 0] == pytest.approx(2.0)


def test_proposals_stay_inside_the_prior_and_quantiles_follow_weights():
    rng = np.random.default_rng(0)
    priors = TOY[:2]
    theta = np.column_stack([rng.uniform(3.3, 3.4, 50), rng.uniform(0.45, 0.5, 50)])
    weights = np.full(50, 1 / 50)
    cov = kernel_covariance(theta, weights, priors)
    proposals = perturb(theta, weights, cov, priors, 200, rng)
    assert proposals.shape == (200, 2)
    assert (proposals[:, 0] <= np.log(30.0)).all() and (proposals[:, 1] <= 0.5).all()
    values, w = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.1, 0.8])
    assert weighted_quantiles(values, w, [0.1, 0.5]) == [1.0, 3.0]


def test_proposal_count_aims_at_the_accepted_runs():
    settings = ABCSettings(replicates=2, accepted=100, max_proposals=500, quantile=0.5)

    def generation(number: int, acceptance: float) -> Generation:
        accepted = np.zeros((10, 2), dtype=bool)
        accepted.flat[: round(20 * acceptance)] = True
        empty = np.zeros(1)
        return Generation(number, empty, empty, empty, accepted, empty, empty, 1.0, empty, 1.0)

    assert proposal_count([generation(0, 0.5)], settings) == 100  # 100 / (0.5 x 2)
    # the acceptance fell from 0.5 to 0.25: expect 0.125 next, 400 sets for 100 runs
    assert proposal_count([generation(0, 0.5), generation(1, 0.25)], settings) == 400
    assert proposal_count([generation(1, 0.2), generation(2, 0.05)], settings) == 500  # capped


def test_particles_their_values_and_weights_have_12_significant_digits():
    rng = np.random.default_rng(1)
    priors = TOY[:2]
    theta = sample_prior(priors, 40, rng)
    weights = np.full(40, 1 / 40)
    cov = kernel_covariance(theta, weights, priors)
    proposals = perturb(theta, weights, cov, priors, 40, rng)
    log_q = log_proposal_density(proposals, theta, weights, cov)
    fit = run_abc(toy_simulator(2), TOY, np.array([5.0, 5.0, 5.0, 2.0]),
                  ABCSettings(2, 40, 20, 40, max_generations=2), seed=3)  # fmt: skip
    table = posterior_table(fit.posterior, TOY)
    values = table[[p.path for p in TOY]].to_numpy()
    for array in (theta, proposals, table["weight"].to_numpy(), values):
        assert all(round_significant(x) == x for x in array.ravel())
    assert np.isfinite(log_q).all()
    assert [list(p.values()) for p in to_points(TOY, fit.posterior.theta)] == values.tolist()
    assert (particle_values(TOY, fit.posterior.theta) == values).all()


# --- continued histories ---------------------------------------------------------------------


def test_a_continued_run_repeats_its_fitted_history_exactly():
    calibration = load_calibration(CALIBRATION)
    fitted = simulate(calibration.fit_config, 20200622, series=True).series
    continued = simulate(forecast_config(calibration, date(2020, 6, 22), 30), 20200622, True)
    assert len(fitted) == 239 and len(continued.series) == 239 + 30
    assert continued.series.iloc[:239].equals(fitted)  # every column of all 238 days and day 0


def test_a_continuation_that_does_not_repeat_its_history_is_refused(tmp_path):
    config = load_scenario(SCENARIOS / "october2019.toml")
    short = window_config(config, date(2019, 11, 30))
    longer = window_config(config, date(2019, 11, 30), date(2019, 12, 31))
    points = [{"militia_rules.harass_odds": 0.05}, {"militia_rules.harass_odds": 0.08}]
    fitted = run_batch(short, points, 2, 17, tmp_path / "fit")
    continued = continue_batch(fitted, longer, points, 17, tmp_path / "same")
    assert len(continued.series[1][1]) == 65 and len(fitted.series[1][1]) == 34
    with pytest.raises(RuntimeError, match="does not repeat its fitted history"):
        continue_batch(fitted, longer, points, 18, tmp_path / "other")


# --- the whole calibration -------------------------------------------------------------------


def tiny_experiment(folder: Path, workers: int, prior_draws: int = 24) -> Path:
    """A calibration small enough for a test, writing inside ``folder``."""
    text = CALIBRATION.read_text(encoding="utf-8")
    for old, new in {
        '"../scenarios/': f'"{ROOT}/scenarios/',
        '"../data/': f'"{ROOT}/data/',
        f'"{ROOT}/scenarios/june2020_calibrated.toml"': '"june2020_calibrated.toml"',
        '"../out/calibrate_2020"': '"out"',
        '"../results/validation"': '"results"',
        "workers = 2": f"workers = {workers}",
        "prior_draws = 1000": f"prior_draws = {prior_draws}",
        "accepted = 300": "accepted = 12",
        "max_proposals = 1200": "max_proposals = 16",
        "max_generations = 30": "max_generations = 2",
        "histories = 150": "histories = 8",
        "nearest = 60": "nearest = 8",
        "origins = [2020-02-29, 2020-03-31]": "origins = [2020-03-31]",
        "hawkes_paths = 2000": "hawkes_paths = 100",
        "days = 182": "days = 14",
    }.items():
        assert old in text, old
        text = text.replace(old, new)
    folder.mkdir()
    path = folder / "calibrate.toml"
    path.write_text(text, encoding="utf-8")
    return path


RESULT_FILES = [
    "fit.json", "forecast/fan.png", "forecast/forecast.md", "forecast/summary.json",
    "forecast/weekly.csv", "generations.csv", "posterior.parquet", "posterior.png",
    "report.json", "report.md", "rolling_origin.png", "rolling_weekly.csv", "sbc.csv",
    "sbc_ranks.csv", "sbc_ranks.png", "skill.csv",
]  # fmt: skip


@pytest.mark.slow
def test_calibration_writes_identical_outputs_with_one_or_two_workers(tmp_path, cli):
    first = tiny_experiment(tmp_path / "one", workers=1)
    second = tiny_experiment(tmp_path / "two", workers=2)
    calibrate(first, log=lambda _: None)
    calibrate(second, log=lambda _: None)
    results = first.parent / "results"
    written = sorted(p.relative_to(results).as_posix() for p in results.rglob("*") if p.is_file())
    assert written == RESULT_FILES
    for name in [*written, "../june2020_calibrated.toml"]:
        one = (results / name).read_bytes()
        two = (second.parent / "results" / name).read_bytes()
        assert one == two, name
    report = json.loads((results / "report.json").read_text(encoding="utf-8"))
    calibrated = load_scenario(first.parent / "june2020_calibrated.toml")
    particle = report["calibrated_particle"]["values"]
    assert calibrated.militia_rules.harass_odds == particle["militia_rules.harass_odds"]
    assert calibrated.us.policy == "disproportionate"  # carried from the fitted scenario
    assert calibrated.start_date == date(2020, 6, 1)
    assert_header_command_reproduces_the_particle(first.parent, cli)
    skill = pd.read_csv(results / "skill.csv")
    assert set(skill["forecaster"]) == {"model", "poisson_past", "poisson_last_8_weeks", "hawkes"}
    assert (skill.loc[skill["forecaster"] == "model", "model_skill_crps"] == 0.0).all()

    forecast = tmp_path / "forecast"
    done = cli("forecast", results, "--date", "2020-06-29", "--days", "14", "--out", forecast)
    assert done.exit_code == 0, done.output
    weekly = pd.read_csv(forecast / "weekly.csv")
    assert weekly["week_start"].min() == "2020-06-30" and weekly["week_start"].nunique() == 2
    summary = json.loads((forecast / "summary.json").read_text(encoding="utf-8"))
    assert 0.0 <= summary["p_red_line"]["low"] <= summary["p_red_line"]["p"] <= 1.0
    early = cli("forecast", results, "--date", "2020-03-01", "--out", tmp_path / "early")
    assert early.exit_code == 2 and early.stderr.count("\n") == 1
    assert early.stderr.startswith("error: --date: 2020-03-01 is before the end of the fitted")
    assert not (tmp_path / "early").exists()


def assert_header_command_reproduces_the_particle(folder: Path, cli) -> None:
    """The calibrated scenario's header gives an `escalation run` command; run it, and its
    daily series must be the particle's fitted run, day by day."""
    header = (folder / "june2020_calibrated.toml").read_text(encoding="utf-8")
    words = next(line for line in header.splitlines() if "escalation run" in line).split()[3:]
    seed = int(words[words.index("--seed") + 1])
    done = cli("run", *words, "--out", folder / "particle")
    assert done.exit_code == 0, done.output
    last = sorted((folder / "out" / "fit").glob("generation_*"))[-1]
    runs, series = load_runs(last), load_series(last)
    fitted = series[series["run_id"] == runs.loc[runs["seed"] == seed, "run_id"].iloc[0]]
    again = pd.read_csv(folder / "particle" / "timeseries.csv")
    columns = ["attacks:rocket", "attacks:drone", "attacks:ied", "us_killed", "us_rung"]
    assert (again[columns].to_numpy() == fitted.sort_values("day")[columns].to_numpy()).all()


@pytest.mark.parametrize(
    ("old", "new", "field", "problem"),
    [
        ('[priors."iran.dialogue_boost"]', '[priors."iran.dialog_boost"]',
         "priors.iran.dialog_boost", "no such scenario field"),
        ("periods = [2020-02-16,", "periods = [2019-02-16,", "statistics.periods[0]",
         "2019-02-16 is not inside the fitted run"),
        ("origins = [2020-03-31]", "origins = [2020-03-31, 2020-03-01]", "rolling.origins[1]",
         "dates must increase"),
        ('"Baghdad airport"]', '"Baghdad Airport"]', "statistics.baghdad_sites[1]",
         "no site 'Baghdad Airport'"),
        ("quantile = 0.5", "quantile = 1.5", "abc.quantile", "less than 1"),
        ("[sbc]", "[sbc]\ncolour = 1", "sbc.colour", "unknown field"),
        ("low = 0.00005", "low = 0.05", "priors.militia_rules.lethal_odds.high", "must exceed low"),
        ("announced = 2020-06-18", "announced = 2020-06-23", "forecast.events[0]",
         "no hindsight"),
        ("date = 2020-06-22", "date = 2020-06-01", "forecast.date", "before the end"),
    ],
)  # fmt: skip
def test_bad_calibration_file_exits_2_with_one_line(cli, tmp_path, old, new, field, problem):
    path = tiny_experiment(tmp_path / "bad", workers=1)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = cli("calibrate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: {field}: ")
    assert problem in result.stderr and result.stderr.count("\n") == 1
    assert not (path.parent / "results").exists() and not (path.parent / "out").exists()


def test_malformed_record_exits_2_naming_the_csv(cli, tmp_path):
    path = tiny_experiment(tmp_path / "bad", workers=1)
    record = tmp_path / "events.csv"
    lines = (ROOT / "data" / "events_2019_2020.csv").read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5].replace(",0,0,0,", ",0,-2,0,", 1)
    record.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.write_text(
        path.read_text().replace(f'"{ROOT}/data/events_2019_2020.csv"', f'"{record}"'),
        encoding="utf-8",
    )
    result = cli("calibrate", path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {record}: line 6: us_wounded: ")
    assert result.stderr.count("\n") == 1


def test_forecast_of_a_folder_without_a_fit_exits_2(cli, tmp_path):
    result = cli("forecast", tmp_path, "--date", "2020-06-22")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "not a calibration's results" in result.stderr
    bad_date = cli("forecast", tmp_path, "--date", "22/06/2020")
    assert bad_date.exit_code == 2 and "expected a date as YYYY-MM-DD" in bad_date.stderr


@pytest.mark.slow
def test_ctrl_c_stops_the_calibration_and_its_workers_cleanly(tmp_path):
    path = tiny_experiment(tmp_path / "fit", workers=2, prior_draws=200)
    runs = path.parent / "out" / "fit" / "generation_00" / "runs.parquet"
    command = [sys.executable, "-m", "sim", "calibrate", str(path)]
    fit = subprocess.Popen(
        command,
        start_new_session=True,
        stderr=subprocess.PIPE,
        text=True,
        # a shell starts background jobs with Ctrl-C ignored, and the child would inherit that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(runs.glob("part-*")):  # the workers are running
        assert fit.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    workers = psutil.Process(fit.pid).children(recursive=True)
    os.killpg(fit.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole process group
    _, stderr = fit.communicate(timeout=120)
    assert fit.returncode == 130
    assert stderr == "error: interrupted; the same command resumes the fit\n"  # no tracebacks
    _, alive = psutil.wait_procs(workers, timeout=60)
    assert workers and not alive
