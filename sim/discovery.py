"""Scenario discovery: which regions of the inputs lead to a condition (Bryant and Lempert 2010).

PRIM (the EMA Workbench's implementation: peeling, then pasting) finds a box of the swept inputs
in which the condition is much more common than overall. Each box on the peeling trajectory has a
coverage (its share of all the runs meeting the condition) and a density (the share of its runs
that meet it); `chosen_box` takes the densest box whose coverage is at least ``min_coverage``.
Each limit of that box has a quasi-p-value (a one-sided binomial test of whether the limit
matters: Bryant and Lempert 2010). CART (scikit-learn's decision tree, fixed ``random_state``)
gives a second, tree-shaped description. Both need the ``analysis`` extra.

Runs are the rows (a design point's replicates each count), so density is a probability over
runs, seed noise included.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.errors import InputError, MissingExtraError

DEFAULT_MIN_COVERAGE = 0.5
DEFAULT_MASS_MIN = 0.05
DEFAULT_ALPHA = 0.05
DEFAULT_DEPTH = 3


@dataclass(frozen=True)
class Discovery:
    """PRIM's peeling trajectory, the chosen box and its limits, and the CART tree."""

    condition: str
    runs: int
    cases: int
    trajectory: pd.DataFrame  # one row per box: coverage, density, mass, restricted dims
    chosen: int  # index of the chosen box in the trajectory
    limits: pd.DataFrame  # the chosen box: input, kind, low, high, levels, qp values
    tree_rules: pd.DataFrame  # CART leaves: rule, runs, density, coverage
    tree_text: str
    tree: object  # the fitted sklearn DecisionTreeClassifier
    features: list[str]


def require_analysis_extra() -> None:
    """Stop with bad input (exit 2) when the ``analysis`` extra is missing."""
    from importlib.util import find_spec

    if find_spec("ema_workbench") is None or find_spec("sklearn") is None:
        raise MissingExtraError("escalation discover", "analysis")


