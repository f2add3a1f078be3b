"""Candidate policies across sampled worlds: outcomes, regret, minimax regret and satisficing.

An experiment may list **levers**, fields a decision maker sets (``[levers."us.policy"]``,
categorical or a few values), and **variants**, named sets of structural switches
(``[variants.flat_choice] "mechanisms.choice" = "flat"``). Every combination of the levers' levels
is a candidate policy; each policy (in each variant) is crossed with every point of the design,
the sampled **worlds** of the uncertain inputs, so all policies face the same worlds (with
``common_random_numbers``, the same seeds too). Extra columns say which: ``variant`` (its name),
``policy`` (``us.policy=never, us.threat_prob=0.2``) and ``world`` (the design point).

The analysis: per policy and world the mean of an outcome over replicates; per world the best
policy; a policy's regret in a world is how much worse it does than that best; the minimax-regret
policy has the smallest largest regret, and satisficing counts the worlds in which a policy meets
a threshold. With variants, a world is a (variant, design point) pair: structure is one more
thing nobody knows. Seed noise inflates regret (the best of noisy means is biased up), so the
report gives the standard error of the per-world means next to the regrets.
"""

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.errors import ExperimentError, InputError, ScenarioError
from sim.scenario import ScenarioConfig, apply_overrides, field_exists

if TYPE_CHECKING:
    from sim.experiment import ExperimentFile

GOALS = ("min", "max")


# --- the design: policies x variants x worlds ---------------------------------------------------


def policy_label(levels: dict[str, Any]) -> str:
    """A policy's name from its lever levels: ``us.policy=never, us.threat_prob=0.2``."""
    return ", ".join(f"{name}={value}" for name, value in levels.items())


def lever_levels(spec: "ExperimentFile") -> list[dict[str, Any]]:
    """Every combination of the levers' levels, in order (one empty policy without levers)."""
    levels = [lever.grid(spec.design.grid_levels) for lever in spec.levers.values()]
    return [dict(zip(spec.levers, combo, strict=True)) for combo in itertools.product(*levels)]


def cross_levers_and_variants(
    spec: "ExperimentFile", points: list[dict[str, Any]], extra: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The design's points crossed with the policies and the variants: variant, then policy,
    then world (the design point) vary slowest to fastest."""
    if not spec.levers and not spec.variants:
        return points, extra
    variants = list(spec.variants.items()) or [(None, {})]
    crossed, columns = [], []
    for (variant, switches), policy in itertools.product(variants, lever_levels(spec)):
        for world, (point, more) in enumerate(zip(points, extra, strict=True)):
            crossed.append({**switches, **policy, **point})
            tags = {"variant": variant} if variant is not None else {}
            if spec.levers:
                tags |= {"policy": policy_label(policy), "world": world}
            columns.append({**tags, **more})
    return crossed, columns


def check_levers_and_variants(spec: "ExperimentFile", config: ScenarioConfig, source: str) -> None:
    """Levers have few levels and are not also parameters; each variant is a valid scenario."""
    for name in spec.levers:
        if name in spec.parameters:
            raise ExperimentError(source, f"levers.{name}", "is also a parameter")
    for name, switches in spec.variants.items():
        if not isinstance(switches, dict):
            raise ExperimentError(source, f"variants.{name}", "must be a table of fields")
        for path in switches:
            if not field_exists(path, config):
                raise ExperimentError(source, f"variants.{name}.{path}", "no such scenario field")
            if path in spec.parameters or path in spec.levers:
                raise ExperimentError(source, f"variants.{name}.{path}", "is also swept")
        try:
            apply_overrides(config, switches, source)
        except ScenarioError as error:
            raise ExperimentError(source, f"variants.{name}.{error.field}", error.problem) from None


# --- the analysis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RobustResult:
    """Per (policy, world) means, the regret matrix, and the summary per policy."""

    outcomes: pd.DataFrame  # policy x world: mean outcome over replicates
    regret: pd.DataFrame  # policy x world
    summary: pd.DataFrame  # one row per policy
    standard_error: float  # median standard error of a (policy, world) mean
    goal: str
    threshold: float | None


def world_keys(runs: pd.DataFrame) -> list[str]:
    """The columns that identify a world: the design point, and the variant if any."""
    return [column for column in ("variant", "world") if column in runs]


def policy_world_means(runs: pd.DataFrame, values: np.ndarray) -> tuple[pd.DataFrame, float]:
    """The mean of ``values`` per (policy, world), policies in order of appearance, and the
    median standard error of those means (NaN with one replicate)."""
    table = runs[["policy", *world_keys(runs)]].assign(value=values)
    grouped = table.groupby(["policy", *world_keys(runs)], sort=False)["value"]
    means = grouped.mean().unstack(world_keys(runs))
    errors = grouped.std(ddof=1) / np.sqrt(grouped.count())
    order = list(dict.fromkeys(runs["policy"]))
    return means.loc[order], float(errors.median())


def regret_matrix(outcomes: pd.DataFrame, goal: str) -> pd.DataFrame:
    """How much worse each policy (row) does than the best policy in each world (column)."""
    if goal == "min":
        return outcomes - outcomes.min(axis=0)
    return outcomes.max(axis=0) - outcomes


def meets(outcomes: pd.DataFrame, goal: str, threshold: float) -> pd.DataFrame:
    """Whether each policy's mean outcome meets the threshold in each world."""
    return outcomes <= threshold if goal == "min" else outcomes >= threshold


def robust_summary(
    outcomes: pd.DataFrame, goal: str, threshold: float | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The regret matrix and one row per policy: outcome quantiles across worlds, mean and
    maximum regret, the share of worlds where it is best, the satisficing share, and which
    policies minimise maximum regret and satisfice most often."""
    if goal not in GOALS:
        raise InputError("--goal", goal, f"must be one of {', '.join(GOALS)}")
    regret = regret_matrix(outcomes, goal)
    summary = pd.DataFrame(
        {
            "policy": outcomes.index,
            "worlds": outcomes.notna().sum(axis=1).to_numpy(),
            "outcome_mean": outcomes.mean(axis=1).to_numpy(),
            "outcome_q05": outcomes.quantile(0.05, axis=1).to_numpy(),
            "outcome_median": outcomes.median(axis=1).to_numpy(),
            "outcome_q95": outcomes.quantile(0.95, axis=1).to_numpy(),
            "regret_mean": regret.mean(axis=1).to_numpy(),
            "regret_max": regret.max(axis=1).to_numpy(),
            "best_share": (regret == 0).mean(axis=1).to_numpy(),
        }
    )
    summary["minimax_regret"] = np.isclose(summary["regret_max"], summary["regret_max"].min())
    if threshold is not None:
        share = meets(outcomes, goal, threshold).mean(axis=1).to_numpy()
        summary["satisficing_share"] = share
        summary["most_satisficing"] = np.isclose(share, share.max())
    return regret, summary


def robust_analysis(
    runs: pd.DataFrame, values: np.ndarray, goal: str, threshold: float | None
) -> RobustResult:
    """`robust_summary` of ``values`` (one per run of ``runs``, with policy and world columns)."""
    outcomes, error = policy_world_means(runs, values)
    regret, summary = robust_summary(outcomes, goal, threshold)
    return RobustResult(outcomes, regret, summary, error, goal, threshold)
