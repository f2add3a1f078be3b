"""The model as the browser view builds it: a scenario file plus the page's controls.

Every model the page shows is built from a `Controls` value, so the page can print the exact
`escalation run` command that reproduces it. The choices the controls offer come from the
scenario itself (its US types) and from the scenario format (the mechanism switches).
"""

from __future__ import annotations

import os
import shlex
from dataclasses import asdict, dataclass
from functools import partial
from operator import attrgetter
from pathlib import Path
from statistics import fmean
from typing import Any, get_args

import mesa

from sim.model import EscalationModel, EscalationScenario
from sim.scenario import Mechanisms, ScenarioConfig, apply_overrides, load_scenario

#: Environment variable naming the scenario file the page opens (set by `escalation viz`).
SCENARIO_ENV = "ESCALATION_SCENARIO"
DEFAULT_SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "june2020.toml"
SEED_MAX = 999
DECIMALS = 4  # slider values are rounded to this, so the command shown carries the values used

#: The scenario fields the controls set (besides the militias' common restraint), by control.
CONTROL_PATHS = {
    "policy": "us.policy",
    "threat_prob": "us.threat_prob",
    "attribution": "mechanisms.attribution",
    "enforcement": "government.enforcement",
}
RESTRAINT_PATH = "militias.*.restraint"


def scenario_file() -> str:
    """The scenario file to open: $ESCALATION_SCENARIO, else the June 2020 scenario."""
    path = Path(os.environ.get(SCENARIO_ENV) or DEFAULT_SCENARIO)
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def us_type_names(config: ScenarioConfig) -> list[str]:
    """The values `us.policy` may take: the names of the scenario's US types, in its order."""
    return [us_type.name for us_type in config.us_types]


def mechanism_settings(switch: str) -> list[str]:
    """The settings of a `[mechanisms]` switch, v2's default first (from the scenario format)."""
    return list(get_args(Mechanisms.model_fields[switch].annotation))


@dataclass(frozen=True)
class Controls:
    """The page's settings: a scenario file, the values the page may override and a seed.

    The militia restraint overrides the scenario's per-group values only when
    ``same_restraint`` is set; otherwise each group keeps its own.
    """

    scenario_file: str
    policy: str
    enforcement: float
    same_restraint: bool
    restraint: float
    threat_prob: float
    attribution: str
    seed: int

    def overrides(self, base: ScenarioConfig) -> dict[str, Any]:
        """The `--set` overrides these controls apply: each value that differs from ``base``
        (the scenario file, loaded), and the common restraint when it is on."""
        values = {
            path: getattr(self, control)
            for control, path in CONTROL_PATHS.items()
            if getattr(self, control) != attrgetter(path)(base)
        }
        if self.same_restraint:
            values[RESTRAINT_PATH] = self.restraint
        return values

    def command(self, overrides: dict[str, Any], wrap: bool = False) -> str:
        """The `escalation run` command line that runs the same model, given the controls'
        ``overrides`` (see `overrides`; ``wrap``: one `--set` a line, with shell line
        continuations)."""
        parts = [shlex.join(["escalation", "run", self.scenario_file, "--seed", str(self.seed)])]
        parts += [shlex.join(["--set", f"{path}={value}"]) for path, value in overrides.items()]
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
        threat_prob=config.us.threat_prob,
        attribution=config.mechanisms.attribution,
        seed=0,
    )


def page_reporters(config: ScenarioConfig) -> dict[str, Any]:
    """Daily series only the page draws (the run's own series stay as `escalation run` writes
    them): what is on today, running counts of US and government moves, and each militia
    group's belief that the US backs its threats."""
    reporters: dict[str, Any] = {
        "day": "day",
        "threat_live": lambda m: m.us.threat_live(),
        "truce": lambda m: m.truce_active(),
        "host_pressure": lambda m: m.us.host_pressure_on(),
        "committed": lambda m: m.us.committed,
        "answers": lambda m: m.us.answers,
        "threats": lambda m: m.us.threats,
        "bluffs": lambda m: m.us.bluffs,
        "shows_of_force": lambda m: m.us.shows_of_force,
        "host_pressures": lambda m: m.us.host_pressures,
        "raids": lambda m: m.government.raids,
    }
    for militia in config.militias:
        reporters[f"credibility:{militia.name}"] = partial(_militia_credibility, name=militia.name)
    return reporters


def _militia_credibility(model: EscalationModel, name: str) -> float:
    return model.militia(name).belief.credibility


class BrowserModel(EscalationModel):
    """`EscalationModel` built from the page's controls (keyword arguments, as Mesa's Reset passes).

    Besides the run's daily series (``datacollector``, as `escalation run` writes it) it keeps
    the series only the page draws (``page_series``, see `page_reporters`), and the command
    that reproduces it (``reproduce_command``), worked out once from the scenario file.
    """

    def __init__(
        self,
        scenario_file: str,
        policy: str,
        enforcement: float,
        same_restraint: bool,
        restraint: float,
        threat_prob: float,
        attribution: str,
        seed: int,
    ):
        controls = Controls(
            scenario_file=scenario_file,
            policy=policy,
            enforcement=round(float(enforcement), DECIMALS),
            same_restraint=bool(same_restraint),
            restraint=round(float(restraint), DECIMALS),
            threat_prob=round(float(threat_prob), DECIMALS),
            attribution=attribution,
            seed=int(seed),
        )
        base = load_scenario(scenario_file)  # read once: the page re-renders on every step
        overrides = controls.overrides(base)
        config = apply_overrides(base, overrides, "browser view")
        # Made before the model, whose constructor records day 0 (see `collect`).
        self.page_series = mesa.DataCollector(model_reporters=page_reporters(config))
        super().__init__(EscalationScenario(rng=controls.seed, config=config))
        self.controls = controls
        #: The `escalation run` command that reproduces this model, as the page shows it.
        self.reproduce_command = controls.command(overrides, wrap=True)

    @classmethod
    def from_controls(cls, controls: Controls) -> BrowserModel:
        """Build the model for ``controls``."""
        return cls(**asdict(controls))

    def collect(self) -> None:
        """Record today's state: the run's series and the page's."""
        super().collect()
        self.page_series.collect(self)
