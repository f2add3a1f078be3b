"""Fit the parameters the record cannot fix directly, by approximate Bayesian computation.

The method is adaptive population Monte Carlo ABC (APMC; Lenormand, Jabot & Deffuant 2013,
Computational Statistics 28:2777): draw ``particles / alpha`` parameter sets from the prior and
keep the ``particles`` whose simulated summary statistics lie closest to the record; then, each
generation, move ``particles / alpha - particles`` of them with a Gaussian kernel, simulate, keep
the closest ``particles`` of old and new, and weight the new ones by prior over proposal density.
It stops when fewer than ``min_acceptance`` of the new particles beat the previous tolerance.

Every generation is one batch of runs through the experiment runner (`sim.runner.run_points`),
so it runs in parallel, is seeded from one root seed, and is resumed from its output folder.
Parameters with a log-uniform prior are moved on the log scale.
"""

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator
from scipy.stats import multivariate_normal

from sim.data import (
    Daily,
    StatisticSpec,
    daily_from_series,
    load_events,
    record_statistics,
    statistic_names,
    summary_statistics,
)
from sim.scenario import (
    ScenarioConfig,
    ScenarioError,
    Strict,
    field_exists,
    load_scenario,
    read_toml,
)

SERIES_COLUMNS = ["date", "attacks", "us_killed", "us_rung", "iran_rung"]


@dataclass(frozen=True)
class Prior:
    """A uniform or log-uniform prior on one scenario field."""

    path: str
    low: float
    high: float
    log: bool = False

    def to_internal(self, value: np.ndarray) -> np.ndarray:
        return np.log(value) if self.log else value

    def to_value(self, internal: np.ndarray) -> np.ndarray:
        return np.exp(internal) if self.log else internal

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (
            float(self.to_internal(np.float64(self.low))),
            float(self.to_internal(np.float64(self.high))),
        )


@dataclass(frozen=True)
class ABCSettings:
    """Population size, kept fraction, stopping rule."""

    particles: int = 200
    alpha: float = 0.5
    min_acceptance: float = 0.05
    max_generations: int = 6


@dataclass
class Population:
    """Accepted particles: internal-scale parameters, weights, distances, statistics."""

    theta: np.ndarray  # (n, k) internal scale
    weights: np.ndarray
    distances: np.ndarray
    statistics: np.ndarray  # (n, m)
    born: np.ndarray  # generation each particle was drawn in


def run_series(
    config: ScenarioConfig,
    points: list[dict[str, Any]],
    seed: int,
    out: Path,
    executor: Executor | None = None,
    columns: list[str] = SERIES_COLUMNS,
) -> list[pd.DataFrame]:
    """One run per point through the experiment runner (in-process without an ``executor``);
    each run's daily series, in point order."""
    from sim.runner import load_series, run_points

    runs = run_points(
        config,
        points,
        replicates=1,
        seed=seed,
        out=out,
        executor=executor,
        series=columns,
        resume=True,
        progress=False,
    )
    failed = runs[runs["status"] != "ok"]
    if len(failed):
        raise RuntimeError(f"{len(failed)} runs failed, first: {failed['error'].iloc[0]}")
    by_run = dict(tuple(load_series(out).groupby("run_id", sort=False)))
    return [by_run[run_id] for run_id in runs.sort_values("point")["run_id"]]


def generation_seed(seed: int, generation: int) -> int:
    """Root seed of one generation's runs."""
    return int(np.random.SeedSequence([seed, generation]).generate_state(1)[0])


def to_points(priors: list[Prior], theta: np.ndarray) -> list[dict[str, Any]]:
    """Scenario overrides for each row of internal-scale parameters."""
    values = np.column_stack([p.to_value(theta[:, i]) for i, p in enumerate(priors)])
    return [{p.path: float(v) for p, v in zip(priors, row, strict=True)} for row in values]


