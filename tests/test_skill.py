"""Forecast scores, skill and the baselines, on cases with known answers."""

import numpy as np
import pytest
from scipy.stats import poisson

from sim.calibration.skill import Forecast, Hawkes, baseline_forecasts, skill


def exact_crps(pmf: np.ndarray, observed: int) -> float:
    """CRPS of an integer forecast: the sum over k of (F(k) - 1[y <= k])^2."""
    cdf = np.cumsum(pmf)
    return float(((cdf - (np.arange(len(pmf)) >= observed)) ** 2).sum())


def test_poisson_scores_match_their_definitions():
    forecast = Forecast("p", means=np.array([3.0, 0.5]))
    observed = np.array([5, 0])
    pmfs = [poisson.pmf(np.arange(80), mean) for mean in (3.0, 0.5)]
    crps = forecast.crps(observed)
    assert crps == pytest.approx([exact_crps(p, y) for p, y in zip(pmfs, observed, strict=True)])
    assert forecast.log_score(observed) == pytest.approx(-poisson.logpmf(observed, [3.0, 0.5]))


def test_a_large_ensemble_scores_as_the_distribution_it_samples():
    rng = np.random.default_rng(3)
    members = rng.poisson(3.0, size=(20_000, 1))
    ensemble = Forecast("e", members=members, weights=np.ones(len(members)))
    exact = Forecast("p", means=np.array([3.0]))
    for y in (0, 3, 8):
        observed = np.array([y])
        assert ensemble.crps(observed) == pytest.approx(exact.crps(observed), abs=0.02)
        # the log frequency of y from 20,000 members has a standard error 1 / sqrt(20,000 p)
        error = 1 / np.sqrt(20_000 * poisson.pmf(y, 3.0))
        assert ensemble.log_score(observed) == pytest.approx(
            exact.log_score(observed), abs=4 * error
        )


def test_weights_count_as_repeated_members():
    weighted = Forecast("w", members=np.array([[0], [4]]), weights=np.array([1.0, 3.0]))
    repeated = Forecast("r", members=np.array([[0], [4], [4], [4]]), weights=np.ones(4))
    observed = np.array([2])
    assert weighted.crps(observed) == pytest.approx(repeated.crps(observed))
    assert weighted.quantiles([0.2, 0.5]).ravel().tolist() == [0.0, 4.0]
    assert weighted.mean() == pytest.approx([3.0])


def test_skill_scores():
    baseline = Forecast("b", means=np.array([2.0, 2.0]))
    perfect = Forecast("m", members=np.array([[1, 4]]), weights=np.ones(1))
    observed = np.array([1, 4])
    assert perfect.crps(observed) == pytest.approx([0.0, 0.0])
    assert skill(perfect.crps(observed).mean(), baseline.crps(observed).mean()) == 1.0
    assert skill(baseline.crps(observed).mean(), baseline.crps(observed).mean()) == 0.0
    worse = Forecast("w", means=np.array([9.0, 9.0]))
    assert skill(worse.crps(observed).mean(), baseline.crps(observed).mean()) < 0.0


def test_a_count_no_member_produced_has_a_finite_log_score():
    forecast = Forecast("m", members=np.zeros((50, 1), dtype=int), weights=np.ones(50))
    score = forecast.log_score(np.array([3]))
    assert np.isfinite(score).all() and score[0] > 5.0


def test_hawkes_maximum_likelihood_recovers_a_simulated_process():
    truth = Hawkes(mu=0.3, alpha=0.5, beta=0.4)
    rng = np.random.default_rng(11)
    days = truth.simulate(np.zeros(1, dtype=int), 6000, 1, rng)[0]
    fitted = Hawkes.fit(days)
    # 6,000 days hold about 3,600 events: the estimates' standard errors are a few percent
    assert fitted.mu == pytest.approx(0.3, rel=0.15)
    assert fitted.alpha == pytest.approx(0.5, abs=0.08)
    assert fitted.beta == pytest.approx(0.4, rel=0.35)
    assert fitted.log_likelihood(days) >= truth.log_likelihood(days)


def test_baselines_use_the_past_and_the_recent_rates():
    daily = np.zeros(140, dtype=int)
    daily[-56:] = np.tile([1, 0, 0, 0, 0, 0, 0], 8)  # one attack a week in the last 8 weeks
    forecasts, hawkes = baseline_forecasts(daily, 28.0, 4, 8, 200, seed=1)
    past, recent, self_exciting = forecasts
    assert past.mean() == pytest.approx([7 * 28 / 140] * 4)
    assert recent.mean() == pytest.approx([1.0] * 4)
    assert self_exciting.members.shape == (200, 4) and hawkes.mu > 0
