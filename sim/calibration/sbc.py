"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman 2018) on an
amortised reference table.

A full ABC fit for each of many simulated histories is beyond the budget of `make validation`,
so the check runs on the main fit's generation 0: parameter sets drawn from the prior, each run
``replicates`` times, their statistics projected to the summaries the fit uses. Each of the
first ``histories`` parameter sets stands in turn as the truth: its first run is the observed
history, and its posterior is rejection ABC on the other parameter sets with the same summaries
and distance, keeping the ``nearest`` runs (a parameter set weighs as many of its runs as are
kept). If the method is calibrated, the posterior CDF at the truth (the normalised rank) is
uniform, and a central x% interval holds the truth in x% of the histories. The check is of the
statistics, the summaries, the distance and the ABC approximation at the table's tolerance, not
of the smaller tolerance the sequential fit reaches.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chisquare

from sim.calibration.abc import Fit, Prior, distances, weighted_quantiles

BINS = 10  # rank histogram bins
LEVELS = (0.5, 0.9)  # central credible intervals checked


@dataclass(frozen=True)
class SBCResult:
    """One row per (history, parameter), and one per parameter with the verdict."""

    ranks: pd.DataFrame
    summary: pd.DataFrame

    def histogram(self, parameter: str) -> np.ndarray:
        """Counts of the normalised ranks of ``parameter`` in `BINS` equal bins."""
        ranks = self.ranks.loc[self.ranks["parameter"] == parameter, "rank"]
        return np.histogram(ranks, bins=BINS, range=(0.0, 1.0))[0]


def rank_and_coverage(
    values: np.ndarray, weights: np.ndarray, truth: float, prior_var: float
) -> dict[str, float]:
    """Normalised rank of ``truth`` in a weighted posterior sample, whether each central
    interval holds it, and the posterior contraction 1 - var(post) / var(prior)."""
    w = weights / weights.sum()
    row = {"rank": float(w[values < truth].sum() + 0.5 * w[values == truth].sum())}
    for level in LEVELS:
        low, high = weighted_quantiles(values, w, [(1 - level) / 2, (1 + level) / 2])
        row[f"covered_{round(100 * level)}"] = bool(low <= truth <= high)
    mean = np.average(values, weights=w)
    row["contraction"] = float(1.0 - np.average((values - mean) ** 2, weights=w) / prior_var)
    return row


def simulation_based_calibration(
    fit: Fit, priors: list[Prior], histories: int, nearest: int
) -> SBCResult:
    """SBC of ``fit``'s method over the first ``histories`` prior draws of its generation 0."""
    table = fit.generations[0]
    theta, summaries = table.theta, table.summaries
    rows = []
    for history in range(min(histories, len(theta))):
        dist = distances(summaries, summaries[history, 0], table.scale)
        dist[history] = np.inf  # the truth's own parameter set is left out
        kept = np.argsort(dist, axis=None, kind="stable")[:nearest]
        weights = np.bincount(kept // dist.shape[1], minlength=len(theta)).astype(float)
        for j, prior in enumerate(priors):
            row = rank_and_coverage(theta[:, j], weights, theta[history, j], prior.internal_sd**2)
            rows.append({"history": history, "parameter": prior.path, **row})
    ranks = pd.DataFrame(rows)
    return SBCResult(ranks, summarise(ranks, priors, fit))


def summarise(ranks: pd.DataFrame, priors: list[Prior], fit: Fit) -> pd.DataFrame:
    """Per parameter: interval coverage, a chi-square test of uniform ranks, the mean
    contraction, the projection's R^2 over the prior, and whether the record identifies it."""
    rows = []
    for j, prior in enumerate(priors):
        own = ranks[ranks["parameter"] == prior.path]
        counts = np.histogram(own["rank"], bins=BINS, range=(0.0, 1.0))[0]
        contraction = float(own["contraction"].mean())
        p_value = float(chisquare(counts).pvalue)
        rows.append(
            {
                "parameter": prior.path,
                "histories": len(own),
                **{
                    f"coverage_{round(100 * v)}": float(own[f"covered_{round(100 * v)}"].mean())
                    for v in LEVELS
                },
                "uniformity_p": p_value,
                "contraction": contraction,
                "projection_r2": float(fit.projection.r2[j]),
                "ranks": rank_shape(p_value, own),
                "verdict": verdict(contraction),
            }
        )
    return pd.DataFrame(rows)


def rank_shape(p_value: float, ranks: pd.DataFrame) -> str:
    """Uniform ranks (chi-square p >= 0.01), else what the coverage says is wrong: posteriors
    too wide (conservative), too narrow, or off-centre."""
    if p_value >= 0.01:
        return "uniform"
    coverage = ranks["covered_50"].mean()
    if coverage > 0.5:
        return "not uniform: too wide (conservative)"
    return "not uniform: too narrow or off-centre"


def verdict(contraction: float) -> str:
    """Identified when the posterior is on average at least 20% narrower in variance than the
    prior; weakly identified from 5%; otherwise the record does not identify the parameter."""
    if contraction >= 0.2:
        return "identified"
    return "weakly identified" if contraction >= 0.05 else "not identified"
