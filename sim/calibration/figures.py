"""Figures of a calibration: simulated against recorded attacks, and the posterior.

PNG files without a version stamp, so a second calibration writes the same bytes.
"""

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.calibration.record import Daily, daily_from_record, monthly_attacks, press_tallies
from sim.calibration.spec import Calibration
from sim.io import atomic_write

PNG = {"Software": None}  # no version stamp in the files


def day_label(day: date) -> str:
    """A date as in a figure's title: 28 Oct 2019."""
    return f"{day.day} {day:%b %Y}"


def plot_monthly(calibration: Calibration, monthly: pd.DataFrame, path: Path) -> None:
    """Simulated monthly militia attacks (median, 50% and 90% bands) against the listed ones."""
    start, end = calibration.fit_start, calibration.fit_end
    listed = monthly_attacks(daily_from_record(calibration.events, start, end))
    months = list(monthly.columns)
    x = np.arange(len(months))
    q = monthly.quantile([0.05, 0.25, 0.5, 0.75, 0.95], interpolation="nearest")
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.fill_between(x, q.loc[0.05], q.loc[0.95], color="tab:blue", alpha=0.2, label="model 90%")
    ax.fill_between(x, q.loc[0.25], q.loc[0.75], color="tab:blue", alpha=0.35, label="model 50%")
    ax.plot(x, q.loc[0.5], color="tab:blue", label="model median")
    ax.plot(
        x,
        listed.reindex(months).fillna(0),
        "o",
        color="black",
        label="attacks listed in the record (a lower bound)",
    )
    ax.set_xticks(x, [m[2:] for m in months])
    ax.set_ylabel("militia attacks per month")
    ax.set_title(f"Posterior predictive monthly attacks, {day_label(start)} - {day_label(end)}")
    ax.legend(frameon=False, fontsize=8)
    save(fig, path)


def plot_cumulative(calibration: Calibration, dailies: list[Daily], path: Path) -> None:
    """Cumulative simulated attacks (bands) against the press tallies and the listed attacks."""
    start = calibration.fit_start
    cumulative = np.array([np.cumsum(d.attacks) for d in dailies])
    dates = pd.date_range(start, periods=cumulative.shape[1], freq="D")
    q = np.quantile(cumulative, [0.05, 0.5, 0.95], axis=0, method="inverted_cdf")
    listed = np.cumsum(daily_from_record(calibration.events, start, dates[-1].date()).attacks)
    tallies = press_tallies(calibration.events)
    fig, ax = plt.subplots(figsize=(8, 4.2))
    ax.fill_between(dates, q[0], q[2], color="tab:blue", alpha=0.25, label="model 90%")
    ax.plot(dates, q[1], color="tab:blue", label="model median")
    ax.step(dates, listed, where="post", color="gray", label="attacks listed in the record")
    ax.plot(tallies.index, tallies.astype(float), "D", color="black", label="press tallies")
    ax.set_ylabel(f"militia attacks since {day_label(start)}")
    ax.set_title("Cumulative attacks: model against the record")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    save(fig, path)


def plot_posterior(calibration: Calibration, posterior: pd.DataFrame, path: Path) -> None:
    """Weighted histogram of each fitted parameter over its prior range."""
    priors = calibration.priors
    fig, axes = plt.subplots(1, len(priors), figsize=(3 * len(priors), 2.8), squeeze=False)
    for ax, prior in zip(axes[0], priors, strict=True):
        bins = (
            np.geomspace(prior.low, prior.high, 21)
            if prior.log
            else np.linspace(prior.low, prior.high, 21)
        )
        ax.hist(posterior[prior.path], bins=bins, weights=posterior["weight"], color="tab:blue")
        if prior.log:
            ax.set_xscale("log")
        ax.set_title(prior.path, fontsize=8)
        ax.set_yticks([])
    fig.suptitle("Posterior (histogram range = prior range)", fontsize=9)
    save(fig, path)


def save(fig: plt.Figure, path: Path) -> None:
    """Write a figure as PNG without a version stamp, and close it."""
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, metadata=PNG))
    plt.close(fig)
