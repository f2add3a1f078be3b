"""The calibration file (``experiments/calibrate_2020.toml``): its schema, and loading it.

`load_calibration` checks everything a calibration needs before any run starts: the file's
fields, the fitted and base scenarios, the record, the prior paths and the checkpoints. The
first problem stops it with a one-line `CalibrationError` (or the `ScenarioError` or
`RecordError` of the file at fault).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.calibration.apmc import ABCSettings, Prior
from sim.calibration.record import StatisticSpec, load_events, record_statistics, untallied
from sim.errors import CalibrationError, input_error
from sim.input_files import read_toml
from sim.scenario import ScenarioConfig, Strict, field_exists, load_scenario

#: Scenario tables that are lists of named items (``militias.<name>.restraint``).
LIST_TABLES = ("sites", "militias")


class PriorSpec(Strict):
    """``[priors."dotted.path"]``: kind, low, high."""

    kind: Literal["uniform", "log_uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _valid_range(self) -> "PriorSpec":
        if not self.low < self.high:
            raise ValueError(f"high: must exceed low ({self.low})")
        if self.kind == "log_uniform" and self.low <= 0:
            raise ValueError("low: must be positive for a log_uniform prior")
        return self


class ABCSpec(Strict):
    """``[abc]``: population size, kept fraction and stopping rule (see `ABCSettings`)."""

    particles: Annotated[int, Field(ge=4, le=100_000)] = 200
    alpha: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_acceptance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.05
    max_generations: Annotated[int, Field(ge=1, le=100)] = 6


class CalibratedSpec(Strict):
    """``[calibrated]``: the scenario to write, the one it extends, fields carried from the fit."""

    base: str
    path: str
    carry: list[str] = Field(default_factory=list)


class ValidationSpec(Strict):
    """``[validation]``: runs of the posterior predictive check."""

    draws: Annotated[int, Field(ge=2, le=100_000)] = 200


class ForecastSpec(Strict):
    """``[forecast]``: start date, horizon and runs of the forecast."""

    start: date
    days: Annotated[int, Field(ge=1, le=3650)] = 183
    draws: Annotated[int, Field(ge=2, le=100_000)] = 200


class CalibrationFile(Strict):
    """The fields of a calibration file."""

    name: Annotated[str, Field(min_length=1)]
    scenario: str
    record: str
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)]
    workers: Annotated[int, Field(ge=1, le=1024)] = 1
    out: str
    results: str
    checkpoints: Annotated[list[date], Field(min_length=1)]
    june_start: date
    abc: ABCSpec = ABCSpec()
    priors: Annotated[dict[str, PriorSpec], Field(min_length=1)]
    calibrated: CalibratedSpec
    validation: ValidationSpec = ValidationSpec()
    forecast: ForecastSpec


@dataclass(frozen=True)
class Calibration:
    """A loaded and checked calibration: everything needed before any run starts."""

    spec: CalibrationFile
    source: str
    fit_config: ScenarioConfig
    base_config: ScenarioConfig
    events: pd.DataFrame
    statistics: StatisticSpec
    observed: dict[str, float]
    priors: list[Prior]
    out: Path
    results: Path
    calibrated_path: Path

    @property
    def settings(self) -> ABCSettings:
        abc = self.spec.abc
        return ABCSettings(abc.particles, abc.alpha, abc.min_acceptance, abc.max_generations)

    @property
    def fit_start(self) -> date:
        """First day of the fitted run (and of the record used)."""
        return self.fit_config.start_date

    @property
    def fit_end(self) -> date:
        """Last day of the fitted run."""
        return run_end(self.fit_config)


def run_end(config: ScenarioConfig) -> date:
    """The last day of a run of ``config``."""
    return config.start_date + timedelta(days=config.horizon_days)


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file, its scenarios and the record."""
    path = Path(path)
    source = str(path)
    data, _ = read_toml(path, CalibrationError, "calibration")
    try:
        spec = CalibrationFile.model_validate(data)
    except ValidationError as error:
        raise input_error(error, data, source, CalibrationError) from None
    here = path.parent
    fit_config = load_scenario(here / spec.scenario)
    base_config = load_scenario(here / spec.calibrated.base)
    events = load_events(here / spec.record)
    check_paths(spec, source, fit_config, base_config)
    statistics = check_statistics(spec, source, fit_config, events)
    return Calibration(
        spec=spec,
        source=source,
        fit_config=fit_config,
        base_config=base_config,
        events=events,
        statistics=statistics,
        observed=record_statistics(events, fit_config.start_date, statistics),
        priors=[
            Prior(p, s.low, s.high, log=s.kind == "log_uniform") for p, s in spec.priors.items()
        ],
        out=here / spec.out,
        results=here / spec.results,
        calibrated_path=here / spec.calibrated.path,
    )


def check_paths(
    spec: CalibrationFile, source: str, fit_config: ScenarioConfig, base_config: ScenarioConfig
) -> None:
    """Every prior names a field of both scenarios, every carried field one of the fitted one,
    and the calibrated-scenario writer can express each."""
    for config in (fit_config, base_config):
        for field_path in spec.priors:
            if not field_exists(field_path, config):
                raise CalibrationError(source, f"priors.{field_path}", "no such scenario field")
            toml_location(field_path, source)
    for field_path in spec.calibrated.carry:
        if not field_exists(field_path, fit_config):
            raise CalibrationError(
                source, f"calibrated.carry.{field_path}", "no such scenario field"
            )
        toml_location(field_path, source)


def check_statistics(
    spec: CalibrationFile, source: str, fit_config: ScenarioConfig, events: pd.DataFrame
) -> StatisticSpec:
    """The summary statistics' dates, each inside the fitted run and the checkpoints tallied."""
    start, end = fit_config.start_date, run_end(fit_config)
    for checkpoint in spec.checkpoints:
        if not start < checkpoint <= end:
            raise CalibrationError(source, "checkpoints", f"{checkpoint} is outside the fitted run")
    if missing := untallied(events, tuple(spec.checkpoints)):
        raise CalibrationError(
            source, "checkpoints", f"{missing[0]}: no press tally on that date in {spec.record}"
        )
    if not start <= spec.june_start <= end:
        raise CalibrationError(source, "june_start", f"{spec.june_start} is outside the fitted run")
    return StatisticSpec(checkpoints=tuple(spec.checkpoints), june=(spec.june_start, end))


def toml_location(field_path: str, source: str) -> tuple[str, str | None, str]:
    """(table, list item name or None, key) of a dotted path the scenario writer can express."""
    parts = field_path.split(".")
    if len(parts) == 2 and parts[0] not in LIST_TABLES:
        return parts[0], None, parts[1]
    if len(parts) == 3 and parts[0] in LIST_TABLES:
        return parts[0], parts[1], parts[2]
    raise CalibrationError(source, field_path, "calibrate supports table.field or list.name.field")
