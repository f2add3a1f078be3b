"""Sobol' indices that separate the model's seed noise from the parameters' effects, with checks.

The runner's Saltelli layout (`sim.sweep_folder.SOBOL_COLUMNS`) gives, for each of n base rows,
the points of the matrices A, B and AB_i (A with column i from B), each run R times with its own
seed. Let y be a point's mean over its replicates, sigma^2 the seed-noise variance of one run
(pooled within-point variance) and s^2 = sigma^2 * mean(1 / R) the seed-noise variance of a point
mean. With f_A, f_B, f_AB centred on the mean of A and B (as `scipy.stats.sobol_indices` does):

- V = var(f_A, f_B) - s^2: the variance the parameters explain (point means less their noise);
- V_i = mean(f_B (f_ABi - f_A)) (Saltelli 2010): unbiased under independent noise;
- V_Ti = mean((f_A - f_ABi)^2) / 2 - s^2 (Jansen 1999): the noise adds s^2, removed here;
- S_i = V_i / V and S_Ti = V_Ti / V.

Without noise (s = 0) these are scipy's estimators exactly. Intervals are percentile bootstraps
over base rows (all their points and replicates together, noise re-estimated in each resample).
Convergence: the same indices from the first half of the base rows (n/2, itself a balanced
Sobol' sample) against all n rows. `sobol_checks` flags what makes indices untrustworthy: a
first-order sum whose interval lies above 1, first-order intervals that include 0, an index that
moves from n/2 to n by more than 0.05 and more than its own 95% half-width, and seed noise above
half the variance of the point means (or not measured: one replicate).
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import SweepError
from sim.sweep_folder import RUNS, SOBOL_COLUMNS

CONVERGENCE_TOLERANCE = 0.05  # change of an index from n/2 to n base rows always allowed
NOISE_SHARE_LIMIT = 0.5  # largest seed-noise share of the variance of point means
BATCH = 100  # bootstrap resamples computed at a time (memory stays at BATCH x n per parameter)


@dataclass(frozen=True)
class SaltelliValues:
    """Per base row: the point means of A, B and each AB_i, and the within-point noise sums."""

    f_a: np.ndarray  # (n,)
    f_b: np.ndarray  # (n,)
    f_ab: np.ndarray  # (d, n)
    squares: np.ndarray  # (n,) sum over the row's points of (R - 1) * within-point variance
    dof: np.ndarray  # (n,) sum over the row's points of (R - 1)
    inverse_r: np.ndarray  # (n,) sum over the row's points of 1 / R
    points: int  # points per row: d + 2

    def take(self, rows: np.ndarray) -> "SaltelliValues":
        """The values of the base rows ``rows`` (a resample, or the first half)."""
        return SaltelliValues(
            self.f_a[rows],
            self.f_b[rows],
            self.f_ab[:, rows],
            self.squares[rows],
            self.dof[rows],
            self.inverse_r[rows],
            self.points,
        )


def saltelli_values(runs: pd.DataFrame, n_parameters: int, outcome: str) -> SaltelliValues:
    """Point means, within-point variances and replicate counts, laid out by Saltelli block."""
    stats = runs.groupby(list(SOBOL_COLUMNS), sort=True)[outcome].agg(["mean", "var", "count"])
    blocks = [("A", -1), ("B", -1), *(("AB", i) for i in range(n_parameters))]
    tables = [block_rows(stats, block, param) for block, param in blocks]
    if len({len(t) for t in tables}) != 1:
        raise SweepError(RUNS, "sobol", "blocks A, B and AB have different row counts")
    means = np.stack([t["mean"].to_numpy(float) for t in tables])
    counts = np.stack([t["count"].to_numpy(float) for t in tables])
    variances = np.nan_to_num(np.stack([t["var"].to_numpy(float) for t in tables]))
    return SaltelliValues(
        f_a=means[0],
        f_b=means[1],
        f_ab=means[2:],
        squares=((counts - 1) * variances).sum(axis=0),
        dof=(counts - 1).sum(axis=0),
        inverse_r=(1 / counts).sum(axis=0),
        points=len(blocks),
    )


def block_rows(stats: pd.DataFrame, block: str, param: int) -> pd.DataFrame:
    """The statistics of one Saltelli block, in row order; rows must be complete."""
    try:
        rows = stats.loc[(block, param)]
    except KeyError:
        raise SweepError(RUNS, "sobol", f"block {block} ({param}) has no ok runs") from None
    if not np.array_equal(rows.index.to_numpy(), np.arange(len(rows))):
        raise SweepError(RUNS, "sobol", f"block {block} ({param}) is missing rows")
    return rows


def noise_of_means(values: SaltelliValues, rows: np.ndarray | None = None) -> np.ndarray:
    """s^2, the seed-noise variance of a point mean, for the rows (axis -1) of ``rows``.

    ``rows`` is an index array of shape (..., n); None means every row. Zero when every point
    has one replicate (the noise cannot be estimated, and is left in the indices).
    """
    pick = np.arange(len(values.f_a)) if rows is None else rows
    dof = values.dof[pick].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(dof > 0, values.squares[pick].sum(axis=-1) / dof, 0.0)
    return sigma2 * values.inverse_r[pick].sum(axis=-1) / (values.points * pick.shape[-1])


def indices(values: SaltelliValues, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total indices, shape (d, ...) for ``rows`` of shape (..., n)."""
    f_a, f_b = values.f_a[rows], values.f_b[rows]
    mean = (f_a.mean(axis=-1) + f_b.mean(axis=-1)) / 2
    f_a, f_b = f_a - mean[..., None], f_b - mean[..., None]
    noise = noise_of_means(values, rows)
    variance = np.concatenate([f_a, f_b], axis=-1).var(axis=-1) - noise
    first, total = [], []
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant outcome gives NaN
        for column in values.f_ab:
            f_ab = column[rows] - mean[..., None]
            first.append((f_b * (f_ab - f_a)).mean(axis=-1) / variance)
            total.append((0.5 * ((f_a - f_ab) ** 2).mean(axis=-1) - noise) / variance)
    return np.array(first), np.array(total)


