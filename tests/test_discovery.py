"""Scenario discovery: PRIM finds a planted box, CART agrees; conditions are checked as input."""

import numpy as np
import pandas as pd
import pytest

from sim import discovery, expressions
from sim.errors import InputError

COLUMNS = ["redline_crossed", "max_rung", "drawdown_day", "n_attacks_by_site.Camp Taji", "a"]


def planted(n: int = 3000, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    """Four uniform inputs and a condition true in the box 0.3 <= a <= 0.7, b <= 0.4, plus 3%
    of the runs anywhere (noise), and a categorical input that does not matter."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 4)), columns=["a", "b", "c", "d"])
    x["policy"] = rng.choice(["never", "proportionate"], n)
    inside = (x["a"] >= 0.3) & (x["a"] <= 0.7) & (x["b"] <= 0.4)
    return x, (inside | (rng.random(n) < 0.03)).to_numpy()


def test_prim_recovers_a_planted_box():
    x, y = planted()
    found = discovery.discover(x, y, "planted", min_coverage=0.8)
    limits = found.limits.set_index("input")
    assert set(limits.index) == {"a", "b"}
    assert limits.loc["a", "low"] == pytest.approx(0.3, abs=0.03)
    assert limits.loc["a", "high"] == pytest.approx(0.7, abs=0.03)
    assert limits.loc["b", "high"] == pytest.approx(0.4, abs=0.03)
    assert np.isnan(limits.loc["b", "qp_low"])  # b is not restricted from below
    assert (limits[["qp_high"]].to_numpy() < 1e-6).all()
    chosen = found.trajectory.loc[found.chosen]
    assert chosen["coverage"] >= 0.8 and chosen["density"] > 0.9
    best = found.tree_rules.iloc[0]
    assert "a " in best["rule"] and "b " in best["rule"] and best["density"] > 0.9


def test_a_categorical_input_is_restricted_to_the_levels_kept():
    x, y = planted(2000)
    y = y & (x["policy"] == "never").to_numpy()
    limits = discovery.discover(x, y, "planted, never", min_coverage=0.8).limits.set_index("input")
    assert limits.loc["policy", "kind"] == "levels" and limits.loc["policy", "levels"] == "never"
    assert limits.loc["policy", "qp_low"] < 1e-6


def test_chosen_box_is_the_densest_with_enough_coverage():
    trajectory = pd.DataFrame(
        {"coverage": [1.0, 0.8, 0.6, 0.4], "density": [0.3, 0.5, 0.7, 0.9], "res_dim": [0, 1, 2, 2]}
    )
    assert discovery.chosen_box(trajectory, 0.5) == 2
    assert discovery.chosen_box(trajectory, 0.95) == 0
    assert discovery.chosen_box(trajectory, 0.1) == 3


def test_a_condition_that_always_or_never_holds_is_bad_input():
    x, _ = planted(50)
    with pytest.raises(InputError, match="holds in no run"):
        discovery.discover(x, np.zeros(50, dtype=bool), "never")


def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "redline_crossed": [True, False, True],
            "max_rung": [9, 4, 10],
            "drawdown_day": [10.0, np.nan, 300.0],
            "n_attacks_by_site.Camp Taji": [1, 0, 5],
            "a": ["x", "y", "x"],
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redline_crossed", [True, False, True]),
        ("max_rung >= 9", [True, False, True]),
        ("not redline_crossed or max_rung > 9", [False, True, True]),
        ("drawdown_day <= 100", [True, False, False]),  # censored (missing) compares false
        ("4 < max_rung < 10", [True, False, False]),
        ("`n_attacks_by_site.Camp Taji` * 2 >= max_rung", [False, False, True]),
        ("a == 'x' and redline_crossed", [True, False, True]),
    ],
)
def test_conditions_evaluate_row_by_row(text, expected):
    expression = expressions.parse(text, COLUMNS)
    assert expressions.where(expression, table()).tolist() == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_rung >=", "invalid syntax"),
        ("redline", "unknown outcome or parameter 'redline'; did you mean redline_crossed?"),
        ("max_rung", "max_rung is not true or false (compare it, e.g. max_rung > 0)"),
        ("__import__('os')", "call is not allowed"),
        ("max_rung[0] > 1", "subscript is not allowed"),
        ("a > 1", "compares text with a number"),
    ],
)
def test_bad_conditions_are_one_line_input_errors(text, message):
    with pytest.raises(InputError) as error:
        expressions.where(expressions.parse(text, COLUMNS), table())
    assert str(error.value).startswith(f"--where: {text!r}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_slug_names_the_condition():
    assert expressions.parse("max_rung >= 9", COLUMNS).slug() == "max_rung_ge_9"
    assert expressions.parse("redline_crossed", COLUMNS).slug() == "redline_crossed"
