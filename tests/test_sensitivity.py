"""Sobol' indices with the seed noise separated: known answers on the Ishigami function."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.stats import qmc

from sim import sensitivity
from sim.errors import SweepError

# Analytic indices for a = 7, b = 0.1 on [-pi, pi]^3 (Ishigami & Homma 1990); x3 has no effect
# of its own, only through its interaction with x1.
FIRST = [0.3139, 0.4424, 0.0]
TOTAL = [0.5576, 0.4424, 0.2437]
NAMES = ["x0", "x1", "x2"]


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def saltelli_runs(n: int, replicates: int = 1, noise: float = 0.0, seed: int = 12) -> pd.DataFrame:
    """A runs table in the runner's Saltelli layout, ``replicates`` runs per point, each with
    independent Gaussian noise of sd ``noise`` (the model's seed noise)."""
    d = 3
    sample = qmc.Sobol(2 * d, seed=seed).random(n) * 2 * np.pi - np.pi
    a, b = sample[:, :d], sample[:, d:]
    blocks = [("A", -1, a), ("B", -1, b)] + [("AB", i, np.where(np.arange(d) == i, b, a))
                                            for i in range(d)]  # fmt: skip
    rng = np.random.default_rng(seed)
    frames = []
    for block, param, x in blocks:
        for _ in range(replicates):
            frame = pd.DataFrame(
                {"sobol_block": block, "sobol_param": param, "sobol_row": range(n)}
            )
            frame["y"] = ishigami(x) + rng.normal(0.0, noise, n)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_without_noise_the_indices_are_scipys_exactly():
    runs = saltelli_runs(256)
    table = sensitivity.sobol_table(runs, NAMES, "y", n_resamples=20)
    values = sensitivity.saltelli_values(runs, 3, "y")
    reference = stats.sobol_indices(
        func={"f_A": values.f_a[None], "f_B": values.f_b[None], "f_AB": values.f_ab[:, None]},
        n=256,
    )
    assert table["first_order"].to_numpy() == pytest.approx(
        reference.first_order.ravel(), abs=1e-12
    )
    assert table["total_order"].to_numpy() == pytest.approx(
        reference.total_order.ravel(), abs=1e-12
    )


def test_ishigami_indices_are_recovered_under_heavy_seed_noise():
    # Noise sd 3 (Var(Ishigami) = 13.84): 39% of the variance of single runs, 14% of that of
    # 4-replicate means. With n = 4096 base rows the bootstrap standard errors are about 0.02,
    # so 0.05 is 2.5 of them.
    runs = saltelli_runs(4096, replicates=4, noise=3.0)
    table = sensitivity.sobol_table(runs, NAMES, "y", n_resamples=200, seed=1)
    assert table["first_order"].to_numpy() == pytest.approx(FIRST, abs=0.05)
    assert table["total_order"].to_numpy() == pytest.approx(TOTAL, abs=0.05)
    assert (table["first_low"] <= FIRST).all() and (table["first_high"] >= FIRST).all()
    assert (table["total_low"] <= TOTAL).all() and (table["total_high"] >= TOTAL).all()
    summary = sensitivity.variance_summary(runs, NAMES, "y", table)
    assert summary["seed_noise_variance"] == pytest.approx(9.0, rel=0.03)
    assert summary["seed_noise_share_of_runs"] == pytest.approx(9 / (13.84 + 9), abs=0.02)
    # Left in, the noise would inflate every total index by 2.25 / 13.84 = 0.16 and deflate the
    # first-order ones: what made the v1 Sobol' result unusable.
    values = sensitivity.saltelli_values(runs, 3, "y")
    naive = stats.sobol_indices(
        func={"f_A": values.f_a[None], "f_B": values.f_b[None], "f_AB": values.f_ab[:, None]},
        n=4096,
    )
    assert naive.total_order.ravel()[2] > TOTAL[2] + 0.1
    again = sensitivity.sobol_table(runs, NAMES, "y", n_resamples=200, seed=1)
    pd.testing.assert_frame_equal(table, again)  # seeded bootstrap


def test_checks_flag_what_makes_indices_untrustworthy():
    good = saltelli_runs(2048, replicates=2, noise=0.5)
    table = sensitivity.sobol_table(good, NAMES, "y", n_resamples=100)
    checks = sensitivity.sobol_checks(sensitivity.variance_summary(good, NAMES, "y", table), table)
    passed = [ok for _, ok, _ in checks]
    assert passed == [True, False, True, True]  # x2's main effect is 0: it acts through x0
    noisy = saltelli_runs(64, replicates=2, noise=12.0)
    table = sensitivity.sobol_table(noisy, NAMES, "y", n_resamples=100)
    summary = sensitivity.variance_summary(noisy, NAMES, "y", table)
    failed = [check for check, ok, _ in sensitivity.sobol_checks(summary, table) if not ok]
    assert any("seed noise" in check for check in failed)
    single = saltelli_runs(64)
    table = sensitivity.sobol_table(single, NAMES, "y", n_resamples=10)
    summary = sensitivity.variance_summary(single, NAMES, "y", table)
    checks = dict((c, ok) for c, ok, _ in sensitivity.sobol_checks(summary, table))
    assert not checks["y: seed noise measured and at most 50% of the variance of point means"]


def test_sum_and_convergence_checks_allow_for_the_estimates_uncertainty():
    table = pd.DataFrame(
        {
            "parameter": ["a", "b", "c"],
            "first_order": [0.6, 0.5, 0.3],
            "first_low": [0.5, 0.4, 0.1],
            "first_high": [0.7, 0.6, 0.5],  # half-widths 0.1, 0.1, 0.2
            "first_order_half": [0.68, 0.2, 0.45],  # changes 0.08, 0.3, 0.15
            "total_order": [0.6, 0.5, 0.3],
            "total_low": [0.5, 0.4, 0.1],
            "total_high": [0.7, 0.6, 0.5],
            "total_order_half": [0.6, 0.5, 0.3],
            "first_sum_low": 1.1,
            "first_sum_high": 1.7,
        }
    )
    summary = {"outcome": "y", "sum_first_order": 1.4, "seed_noise_variance": 1.0,
               "seed_noise_share_of_means": 0.2, "seed_noise_share_of_runs": 0.5}  # fmt: skip
    checks = sensitivity.sobol_checks(summary, table)
    assert [ok for _, ok, _ in checks] == [False, True, False, True]
    assert checks[0][2] == "sum 1.400 [1.100, 1.700]"  # above 1 beyond its interval
    assert checks[2][2] == "largest change 0.300 (b)"  # a and c move within their intervals
    within = table.assign(first_sum_low=0.9)
    assert sensitivity.sobol_checks(summary, within)[0][1]


def test_incomplete_blocks_are_refused():
    runs = saltelli_runs(8)
    missing = runs[~((runs["sobol_block"] == "AB") & (runs["sobol_row"] == 3))]
    with pytest.raises(SweepError, match="missing rows"):
        sensitivity.sobol_table(missing, NAMES, "y", n_resamples=10)