def import_prim():
    """The EMA Workbench's PRIM, imported without its optional-dependency warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim
    return prim


def run_prim(
    x: pd.DataFrame, y: np.ndarray, mass_min: float, alpha: float
) -> tuple[pd.DataFrame, object]:
    """Peel and paste one box; return its trajectory and the PRIM box object."""
    prim = import_prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        algorithm = prim.Prim(
            x, y.astype(int), peel_alpha=alpha, paste_alpha=alpha, mass_min=mass_min
        )
        box = algorithm.find_box()
    trajectory = box.peeling_trajectory[["coverage", "density", "mass", "res_dim", "n", "k"]]
    return trajectory.reset_index(drop=True).astype(float), box


def chosen_box(trajectory: pd.DataFrame, min_coverage: float) -> int:
    """The densest box with coverage >= ``min_coverage`` (fewest restrictions, then the
    earliest, on ties); the first box when none has that coverage."""
    eligible = trajectory[trajectory["coverage"] >= min_coverage - 1e-12]
    if eligible.empty:
        return 0
    best = eligible.sort_values(["density", "res_dim"], ascending=[False, True], kind="stable")
    return int(best.index[0])


def box_limits(box: object, index: int, x: pd.DataFrame) -> pd.DataFrame:
    """The restricted inputs of box ``index``: limits (or levels kept) and quasi-p-values.

    Read from the box's limits and quasi-p-values directly: the Workbench's ``inspect`` cannot
    tabulate a restricted categorical input.
    """
    limits, initial = box.box_lims[index], box.box_lims[0]
    qp = box.p_values[index]
    rows = []
    for name in initial.columns:
        if all(a == b for a, b in zip(limits[name], initial[name], strict=True)):
            continue
        low, high = limits[name]
        qp_low, qp_high = (np.nan if value == -1 else float(value) for value in qp[name])
        numeric = pd.api.types.is_numeric_dtype(x[name])
        full = x[name].max() - x[name].min() if numeric else x[name].nunique()
        kept = high - low if numeric else len(low)
        rows.append(
            {
                "input": name,
                "kind": "range" if numeric else "levels",
                "share": float(kept / full) if full else 1.0,
                "low": float(low) if numeric else np.nan,
                "high": float(high) if numeric else np.nan,
                "levels": "" if numeric else ", ".join(sorted(str(v) for v in low)),
                "full_low": float(x[name].min()) if numeric else np.nan,
                "full_high": float(x[name].max()) if numeric else np.nan,
                "qp_low": qp_low,
                "qp_high": qp_high,
            }
        )
    return pd.DataFrame(rows, columns=LIMIT_COLUMNS)


LIMIT_COLUMNS = (
    "input",
    "kind",
    "share",
    "low",
    "high",
    "levels",
    "full_low",
    "full_high",
    "qp_low",
    "qp_high",
)


def encoded_inputs(x: pd.DataFrame) -> pd.DataFrame:
    """Numeric inputs as they are; categorical ones one-hot (``us.policy=never``), for CART."""
    parts = []
    for name in x.columns:
        if pd.api.types.is_numeric_dtype(x[name]) and not pd.api.types.is_bool_dtype(x[name]):
            parts.append(x[[name]].astype(float))
        else:
            levels = list(dict.fromkeys(x[name].astype(str)))
            parts.append(
                pd.DataFrame(
                    {f"{name}={level}": (x[name].astype(str) == level) for level in levels}
                ).astype(float)
            )
    return pd.concat(parts, axis=1)


def run_cart(x: pd.DataFrame, y: np.ndarray, depth: int, mass_min: float):
    """A classification tree of the condition (scikit-learn), its leaves as rules, and its text."""
    from sklearn.tree import DecisionTreeClassifier, export_text

    features = encoded_inputs(x)
    tree = DecisionTreeClassifier(
        max_depth=depth,
        min_samples_leaf=max(1, int(np.ceil(mass_min * len(y)))),
        random_state=0,
    ).fit(features.to_numpy(), y.astype(int))
    names = list(features.columns)
    text = export_text(tree, feature_names=names, decimals=3)
    leaves = tree.apply(features.to_numpy())
    return tree, leaf_rules(tree, names, leaves, y), text, names


def leaf_rules(tree, names: list[str], leaves: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Every leaf of a fitted tree: the rule leading to it, its runs, density and coverage."""
    inner = tree.tree_
    total = max(int(y.sum()), 1)
    rows = []

    def walk(node: int, conditions: list[str]) -> None:
        if inner.children_left[node] == inner.children_right[node]:
            members = leaves == node
            cases = int(y[members].sum())
            rows.append(
                {
                    "rule": " and ".join(conditions) or "all runs",
                    "runs": int(members.sum()),
                    "density": cases / max(int(members.sum()), 1),
                    "coverage": cases / total,
                }
            )
            return
        left, right = split_words(names[inner.feature[node]], inner.threshold[node])
        walk(inner.children_left[node], [*conditions, left])
        walk(inner.children_right[node], [*conditions, right])

    walk(0, [])
    table = pd.DataFrame(rows, columns=["rule", "runs", "density", "coverage"])
    return table.sort_values(["density", "runs"], ascending=False, kind="stable", ignore_index=True)


def split_words(feature: str, threshold: float) -> tuple[str, str]:
    """A split's two conditions; a one-hot level (``us.policy=never``) as ``==`` and ``!=``."""
    name, sep, level = feature.partition("=")
    if sep:
        return f"{name} != {level}", f"{name} == {level}"
    return f"{feature} <= {threshold:.4g}", f"{feature} > {threshold:.4g}"


def discover(
    x: pd.DataFrame,
    y: np.ndarray,
    condition: str,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
    mass_min: float = DEFAULT_MASS_MIN,
    alpha: float = DEFAULT_ALPHA,
    depth: int = DEFAULT_DEPTH,
) -> Discovery:
    """PRIM and CART of the condition ``y`` (one boolean per run) over the inputs ``x``."""
    if not y.any() or y.all():
        share = "every" if y.all() else "no"
        raise InputError("--where", repr(condition), f"holds in {share} run; nothing to discover")
    trajectory, box = run_prim(x, y, mass_min, alpha)
    chosen = chosen_box(trajectory, min_coverage)
    tree, rules, text, features = run_cart(x, y, depth, mass_min)
    return Discovery(
        condition=condition,
        runs=len(y),
        cases=int(y.sum()),
        trajectory=trajectory,
        chosen=chosen,
        limits=box_limits(box, chosen, x),
        tree_rules=rules,
        tree_text=text,
        tree=tree,
        features=features,
    )
