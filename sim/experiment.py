"""Experiment files: a base scenario, a parameter space, a design and what to keep from each run.

An experiment is a TOML file::

    name = "drawdown"
    scenario = "../scenarios/june2020.toml"   # relative to this file
    seed = 20200601                           # root of every run's seed
    replicates = 10                           # runs per design point
    horizon_days = 365                        # optional; the scenario's otherwise
    outcomes = ["drawdown_day", "us_killed"]  # optional; every outcome otherwise
    series = false                            # true, or a list of daily series columns

    [design]
    kind = "lhs"                              # grid | lhs | sobol | random
    samples = 64                              # sobol: base samples N, a power of 2

    [parameters."militia_rules.harass_odds"]
    kind = "uniform"                          # log_uniform, integer, categorical, values
    low = 0.005
    high = 0.05

Parameters are dotted scenario fields (see `sim.scenario.apply_overrides`); ``[fixed]`` sets fields
for every run. Sampled designs map unit-cube points from `scipy.stats.qmc` onto the parameters.
Continuous values (uniform, log-uniform) are rounded to 12 significant digits as they are made
(`sim.rounding`), so every machine runs the same inputs.
"""

import hashlib
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError, model_validator

from sim.errors import ExperimentError, ScenarioError, input_error
from sim.input_files import read_toml
from sim.robust import check_levers_and_variants, cross_levers_and_variants, lever_levels
from sim.rounding import round_array
from sim.scenario import (
    ScenarioConfig,
    Strict,
    apply_overrides,
    field_exists,
    load_scenario,
)
from sim.screening import DEFAULT_SPREAD, morris_design, screened_fields
from sim.sweep_folder import SOBOL_COLUMNS
from sim.text import UNPRINTABLE

Scalar = str | bool | int | float
#: Design points a sweep may hold: the points are made in memory (about 1 KB each).
MAX_POINTS = 1_000_000
#: Runs one sweep may hold (design points x replicates): runs are streamed, but a resume keeps
#: one byte per run and the table has a row per run.
MAX_RUNS = 10_000_000
#: Levels of one grid parameter, and values of one list of levels.
MAX_LEVELS = 1000
#: Seeds are 64-bit, like the seeds of the runs.
Seed = Annotated[int, Field(ge=0, le=2**64 - 1)]


class Range(Strict):
    """A continuous or integer range; ``levels`` is the number of grid levels."""

    low: float
    high: float
    levels: Annotated[int, Field(ge=2, le=MAX_LEVELS)] | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> "Range":
        if not self.low < self.high:
            raise ValueError(f"high: empty range, high ({self.high}) must exceed low ({self.low})")
        return self

    def bounds(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}

    def extremes(self) -> list[Any]:
        return [self.low, self.high]


class Uniform(Range):
    """Uniform on [low, high]."""

    kind: Literal["uniform"]

    def from_unit(self, u: np.ndarray) -> list[float]:
        return round_array(self.low + u * (self.high - self.low)).tolist()

    def grid(self, levels: int) -> list[float]:
        return round_array(np.linspace(self.low, self.high, self.levels or levels)).tolist()


class LogUniform(Range):
    """Log-uniform on [low, high], low > 0."""

    kind: Literal["log_uniform"]
    low: Annotated[float, Field(gt=0.0)]

    def from_unit(self, u: np.ndarray) -> list[float]:
        return round_array(np.exp(np.log(self.low) + u * np.log(self.high / self.low))).tolist()

    def grid(self, levels: int) -> list[float]:
        return round_array(np.geomspace(self.low, self.high, self.levels or levels)).tolist()


class Integer(Range):
    """Integers low..high, both included, equally likely."""

    kind: Literal["integer"]
    low: int
    high: int

    def from_unit(self, u: np.ndarray) -> list[int]:
        index = np.minimum(np.floor(u * (self.high - self.low + 1)), self.high - self.low)
        return [int(self.low + i) for i in index]

    def grid(self, levels: int) -> list[int]:
        points = np.linspace(self.low, self.high, self.levels or levels)
        return sorted({round(float(x)) for x in points})


class Choice(Strict):
    """A fixed list of values, each equally likely."""

    values: Annotated[list[Scalar], Field(min_length=1, max_length=MAX_LEVELS)]

    def bounds(self) -> dict[str, Any]:
        return {"values": self.values}

    def extremes(self) -> list[Any]:
        return self.values

    def from_unit(self, u: np.ndarray) -> list[Scalar]:
        index = np.minimum(np.floor(u * len(self.values)), len(self.values) - 1)
        return [self.values[int(i)] for i in index]

    def grid(self, levels: int) -> list[Scalar]:
        return self.values


