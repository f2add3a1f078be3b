"""Robust policies and variants: regret by hand, the crossed design, conclusions across variants."""

import numpy as np
import pandas as pd
import pytest
from conftest import JUNE

from sim import robust, variants
from sim.errors import ExperimentError
from sim.experiment import design_points, validate_experiment


def test_regret_by_hand_on_three_policies_in_three_worlds():
    # Lower is better. Per world the best is 1, 2 and 0; regrets by hand:
    #        w0  w1  w2         regret: w0  w1  w2   max   meets <= 3
    #   A     1   5   3                  0   3   3    3    w0, w2
    #   B     4   2   4                  3   0   4    4    w1
    #   C     2   6   0                  1   4   0    4    w0, w2
    outcomes = pd.DataFrame(
        [[1, 5, 3], [4, 2, 4], [2, 6, 0]], index=["A", "B", "C"], columns=[0, 1, 2], dtype=float
    )
    regret, summary = robust.robust_summary(outcomes, "min", threshold=3)
    np.testing.assert_array_equal(regret.to_numpy(), [[0, 3, 3], [3, 0, 4], [1, 4, 0]])
    summary = summary.set_index("policy")
    assert summary["regret_max"].tolist() == [3, 4, 4]
    assert summary["minimax_regret"].tolist() == [True, False, False]
    assert summary["satisficing_share"].tolist() == pytest.approx([2 / 3, 1 / 3, 2 / 3])
    assert summary["most_satisficing"].tolist() == [True, False, True]
    assert summary["best_share"].tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    # Higher is better: regret is the shortfall from each world's best.
    regret, summary = robust.robust_summary(outcomes, "max")
    np.testing.assert_array_equal(regret.to_numpy(), [[3, 1, 1], [0, 4, 0], [2, 0, 4]])
    assert summary.set_index("policy")["minimax_regret"].tolist() == [True, False, False]


def experiment(**tables) -> dict:
    return {
        "name": "x",
        "scenario": str(JUNE),
        "seed": 1,
        "replicates": 2,
        "design": {"kind": "lhs", "samples": 3},
        "parameters": {"militias.*.restraint": {"kind": "uniform", "low": 0.1, "high": 0.9}},
        **tables,
    }


def test_levers_and_variants_are_crossed_with_the_same_worlds():
    spec = experiment(
        levers={"us.policy": {"kind": "categorical", "values": ["never", "proportionate"]}},
        variants={"v2": {}, "flat": {"mechanisms": {"choice": "flat"}}},
    )
    loaded = validate_experiment(spec)
    points, extra = design_points(loaded)
    assert len(points) == 2 * 2 * 3  # variants x policies x worlds
    worlds = [p["militias.*.restraint"] for p in points[:3]]
    assert all([p["militias.*.restraint"] for p in points[i : i + 3]] == worlds
               for i in range(0, 12, 3))  # fmt: skip
    assert extra[3] == {"variant": "v2", "policy": "us.policy=proportionate", "world": 0}
    assert points[6]["mechanisms.choice"] == "flat" and "mechanisms.choice" not in points[0]
    roles = {e["name"]: e.get("role") for e in loaded.describe_parameters()}
    assert roles == {"militias.*.restraint": None, "us.policy": "lever", "variant": "variant"}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        (
            {"variants": {"bad": {"mechanisms.nonsense": 1}}},
            "variants.bad.mechanisms.nonsense: no such",
        ),
        (
            {"variants": {"fixed": {"mechanisms.posture": "fixed_target"}}},
            "variants.fixed.us.drawdown_target: required when mechanisms.posture is fixed_target",
        ),
        (
            {"levers": {"militias.*.restraint": {"kind": "values", "values": [0.2]}}},
            "levers.militias.*.restraint: is also a parameter",
        ),
        (
            {"levers": {"us.threat_prob": {"kind": "values", "values": [2.0]}}},
            "levers.us.threat_prob: value 2.0 is not allowed",
        ),
    ],
)
def test_bad_levers_and_variants_name_the_field(tables, message):
    with pytest.raises(ExperimentError, match=message.replace("*", r"\*").replace(".", r"\.")):
        validate_experiment(experiment(**tables), "x.toml")


def effect_runs(shift: dict[str, float], seed: int = 3) -> pd.DataFrame:
    """Two policies in two variants, 200 paired replicates; ``shift`` is B's effect per variant."""
    rng = np.random.default_rng(seed)
    frames = []
    for variant, effect in shift.items():
        base = rng.normal(0, 1, 200)
        for policy, add in (("A", 0.0), ("B", effect)):
            frames.append(pd.DataFrame({"variant": variant, "policy": policy,
                                        "replicate": range(200), "y": base + add}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def test_a_conclusion_holds_only_where_every_variant_shows_the_same_clear_sign():
    runs = effect_runs({"v2": 0.5, "flat": 0.4, "perfect": -0.3})
    found = variants.conclusions(runs, "y", "A", paired=True).iloc[0]
    assert found["conclusion"] == "B vs A: higher"
    assert (found["sign[v2]"], found["sign[flat]"], found["sign[perfect]"]) == ("+", "+", "-")
    assert not found["holds_in_every_variant"] and found["differs_in"] == "perfect"
    effects = variants.policy_effects(runs, "y", "A", paired=True).set_index(["variant", "policy"])
    assert effects.loc[("v2", "B"), "effect"] == pytest.approx(0.5)  # paired: noise cancels
    assert effects.loc[("v2", "B"), "effect_high"] - effects.loc[("v2", "B"), "effect_low"] < 1e-9
    order = variants.ranking(variants.policy_effects(runs, "y", "A", paired=True))
    assert order["same_as_first_variant"].tolist() == [True, True, False]
    holds = variants.conclusions(effect_runs({"v2": 0.5, "flat": 0.4}), "y", "A", paired=False)
    assert holds["holds_in_every_variant"].tolist() == [True]  # Welch: still clearly positive
