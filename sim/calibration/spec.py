"""The calibration file (``experiments/calibrate_2020.toml``): its schema, and loading it.

`load_calibration` checks everything a calibration needs before any run starts: the file's
fields, the fitted and base scenarios, the record, the prior paths, the statistics' dates and
sites, the rolling origins and the events the forecast may know of. The first problem stops it
with a one-line `CalibrationError` (or the `ScenarioError` or `RecordError` of the file at fault).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.calibration.abc import ABCSettings, Prior
from sim.calibration.record import StatisticSpec, load_events, record_statistics
from sim.errors import CalibrationError, ScenarioError, input_error
from sim.input_files import read_toml
from sim.scenario import (
    CalendarEvent,
    ScenarioConfig,
    Strict,
    field_exists,
    load_scenario,
    validate_scenario,
)

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


class StatisticsSpec(Strict):
    """``[statistics]``: ends of the attack-count windows, the Baghdad sites, time windows."""

    periods: Annotated[list[date], Field(min_length=1)]
    baghdad_sites: Annotated[list[str], Field(min_length=1)]
    answer_within_days: Annotated[int, Field(ge=0, le=30)] = 2
    escalation_window_days: Annotated[int, Field(ge=1, le=120)] = 30


class ABCSpec(Strict):
    """``[abc]``: see `ABCSettings`."""

    replicates: Annotated[int, Field(ge=1, le=20)] = 2
    prior_draws: Annotated[int, Field(ge=4, le=100_000)] = 1000
    accepted: Annotated[int, Field(ge=4, le=100_000)] = 300
    max_proposals: Annotated[int, Field(ge=4, le=100_000)] = 1500
    quantile: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    min_acceptance: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2
    max_generations: Annotated[int, Field(ge=2, le=100)] = 30


class SBCSpec(Strict):
    """``[sbc]``: simulation-based calibration on the prior draws of the main fit."""

    histories: Annotated[int, Field(ge=2, le=10_000)] = 100
    nearest: Annotated[int, Field(ge=2, le=100_000)] = 100


class RollingSpec(Strict):
    """``[rolling]``: the origins of the out-of-sample tests inside the record."""

    origins: list[date] = Field(default_factory=list)


class BaselineSpec(Strict):
    """``[baselines]``: the recent-rate window and the Hawkes process's simulated paths."""

    recent_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    hawkes_paths: Annotated[int, Field(ge=100, le=100_000)] = 2000


class ForecastSpec(Strict):
    """``[forecast]``: from when, for how long, and the dated events known by the fit's end."""

    date: date
    days: Annotated[int, Field(ge=7, le=1000)] = 182
    events: list[CalendarEvent] = Field(default_factory=list)


class CalibratedSpec(Strict):
    """``[calibrated]``: the scenario to write, the one it extends, fields carried from the fit."""

    base: str
    path: str
    carry: list[str] = Field(default_factory=list)


class CalibrationFile(Strict):
    """The fields of a calibration file."""

    name: Annotated[str, Field(min_length=1)]
    scenario: str
    record: str
    seed: Annotated[int, Field(ge=0, le=2**64 - 1)]
    workers: Annotated[int, Field(ge=1, le=1024)] = 1
    out: str
    results: str
    statistics: StatisticsSpec
    abc: ABCSpec = ABCSpec()
    priors: Annotated[dict[str, PriorSpec], Field(min_length=1)]
    sbc: SBCSpec = SBCSpec()
    rolling: RollingSpec = RollingSpec()
    baselines: BaselineSpec = BaselineSpec()
    forecast: ForecastSpec
    calibrated: CalibratedSpec


@dataclass(frozen=True)
class Calibration:
    """A loaded and checked calibration: everything needed before any run starts."""

    spec: CalibrationFile
    source: str
    fit_config: ScenarioConfig
    base_config: ScenarioConfig
    events: pd.DataFrame
    priors: list[Prior]
    out: Path
    results: Path
    calibrated_path: Path

    @property
    def settings(self) -> ABCSettings:
        return ABCSettings(**self.spec.abc.model_dump())

    @property
    def fit_start(self) -> date:
        """First day of the fitted runs (and of the record used)."""
        return self.fit_config.start_date

    @property
    def fit_end(self) -> date:
        """Last day of the fitted record."""
        return run_end(self.fit_config)

    @property
    def record_path(self) -> Path:
        return Path(self.source).parent / self.spec.record

    def statistics(self, until: date) -> StatisticSpec:
        """The statistics of the record up to ``until``."""
        spec = self.spec.statistics
        return StatisticSpec(
            start=self.fit_start,
            periods=tuple(spec.periods),
            until=until,
            baghdad_sites=tuple(spec.baghdad_sites),
            answer_within_days=spec.answer_within_days,
            escalation_window_days=spec.escalation_window_days,
        )

    def observed(self, until: date) -> np.ndarray:
        """The record's statistics up to ``until``."""
        return np.array(record_statistics(self.events, self.statistics(until)))


