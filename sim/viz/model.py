"""The model as the browser view builds it: a scenario file plus the page's controls.

Every model the page shows is built from a `Controls` value, so the page can print the exact
`escalation run` command that reproduces it.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean
from typing import Any

from sim.model import EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig, apply_overrides, load_scenario

#: Environment variable naming the scenario file the page opens (set by `escalation viz`).
SCENARIO_ENV = "ESCALATION_SCENARIO"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "june2020.toml"
POLICIES = ("never", "proportionate", "disproportionate", "escalation_dominance")
SEED_MAX = 999


def scenario_file() -> str:
    """The scenario file to open: $ESCALATION_SCENARIO, else the June 2020 scenario."""
    path = Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Controls:
    """The page's settings: a scenario file, the parameters the page overrides and a seed.

    The militia restraint overrides the scenario's per-group values only when
    ``same_restraint`` is set; otherwise each group keeps its own.
    """

    scenario_file: str
    policy: str
    enforcement: float
    same_restraint: bool
    restraint: float
    seed: int

    def overrides(self) -> dict[str, Any]:
        """The `--set` overrides these controls apply to the scenario file."""
        values: dict[str, Any] = {"us.policy": self.policy}
        if self.same_restraint:
            values["militias.*.restraint"] = self.restraint
        values["government.enforcement"] = self.enforcement
        return values

    def config(self) -> ScenarioConfig:
        """The scenario file with the overrides applied (raises `ScenarioError`)."""
        return apply_overrides(load_scenario(self.scenario_file), self.overrides(), "browser view")

    def command(self, wrap: bool = False) -> str:
        """The `escalation run` command line that runs the same model (``wrap``: one `--set` a
        line, with shell line continuations)."""
        parts = [shlex.join(["escalation", "run", self.scenario_file, "--seed", str(self.seed)])]
        parts += [
            shlex.join(["--set", f"{path}={value}"]) for path, value in self.overrides().items()
        ]
        return (" \\\n    " if wrap else " ").join(parts)


def default_controls(path: str) -> Controls:
    """Controls that leave the scenario file as it is, with seed 0."""
    config = load_scenario(path)
    mean_restraint = fmean(m.restraint for m in config.militias)
    return Controls(
        scenario_file=path,
        policy=config.us.policy,
        enforcement=config.government.enforcement,
        same_restraint=False,
        restraint=round(mean_restraint * 20) / 20,
        seed=0,
    )


class BrowserModel(EscalationModel):
    """`EscalationModel` built from the page's controls (keyword arguments, as Mesa's Reset passes).

    Slider values are rounded to 4 decimals so the shown command carries the exact values used.
    """

    def __init__(
        self,
        scenario_file: str,
        policy: str,
        enforcement: float,
        same_restraint: bool,
        restraint: float,
        seed: int,
    ):
        controls = Controls(
            scenario_file=scenario_file,
            policy=policy,
            enforcement=round(float(enforcement), 4),
            same_restraint=bool(same_restraint),
            restraint=round(float(restraint), 4),
            seed=int(seed),
        )
        super().__init__(EscalationScenario(rng=controls.seed, config=controls.config()))
        self.controls = controls

    @classmethod
    def from_controls(cls, controls: Controls) -> BrowserModel:
        """Build the model for ``controls``."""
        return cls(**asdict(controls))
