"""Does a conclusion survive a change of model structure? Policy effects across variants.

A sweep with ``[variants]`` and ``[levers]`` runs every candidate policy under every structural
variant. For each outcome, each variant and each policy, `policy_effects` estimates the effect of
the policy against a reference policy (the difference of means, with a 95% interval): paired by
(world, replicate) when the sweep used common random numbers, so the same seeds meet both
policies, else Welch's interval. `conclusions` then states what a researcher would conclude in the
first (reference) variant, the sign of each effect and the order of each pair of policies, and
whether every other variant agrees. An effect whose interval includes 0 is "no clear effect":
a conclusion holds in a variant only when that variant shows the same clear sign.
"""

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim.analysis import mean_interval

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Effect:
    """A difference of means with its interval and the number of runs or pairs behind it."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def sign(self) -> str:
        """'+' or '-' when the interval excludes 0, '0' otherwise."""
        if self.low > 0:
            return "+"
        if self.high < 0:
            return "-"
        return "0"


def paired_effect(a: pd.Series, b: pd.Series, confidence: float = CONFIDENCE) -> Effect:
    """Mean of b - a over the keys both have, with a t interval of the paired differences."""
    differences = (b - a).dropna().to_numpy(dtype=float)
    return t_interval(differences, confidence)


def t_interval(values: np.ndarray, confidence: float) -> Effect:
    """The mean of ``values`` and its Student-t interval (the mean itself when it cannot vary)."""
    if not len(values):
        return Effect(math.nan, math.nan, math.nan, 0)
    return Effect(*mean_interval(values, confidence), len(values))


def welch_effect(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> Effect:
    """Mean of b minus mean of a, with Welch's interval (`scipy.stats.ttest_ind`)."""
    estimate = float(b.mean() - a.mean())
    if len(a) < 2 or len(b) < 2 or (a.std() == 0 and b.std() == 0):
        return Effect(estimate, estimate, estimate, len(a) + len(b))
    interval = stats.ttest_ind(b, a, equal_var=False).confidence_interval(confidence)
    return Effect(estimate, float(interval.low), float(interval.high), len(a) + len(b))


def effect_between(
    runs: pd.DataFrame, values: str, first: str, second: str, paired: bool
) -> Effect:
    """The effect of policy ``second`` against policy ``first`` on ``values``, in ``runs``."""
    keys = [k for k in ("world", "replicate") if k in runs]
    a = runs[runs["policy"] == first]
    b = runs[runs["policy"] == second]
    if paired:
        return paired_effect(a.set_index(keys)[values], b.set_index(keys)[values])
    return welch_effect(a[values].to_numpy(float), b[values].to_numpy(float))


def policy_effects(runs: pd.DataFrame, outcome: str, reference: str, paired: bool) -> pd.DataFrame:
    """Per variant and policy: the mean outcome and the effect against ``reference``.

    ``runs`` has the columns variant, policy, replicate (world if any) and ``outcome``.
    """
    rows = []
    policies = list(dict.fromkeys(runs["policy"]))
    for variant, part in runs.groupby("variant", sort=False):
        for policy in policies:
            mean = float(part.loc[part["policy"] == policy, outcome].mean())
            effect = effect_between(part, outcome, reference, policy, paired)
            rows.append(
                {
                    "outcome": outcome,
                    "variant": variant,
                    "policy": policy,
                    "mean": mean,
                    "effect": effect.estimate,
                    "effect_low": effect.low,
                    "effect_high": effect.high,
                    "sign": effect.sign if policy != reference else "",
                    "n": effect.n,
                }
            )
    return pd.DataFrame(rows)


def conclusions(runs: pd.DataFrame, outcome: str, reference: str, paired: bool) -> pd.DataFrame:
    """Each conclusion of the first variant and whether every variant draws it.

    Two kinds: the effect of each policy against the reference ("us.policy=never vs
    reference: +"), and the order of each pair of policies ("A < B"), both only when the first
    variant's interval excludes 0 (otherwise the conclusion is "no clear effect", which holds
    where the other variants show no clear effect either).
    """
    variants = list(dict.fromkeys(runs["variant"]))
    policies = list(dict.fromkeys(runs["policy"]))
    pairs = [(reference, p) for p in policies if p != reference]
    pairs += [(a, b) for a, b in itertools.combinations(policies, 2) if reference not in (a, b)]
    rows = []
    for first, second in pairs:
        signs = {
            variant: effect_between(
                runs[runs["variant"] == variant], outcome, first, second, paired
            )
            for variant in variants
        }
        base = signs[variants[0]]
        agree = [v for v in variants if signs[v].sign == base.sign]
        rows.append(
            {
                "outcome": outcome,
                "conclusion": f"{second} vs {first}: {describe_sign(base.sign)}",
                "estimate": base.estimate,
                "low": base.low,
                "high": base.high,
                **{f"sign[{v}]": signs[v].sign for v in variants},
                "holds_in_every_variant": len(agree) == len(variants),
                "differs_in": ", ".join(v for v in variants if v not in agree),
            }
        )
    return pd.DataFrame(rows)


def describe_sign(sign: str) -> str:
    """A conclusion's words for a sign."""
    return {"+": "higher", "-": "lower", "0": "no clear difference"}[sign]


def ranking(effects: pd.DataFrame) -> pd.DataFrame:
    """Per variant, the policies ordered by mean outcome (lowest first), and whether the order
    is the first variant's."""
    rows = []
    orders = {
        variant: part.sort_values("mean", kind="stable")["policy"].tolist()
        for variant, part in effects.groupby("variant", sort=False)
    }
    first = next(iter(orders.values()))
    for variant, order in orders.items():
        rows.append(
            {
                "outcome": effects["outcome"].iloc[0],
                "variant": variant,
                "order_lowest_first": " < ".join(order),
                "same_as_first_variant": order == first,
            }
        )
    return pd.DataFrame(rows)