def sobol_table(
    runs: pd.DataFrame,
    parameters: list[str],
    outcome: str,
    confidence: float = 0.95,
    n_resamples: int = 999,
    seed: int = 0,
) -> pd.DataFrame:
    """First-order and total indices of ``outcome`` with bootstrap intervals, seed noise removed,
    and the same indices from the first half of the base rows (``*_half``)."""
    values = saltelli_values(runs, len(parameters), outcome)
    n = len(values.f_a)
    first, total = indices(values, np.arange(n))
    half_first, half_total = indices(values, np.arange(n // 2))
    rng = np.random.default_rng(seed)
    boot_first, boot_total = [], []
    for start in range(0, n_resamples, BATCH):
        picks = rng.integers(n, size=(min(BATCH, n_resamples - start), n))
        resampled = indices(values, picks)
        boot_first.append(resampled[0])
        boot_total.append(resampled[1])
    boot_first, boot_total = np.concatenate(boot_first, 1), np.concatenate(boot_total, 1)
    tail = (1 - confidence) / 2
    first_sum = np.quantile(boot_first.sum(axis=0), [tail, 1 - tail])
    return pd.DataFrame(
        {
            "outcome": outcome,
            "parameter": parameters,
            "base_rows": n,
            "first_order": first,
            "first_low": np.quantile(boot_first, tail, axis=1),
            "first_high": np.quantile(boot_first, 1 - tail, axis=1),
            "total_order": total,
            "total_low": np.quantile(boot_total, tail, axis=1),
            "total_high": np.quantile(boot_total, 1 - tail, axis=1),
            "first_order_half": half_first,
            "total_order_half": half_total,
            "first_sum_low": first_sum[0],
            "first_sum_high": first_sum[1],
        }
    )


def variance_summary(
    runs: pd.DataFrame, parameters: list[str], outcome: str, table: pd.DataFrame
) -> dict[str, float]:
    """How much of the variance is seed noise, and the sums of the indices, for one outcome."""
    values = saltelli_values(runs, len(parameters), outcome)
    means = np.concatenate([values.f_a, values.f_b])
    noise_mean = float(noise_of_means(values))
    dof = values.dof.sum()
    sigma2 = float(values.squares.sum() / dof) if dof else math.nan
    single = runs.loc[runs["sobol_block"].isin(["A", "B"]), outcome].astype(float)
    return {
        "outcome": outcome,
        "runs": len(runs),
        "base_rows": len(values.f_a),
        "replicates": float(runs.groupby(list(SOBOL_COLUMNS)).size().mean()),
        "variance_of_runs": float(single.var()),
        "seed_noise_variance": sigma2,
        "seed_noise_share_of_runs": sigma2 / float(single.var()) if single.var() else math.nan,
        "variance_of_means": float(means.var()),
        "seed_noise_share_of_means": noise_mean / float(means.var()) if means.var() else math.nan,
        "sum_first_order": float(table["first_order"].sum()),
        "sum_total_order": float(table["total_order"].sum()),
    }


def unconverged(table: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Each parameter's largest change of an index from n/2 to n base rows, and the parameters
    whose change exceeds both `CONVERGENCE_TOLERANCE` and the index's own 95% half-width at n
    (a change within the estimate's uncertainty is sampling error, not drift)."""
    changes, drifting = [], []
    for kind in ("first", "total"):
        change = (table[f"{kind}_order"] - table[f"{kind}_order_half"]).abs()
        width = (table[f"{kind}_high"] - table[f"{kind}_low"]) / 2
        changes.append(change)
        drifting += table.loc[
            change > np.maximum(CONVERGENCE_TOLERANCE, width), "parameter"
        ].tolist()
    return np.maximum(*changes), list(dict.fromkeys(drifting))


def sobol_checks(summary: dict[str, float], table: pd.DataFrame) -> list[tuple[str, bool, str]]:
    """The checks of one outcome's indices: (check, passed, detail), in a fixed order.

    The first-order sum fails when its bootstrap interval lies above 1 (more explained than
    there is, beyond the estimate's uncertainty).
    """
    label = summary["outcome"]
    zero = table[(table["first_low"] <= 0) & (table["first_high"] >= 0)]["parameter"].tolist()
    change, drifting = unconverged(table)
    share = summary["seed_noise_share_of_means"]
    low, high = table["first_sum_low"].iloc[0], table["first_sum_high"].iloc[0]
    return [
        (
            f"{label}: first-order indices do not sum to more than 1",
            low <= 1,
            f"sum {summary['sum_first_order']:.3f} [{low:.3f}, {high:.3f}]",
        ),
        (
            f"{label}: no first-order interval includes 0",
            not zero,
            "includes 0: " + ", ".join(zero) if zero else "all exclude 0",
        ),
        (
            f"{label}: indices at n/2 and n base rows within {CONVERGENCE_TOLERANCE} or their "
            "95% half-width",
            not drifting,
            f"largest change {change.max():.3f}"
            + (f" ({', '.join(drifting)})" if drifting else ""),
        ),
        (
            f"{label}: seed noise measured and at most {NOISE_SHARE_LIMIT:.0%} of the variance "
            "of point means",
            summary["seed_noise_variance"] == summary["seed_noise_variance"]
            and share <= NOISE_SHARE_LIMIT,
            f"seed-noise share {share:.1%} of point means, "
            f"{summary['seed_noise_share_of_runs']:.1%} of single runs",
        ),
    ]
