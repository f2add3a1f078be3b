"""Forecasts of weekly attack counts, the baselines they are judged against, and their scores.

Every forecaster gives, for each week, a predictive distribution of the number of attacks on
sites: the model a weighted ensemble (its accepted histories, continued), the naive baselines a
Poisson distribution (at the whole past rate, or at the rate of the last weeks), and the
statistical anchor an ensemble simulated from a self-exciting process fitted to the same days.
Scores are proper (Gneiting & Raftery 2007): the CRPS (from `scoringrules`) and the log score;
skill against a baseline is ``1 - score / baseline score``, positive when the model is better.

The self-exciting process is a Hawkes process with an exponential kernel (Lewis, Mohler,
Brantingham & Bertozzi 2012) on a daily grid: attacks on day t are Poisson with mean
``mu + alpha * sum_{s<t} g(t - s) N_s``, ``g(d) = (1 - e^-beta) e^(-beta (d - 1))`` (summing to
one, so ``alpha`` is the branching ratio), fitted by maximum likelihood.
"""

from dataclasses import dataclass

import numpy as np
import scoringrules as sr
from scipy.optimize import minimize
from scipy.signal import lfilter
from scipy.special import expit, logit
from scipy.stats import poisson

from sim.calibration.abc import weighted_quantiles

SMOOTHING = 1.0  # pseudo-members spread as a Poisson when an ensemble gives a log score


@dataclass(frozen=True)
class Forecast:
    """Weekly predictive distributions: an ensemble (``members`` x weeks, with ``weights``)
    or Poisson ``means`` per week."""

    name: str
    members: np.ndarray | None = None
    weights: np.ndarray | None = None
    means: np.ndarray | None = None

    def crps(self, observed: np.ndarray) -> np.ndarray:
        """CRPS of each week's observed count."""
        observed = np.asarray(observed, dtype=float)  # scoringrules needs floats throughout
        if self.means is not None:
            return np.asarray(sr.crps_poisson(observed, self.means))
        weights = np.tile(self.weights.astype(float), (self.members.shape[1], 1))
        members = self.members.T.astype(float)
        return np.asarray(sr.crps_ensemble(observed, members, ens_w=weights, estimator="qd"))

    def log_score(self, observed: np.ndarray) -> np.ndarray:
        """Negative log predictive probability of each week's observed count. An ensemble's
        probabilities are its weighted frequencies, smoothed by `SMOOTHING` pseudo-members
        drawn from a Poisson at the ensemble mean (at least 0.1), so a count no member
        produced has a small, finite probability."""
        if self.means is not None:
            return np.asarray(sr.logs_poisson(observed, self.means))
        w = self.weights / self.weights.sum()
        size = 1.0 / (w**2).sum()  # the ensemble's effective size
        hits = ((self.members == observed[None, :]) * w[:, None]).sum(axis=0)
        mean = np.maximum(w @ self.members, 0.1)
        p = (size * hits + SMOOTHING * poisson.pmf(observed, mean)) / (size + SMOOTHING)
        return -np.log(p)

    def quantiles(self, qs: list[float]) -> np.ndarray:
        """Quantiles per week, shape (len(qs), weeks)."""
        if self.means is not None:
            return poisson.ppf(np.array(qs)[:, None], self.means[None, :])
        out = np.empty((len(qs), self.members.shape[1]))
        for week in range(self.members.shape[1]):
            out[:, week] = weighted_quantiles(self.members[:, week], self.weights, qs)
        return out

    def mean(self) -> np.ndarray:
        """Mean count per week."""
        if self.means is not None:
            return self.means
        return self.weights @ self.members / self.weights.sum()


def skill(score: float, baseline: float) -> float:
    """Skill score: 1 - score / baseline (1 perfect, 0 no better, negative worse)."""
    return 1.0 - score / baseline


# --- baselines -------------------------------------------------------------------------------


def poisson_forecast(name: str, rate_per_day: float, weeks: int) -> Forecast:
    """The same Poisson distribution every week, at a daily rate."""
    return Forecast(name, means=np.full(weeks, 7.0 * rate_per_day))