def run_end(config: ScenarioConfig) -> date:
    """The last day of a run of ``config``."""
    return config.start_date + timedelta(days=config.horizon_days)


def window_config(
    config: ScenarioConfig, until: date, end: date | None = None, extra: tuple = ()
) -> ScenarioConfig:
    """``config`` knowing the record only up to ``until`` and run to ``end`` (default: ``until``):
    its events are those on or before ``until`` and those announced before it, plus ``extra``
    (announced events, kept as given so that validation refuses one not known by ``until``)."""
    data = config.model_dump(mode="python")
    known = [
        e
        for e in config.events
        if e.date <= until or (e.announced is not None and e.announced < until and e.source)
    ]
    data["events"] = [e.model_dump() for e in (*known, *extra)]
    data["record_until"] = until
    data["horizon_days"] = ((end or until) - config.start_date).days
    return validate_scenario(data, f"<{config.name} known to {until}>")


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
    check_dates(spec, source, fit_config)
    calibration = Calibration(
        spec=spec,
        source=source,
        fit_config=fit_config,
        base_config=base_config,
        events=events,
        priors=[
            Prior(p, s.low, s.high, log=s.kind == "log_uniform") for p, s in spec.priors.items()
        ],
        out=here / spec.out,
        results=here / spec.results,
        calibrated_path=here / spec.calibrated.path,
    )
    check_forecast_events(calibration)
    return calibration


def check_paths(
    spec: CalibrationFile, source: str, fit_config: ScenarioConfig, base_config: ScenarioConfig
) -> None:
    """Every prior names a field of both scenarios, every carried field one of the fitted one,
    the calibrated-scenario writer can express each, and the Baghdad sites exist."""
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
    sites = {site.name for site in fit_config.sites}
    for index, site in enumerate(spec.statistics.baghdad_sites):
        if site not in sites:
            raise CalibrationError(
                source, f"statistics.baghdad_sites[{index}]", f"no site {site!r} in {spec.scenario}"
            )


def check_dates(spec: CalibrationFile, source: str, fit_config: ScenarioConfig) -> None:
    """Windows and origins inside the fitted run, in order; the forecast from its end on."""
    start, end = fit_config.start_date, run_end(fit_config)
    for field, dates in (
        ("statistics.periods", spec.statistics.periods),
        ("rolling.origins", spec.rolling.origins),
    ):
        for index, when in enumerate(dates):
            if not start < when < end:
                raise CalibrationError(
                    source, f"{field}[{index}]", f"{when} is not inside the fitted run"
                )
            if index and when <= dates[index - 1]:
                raise CalibrationError(source, f"{field}[{index}]", "dates must increase")
    if spec.forecast.date < end:
        raise CalibrationError(
            source, "forecast.date", f"{spec.forecast.date} is before the end of the record ({end})"
        )


def check_forecast_events(calibration: Calibration) -> None:
    """The forecast's extra events were announced, with a source, before the record's end."""
    end = calibration.fit_end
    for index, event in enumerate(calibration.spec.forecast.events):
        if event.announced is None or event.announced >= end or not event.source:
            raise CalibrationError(
                calibration.source,
                f"forecast.events[{index}]",
                f"needs 'announced' (a date before {end}) and 'source': no hindsight",
            )
    try:
        forecast_config(calibration, calibration.spec.forecast.date, calibration.spec.forecast.days)
    except ScenarioError as error:
        raise CalibrationError(calibration.source, "forecast", error.problem) from None


def forecast_config(calibration: Calibration, when: date, days: int) -> ScenarioConfig:
    """The fitted scenario continued past the record to ``days`` after ``when``."""
    end = when + timedelta(days=days)
    extra = tuple(calibration.spec.forecast.events)
    return window_config(calibration.fit_config, calibration.fit_end, end, extra)


def toml_location(field_path: str, source: str) -> tuple[str, str | None, str]:
    """(table, list item name or None, key) of a dotted path the scenario writer can express."""
    parts = field_path.split(".")
    if len(parts) == 2 and parts[0] not in LIST_TABLES:
        return parts[0], None, parts[1]
    if len(parts) == 3 and parts[0] in LIST_TABLES:
        return parts[0], parts[1], parts[2]
    if len(parts) == 3 and parts[0] == "modes":
        return f"modes.{parts[1]}", None, parts[2]
    raise CalibrationError(source, field_path, "calibrate supports table.field or list.name.field")