class Categorical(Choice):
    """Unordered choices: names, flags or numbers, all of one type."""

    kind: Literal["categorical"]

    @model_validator(mode="after")
    def _one_type(self) -> "Categorical":
        kinds = {bool if isinstance(v, bool) else str if isinstance(v, str) else float
                 for v in self.values}  # fmt: skip
        if len(kinds) > 1:
            raise ValueError("values: mixes types (names, flags and numbers)")
        return self


class Values(Choice):
    """Ordered numeric levels, e.g. the levels of a grid."""

    kind: Literal["values"]
    values: Annotated[list[int | float], Field(min_length=1, max_length=MAX_LEVELS)]


Distribution = Annotated[
    Uniform | LogUniform | Integer | Categorical | Values, Field(discriminator="kind")
]

DISTRIBUTION = TypeAdapter(Distribution)


class Design(Strict):
    """How design points are chosen.

    ``grid``: every combination of the parameters' levels (``levels`` per continuous parameter,
    default 5). ``lhs``, ``random``: ``samples`` points. ``sobol``: Saltelli's scheme for Sobol'
    indices, ``samples`` rows (a power of 2) in each of the matrices A, B and AB_i, i.e.
    samples * (d + 2) points for d parameters. ``morris``: ``samples`` Morris trajectories of
    d + 1 points on a grid of ``levels`` (even, default 4) levels; without parameters, every
    numeric scenario field is screened over ``spread`` (default 0.5) either side of its value
    (`sim.screening`).
    """

    kind: Literal["grid", "lhs", "sobol", "random", "morris"]
    samples: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    levels: Annotated[int, Field(ge=2, le=MAX_LEVELS)] | None = None
    spread: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None

    @model_validator(mode="after")
    def _samples_fit_kind(self) -> "Design":
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"samples: required for the {self.kind} design")
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("samples: not used by the grid design (use levels)")
        if self.kind == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples: {self.samples} is not a power of 2 (Sobol' sequence)")
        if self.kind == "morris" and self.levels is not None and self.levels % 2:
            raise ValueError(f"levels: the Morris design needs an even number, not {self.levels}")
        if self.kind != "morris" and self.spread is not None:
            raise ValueError("spread: used only by the morris design")
        return self

    @property
    def grid_levels(self) -> int:
        """Levels per continuous parameter: of a grid (default 5) or a Morris design (4)."""
        return self.levels or (4 if self.kind == "morris" else 5)


def folder_name(name: str) -> str:
    """An experiment's name names its results folder (``out/NAME``): one plain folder name."""
    if name in (".", "..") or "/" in name or "\\" in name or UNPRINTABLE.search(name):
        raise ValueError(
            "must be a plain folder name, without '/', '..' or control characters (it names "
            "the results folder out/NAME)"
        )
    return name


class ExperimentFile(Strict):
    """The fields of an experiment file."""

    name: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(folder_name)]
    description: str = ""
    scenario: Annotated[str, Field(min_length=1)]
    seed: Seed
    replicates: Annotated[int, Field(ge=1, le=MAX_RUNS)]
    horizon_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    common_random_numbers: bool = False
    outcomes: list[str] | None = None
    series: bool | list[str] = False
    fixed: dict[str, Any] = Field(default_factory=dict)
    design: Design
    parameters: dict[str, Distribution] = Field(default_factory=dict)
    levers: dict[str, Distribution] = Field(default_factory=dict)
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _design_has_parameters(self) -> "ExperimentFile":
        if self.design.kind not in {"grid", "morris"} and not self.parameters:
            raise ValueError(f"parameters: the {self.design.kind} design needs at least one")
        if (self.levers or self.variants) and self.design.kind in {"sobol", "morris"}:
            table = "levers" if self.levers else "variants"
            raise ValueError(f"{table}: not with the {self.design.kind} design (its layout)")
        return self


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: the file's fields plus the resolved base scenario."""

    spec: ExperimentFile
    path: Path | None
    sha256: str
    scenario_path: Path
    config: ScenarioConfig

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def parameter_names(self) -> list[str]:
        return list(self.spec.parameters)

    def describe_parameters(self) -> list[dict[str, Any]]:
        """Name, kind and bounds (or values) of each parameter, then of each lever (role
        "lever") and the variants (role "variant"), in order."""
        spec = self.spec
        described = [{"name": n, "kind": p.kind, **p.bounds()} for n, p in spec.parameters.items()]
        described += [
            {"name": n, "kind": p.kind, **p.bounds(), "role": "lever"}
            for n, p in spec.levers.items()
        ]
        if spec.variants:
            names = list(spec.variants)
            described.append(
                {"name": "variant", "kind": "categorical", "values": names, "role": "variant"}
            )
        return described


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file, raising `ExperimentError` on the first problem."""
    path = Path(path)
    data, raw = read_toml(path, ExperimentError, "experiment")
    return validate_experiment(data, str(path), path.parent, path, hashlib.sha256(raw).hexdigest())


def validate_experiment(
    data: dict[str, Any],
    source: str = "<experiment>",
    base_dir: Path = Path(),
    path: Path | None = None,
    sha256: str = "",
) -> Experiment:
    """Validate an experiment mapping; the scenario path is relative to ``base_dir``."""
    for table in ("parameters", "levers"):
        if isinstance(data.get(table), dict):
            data = {**data, table: _flatten_parameters(data[table])}
    if isinstance(data.get("fixed"), dict):
        data = {**data, "fixed": _flatten_fixed(data["fixed"])}
    if isinstance(data.get("variants"), dict):
        variants = data["variants"].items()
        flat = {k: _flatten_fixed(v) if isinstance(v, dict) else v for k, v in variants}
        data = {**data, "variants": flat}
    try:
        spec = ExperimentFile.model_validate(data)
    except ValidationError as error:
        raise input_error(error, data, source, ExperimentError) from None
    check_size(spec, source)
    scenario_path = base_dir / spec.scenario
    try:
        config = load_scenario(scenario_path)
    except ScenarioError as error:
        raise ExperimentError(source, "scenario", str(error)) from None
    config = _apply(config, spec.fixed, source, "fixed")
    if spec.horizon_days is not None:
        config = _apply(config, {"horizon_days": spec.horizon_days}, source, "")
    if spec.design.kind == "morris" and not spec.parameters:
        fields = screened_fields(config, spec.design.spread or DEFAULT_SPREAD)
        parameters = {name: DISTRIBUTION.validate_python(p) for name, p in fields.items()}
        spec = spec.model_copy(update={"parameters": parameters})
    _check_parameters(spec.parameters, config, source, "parameters")
    _check_parameters(spec.levers, config, source, "levers")
    check_levers_and_variants(spec, config, source)
    return Experiment(spec, path, sha256, scenario_path, config)


def _flatten_parameters(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Accept nested tables (``[parameters.us.policy]``) and bare lists (fixed values)."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, list):
            flat[name] = {"kind": "values", "values": value}
        elif isinstance(value, dict) and "kind" not in value and value:
            flat.update(_flatten_parameters(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _flatten_fixed(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables (``[fixed.us]``) set single fields, never a whole table."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten_fixed(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _apply(config: ScenarioConfig, overrides: dict[str, Any], source: str, table: str):
    """Apply overrides, naming the experiment file (and ``table``) in any error."""
    for path in overrides:
        if not field_exists(path, config):
            raise ExperimentError(source, _join(table, path), "no such scenario field")
    try:
        return apply_overrides(config, overrides, source)
    except ScenarioError as error:
        raise ExperimentError(source, _join(table, error.field), error.problem) from None


def _join(table: str, path: str) -> str:
    return f"{table}.{path}" if table else path


def _check_parameters(
    parameters: dict[str, Any], config: ScenarioConfig, source: str, table: str
) -> None:
    """Every parameter names a scenario field, and its bounds are valid values of that field."""
    for name, parameter in parameters.items():
        where = f"{table}.{name}"
        if not field_exists(name, config):
            raise ExperimentError(source, where, "no such scenario field")
        for value in parameter.extremes():
            try:
                apply_overrides(config, {name: value}, source)
            except ScenarioError as error:
                raise ExperimentError(
                    source, where, f"value {value!r} is not allowed: {error.problem}"
                ) from None


# --- designs ---------------------------------------------------------------------------------


def design_size(spec: ExperimentFile) -> int:
    """The number of design points, levers and variants crossed in, computed without making
    them."""
    d = len(spec.parameters)
    match spec.design.kind:
        case "grid":
            points = math.prod(
                len(p.grid(spec.design.grid_levels)) for p in spec.parameters.values()
            )
        case "sobol":
            points = spec.design.samples * (d + 2)
        case "morris":
            points = spec.design.samples * (d + 1)
        case _:
            points = spec.design.samples
    if spec.levers or spec.variants:
        points *= max(1, len(spec.variants)) * len(lever_levels(spec))
    return points


def check_size(spec: ExperimentFile, source: str) -> None:
    """Refuse a design too large to make in memory, or a sweep of too many runs."""
    points = design_size(spec)
    if points > MAX_POINTS:
        raise ExperimentError(
            source,
            "design",
            f"{points:,} design points, more than the {MAX_POINTS:,} a sweep can hold; use "
            "fewer levels or samples, or split the experiment",
        )
    if points * spec.replicates > MAX_RUNS:
        raise ExperimentError(
            source,
            "replicates",
            f"{points * spec.replicates:,} runs, more than the {MAX_RUNS:,} one sweep can hold; "
            "split the experiment",
        )


def design_sample(experiment: Experiment, indices: list[int]) -> list[dict[str, Any]]:
    """Design points ``indices``: a grid's are made alone, a sampled design's are picked from
    the whole design (at most `MAX_POINTS`)."""
    spec = experiment.spec
    if spec.design.kind == "grid" and not (spec.levers or spec.variants):
        return [grid_point(experiment, index) for index in indices]
    points, _ = design_points(experiment)
    return [points[index] for index in indices]


def grid_point(experiment: Experiment, index: int) -> dict[str, Any]:
    """Point ``index`` of a grid design (the last parameter varies fastest), made alone."""
    spec = experiment.spec
    levels = [p.grid(spec.design.grid_levels) for p in spec.parameters.values()]
    values = []
    for options in reversed(levels):
        index, digit = divmod(index, len(options))
        values.append(options[digit])
    return dict(zip(spec.parameters, reversed(values), strict=True))


def design_points(experiment: Experiment) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The design points (dicts of dotted overrides) and per-point extra columns, in order.

    Sampled designs draw from a generator seeded with the experiment seed's root
    `numpy.random.SeedSequence`, whose spawned children seed the runs. Levers and variants, if
    any, are crossed with the design's points (`sim.robust.cross_levers_and_variants`).
    """
    spec = experiment.spec
    points, extra = sampled_points(spec)
    return cross_levers_and_variants(spec, points, extra)