@dataclass(frozen=True)
class Hawkes:
    """A self-exciting Poisson process on days: baseline ``mu`` per day, branching ratio
    ``alpha``, kernel decay ``beta`` per day."""

    mu: float
    alpha: float
    beta: float

    def excitation(self, counts: np.ndarray) -> np.ndarray:
        """``sum_{s<t} e^(-beta (t - 1 - s)) N_s`` for each day t (0 on day 0)."""
        return lfilter([0.0, 1.0], [1.0, -np.exp(-self.beta)], counts.astype(float))

    def intensity(self, counts: np.ndarray) -> np.ndarray:
        """The mean attacks on each day given the days before it."""
        gain = self.alpha * (1.0 - np.exp(-self.beta))
        return self.mu + gain * self.excitation(counts)

    def log_likelihood(self, counts: np.ndarray) -> float:
        """Poisson log-likelihood of daily counts (without the constant log N!)."""
        rate = self.intensity(counts)
        return float((counts * np.log(rate) - rate).sum())

    @classmethod
    def fit(cls, counts: np.ndarray) -> "Hawkes":
        """Maximum likelihood (Nelder-Mead on log mu, logit alpha, log beta), from a fixed grid
        of starting points; the best optimum wins."""
        mean = max(float(counts.mean()), 1e-3)

        def negative(x: np.ndarray) -> float:
            return -cls(np.exp(x[0]), expit(x[1]), np.exp(x[2])).log_likelihood(counts)

        best = None
        for alpha in (0.2, 0.5, 0.8):
            for beta in (0.05, 0.3, 1.5):
                start = np.array([np.log(mean * (1 - alpha)), logit(alpha), np.log(beta)])
                result = minimize(
                    negative,
                    start,
                    method="Nelder-Mead",
                    options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000},
                )
                if best is None or result.fun < best.fun:
                    best = result
        return cls(float(np.exp(best.x[0])), float(expit(best.x[1])), float(np.exp(best.x[2])))

    def simulate(
        self, counts: np.ndarray, days: int, paths: int, rng: np.random.Generator
    ) -> np.ndarray:
        """``paths`` continuations of the observed daily ``counts`` for ``days`` more days."""
        decay = np.exp(-self.beta)
        gain = self.alpha * (1.0 - decay)
        state = np.full(paths, decay * self.excitation(counts)[-1] + counts[-1])
        out = np.empty((paths, days), dtype=np.int64)
        for day in range(days):
            out[:, day] = rng.poisson(self.mu + gain * state)
            state = decay * state + out[:, day]
        return out


def weekly(daily: np.ndarray, weeks: int) -> np.ndarray:
    """Daily counts (members x days) summed over consecutive weeks."""
    return daily[:, : 7 * weeks].reshape(len(daily), weeks, 7).sum(axis=2)


def baseline_forecasts(
    daily: np.ndarray,
    past_total: float,
    weeks: int,
    recent_weeks: int,
    paths: int,
    seed: int,
    gap: int = 0,
) -> tuple[list[Forecast], Hawkes]:
    """The three baselines of ``weeks`` weeks that start ``gap`` days after the record's daily
    site attacks end: Poisson at the past rate (``past_total`` attacks over the days: the press
    tallies' count, which the listing misses some of), Poisson at the rate of the last
    ``recent_weeks`` weeks, and the Hawkes process fitted to the daily counts."""
    recent = daily[-7 * recent_weeks :].sum() / (7.0 * recent_weeks)
    hawkes = Hawkes.fit(daily)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    paths_daily = hawkes.simulate(daily, gap + 7 * weeks, paths, rng)[:, gap:]
    members = weekly(paths_daily, weeks)
    return [
        poisson_forecast("poisson_past", past_total / len(daily), weeks),
        poisson_forecast(f"poisson_last_{recent_weeks}_weeks", recent, weeks),
        Forecast("hawkes", members=members, weights=np.ones(paths)),
    ], hawkes
