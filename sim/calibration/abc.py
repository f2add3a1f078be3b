"""Approximate Bayesian computation by population Monte Carlo, with replicates per particle,
adaptive distances and a stopping rule on the acceptance rate.

ABC-PMC (Beaumont, Cornuet, Marin & Robert 2009) with the adaptive distance of Prangle (2017):

- Generation 0 simulates ``prior_draws`` parameter sets from the prior, ``replicates`` runs each.
- Each later generation draws parameter sets from the previous population (a Gaussian kernel
  with twice its weighted covariance) and runs each ``replicates`` times; as many as should give
  about ``accepted`` accepted runs at the acceptance rate the last two generations point to
  (at most ``max_proposals``), so the population keeps its size as the acceptance falls.
- A run is accepted when its distance to the observed statistics, under the previous
  generation's distance and tolerance, is at most that tolerance (generation 0: under its own).
  A parameter set's weight is prior over proposal density times the share of its runs accepted,
  an unbiased estimate of the ABC likelihood (a pseudo-marginal importance sampler).
- The distance compares semi-automatic summaries (Fearnhead & Prangle 2012): each parameter's
  least-squares prediction from the statistics and their squares, fitted once on the runs of
  generation 0 (`Projection`), so each parameter gets one summary that carries what the
  statistics say about it, and statistics that say little add no noise.
- The distance is Euclidean over the summaries divided by their scale: the median absolute
  deviation of the generation's runs (never below a floor), so the weights adapt as the
  population narrows. The next tolerance is the ``quantile`` of the accepted runs' distances
  under the new scale.
- The fit stops when fewer than ``min_acceptance`` of a generation's runs are accepted: the
  tolerance can no longer shrink at a cost the budget allows. ``max_generations`` is a safety net
  only; reaching it is reported as a fit that did not converge.

The algorithm knows nothing of the model: ``simulate`` turns parameter sets into statistics.
Parameters with a log-uniform prior are moved on the log scale; every prior is uniform on its
internal scale, so the prior density is a constant. Particles, their values and their weights
are rounded to 12 significant digits as they are made (`sim.rounding`).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from sim.rounding import round_array

#: simulate(points, generation, seed): statistics of shape (points, replicates, statistics).
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

    @property
    def internal_sd(self) -> float:
        """Standard deviation of the prior on the internal scale."""
        low, high = self.internal_bounds
        return (high - low) / np.sqrt(12.0)


@dataclass(frozen=True)
class ABCSettings:
    """Population sizes, replicates, tolerance schedule and stopping rule."""

    replicates: int = 2
    prior_draws: int = 1000
    accepted: int = 300
    max_proposals: int = 1500
    quantile: float = 0.5
    min_acceptance: float = 0.2
    max_generations: int = 30


@dataclass(frozen=True)
class Projection:
    """Semi-automatic summaries: a linear map from standardised statistics and their squares to
    each parameter (internal scale), fitted by least squares; ``r2`` says how much of each
    parameter's prior variance the statistics predict."""

    mean: np.ndarray
    sd: np.ndarray
    coefficients: np.ndarray  # (1 + features, parameters)
    r2: np.ndarray

    @staticmethod
    def features(statistics: np.ndarray) -> np.ndarray:
        return np.concatenate([statistics, statistics**2], axis=-1)

    @classmethod
    def fit(cls, theta: np.ndarray, statistics: np.ndarray) -> "Projection":
        """Fit on every run: ``theta`` (points, parameters), ``statistics`` (points, replicates,
        statistics)."""
        replicates = statistics.shape[1]
        x = cls.features(statistics.reshape(-1, statistics.shape[-1]))
        y = np.repeat(theta, replicates, axis=0)
        mean, sd = x.mean(axis=0), x.std(axis=0)
        sd[sd == 0] = 1.0
        design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
        coefficients = round_array(np.linalg.lstsq(design, y, rcond=None)[0])
        residual = y - design @ coefficients
        r2 = 1.0 - residual.var(axis=0) / y.var(axis=0)
        return cls(mean, sd, coefficients, r2)

    def __call__(self, statistics: np.ndarray) -> np.ndarray:
        """The summaries of statistics of any leading shape."""
        x = (self.features(statistics) - self.mean) / self.sd
        return self.coefficients[0] + x @ self.coefficients[1:]


