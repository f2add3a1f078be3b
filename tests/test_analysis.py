"""Statistics behind the figures: Kaplan-Meier, log-rank, fans, heat maps, attack counts
(Sobol' indices: tests/test_sensitivity.py)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import analysis
from sim.analysis import SweptParameter
from sim.errors import SweepError
from sim.sweep_folder import MANIFEST, RUNS, part_name


def test_kaplan_meier_matches_hand_computation():
    # Events at 2, 3, 5, 8; censored at 3, 6, 9 (an event and a censoring tie at day 3).
    days = np.array([2, 3, 3, 5, 6, 8, 9])
    observed = np.array([1, 1, 0, 1, 0, 1, 0], dtype=bool)
    curve = analysis.kaplan_meier(days, observed, confidence=0.95)
    # By hand: S = prod(1 - d/n) over event days; at risk 7, 6, 4, 2.
    by_hand = {0: 1.0, 2: 6 / 7, 3: 5 / 7, 5: 15 / 28, 6: 15 / 28, 8: 15 / 56, 9: 15 / 56}
    assert dict(zip(curve.days.tolist(), curve.survival.tolist(), strict=True)) == pytest.approx(
        by_hand
    )
    assert (curve.n, curve.events) == (7, 4)
    assert curve.median == 8  # the first day with S <= 0.5
    # Log-log band at day 5 from Greenwood's sum, by hand.
    greenwood = 1 / (7 * 6) + 1 / (6 * 5) + 1 / (4 * 3)
    spread = stats.norm.ppf(0.975) * np.sqrt(greenwood) / abs(np.log(15 / 28))
    at_day_5 = list(curve.days).index(5)
    assert curve.low[at_day_5] == pytest.approx((15 / 28) ** np.exp(spread))
    assert curve.high[at_day_5] == pytest.approx((15 / 28) ** np.exp(-spread))


def test_median_interval_brackets_median_and_is_open_when_band_stays_high():
    rng = np.random.default_rng(3)
    days = rng.integers(10, 200, size=60)
    curve = analysis.kaplan_meier(days, np.ones(60, dtype=bool))
    assert curve.median_low <= curve.median <= curve.median_high
    few = analysis.kaplan_meier(np.array([5, 50, 80]), np.array([True, True, False]))
    assert few.median == 50
    assert np.isnan(few.median_high)  # the upper band never falls to 0.5: not reached


def test_all_censored_curve_stays_at_one():
    curve = analysis.kaplan_meier(np.array([365, 365]), np.array([False, False]))
    assert curve.survival.tolist() == [1.0, 1.0]
    assert curve.low.tolist() == [1.0, 1.0]
    assert np.isnan(curve.median)


def runs_table(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({"run_id": range(n), "status": "ok", **columns})


def test_drawdown_times_censor_missing_days_at_horizon():
    runs = runs_table(drawdown_day=[10.0, np.nan, 30.0])
    days, observed = analysis.drawdown_times(runs, horizon=100)
    assert days.tolist() == [10.0, 100.0, 30.0]
    assert observed.tolist() == [True, False, True]


def test_logrank_separates_distinct_groups_and_adjusts_for_pairs():
    rng = np.random.default_rng(0)
    early, late = rng.integers(1, 60, 40), rng.integers(150, 300, 40)
    same = rng.integers(1, 60, 40)
    policy = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
    runs = runs_table(drawdown_day=np.concatenate([early, late, same]).astype(float), policy=policy)
    table = analysis.logrank_table(runs, SweptParameter("policy", False, ("a", "b", "c")), 365)
    assert list(zip(table["level_a"], table["level_b"], strict=True)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "c"),
    ]
    p = dict(
        zip(zip(table["level_a"], table["level_b"], strict=True), table["p_value"], strict=True)
    )
    assert p[("a", "b")] < 1e-6 and p[("b", "c")] < 1e-6
    assert p[("a", "c")] > 0.01  # same distribution
    assert np.allclose(table["p_bonferroni"], np.minimum(1, 3 * table["p_value"]))


def test_fan_quantiles_use_trailing_maximum_and_observed_rungs():
    series = pd.DataFrame(
        {
            "run_id": [0] * 4 + [1] * 4,
            "day": [0, 1, 2, 3] * 2,
            "system_rung": [0, 5, 0, 0, 2, 2, 2, 7],
        }
    )
    runs = runs_table(drawdown_day=[np.nan, np.nan])
    table = analysis.fan_quantiles(series, runs, None, window=2)
    # Trailing 2-day maxima: run 0 -> 0, 5, 5, 0; run 1 -> 2, 2, 2, 7.
    assert table["q95"].tolist() == [2, 5, 5, 7]
    assert table["q05"].tolist() == [0, 2, 2, 0]
    assert set(table["q50"]) <= {0, 2, 5, 7}


def test_heatmap_table_gives_cell_probabilities_and_medians():
    runs = runs_table(
        x=[0.1, 0.1, 0.1, 0.1, 0.9, 0.9],
        y=[1, 1, 2, 2, 1, 1],
        redline_crossed=[True, False, True, True, False, False],
        drawdown_day=[10.0, 20.0, np.nan, np.nan, 5.0, 7.0],
    )
    x, y = SweptParameter("x", True, (0.1, 0.9)), SweptParameter("y", True, (1, 2))
    table = analysis.heatmap_table(runs, x, y, horizon=100).set_index(["x", "y"])
    assert table.loc[(0.1, 1), "p_redline"] == 0.5
    assert table.loc[(0.1, 2), "p_redline"] == 1.0
    assert table.loc[(0.1, 1), "median_drawdown_day"] == 10  # S(10) = 0.5
    assert np.isnan(table.loc[(0.1, 2), "median_drawdown_day"])  # all censored: not reached
    assert table["runs"].tolist() == [2, 2, 2]


def test_heatmap_table_keeps_the_declared_order_of_categorical_levels():
    runs = runs_table(
        policy=["proportionate", "never", "escalation_dominance", "never"],
        y=[1, 1, 1, 2],
        redline_crossed=[True, False, True, False],
        drawdown_day=[1.0, 2.0, 3.0, 4.0],
    )
    declared = ("never", "proportionate", "escalation_dominance")  # not alphabetical
    x, y = SweptParameter("policy", False, declared), SweptParameter("y", True, (1, 2))
    table = analysis.heatmap_table(runs, x, y, horizon=100)
    assert list(dict.fromkeys(table["policy"])) == list(declared)


def test_many_valued_parameters_are_binned():
    levels = analysis.parameter_levels(pd.Series(np.linspace(0, 1, 50)))
    assert levels.nunique() == analysis.HEAT_BINS
    assert levels.cat.ordered


def test_attack_counts_give_mean_and_t_interval():
    runs = runs_table(
        **{"n_attacks_by_site.Erbil": [1, 3], "n_attacks_by_group.KH": [2, 2]},
    )
    table = analysis.attack_counts(runs, None).set_index("name")
    half = stats.t.ppf(0.975, 1) * 1.0  # sd 1.414 / sqrt(2) = 1
    assert table.loc["Erbil", ["mean", "low", "high"]].tolist() == pytest.approx(
        [2, 2 - half, 2 + half]
    )
    assert table.loc["KH", ["mean", "low", "high"]].tolist() == [2, 2, 2]
    assert table.loc["Erbil", "by"] == "site"


def write_sweep(folder: Path, runs: pd.DataFrame, parameters: list[dict], design: str) -> Path:
    """A sweep folder holding ``runs`` as its one part."""
    (folder / RUNS).mkdir(parents=True)
    runs.to_parquet(folder / RUNS / part_name(0))
    manifest = {"name": "t", "design": {"kind": design}, "parameters": parameters}
    (folder / MANIFEST).write_text(json.dumps({**manifest, "horizon_days": 100}))
    return folder


def test_figure_plan_splits_by_categorical_and_maps_first_numeric_pair(tmp_path):
    runs = runs_table(
        a=[0.1, 0.2, 0.1, 0.2],
        policy=["x", "y", "y", "x"],
        b=[1.0, 1.0, 2.0, 2.0],
        drawdown_day=[1.0, 2.0, 3.0, np.nan],
        redline_crossed=[True, False, True, False],
    )
    parameters = [{"name": "a"}, {"name": "policy", "values": ["y", "x"]}, {"name": "b"}]
    sweep = analysis.load_results(write_sweep(tmp_path / "s", runs, parameters, "grid"))
    plan = analysis.plan_figures(sweep)
    assert plan.by.name == "policy" and plan.by.levels == ("y", "x")  # declared order
    assert [p.name for p in plan.heat] == ["a", "b"]
    assert plan.survival and not plan.fan and not plan.attacks
    assert plan.sobol_outcomes == ()
    assert analysis.plan_figures(sweep, by="a", heat=["b", "a"]).heat[0].name == "b"
    with pytest.raises(SweepError, match="--by: c: not a swept parameter"):
        analysis.plan_figures(sweep, by="c")
    with pytest.raises(SweepError, match="exactly two"):
        analysis.plan_figures(sweep, heat=["a"])


def test_load_results_names_what_is_missing(tmp_path):
    with pytest.raises(SweepError, match="no such folder"):
        analysis.load_results(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SweepError, match=r"runs\.parquet: not found"):
        analysis.load_results(tmp_path / "empty")
    runs = runs_table(drawdown_day=[1.0])
    folder = write_sweep(tmp_path / "s", runs, [{"name": "gone"}], "grid")
    with pytest.raises(SweepError, match="gone: swept parameter has no column"):
        analysis.load_results(folder)