def sampled_points(spec: ExperimentFile) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The design's points over the parameters (before levers and variants are crossed in)."""
    from scipy.stats import qmc  # imported here: run workers do not need it

    parameters = list(spec.parameters.items())
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    d = len(parameters)
    if spec.design.kind == "grid":
        levels = [p.grid(spec.design.grid_levels) for _, p in parameters]
        points = [
            dict(zip(spec.parameters, combo, strict=True)) for combo in itertools.product(*levels)
        ]
        return points, [{} for _ in points]
    n = spec.design.samples
    if spec.design.kind == "morris":
        unit, extra = morris_design(d, n, spec.design.grid_levels, rng)
        return _map_unit(parameters, unit), extra
    if spec.design.kind == "sobol":
        return _saltelli(parameters, qmc.Sobol(2 * d, rng=rng).random_base2(int(math.log2(n))))
    if spec.design.kind == "lhs":
        unit = qmc.LatinHypercube(d, rng=rng).random(n)
    else:
        unit = rng.random((n, d))
    return _map_unit(parameters, unit), [{} for _ in range(n)]


def _map_unit(parameters: list[tuple[str, Any]], unit: np.ndarray) -> list[dict[str, Any]]:
    columns = {name: p.from_unit(unit[:, j]) for j, (name, p) in enumerate(parameters)}
    return [{name: columns[name][i] for name in columns} for i in range(len(unit))]


def _saltelli(
    parameters: list[tuple[str, Any]], base: np.ndarray
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Matrices A, B and AB_i (A with column i from B), as `scipy.stats.sobol_indices` builds them.

    Rows are laid out A (n rows), B (n rows), then AB_0 ... AB_{d-1}; each point's extra columns
    `SOBOL_COLUMNS` (``sobol_block``, ``sobol_param``, ``sobol_row``) say where it belongs.
    """
    d = len(parameters)
    a, b = base[:, :d], base[:, d:]
    blocks = [("A", -1, a), ("B", -1, b)]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(("AB", i, ab))
    points, extra = [], []
    for block, param, unit in blocks:
        points += _map_unit(parameters, unit)
        extra += [
            dict(zip(SOBOL_COLUMNS, (block, param, row), strict=True)) for row in range(len(unit))
        ]
    return points, extra