@dataclass
class Generation:
    """One generation: parameter sets (internal scale), their runs' statistics, which runs the
    acceptance test passed, the weights, and the distance and tolerance for the next one."""

    number: int
    theta: np.ndarray  # (points, parameters)
    statistics: np.ndarray  # (points, replicates, statistics)
    summaries: np.ndarray  # (points, replicates, parameters)
    accepted: np.ndarray  # (points, replicates) booleans
    weights: np.ndarray  # (points,), summing to 1
    scale: np.ndarray  # the acceptance test's distance scale
    tolerance: float  # the acceptance test's tolerance
    next_scale: np.ndarray
    next_tolerance: float

    @property
    def acceptance(self) -> float:
        """Share of the generation's runs accepted."""
        return float(self.accepted.mean())

    @property
    def effective_sample_size(self) -> float:
        return float(1.0 / (self.weights**2).sum())

    def diagnostics(self) -> dict[str, float]:
        """One row of the per-generation table."""
        return {
            "generation": self.number,
            "parameter_sets": len(self.theta),
            "runs": int(self.accepted.size),
            "tolerance": round(self.tolerance, 4),
            "acceptance": round(self.acceptance, 4),
            "accepted_sets": int((self.weights > 0).sum()),
            "effective_sample_size": round(self.effective_sample_size, 1),
        }


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


