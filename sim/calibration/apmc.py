"""Approximate Bayesian computation by adaptive population Monte Carlo (APMC).

APMC (Lenormand, Jabot & Deffuant 2013, Computational Statistics 28:2777): draw ``particles /
alpha`` parameter sets from the prior and keep the ``particles`` whose simulated summary
statistics lie closest to the observed ones; then, each generation, move ``particles / alpha -
particles`` of them with a Gaussian kernel, simulate, keep the closest ``particles`` of old and
new, and weight the new ones by prior over proposal density. It stops when fewer than
``min_acceptance`` of the new particles beat the previous tolerance.

The algorithm knows nothing of the model: ``simulate`` turns parameter sets into summary
statistics. Parameters with a log-uniform prior are moved on the log scale. Particles, their
values and their importance weights are rounded to 12 significant digits as they are made
(`sim.rounding`), so a fit runs the same inputs, and stores the same posterior, on every machine.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import multivariate_normal

from sim.rounding import round_array

#: simulate(points, generation, seed): one row of summary statistics per point (dotted overrides).
Simulator = Callable[[list[dict[str, Any]], int, int], np.ndarray]


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


def generation_seed(seed: int, generation: int) -> int:
    """Root seed of one generation's runs."""
    return int(np.random.SeedSequence([seed, generation]).generate_state(1)[0])


def to_points(priors: list[Prior], theta: np.ndarray) -> list[dict[str, Any]]:
    """Scenario overrides for each row of internal-scale parameters."""
    values = particle_values(priors, theta)
    return [{p.path: float(v) for p, v in zip(priors, row, strict=True)} for row in values]


def particle_values(priors: list[Prior], theta: np.ndarray) -> np.ndarray:
    """Parameter values (one column per prior) of internal-scale particles, rounded."""
    return round_array(np.column_stack([p.to_value(theta[:, i]) for i, p in enumerate(priors)]))


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
    return round_array(rng.uniform(lows, highs, size=(n, len(priors))))


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
        moved = round_array(
            population.theta[ancestors]
            + rng.multivariate_normal(np.zeros(len(priors)), cov, size=n, method="cholesky")
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
    return round_array(1.0 / np.atleast_1d(density))


def run_abc(
    simulate: Simulator,
    priors: list[Prior],
    observed: np.ndarray,
    settings: ABCSettings,
    seed: int,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Population, list[dict[str, float]]]:
    """APMC-ABC of the ``priors`` against the ``observed`` summary statistics.

    Returns the final population and one row of diagnostics per generation.
    """
    keep = settings.particles
    draws = round(keep / settings.alpha)

    def statistics_of(theta: np.ndarray, generation: int) -> np.ndarray:
        return simulate(to_points(priors, theta), generation, generation_seed(seed, generation))

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 1]))
    theta = sample_prior(priors, draws, rng)
    stats = statistics_of(theta, 0)
    scale = statistic_scale(stats)
    dist = distances(stats, observed, scale)
    best = np.argsort(dist, kind="stable")[:keep]
    population = Population(
        theta[best], np.ones(keep), dist[best], stats[best], np.zeros(keep, dtype=int)
    )
    history = [diagnostics(0, draws, 1.0, population)]
    log(describe_generation(history[-1]))
    for generation in range(1, settings.max_generations):
        rng = np.random.default_rng(np.random.SeedSequence([seed, generation, 1]))
        proposals, cov = perturb(population, priors, draws - keep, rng)
        new_weights = importance_weights(proposals, population, cov)
        new_stats = statistics_of(proposals, generation)
        new_dist = distances(new_stats, observed, scale)
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
        history.append(diagnostics(generation, draws - keep, acceptance, population))
        log(describe_generation(history[-1]))
        if acceptance < settings.min_acceptance:
            break
    population.weights = population.weights / population.weights.sum()
    return population, history


def diagnostics(
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


def describe_generation(row: dict[str, float]) -> str:
    return (
        f"generation {row['generation']}: {row['runs']} runs, acceptance {row['acceptance']:.2f}, "
        f"tolerance {row['tolerance']:.3f}, ESS {row['effective_sample_size']:.0f}"
    )


def posterior_table(population: Population, priors: list[Prior], names: list[str]) -> pd.DataFrame:
    """The final population: parameter values, weight, distance, generation, statistics."""
    values = particle_values(priors, population.theta)
    table = pd.DataFrame({p.path: values[:, i] for i, p in enumerate(priors)})
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
