"""Run one scenario to its horizon and collect outcomes and the daily series."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model import EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig

Seed = int | np.random.SeedSequence


@dataclass
class RunResult:
    """Outcomes of one run, and its daily series when asked for."""

    outcomes: dict[str, Any]
    series: pd.DataFrame | None


def simulate(config: ScenarioConfig, seed: Seed, series: bool = False) -> RunResult:
    """Run ``config`` with ``seed`` for ``config.horizon_days`` days.

    Outcomes are computed directly by the model; the daily series (one row per day, day 0 the
    initial state) comes from the model's DataCollector, which runs only when ``series`` is set.
    """
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=series)
    while model.running:
        model.step()
    table = model.datacollector.get_model_vars_dataframe() if series else None
    return RunResult(model.outcomes(), table)