def distances(stats: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scaled Euclidean distance of each row of statistics to the observed ones."""
    return np.sqrt((((stats - observed) / scale) ** 2).sum(axis=1))


def statistic_scale(stats: np.ndarray) -> np.ndarray:
    """Median absolute deviation of each statistic over the prior draws, at least 1 (counts)."""
    mad = np.median(np.abs(stats - np.median(stats, axis=0)), axis=0) * 1.4826
    return np.maximum(mad, 1.0)


def sample_prior(priors: list[Prior], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the (internal-scale) uniform box."""
    lows, highs = zip(*(p.internal_bounds for p in priors), strict=True)
    return rng.uniform(lows, highs, size=(n, len(priors)))


def inside(priors: list[Prior], theta: np.ndarray) -> np.ndarray:
    """Which rows lie in the prior's support."""
    lows, highs = (np.array(b) for b in zip(*(p.internal_bounds for p in priors), strict=True))
    return ((theta >= lows) & (theta <= highs)).all(axis=1)


def perturb(
    population: Population, priors: list[Prior], n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` proposals moved from weighted ancestors, kept in the support; and their kernel cov."""
    cov = 2.0 * np.atleast_2d(np.cov(population.theta, rowvar=False, aweights=population.weights))
    widths = np.array([high - low for low, high in (p.internal_bounds for p in priors)])
    cov += np.diag((1e-3 * widths) ** 2)  # keeps the kernel proper when particles are few
    probabilities = population.weights / population.weights.sum()
    proposals = np.empty((0, len(priors)))
    while len(proposals) < n:
        ancestors = rng.choice(len(population.theta), size=n, p=probabilities)
        moved = population.theta[ancestors] + rng.multivariate_normal(
            np.zeros(len(priors)), cov, size=n, method="cholesky"
        )
        proposals = np.vstack([proposals, moved[inside(priors, moved)]])
    return proposals[:n], cov


def importance_weights(
    proposals: np.ndarray, population: Population, cov: np.ndarray
) -> np.ndarray:
    """Uniform prior over the kernel mixture density at each proposal."""
    probabilities = population.weights / population.weights.sum()
    density = np.zeros(len(proposals))
    for ancestor, p in zip(population.theta, probabilities, strict=True):
        density += p * multivariate_normal.pdf(proposals, mean=ancestor, cov=cov)
    return 1.0 / np.atleast_1d(density)


def run_abc(
    simulate: Callable[[list[dict[str, Any]], int, int], list[Daily]],
    priors: list[Prior],
    observed: dict[str, float],
    spec: StatisticSpec,
    settings: ABCSettings,
    seed: int,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Population, list[dict[str, float]]]:
    """APMC-ABC. ``simulate(points, generation, seed)`` returns one `Daily` per point.

    Returns the final population and one line of diagnostics per generation.
    """
    names = statistic_names(spec)
    target = np.array([observed[name] for name in names])
    keep = settings.particles
    draws = round(keep / settings.alpha)

    def statistics_of(theta: np.ndarray, generation: int) -> np.ndarray:
        dailies = simulate(to_points(priors, theta), generation, generation_seed(seed, generation))
        return np.array([[summary_statistics(d, spec)[n] for n in names] for d in dailies])

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 1]))
    theta = sample_prior(priors, draws, rng)
    stats = statistics_of(theta, 0)
    scale = statistic_scale(stats)
    dist = distances(stats, target, scale)
    best = np.argsort(dist, kind="stable")[:keep]
    population = Population(
        theta[best], np.ones(keep), dist[best], stats[best], np.zeros(keep, dtype=int)
    )
    history = [_diagnostics(0, draws, 1.0, population)]
    log(_describe(history[-1]))
    for generation in range(1, settings.max_generations):
        rng = np.random.default_rng(np.random.SeedSequence([seed, generation, 1]))
        proposals, cov = perturb(population, priors, draws - keep, rng)
        new_weights = importance_weights(proposals, population, cov)
        new_stats = statistics_of(proposals, generation)
        new_dist = distances(new_stats, target, scale)
        acceptance = float(np.mean(new_dist < population.distances.max()))
        pooled = Population(
            np.vstack([population.theta, proposals]),
            np.concatenate([population.weights, new_weights]),
            np.concatenate([population.distances, new_dist]),
            np.vstack([population.statistics, new_stats]),
            np.concatenate([population.born, np.full(len(proposals), generation)]),
        )
        best = np.argsort(pooled.distances, kind="stable")[:keep]
        population = Population(
            *(getattr(pooled, f)[best] for f in Population.__dataclass_fields__)
        )
        population.weights = population.weights / population.weights.sum()
        history.append(_diagnostics(generation, draws - keep, acceptance, population))
        log(_describe(history[-1]))
        if acceptance < settings.min_acceptance:
            break
    population.weights = population.weights / population.weights.sum()
    return population, history


def _diagnostics(
    generation: int, runs: int, acceptance: float, population: Population
) -> dict[str, float]:
    weights = population.weights / population.weights.sum()
    return {
        "generation": generation,
        "runs": runs,
        "acceptance": round(acceptance, 4),
        "tolerance": round(float(population.distances.max()), 4),
        "effective_sample_size": round(float(1.0 / (weights**2).sum()), 1),
    }


def _describe(row: dict[str, float]) -> str:
    return (
        f"generation {row['generation']}: {row['runs']} runs, acceptance {row['acceptance']:.2f}, "
        f"tolerance {row['tolerance']:.3f}, ESS {row['effective_sample_size']:.0f}"
    )


def posterior_table(population: Population, priors: list[Prior], names: list[str]) -> pd.DataFrame:
    """The final population: parameter values, weight, distance, generation, statistics."""
    table = pd.DataFrame({p.path: p.to_value(population.theta[:, i]) for i, p in enumerate(priors)})
    table["weight"] = population.weights
    table["distance"] = population.distances
    table["generation"] = population.born
    for j, name in enumerate(names):
        table[f"stat:{name}"] = population.statistics[:, j]
    return table


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order]) / weights.sum()
    return [float(values[order][min(np.searchsorted(cdf, q), len(values) - 1)]) for q in qs]


def resample(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` posterior draws (by weight, with replacement), seeded."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 999]))
    p = table["weight"].to_numpy() / table["weight"].sum()
    return table.iloc[rng.choice(len(table), size=n, p=p)].reset_index(drop=True)


# --- the calibration experiment file ----------------------------------------------------------


class PriorSpec(Strict):
    """``[priors."dotted.path"]``: kind, low, high."""

    kind: Literal["uniform", "log_uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _valid_range(self) -> "PriorSpec":
        if not self.low < self.high:
            raise ValueError(f"high: must exceed low ({self.low})")
        if self.kind == "log_uniform" and self.low <= 0:
            raise ValueError("low: must be positive for a log_uniform prior")
        return self


class ABCSpec(Strict):
    particles: Annotated[int, Field(ge=4)] = 200
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_acceptance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    max_generations: Annotated[int, Field(ge=1)] = 6


class CalibratedSpec(Strict):
    base: str
    path: str
    carry: list[str] = Field(default_factory=list)


class ValidationSpec(Strict):
    draws: Annotated[int, Field(ge=2)] = 200


class ForecastSpec(Strict):
    start: date
    days: Annotated[int, Field(ge=1)] = 183
    draws: Annotated[int, Field(ge=2)] = 200


class CalibrationFile(Strict):
    """A calibration experiment (``experiments/calibrate_2020.toml``)."""

    name: Annotated[str, Field(min_length=1)]
    scenario: str
    record: str
    seed: Annotated[int, Field(ge=0)]
    workers: Annotated[int, Field(ge=1)] = 1
    out: str
    results: str
    checkpoints: Annotated[list[date], Field(min_length=1)]
    abc: ABCSpec = ABCSpec()
    priors: Annotated[dict[str, PriorSpec], Field(min_length=1)]
    calibrated: CalibratedSpec
    validation: ValidationSpec = ValidationSpec()
    forecast: ForecastSpec


@dataclass(frozen=True)
class Calibration:
    """A loaded and checked calibration: everything needed before any run starts."""

    spec: CalibrationFile
    source: str
    fit_config: ScenarioConfig
    base_config: ScenarioConfig
    events: pd.DataFrame
    statistics: StatisticSpec
    observed: dict[str, float]
    priors: list[Prior]
    out: Path
    results: Path
    calibrated_path: Path

    @property
    def settings(self) -> ABCSettings:
        abc = self.spec.abc
        return ABCSettings(abc.particles, abc.alpha, abc.min_acceptance, abc.max_generations)


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file, its scenarios and the record; raise `ScenarioError`."""
    path = Path(path)
    source = str(path)
    data, _ = read_toml(path)
    try:
        spec = CalibrationFile.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ScenarioError(source, field, first["msg"].removeprefix("Value error, ")) from None
    here = path.parent
    fit_config = load_scenario(here / spec.scenario)
    base_config = load_scenario(here / spec.calibrated.base)
    events = load_events(here / spec.record)
    for name, config in (("priors", fit_config), ("priors", base_config)):
        for field_path in spec.priors:
            if not field_exists(field_path, config):
                raise ScenarioError(source, f"{name}.{field_path}", "no such scenario field")
            _toml_location(field_path, source)
    for field_path in spec.calibrated.carry:
        if not field_exists(field_path, fit_config):
            raise ScenarioError(source, f"calibrated.carry.{field_path}", "no such scenario field")
        _toml_location(field_path, source)
    end = fit_config.start_date + timedelta(days=fit_config.horizon_days)
    statistics = StatisticSpec(checkpoints=tuple(spec.checkpoints), june=(date(2020, 6, 1), end))
    for checkpoint in spec.checkpoints:
        if not fit_config.start_date < checkpoint <= end:
            raise ScenarioError(source, "checkpoints", f"{checkpoint} is outside the fitted run")
    try:
        observed = record_statistics(events, fit_config.start_date, statistics)
    except ScenarioError as error:
        raise ScenarioError(source, error.field, error.problem) from None
    priors = [Prior(p, s.low, s.high, log=s.kind == "log_uniform") for p, s in spec.priors.items()]
    return Calibration(
        spec,
        source,
        fit_config,
        base_config,
        events,
        statistics,
        observed,
        priors,
        here / spec.out,
        here / spec.results,
        here / spec.calibrated.path,
    )


def _toml_location(field_path: str, source: str) -> tuple[str, str | None, str]:
    """(table, list item name or None, key) of a dotted path the scenario writer can express."""
    parts = field_path.split(".")
    if len(parts) == 2 and parts[0] not in LIST_TABLES:
        return parts[0], None, parts[1]
    if len(parts) == 3 and parts[0] in LIST_TABLES:
        return parts[0], parts[1], parts[2]
    raise ScenarioError(source, field_path, "calibrate supports table.field or list.name.field")


LIST_TABLES = ("sites", "militias")


# --- the whole calibration --------------------------------------------------------------------


def calibrate(
    path: str | Path, workers: int | None = None, log: Callable[[str], None] = print
) -> Calibration:
    """Fit, write the posterior, the calibrated scenario and the validation report."""
    from sim.validation import write_outputs

    calibration = load_calibration(path)
    with process_pool(workers or calibration.spec.workers) as executor:

        def simulate(points: list[dict[str, Any]], generation: int, seed: int) -> list[Daily]:
            out = calibration.out / f"generation_{generation:02d}"
            tables = run_series(calibration.fit_config, points, seed, out, executor)
            return [daily_from_series(table) for table in tables]

        log(f"fitting {len(calibration.priors)} parameters to {calibration.spec.record}")
        population, history = run_abc(
            simulate,
            calibration.priors,
            calibration.observed,
            calibration.statistics,
            calibration.settings,
            calibration.spec.seed,
            log,
        )
        names = statistic_names(calibration.statistics)
        posterior = posterior_table(population, calibration.priors, names)
        write_outputs(calibration, posterior, pd.DataFrame(history), executor, log)
    return calibration


@contextmanager
def process_pool(workers: int) -> Iterator[Executor | None]:
    """One pool of worker processes for every batch of a calibration (None: run in-process)."""
    if workers == 1:
        yield None
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["sim.runner"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool
