"""Morris screening: which of many inputs matter, from elementary effects (Morris 1991).

A ``kind = "morris"`` design runs ``samples`` trajectories; each starts at a random point of a
grid of ``levels`` levels per factor (in the unit cube) and moves one factor at a time by
delta = levels / (2 (levels - 1)), so a trajectory of d factors has d + 1 points. The trajectories
come from SALib (`SALib.sample.morris.sample`), seeded from the experiment's SeedSequence. Each
point carries `MORRIS_COLUMNS`: its trajectory, its step, the factor the step moved (-1 at the
start) and the direction (+1 up, -1 down), so the analysis needs nothing but the runs table.

Without a parameter list, every numeric field of the scenario is screened (`screened_fields`):
each varies ``spread`` either side of its value (50% by default), clipped to the values the field
allows. Fields at 0 (no scale to vary them on) and site coordinates (the model does not read
them) are left out.

The elementary effect of factor i on a trajectory is EE = sign (y_step - y_previous) / delta,
with y the mean over the point's replicates: the outcome's change per unit of the factor's
(normalised) range. Per factor: mu* = mean |EE| (importance), mu = mean EE (direction) and sigma
= sd EE (interactions and non-linearity), with percentile-bootstrap intervals over trajectories.
The seed noise of each EE is estimated from its replicates (paired by replicate, which under
common random numbers share seeds); a factor's noise floor, sqrt(2 / pi) times the mean standard
error of its effects, is the mu* that seed noise alone would give it without any effect. A change
of any input can change which random draws a run uses, so the floor is a factor's own.
"""

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.rounding import round_significant
from sim.scenario import ScenarioConfig

MORRIS_COLUMNS = ("morris_trajectory", "morris_step", "morris_param", "morris_sign")
DEFAULT_SPREAD = 0.5
UNUSED_FIELDS = {"horizon_days", "lat", "lon"}  # the experiment's horizon; map coordinates
BOUND_MARGIN = 1e-6  # a bound the field must stay strictly inside is approached this close


# --- which fields, over which ranges -------------------------------------------------------------


def numeric_fields(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, float, Any, bool]]:
    """Every numeric field under ``model``: (dotted path, value, its pydantic metadata, integer).

    List items are addressed by name (``militias.Kata'ib Hezbollah.restraint``), dictionaries
    by key (``modes.rocket.us_kill_prob``, ``iran.type_prior.never``).
    """
    for name, info in type(model).model_fields.items():
        if name in UNUSED_FIELDS:
            continue
        value, path = getattr(model, name), f"{prefix}{name}"
        if isinstance(value, BaseModel):
            yield from numeric_fields(value, f"{path}.")
        elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
            for item in value:
                yield from numeric_fields(item, f"{path}.{getattr(item, 'name', '')}.")
        elif isinstance(value, dict):
            yield from dict_fields(value, path, info.annotation)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield path, value, info.metadata, isinstance(value, int)


def dict_fields(value: dict, path: str, annotation: Any) -> Iterator[tuple[str, float, Any, bool]]:
    """The numeric entries (or nested tables) of a dictionary field."""
    metadata = list(getattr(annotation.__args__[1], "__metadata__", ()))
    constraints = [c for item in metadata for c in getattr(item, "metadata", [item])]
    for key, item in value.items():
        if isinstance(item, BaseModel):
            yield from numeric_fields(item, f"{path}.{key}.")
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield f"{path}.{key}", item, constraints, isinstance(item, int)


def allowed_range(metadata: Any) -> tuple[float, float, float, float]:
    """(ge, gt, le, lt) bounds of a field from its pydantic constraints (infinite if none)."""
    bounds = {"ge": -math.inf, "gt": -math.inf, "le": math.inf, "lt": math.inf}
    for constraint in metadata:
        for key in bounds:
            if getattr(constraint, key, None) is not None:
                bounds[key] = float(getattr(constraint, key))
    return bounds["ge"], bounds["gt"], bounds["le"], bounds["lt"]


def screening_range(
    value: float, metadata: Any, integer: bool, spread: float
) -> tuple[float, float] | None:
    """``value`` +- ``spread`` of it, inside the field's allowed values; None if empty or 0."""
    if value == 0:
        return None
    ge, gt, le, lt = allowed_range(metadata)
    low, high = sorted((value * (1 - spread), value * (1 + spread)))
    low = max(low, ge, gt + BOUND_MARGIN)
    high = min(high, le, lt - BOUND_MARGIN)
    if integer:
        low, high = math.ceil(low), math.floor(high)
    else:
        low, high = round_significant(low), round_significant(high)
    return (low, high) if low < high else None


def screened_fields(
    config: ScenarioConfig, spread: float = DEFAULT_SPREAD
) -> dict[str, dict[str, Any]]:
    """Every numeric scenario field with a non-empty range, as experiment parameter tables."""
    fields = {}
    for path, value, metadata, integer in numeric_fields(config):
        bounds = screening_range(value, metadata, integer, spread)
        if bounds is not None:
            kind = "integer" if integer else "uniform"
            fields[path] = {"kind": kind, "low": bounds[0], "high": bounds[1]}
    return fields


def left_out_fields(config: ScenarioConfig, spread: float = DEFAULT_SPREAD) -> list[str]:
    """The numeric fields `screened_fields` leaves out (at 0, or no room to vary)."""
    return [
        path
        for path, value, metadata, integer in numeric_fields(config)
        if screening_range(value, metadata, integer, spread) is None
    ]


