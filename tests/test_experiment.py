"""Experiment files: validation with clear errors, and the points each design produces."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import EXPERIMENTS, JUNE
from scipy.stats import sobol_indices

from sim.errors import ExperimentError
from sim.experiment import design_points, load_experiment, validate_experiment
from sim.rounding import round_significant

SCENARIO = str(JUNE)


def experiment(design: dict, parameters: dict, **fields):
    data = {"name": "t", "scenario": SCENARIO, "seed": 3, "replicates": 1, "design": design}
    return validate_experiment({**data, **fields, "parameters": parameters}, "t.toml")


UNIFORM = {"kind": "uniform", "low": 0.1, "high": 0.9}
POLICY = {"kind": "categorical", "values": ["never", "proportionate", "disproportionate"]}


@pytest.mark.parametrize("name", ["smoke", "drawdown", "redline", "screen", "variants", "robust"])
def test_shipped_experiments_validate(name):
    loaded = load_experiment(EXPERIMENTS / f"{name}.toml")
    points, extra = design_points(loaded)
    assert len(points) == len(extra) > 0
    swept = set(loaded.parameter_names) | set(loaded.spec.levers)
    assert all(swept <= set(point) for point in points)
    switches = {path for variant in loaded.spec.variants.values() for path in variant}
    assert all(set(point) <= swept | switches for point in points)


def test_grid_is_every_combination_in_order():
    loaded = experiment(
        {"kind": "grid", "levels": 3},
        {
            "us.policy": POLICY,
            "government.enforcement": UNIFORM,
            "iran.review_interval_days": {"kind": "integer", "low": 1, "high": 9, "levels": 5},
        },
    )
    points, _ = design_points(loaded)
    assert len(points) == 3 * 3 * 5
    assert [p["us.policy"] for p in points[:15]] == ["never"] * 15  # first parameter slowest
    assert sorted({p["government.enforcement"] for p in points}) == pytest.approx([0.1, 0.5, 0.9])
    assert sorted({p["iran.review_interval_days"] for p in points}) == [1, 3, 5, 7, 9]


def test_log_uniform_grid_is_geometric():
    loaded = experiment(
        {"kind": "grid", "levels": 3},
        {"us.pressure_half_life_days": {"kind": "log_uniform", "low": 1.0, "high": 100.0}},
    )
    values = [p["us.pressure_half_life_days"] for p in design_points(loaded)[0]]
    assert values == pytest.approx([1.0, 10.0, 100.0])


def test_latin_hypercube_puts_one_point_in_each_stratum():
    n = 20
    loaded = experiment({"kind": "lhs", "samples": n}, {"government.enforcement": UNIFORM})
    values = np.array([p["government.enforcement"] for p in design_points(loaded)[0]])
    strata = np.floor((values - 0.1) / 0.8 * n)
    assert sorted(strata) == list(range(n))


def test_sampled_designs_stay_in_bounds_and_cover_discrete_values():
    parameters = {
        "government.enforcement": UNIFORM,
        "us.pressure_half_life_days": {"kind": "log_uniform", "low": 2.0, "high": 50.0},
        "iran.review_interval_days": {"kind": "integer", "low": 1, "high": 3},
        "us.policy": POLICY,
    }
    for kind in ("lhs", "random"):
        points = pd.DataFrame(
            design_points(experiment({"kind": kind, "samples": 300}, parameters))[0]
        )
        assert points["government.enforcement"].between(0.1, 0.9).all()
        assert points["us.pressure_half_life_days"].between(2.0, 50.0).all()
        assert set(points["iran.review_interval_days"]) == {1, 2, 3}
        assert set(points["us.policy"]) == set(POLICY["values"])


@pytest.mark.parametrize(
    "design",
    [
        {"kind": "grid", "levels": 7},
        {"kind": "lhs", "samples": 50},
        {"kind": "random", "samples": 50},
        {"kind": "sobol", "samples": 16},
    ],
    ids=lambda d: d["kind"],
)
def test_continuous_design_values_have_12_significant_digits(design):
    parameters = {
        "government.enforcement": UNIFORM,
        "us.pressure_half_life_days": {"kind": "log_uniform", "low": 2.0, "high": 50.0},
    }
    points = design_points(experiment(design, parameters))[0]
    values = [point[name] for point in points for name in parameters]
    assert len(set(values)) > 10
    assert all(round_significant(value) == value for value in values)
    assert all(len(mantissa_digits(value)) <= 12 for value in values)


def mantissa_digits(value: float) -> str:
    """The significant digits of the shortest text that reads back as ``value``."""
    return repr(value).split("e")[0].lstrip("-").replace(".", "").strip("0")


def test_round_significant_keeps_12_digits():
    assert round_significant(0.1 + 0.2) == 0.3
    assert round_significant(1 / 3) == 0.333333333333
    assert round_significant(-123456.7890123456) == -123456.789012
    assert round_significant(2.5e-17 / 3) == 8.33333333333e-18
    assert round_significant(0.0) == 0.0


def test_design_values_do_not_depend_on_the_last_bit_of_exp(monkeypatch):
    design = {"kind": "random", "samples": 200}
    parameters = {"us.pressure_half_life_days": {"kind": "log_uniform", "low": 2.0, "high": 50.0}}
    here = design_points(experiment(design, parameters))[0]
    exp = np.exp
    monkeypatch.setattr(np, "exp", lambda x: np.nextafter(exp(x), np.inf))  # another CPU's exp
    there = design_points(experiment(design, parameters))[0]
    assert there == here


def test_designs_depend_on_the_seed_only():
    design = {"kind": "random", "samples": 5}
    first = design_points(experiment(design, {"government.enforcement": UNIFORM}, seed=1))[0]
    again = design_points(experiment(design, {"government.enforcement": UNIFORM}, seed=1))[0]
    other = design_points(experiment(design, {"government.enforcement": UNIFORM}, seed=2))[0]
    assert first == again
    assert first != other


def test_sobol_layout_rebuilds_scipy_sobol_indices():
    """y = x0 + 2 x1 on uniform inputs has first-order indices 1/5 and 4/5.

    With 512 base samples Saltelli's estimator is within about 0.05 of them (it is exact in the
    limit); a wrong block layout gives indices far off (e.g. swapped or near 0).
    """
    n = 512
    unit = {"kind": "uniform", "low": 0.0, "high": 1.0}
    loaded = experiment(
        {"kind": "sobol", "samples": n},
        {"government.enforcement": unit, "government.credibility": unit},
    )
    points, extra = design_points(loaded)
    assert len(points) == n * (2 + 2)
    table = pd.concat([pd.DataFrame(points), pd.DataFrame(extra)], axis=1)
    table["y"] = table["government.enforcement"] + 2 * table["government.credibility"]
    block = {b: g.sort_values("sobol_row")["y"].to_numpy() for b, g in table.groupby("sobol_block")}
    ab = table[table.sobol_block == "AB"].sort_values(["sobol_param", "sobol_row"])
    f_ab = ab["y"].to_numpy().reshape(2, 1, n)
    result = sobol_indices(
        func={"f_A": block["A"][None], "f_B": block["B"][None], "f_AB": f_ab}, n=n
    )
    assert result.first_order == pytest.approx([0.2, 0.8], abs=0.05)
    a, first_ab = table[table.sobol_block == "A"], table[table.sobol_param == 0]
    assert (first_ab["government.credibility"].to_numpy() == a["government.credibility"]).all()


def test_nested_tables_and_bare_lists_name_parameters():
    data = {
        "name": "t",
        "scenario": SCENARIO,
        "seed": 0,
        "replicates": 2,
        "design": {"kind": "grid"},
        "parameters": {"us": {"policy": POLICY, "threat_prob": [0.2, 0.8]}},
    }
    loaded = validate_experiment(data)
    assert loaded.parameter_names == ["us.policy", "us.threat_prob"]
    assert len(design_points(loaded)[0]) == 6


def test_fixed_fields_apply_to_the_base_scenario():
    loaded = experiment(
        {"kind": "grid"},
        {"us.policy": POLICY},
        fixed={"us": {"threat_prob": 0.1}, "government.enforcement": 0.7},
        horizon_days=30,
    )
    assert loaded.config.us.threat_prob == 0.1
    assert loaded.config.us.audience_cost == 1.0  # the rest of the table is untouched
    assert loaded.config.government.enforcement == 0.7
    assert loaded.config.horizon_days == 30


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"parameters": {"us.nonsense": UNIFORM}}, "parameters.us.nonsense", "no such"),
        (
            {"parameters": {"us.threat_prob": {"kind": "uniform", "low": 0.5, "high": 0.5}}},
            "parameters.us.threat_prob.high",
            "empty range",
        ),
        (
            {"parameters": {"us.policy": {"kind": "categorical", "values": []}}},
            "parameters.us.policy.values",
            "at least 1",
        ),
        (
            {"parameters": {"us.threat_prob": {"kind": "uniform", "low": 0.5, "high": 1.5}}},
            "parameters.us.threat_prob",
            "1.5 is not allowed",
        ),
        (
            {"parameters": {"us.threat_prob": {"kind": "uniform", "high": 0.5}}},
            "parameters.us.threat_prob.low",
            "Field required",
        ),
        (
            {"parameters": {"us.threat_prob": {"kind": "values", "values": [0.2, "x"]}}},
            "parameters.us.threat_prob.values[1]",
            "valid integer",
        ),
        ({"replicates": 0}, "replicates", "greater than or equal to 1"),
        (
            {"design": {"kind": "factorial"}},
            "design.kind",
            "'grid', 'lhs', 'sobol', 'random' or 'morris'",
        ),
        ({"design": {"kind": "sobol", "samples": 12}}, "design.samples", "power of 2"),
        ({"design": {"kind": "lhs"}}, "design.samples", "required"),
        ({"outcomes": ["drawdown_day", "nonsense"]}, "outcomes", "unknown outcome"),
        ({"fixed": {"us.nonsense": 1}}, "fixed.us.nonsense", "no such"),
        ({"colour": "red"}, "colour", "unknown field"),
    ],
)
def test_bad_experiment_files_exit_2_with_one_line_and_write_nothing(
    cli, tmp_path, change, field, problem
):
    data = {
        "name": "bad",
        "scenario": SCENARIO,
        "seed": 1,
        "replicates": 2,
        "design": {"kind": "grid"},
        "parameters": {"us.policy": POLICY},
        **change,
    }
    path = tmp_path / "bad.toml"
    path.write_text(_toml(data), encoding="utf-8")
    out = tmp_path / "out"
    result = cli("sweep", path, "--out", out, "--workers", "1")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: {field}: ")
    assert problem in lines[0]
    assert not out.exists()


def test_missing_and_malformed_files_are_bad_input(tmp_path):
    with pytest.raises(ExperimentError, match="file not found"):
        load_experiment(tmp_path / "absent.toml")
    (tmp_path / "broken.toml").write_text("name = \n", encoding="utf-8")
    with pytest.raises(ExperimentError, match="malformed TOML"):
        load_experiment(tmp_path / "broken.toml")


def _toml(data: dict, prefix: str = "") -> str:
    """A small TOML writer for the test files (scalars, lists and nested tables)."""
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and scalars else []
    lines += [f"{_key(k)} = {_value(v)}" for k, v in scalars.items()]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(_toml(value, f"{prefix}.{_key(key)}" if prefix else _key(key)))
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return f'"{key}"' if "." in key or "*" in key else key


def _value(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    assert not math.isnan(value)
    return repr(value)
