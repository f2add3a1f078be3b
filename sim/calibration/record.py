"""The 2019-2020 record: loading the event table and the summary statistics fitted to it.

The record is a CSV of dated events (``data/events_2019_2020.csv``, described in ``docs/data.md``).
Each row is validated by `EventRow`; the first malformed row stops the load with a one-line
`RecordError` naming the file, the line, the column and the problem.

Summary statistics are computed from a `Daily` table -- militia attacks, Iranian direct strikes,
Americans killed and US strikes per day -- which comes either from the record
(`daily_from_record`) or from a model run's daily series (`daily_from_series`), so the observed
and the simulated statistics are computed by the same code.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import RecordError, input_error
from sim.input_files import read_bounded
from sim.ladder import Rung

COLUMNS = (
    "date", "kind", "actor", "target", "detail",
    "us_killed", "us_wounded", "others_killed", "tally", "source",
)  # fmt: skip
EventKind = Literal[
    "rocket_attack",
    "missile_strike",
    "us_strike",
    "embassy_siege",
    "base_handover",
    "political",
    "press_tally",
]
Count = Annotated[int, Field(ge=0)]


class EventRow(BaseModel):
    """One row of the record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    kind: EventKind
    actor: Annotated[str, Field(min_length=1)]
    target: str
    detail: str
    us_killed: Count
    us_wounded: Count
    others_killed: Count
    tally: Count | None
    source: Annotated[str, Field(pattern=r"^[\w.-]+\.[a-z]{2,}(/\S*)?$")]

    @field_validator("tally", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _tally_only_on_tallies(self) -> "EventRow":
        if (self.kind == "press_tally") != (self.tally is not None):
            raise ValueError("tally: required for a press_tally row and only for it")
        return self


def load_events(path: str | Path) -> pd.DataFrame:
    """Read and validate the record; one row per event, in date order."""
    path = Path(path)
    source = str(path)
    try:
        text = read_bounded(path).decode("utf-8")  # a regular file of bounded size only
        with io.StringIO(text, newline="") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            if header != COLUMNS:
                raise RecordError(
                    source,
                    "line 1",
                    f"columns must be {', '.join(COLUMNS)}; got {', '.join(header)}",
                )
            rows = [validate_row(raw, source, line) for line, raw in enumerate(reader, start=2)]
    except FileNotFoundError:
        raise RecordError(source, "", "file not found") from None
    except (OSError, ValueError, csv.Error) as error:
        raise RecordError(source, "", f"cannot read file ({error})") from None
    if not rows:
        raise RecordError(source, "", "no rows")
    for line, (earlier, later) in enumerate(pairwise(rows), start=3):
        if later.date < earlier.date:
            raise RecordError(
                source, f"line {line}: date", f"{later.date} is earlier than the row above"
            )
    table = pd.DataFrame([row.model_dump() for row in rows], columns=list(COLUMNS))
    table["date"] = pd.to_datetime(table["date"])
    table["tally"] = table["tally"].astype("Int64")
    return table


def validate_row(raw: dict[str, str], source: str, line: int) -> EventRow:
    """One CSV row as an `EventRow`, or a `RecordError` naming its line and column."""
    if None in raw or None in raw.values():
        raise RecordError(source, f"line {line}", f"expected {len(COLUMNS)} fields")
    try:
        return EventRow.model_validate(raw)
    except ValidationError as error:
        problem = input_error(error, raw, source, RecordError)
        raise RecordError(source, f"line {line}: {problem.field}", problem.problem) from None


# --- daily tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Daily:
    """Per-day counts from ``start`` (day 0) to ``end`` inclusive."""

    start: date
    attacks: np.ndarray  # militia attacks
    iran_strikes: np.ndarray  # Iranian direct (missile) strikes
    us_deaths: np.ndarray  # Americans killed
    us_strikes: np.ndarray  # 1 on days the US struck militias or Iranians

    @property
    def end(self) -> date:
        """Last day covered."""
        return self.start + timedelta(days=len(self.attacks) - 1)

    def day(self, when: date) -> int:
        """Index of a calendar date."""
        return (when - self.start).days

    def between(self, values: np.ndarray, first: date, last: date) -> int:
        """Sum of ``values`` from ``first`` to ``last`` inclusive (clipped to the table)."""
        lo, hi = max(self.day(first), 0), min(self.day(last), len(values) - 1)
        return int(values[lo : hi + 1].sum()) if hi >= lo else 0


def daily_from_record(events: pd.DataFrame, start: date, end: date) -> Daily:
    """The record's events as per-day counts between ``start`` and ``end``."""
    days = (end - start).days + 1
    counts = {name: np.zeros(days, dtype=np.int64) for name in ("a", "i", "k", "s")}
    for row in events.itertuples(index=False):
        index = (row.date.date() - start).days
        if not 0 <= index < days:
            continue
        if row.kind == "rocket_attack":
            counts["a"][index] += 1
        elif row.kind == "missile_strike":
            counts["i"][index] += 1
        elif row.kind == "us_strike":
            counts["s"][index] = 1
        counts["k"][index] += row.us_killed if row.kind != "us_strike" else 0
    return Daily(start, counts["a"], counts["i"], counts["k"], counts["s"])


def daily_from_series(series: pd.DataFrame) -> Daily:
    """A model run's daily series (one row per day, day 0 first) as per-day counts."""
    total = series["attacks"].to_numpy().astype(np.int64)
    iran = ((series["iran_rung"].to_numpy() == Rung.STATE_ON_STATE) & (total > 0)).astype(np.int64)
    attacks = total - iran
    killed = np.diff(series["us_killed"].to_numpy(), prepend=0).astype(np.int64)
    strikes = (series["us_rung"].to_numpy() >= Rung.STRIKES_ON_MILITIAS).astype(np.int64)
    return Daily(date.fromisoformat(series["date"].iloc[0]), attacks, iran, killed, strikes)


# --- summary statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticSpec:
    """What the summary statistics measure (dates from the calibration file)."""

    checkpoints: tuple[date, ...]  # press-tally dates; attacks are counted between them
    june: tuple[date, date]  # first and last day of the June statistics
    spate_window_days: int = 11
    answer_within_days: int = 2
    escalation_window_days: int = 30


def statistic_names(spec: StatisticSpec) -> list[str]:
    """Names of the statistics, in order."""
    periods = [f"attacks_to_{spec.checkpoints[0]:%b%d}".lower()]
    periods += [
        f"attacks_{after + timedelta(days=1):%b%d}_{upto:%b%d}".lower()
        for after, upto in zip(spec.checkpoints, spec.checkpoints[1:], strict=False)
    ]
    return [
        *periods,
        "lethal_attacks",
        "lethal_attacks_answered",
        "iranian_direct_strikes",
        "escalation_after_first_death",
        "june_spate",
        "june_us_killed",
    ]


def period_counts(daily: Daily, spec: StatisticSpec) -> list[int]:
    """Militia attacks up to the first checkpoint and between successive checkpoints."""
    bounds = [daily.start - timedelta(days=1), *spec.checkpoints]
    return [
        daily.between(daily.attacks, after + timedelta(days=1), upto)
        for after, upto in pairwise(bounds)
    ]


def summary_statistics(daily: Daily, spec: StatisticSpec) -> dict[str, float]:
    """The statistics of one history (record or simulation), keyed by `statistic_names`."""
    lethal_days = np.flatnonzero(daily.us_deaths)
    answered = sum(daily.us_strikes[d : d + spec.answer_within_days + 1].any() for d in lethal_days)
    values = [
        *period_counts(daily, spec),
        len(lethal_days),
        int(answered),
        int(daily.iran_strikes.sum()),
        escalation_after_first_death(daily, spec.escalation_window_days),
        june_spate(daily, spec),
        daily.between(daily.us_deaths, *spec.june),
    ]
    return dict(zip(statistic_names(spec), (float(v) for v in values), strict=True))


def statistics_matrix(dailies: list[Daily], spec: StatisticSpec) -> np.ndarray:
    """The statistics of each history, one row per history, columns by `statistic_names`."""
    names = statistic_names(spec)
    return np.array([[summary_statistics(d, spec)[n] for n in names] for d in dailies])


def escalation_after_first_death(daily: Daily, window: int) -> int:
    """Attacks (militia and Iranian) in the ``window`` days after the first attack that killed
    Americans minus those in the ``window`` days before it; 0 when no attack killed Americans."""
    lethal_days = np.flatnonzero(daily.us_deaths)
    if not len(lethal_days):
        return 0
    first = int(lethal_days[0])
    total = daily.attacks + daily.iran_strikes
    after = total[first + 1 : first + 1 + window].sum()
    before = total[max(first - window, 0) : first].sum()
    return int(after - before)


def june_spate(daily: Daily, spec: StatisticSpec) -> int:
    """Most militia attacks in any ``spate_window_days``-day window within the June dates."""
    lo, hi = daily.day(spec.june[0]), daily.day(spec.june[1])
    june = daily.attacks[max(lo, 0) : hi + 1]
    if len(june) < spec.spate_window_days:
        return int(june.sum())
    windows = np.convolve(june, np.ones(spec.spate_window_days, dtype=np.int64), mode="valid")
    return int(windows.max())


def record_statistics(events: pd.DataFrame, start: date, spec: StatisticSpec) -> dict[str, float]:
    """The observed statistics: attack counts between checkpoints from the press tallies (more
    complete than the listed attacks), everything else from the listed events.

    Every checkpoint needs a press tally on its date (see `untallied`).
    """
    daily = daily_from_record(events, start, spec.june[1])
    observed = summary_statistics(daily, spec)
    tallies = press_tallies(events)
    cumulative = [int(tallies.loc[[pd.Timestamp(c)]].max()) for c in spec.checkpoints]
    counts = np.diff([0, *cumulative])
    observed.update(zip(statistic_names(spec), (float(c) for c in counts), strict=False))
    return observed


def press_tallies(events: pd.DataFrame) -> pd.Series:
    """The press tallies of attacks so far, indexed by date."""
    return events[events["kind"] == "press_tally"].set_index("date")["tally"]


def untallied(events: pd.DataFrame, checkpoints: tuple[date, ...]) -> list[date]:
    """The checkpoints without a press tally on their date."""
    tallied = set(press_tallies(events).index)
    return [c for c in checkpoints if pd.Timestamp(c) not in tallied]


def monthly_attacks(daily: Daily) -> pd.Series:
    """Militia attacks per calendar month (``YYYY-MM``)."""
    dates = pd.date_range(daily.start, periods=len(daily.attacks), freq="D")
    return pd.Series(daily.attacks, index=dates.strftime("%Y-%m")).groupby(level=0).sum()