# --- the design ---------------------------------------------------------------------------------


def morris_step(levels: int) -> float:
    """Morris's delta for ``levels`` grid levels, in units of the factor's range."""
    return levels / (2 * (levels - 1))


def morris_design(
    factors: int, trajectories: int, levels: int, rng: np.random.Generator
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Unit-cube points of ``trajectories`` Morris trajectories, and each point's `MORRIS_COLUMNS`.

    The points come from `SALib.sample.morris.sample`; which factor each step moves and in
    which direction is read off the unit points, where the steps are exact.
    """
    from SALib.sample import morris  # imported here: run workers do not need it

    problem = {
        "num_vars": factors,
        "names": [f"x{i}" for i in range(factors)],
        "bounds": [[0.0, 1.0]] * factors,
    }
    unit = morris.sample(problem, trajectories, num_levels=levels, seed=rng)
    extra = []
    for row in range(len(unit)):
        trajectory, step = divmod(row, factors + 1)
        param, sign = -1, 0
        if step:
            change = unit[row] - unit[row - 1]
            param = int(np.flatnonzero(np.abs(change) > 1e-9)[0])
            sign = 1 if change[param] > 0 else -1
        extra.append(dict(zip(MORRIS_COLUMNS, (trajectory, step, param, sign), strict=True)))
    return unit, extra


# --- the analysis -------------------------------------------------------------------------------


def point_replicates(runs: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """The outcome of each run as a (point x replicate) table, NaN where a run is missing."""
    return runs.pivot(index="point", columns="replicate", values=outcome).astype(float)


def elementary_effects(runs: pd.DataFrame, outcome: str, levels: int) -> pd.DataFrame:
    """One row per step of every trajectory: the factor moved, its EE and the EE's standard error.

    ``runs`` holds the ok runs with `MORRIS_COLUMNS`, ``point``, ``replicate`` and ``outcome``.
    The EE is computed per replicate (the replicate r of both points; under common random
    numbers they share a seed) and averaged; its standard error is the replicates' sd / sqrt(R)
    (NaN with one replicate).
    """
    values = point_replicates(runs, outcome)
    design = runs.drop_duplicates("point").set_index("point")[list(MORRIS_COLUMNS)]
    design = design.sort_values(["morris_trajectory", "morris_step"], kind="stable")
    y = values.reindex(design.index).to_numpy()
    trajectory = design["morris_trajectory"].to_numpy()
    step = design["morris_step"].to_numpy()
    moved = np.arange(1, len(design))
    moved = moved[
        (trajectory[moved] == trajectory[moved - 1]) & (step[moved] == step[moved - 1] + 1)
    ]
    signs = design["morris_sign"].to_numpy()[moved]
    per_replicate = signs[:, None] * (y[moved] - y[moved - 1]) / morris_step(levels)
    counts = np.sum(~np.isnan(per_replicate), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows and single replicates
        effect = np.nanmean(per_replicate, axis=1)
        error = np.nanstd(per_replicate, axis=1, ddof=1) / np.sqrt(counts)
    return pd.DataFrame(
        {
            "trajectory": trajectory[moved],
            "param": design["morris_param"].to_numpy()[moved],
            "ee": effect,
            "se": np.where(counts > 1, error, np.nan),
        }
    ).dropna(subset=["ee"])


def morris_table(
    runs: pd.DataFrame,
    parameters: list[str],
    outcome: str,
    levels: int,
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """mu*, mu and sigma of each factor's elementary effects, with percentile-bootstrap
    intervals of mu* and sigma (trajectories resampled, seeded), the seed-noise floor of mu*,
    and the factor's rank by mu* (1 = most influential)."""
    effects = elementary_effects(runs, outcome, levels)
    rng = np.random.default_rng(seed)
    tail = (1 - confidence) / 2
    rows = []
    for index, name in enumerate(parameters):
        mine = effects[effects["param"] == index]
        ee = mine["ee"].to_numpy()
        rows.append({"outcome": outcome, "parameter": name, "effects": len(ee)})
        if len(ee) < 2:
            continue
        picks = ee[rng.integers(len(ee), size=(n_resamples, len(ee)))]
        mu_star, sigma = np.abs(picks).mean(axis=1), picks.std(axis=1, ddof=1)
        rows[-1].update(
            mu_star=float(np.abs(ee).mean()),
            mu_star_low=float(np.quantile(mu_star, tail)),
            mu_star_high=float(np.quantile(mu_star, 1 - tail)),
            mu=float(ee.mean()),
            sigma=float(ee.std(ddof=1)),
            sigma_low=float(np.quantile(sigma, tail)),
            sigma_high=float(np.quantile(sigma, 1 - tail)),
            noise_floor=float(mine["se"].mean()) * math.sqrt(2 / math.pi),  # NaN: 1 replicate
        )
    table = pd.DataFrame(rows, columns=[*MORRIS_TABLE_COLUMNS])
    table["above_noise"] = ~(table["mu_star_low"] <= table["noise_floor"])
    ranks = table["mu_star"].rank(ascending=False, method="first")
    table.insert(2, "rank", ranks.fillna(len(table)).astype(int))
    return table.sort_values(["rank"], kind="stable", ignore_index=True)


MORRIS_TABLE_COLUMNS = (
    "outcome",
    "parameter",
    "effects",
    "mu_star",
    "mu_star_low",
    "mu_star_high",
    "mu",
    "sigma",
    "sigma_low",
    "sigma_high",
    "noise_floor",
)