def statistic_scale(statistics: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """Median absolute deviation (x1.4826) of each summary over all runs, at least its floor."""
    flat = statistics.reshape(-1, statistics.shape[-1])
    mad = np.median(np.abs(flat - np.median(flat, axis=0)), axis=0) * 1.4826
    return np.maximum(mad, floors)


def distances(statistics: np.ndarray, observed: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scaled Euclidean distance of each run's summaries to the observed ones."""
    return np.sqrt((((statistics - observed) / scale) ** 2).sum(axis=-1))


def sample_prior(priors: list[Prior], n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the (internal-scale) uniform box."""
    lows, highs = zip(*(p.internal_bounds for p in priors), strict=True)
    return round_array(rng.uniform(lows, highs, size=(n, len(priors))))


def inside(priors: list[Prior], theta: np.ndarray) -> np.ndarray:
    """Which rows lie in the prior's support."""
    lows, highs = (np.array(b) for b in zip(*(p.internal_bounds for p in priors), strict=True))
    return ((theta >= lows) & (theta <= highs)).all(axis=1)


def kernel_covariance(theta: np.ndarray, weights: np.ndarray, priors: list[Prior]) -> np.ndarray:
    """Twice the weighted covariance of the population (Beaumont et al. 2009), kept proper."""
    cov = 2.0 * np.atleast_2d(np.cov(theta, rowvar=False, aweights=weights))
    widths = np.array([high - low for low, high in (p.internal_bounds for p in priors)])
    return cov + np.diag((1e-3 * widths) ** 2)


def perturb(
    theta: np.ndarray,
    weights: np.ndarray,
    cov: np.ndarray,
    priors: list[Prior],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``n`` proposals: weighted ancestors moved by the kernel, redrawn until inside the prior.
    Redrawing ancestor and move together keeps the proposal density the kernel mixture up to a
    constant factor, which the normalised weights do not see."""
    proposals = np.empty((0, theta.shape[1]))
    while len(proposals) < n:
        ancestors = rng.choice(len(theta), size=n, p=weights)
        moves = rng.multivariate_normal(np.zeros(theta.shape[1]), cov, size=n, method="cholesky")
        moved = round_array(theta[ancestors] + moves)
        proposals = np.vstack([proposals, moved[inside(priors, moved)]])
    return proposals[:n]


def log_proposal_density(
    points: np.ndarray, theta: np.ndarray, weights: np.ndarray, cov: np.ndarray
) -> np.ndarray:
    """Log density of the kernel mixture at each point."""
    alive = weights > 0
    terms = np.array(
        [multivariate_normal.logpdf(points, mean=m, cov=cov) for m in theta[alive]]
    ).reshape(int(alive.sum()), len(points))
    return logsumexp(terms + np.log(weights[alive])[:, None], axis=0)


def normalised(weights: np.ndarray) -> np.ndarray:
    """Weights summing to one, rounded to 12 significant digits."""
    return round_array(weights / weights.sum())


@dataclass
class Fit:
    """What `run_abc` returns: every generation in order (the last holds the posterior) and the
    projection the distances use."""

    generations: list[Generation]
    projection: Projection
    observed: np.ndarray  # the observed summaries

    @property
    def posterior(self) -> Generation:
        return self.generations[-1]


def run_abc(
    simulate: Simulator,
    priors: list[Prior],
    observed: np.ndarray,
    settings: ABCSettings,
    seed: int,
    log: Callable[[str], None] = lambda _: None,
) -> Fit:
    """ABC-PMC of the ``priors`` against the ``observed`` statistics."""

    def statistics_of(theta: np.ndarray, number: int) -> np.ndarray:
        return simulate(to_points(priors, theta), number, generation_seed(seed, number))

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 1]))
    theta = sample_prior(priors, settings.prior_draws, rng)
    stats = statistics_of(theta, 0)
    projection = Projection.fit(theta, stats)
    target = projection(observed)
    floors = 1e-3 * np.array([p.internal_sd for p in priors])
    summaries = projection(stats)
    scale = statistic_scale(summaries, floors)
    dist = distances(summaries, target, scale)
    tolerance = float(np.quantile(dist, settings.quantile))
    accepted = dist <= tolerance
    fit = Fit([], projection, target)
    fit.generations.append(
        follow_on(
            fit,
            0,
            theta,
            stats,
            accepted,
            accepted.mean(axis=1),
            scale,
            tolerance,
            floors,
            settings,
        )
    )
    log(describe(fit.posterior))
    while len(fit.generations) < settings.max_generations:
        if converged(fit, settings):
            break
        last = fit.posterior
        number = last.number + 1
        rng = np.random.default_rng(np.random.SeedSequence([seed, number, 1]))
        cov = kernel_covariance(last.theta, last.weights, priors)
        size = proposal_count(fit.generations, settings)
        theta = perturb(last.theta, last.weights, cov, priors, size, rng)
        stats = statistics_of(theta, number)
        accepted = distances(projection(stats), target, last.next_scale) <= last.next_tolerance
        log_q = log_proposal_density(theta, last.theta, last.weights, cov)
        with np.errstate(divide="ignore"):
            log_w = np.log(accepted.mean(axis=1)) - log_q
        raw = np.exp(log_w - log_w.max()) if accepted.any() else np.zeros(len(theta))
        fit.generations.append(
            follow_on(
                fit,
                number,
                theta,
                stats,
                accepted,
                raw,
                last.next_scale,
                last.next_tolerance,
                floors,
                settings,
            )
        )
        log(describe(fit.posterior))
    return fit


def proposal_count(generations: list[Generation], settings: ABCSettings) -> int:
    """Parameter sets for the next generation: enough for ``settings.accepted`` accepted runs
    if the acceptance rate falls again as it last fell (generation 0 accepts ``quantile``)."""
    rates = [settings.quantile if g.number == 0 else g.acceptance for g in generations[-2:]]
    fall = min(1.0, rates[-1] / rates[0]) if len(rates) == 2 else 1.0
    expected = rates[-1] * fall * settings.replicates
    return min(settings.max_proposals, int(np.ceil(settings.accepted / expected)))


def follow_on(
    fit: Fit,
    number: int,
    theta: np.ndarray,
    stats: np.ndarray,
    accepted: np.ndarray,
    raw_weights: np.ndarray,
    scale: np.ndarray,
    tolerance: float,
    floors: np.ndarray,
    settings: ABCSettings,
) -> Generation:
    """A generation with its weights, and the adapted distance and tolerance for the next."""
    if not accepted.any():
        raise RuntimeError(f"ABC generation {number}: no run was accepted")
    summaries = fit.projection(stats)
    next_scale = statistic_scale(summaries, floors)
    next_dist = distances(summaries, fit.observed, next_scale)
    next_tolerance = float(np.quantile(next_dist[accepted], settings.quantile))
    return Generation(
        number,
        theta,
        stats,
        summaries,
        accepted,
        normalised(raw_weights),
        scale,
        tolerance,
        next_scale,
        next_tolerance,
    )


def converged(fit: Fit, settings: ABCSettings) -> bool:
    """Whether the fit stopped on its acceptance rule rather than on the generation cap."""
    last = fit.posterior
    return last.number > 0 and last.acceptance < settings.min_acceptance


def describe(generation: Generation) -> str:
    """One line of progress."""
    row = generation.diagnostics()
    return (
        f"generation {row['generation']}: {row['runs']} runs, acceptance "
        f"{row['acceptance']:.2f}, tolerance {row['tolerance']:.3f}, "
        f"ESS {row['effective_sample_size']:.0f}"
    )


def posterior_table(generation: Generation, priors: list[Prior]) -> pd.DataFrame:
    """The final population, one row per parameter set: its values, weight and which runs were
    accepted (``accepted_<r>``), in the order the runner ran them."""
    values = particle_values(priors, generation.theta)
    table = pd.DataFrame({p.path: values[:, i] for i, p in enumerate(priors)})
    table.insert(0, "point", np.arange(len(table)))
    table["weight"] = generation.weights
    for r in range(generation.accepted.shape[1]):
        table[f"accepted_{r}"] = generation.accepted[:, r]
    return table


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: list[float]) -> list[float]:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF)."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order]) / weights.sum()
    return [float(values[order][min(np.searchsorted(cdf, q), len(values) - 1)]) for q in qs]


def weighted_sd(values: np.ndarray, weights: np.ndarray) -> float:
    """Standard deviation of a weighted sample."""
    mean = np.average(values, weights=weights)
    return float(np.sqrt(np.average((values - mean) ** 2, weights=weights)))
