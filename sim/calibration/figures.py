"""Figures of a calibration: the posterior, the SBC rank histograms, the rolling-origin
forecasts against the record, and a forecast's weekly fan chart.

PNG files without a version stamp, so a second calibration writes the same bytes.
"""

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.calibration.abc import Prior
from sim.figures import PNG_METADATA, rendered
from sim.io import atomic_write_bytes

if TYPE_CHECKING:
    from sim.calibration.sbc import SBCResult

BASELINE_STYLES = {"poisson_past": ":", "hawkes": "--"}


def plot_posterior(priors: list[Prior], posterior: pd.DataFrame, path: Path) -> None:
    """Posterior probability of each of 20 equal bins of the prior's scale (log for log-uniform
    priors), against the prior's 1/20 per bin (line)."""
    fig, axes = plt.subplots(1, len(priors), figsize=(2.8 * len(priors), 2.6), squeeze=False)
    weights = posterior["weight"] / posterior["weight"].sum()
    for ax, prior in zip(axes[0], priors, strict=True):
        edges = (np.geomspace if prior.log else np.linspace)(prior.low, prior.high, 21)
        ax.hist(posterior[prior.path], bins=edges, weights=weights, color="tab:blue", alpha=0.8)
        ax.axhline(1 / 20, color="gray", lw=1)
        if prior.log:
            ax.set_xscale("log")
        ax.set_title(prior.path, fontsize=7)
        ax.tick_params(labelsize=7)
    fig.suptitle("Posterior probability per bin (bars) against the prior (line)", fontsize=9)
    save(fig, path)


def plot_sbc(sbc: "SBCResult", path: Path) -> None:
    """Rank histogram of each parameter, with the band a uniform histogram stays in 99% of
    the time (binomial, per bin)."""
    summary = sbc.summary
    fig, axes = plt.subplots(1, len(summary), figsize=(2.6 * len(summary), 2.4), squeeze=False)
    for ax, row in zip(axes[0], summary.itertuples(), strict=True):
        counts = sbc.histogram(row.parameter)
        n, bins = counts.sum(), len(counts)
        ax.bar(np.arange(bins) + 0.5, counts, width=0.9, color="tab:blue")
        spread = 2.576 * np.sqrt(n * (1 / bins) * (1 - 1 / bins))
        ax.axhspan(n / bins - spread, n / bins + spread, color="gray", alpha=0.25)
        ax.set_title(f"{row.parameter}\n{row.verdict}", fontsize=7)
        ax.set_xticks([])
    fig.suptitle("SBC rank histograms (normalised rank of the truth, 10 bins)", fontsize=9)
    save(fig, path)


def draw_forecasters(ax: plt.Axes, x: np.ndarray, rows: pd.DataFrame, color: str) -> None:
    """The model's 90% and 50% bands and mean, and each baseline's mean, week by week."""
    model = rows[rows["forecaster"] == "model"]
    for low, high, alpha, label in (("q05", "q95", 0.18, "90%"), ("q25", "q75", 0.35, "50%")):
        ax.fill_between(x, model[low], model[high], color=color, alpha=alpha, step="mid",
                        label=f"model {label}")  # fmt: skip
    ax.plot(x, model["mean"], color=color, label="model mean")
    for name in rows["forecaster"].unique():
        if name != "model":
            own = rows[rows["forecaster"] == name]
            ax.plot(x, own["mean"], BASELINE_STYLES.get(name, "-."), color="gray", label=name)


def plot_rolling(weekly: pd.DataFrame, path: Path) -> None:
    """Each origin's held-back weeks: observed attacks on sites, the model's 50% and 90%
    bands and mean, and the baselines' means."""
    origins = sorted(weekly["origin"].unique())
    fig, axes = plt.subplots(len(origins), 1, figsize=(8, 2.8 * len(origins)), squeeze=False)
    for ax, origin in zip(axes[:, 0], origins, strict=True):
        rows = weekly[weekly["origin"] == origin]
        model = rows[rows["forecaster"] == "model"]
        x = np.arange(len(model))
        draw_forecasters(ax, x, rows, "tab:blue")
        ax.plot(x, model["observed"], "o", color="black", label="record (listed attacks)")
        ax.set_xticks(x[::2], [w[5:] for w in model["week_start"]][::2], fontsize=7)
        ax.set_ylabel("attacks on sites / week", fontsize=8)
        ax.set_title(f"Forecast from {origin} (fitted to the record up to that day)", fontsize=9)
    axes[0, 0].legend(frameon=False, fontsize=7, ncol=3)
    save(fig, path)


def plot_fan(weekly: pd.DataFrame, path: Path) -> None:
    """Fan chart of a forecast: weekly attacks on sites (model bands, baselines' means) and
    the model's weekly attacks by mode."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    sites = weekly[weekly["series"] == "site attacks"]
    model = sites[sites["forecaster"] == "model"]
    x = np.arange(len(model))
    draw_forecasters(top, x, sites, "tab:red")
    top.set_ylabel("attacks on sites / week", fontsize=8)
    top.legend(frameon=False, fontsize=7, ncol=3)
    modes = weekly[(weekly["forecaster"] == "model") & (weekly["series"] != "site attacks")]
    for mode, color in zip(
        modes["series"].unique(), ("tab:red", "tab:purple", "tab:brown"), strict=False
    ):
        own = modes[modes["series"] == mode]
        bottom.fill_between(x, own["q05"], own["q95"], color=color, alpha=0.12, step="mid")
        bottom.plot(x, own["mean"], color=color, label=f"{mode}: mean, 90% band")
    bottom.set_ylabel("attacks / week, by mode", fontsize=8)
    bottom.legend(frameon=False, fontsize=7)
    bottom.set_xticks(x[::2], [w[5:] for w in model["week_start"]][::2], fontsize=7)
    top.set_title(f"Forecast from {model['week_start'].iloc[0]}: weekly attacks", fontsize=9)
    save(fig, path)


def save(fig: plt.Figure, path: Path) -> None:
    """Write a figure as PNG without a version stamp, and close it."""
    fig.tight_layout()
    atomic_write_bytes(path, rendered(fig, "png", PNG_METADATA, dpi=110))
    plt.close(fig)
