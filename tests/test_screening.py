"""Morris screening: the design, every field's range, and known answers on the Ishigami function."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from conftest import EXPERIMENTS
from SALib.analyze import morris as salib_morris

from sim import screening
from sim.experiment import design_points, load_experiment
from sim.scenario import apply_overrides, load_scenario

LEVELS = 4
DELTA = screening.morris_step(LEVELS)  # 2/3 of the range


def ishigami(x: np.ndarray) -> np.ndarray:
    """Ishigami on [-pi, pi]^3, from unit-cube inputs; a fourth input, if any, does nothing."""
    z = x[:, :3] * 2 * np.pi - np.pi
    return np.sin(z[:, 0]) + 7 * np.sin(z[:, 1]) ** 2 + 0.1 * z[:, 2] ** 4 * np.sin(z[:, 0])


def morris_runs(
    trajectories: int, factors: int, replicates: int = 1, noise: float = 0.0, seed: int = 5
) -> tuple[pd.DataFrame, np.ndarray]:
    """A runs table in the runner's Morris layout (point, replicate, MORRIS_COLUMNS, y)."""
    rng = np.random.default_rng(seed)
    unit, extra = screening.morris_design(factors, trajectories, LEVELS, rng)
    design = pd.DataFrame(extra).rename_axis("point").reset_index()
    frames = [
        design.assign(replicate=r, y=ishigami(unit) + rng.normal(0, noise, len(unit)))
        for r in range(replicates)
    ]
    return pd.concat(frames, ignore_index=True), unit


def population_effects(factor: int) -> np.ndarray:
    """Every elementary effect of ``factor`` on the 4-level grid: the population Morris samples."""
    grid = np.arange(LEVELS) / (LEVELS - 1)
    effects = []
    for point in itertools.product(grid, repeat=3):
        if point[factor] + DELTA <= 1 + 1e-9:
            low = np.array([point])
            high = low.copy()
            high[0, factor] += DELTA
            effects.append((ishigami(high) - ishigami(low))[0] / DELTA)
    return np.array(effects)


def test_every_step_of_a_trajectory_moves_one_factor_by_delta():
    unit, extra = screening.morris_design(5, 6, LEVELS, np.random.default_rng(1))
    assert unit.shape == (6 * 6, 5)
    for row, tags in enumerate(extra):
        assert tags["morris_trajectory"] == row // 6 and tags["morris_step"] == row % 6
        if tags["morris_step"]:
            change = unit[row] - unit[row - 1]
            moved = tags["morris_param"]
            assert change[moved] == pytest.approx(tags["morris_sign"] * DELTA)
            assert np.count_nonzero(np.delete(change, moved)) == 0
    again, _ = screening.morris_design(5, 6, LEVELS, np.random.default_rng(1))
    np.testing.assert_array_equal(unit, again)  # seeded


def test_morris_on_ishigami_matches_salib_and_the_grid_population():
    runs, unit = morris_runs(trajectories=400, factors=3)
    table = screening.morris_table(runs, ["x0", "x1", "x2"], "y", LEVELS).set_index("parameter")
    salib = salib_morris.analyze(
        {"num_vars": 3, "names": ["x0", "x1", "x2"], "bounds": [[0, 1]] * 3},
        unit,
        ishigami(unit),
        num_levels=LEVELS,
        seed=0,
    )
    for i, name in enumerate(["x0", "x1", "x2"]):
        assert table.loc[name, "mu_star"] == pytest.approx(salib["mu_star"][i], rel=1e-12)
        assert table.loc[name, "sigma"] == pytest.approx(salib["sigma"][i], rel=1e-12)
        # The Morris statistics of the whole grid (mu* 7.70, 7.88 and 6.25; mu 7.70, 0 and 0),
        # within 4 standard errors of the mean over 400 trajectories (the draws are not quite
        # uniform over the grid, hence 4, not 2).
        population = population_effects(i)
        error = population.std() / math.sqrt(400)
        assert table.loc[name, "mu_star"] == pytest.approx(np.abs(population).mean(), abs=4 * error)
        assert table.loc[name, "mu"] == pytest.approx(population.mean(), abs=4 * error)
        low, high = table.loc[name, "mu_star_low"], table.loc[name, "mu_star_high"]
        assert low <= table.loc[name, "mu_star"] <= high  # x1's |EE| is the same everywhere
    # x1 (sin^2) and x2 (through its interaction with x0) move the output both ways: mu near 0
    # though mu* is large, which is why screening ranks by mu*.
    for name in ("x1", "x2"):
        assert abs(table.loc[name, "mu"]) < 0.2 * table.loc[name, "mu_star"]
        assert table.loc[name, "sigma"] > 0.9 * table.loc[name, "mu_star"]


def test_noise_floor_separates_a_dummy_factor_from_real_ones():
    runs, _ = morris_runs(trajectories=60, factors=4, replicates=3, noise=1.0)
    table = screening.morris_table(runs, ["x0", "x1", "x2", "dummy"], "y", LEVELS)
    table = table.set_index("parameter")
    # Two independent runs of noise sd 1, three replicates: an effect's standard error is
    # sqrt(2 / 3) / DELTA = 1.22, and |N(0, 1.22)| has mean 0.98.
    floor = math.sqrt(2 / 3) / DELTA * math.sqrt(2 / math.pi)
    assert table.loc["dummy", "noise_floor"] == pytest.approx(floor, rel=0.15)
    assert not table.loc["dummy", "above_noise"]
    assert table.loc["x0", "above_noise"] and table.loc["x1", "above_noise"]


def test_every_numeric_field_is_screened_within_its_allowed_values():
    config = load_scenario(EXPERIMENTS.parent / "scenarios" / "june2020.toml")
    fields = screening.screened_fields(config)
    assert len(fields) > 150
    assert "militia_rules.rationality" in fields and "iran.type_prior.never" in fields
    assert "militias.Kata'ib Hezbollah.arms.drone" in fields
    assert not any(path.endswith((".lat", ".lon")) for path in fields)
    left_out = screening.left_out_fields(config)
    assert "government.grievance" in left_out  # at 0: no scale to vary it on
    restraint = fields["militias.Kata'ib Sayyid al-Shuhada.restraint"]
    assert (restraint["low"], restraint["high"]) == (0.25, 0.75)  # 0.5 +- 50%
    assert fields["us_types.escalation_dominance.answer_deadly"]["high"] == 1.0  # a probability
    assert fields["iran.missile_salvo"] == {"kind": "integer", "low": 6, "high": 18}
    for path, bounds in list(fields.items())[::7]:
        apply_overrides(config, {path: bounds["low"]})  # raises if not allowed
        apply_overrides(config, {path: bounds["high"]})


def test_screen_experiment_screens_every_field():
    experiment = load_experiment(EXPERIMENTS / "screen.toml")
    assert len(experiment.spec.parameters) == len(screening.screened_fields(experiment.config))
    assert experiment.spec.design.kind == "morris"
    assert experiment.describe_parameters()[0]["name"].startswith("sites.")


def test_every_point_of_the_screen_is_a_valid_scenario():
    # fields are screened one range each, so no pair of them may be constrained jointly: every
    # fourth point of the design (about 1,000) is checked, enough to hit every factor's moves
    experiment = load_experiment(EXPERIMENTS / "screen.toml")
    points, _ = design_points(experiment)
    for point in points[::4]:
        apply_overrides(experiment.config, point)  # raises if the point is not a valid scenario
