"""The 2019-2020 record: the event table, its coding rules, and the statistics fitted to it.

The record is a CSV of dated events (``data/events_2019_2020.csv``, described in ``docs/data.md``).
Each row is validated by `EventRow`; the first malformed row stops the load with a one-line
`RecordError` naming the file, the line, the column and the problem. `CODING` maps each kind of
row to its rung of the ladder and its CAMEO code (`sim.ladder`).

Statistics are computed from a `History` -- per-day counts of attacks by mode, Americans killed,
US and Iranian strikes, plus a few whole-history totals -- which comes either from the record
(`history_from_record`) or from a model run (`history_from_run`), so the observed and the
simulated statistics are computed by the same code.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import RecordError, input_error
from sim.input_files import read_bounded
from sim.ladder import Move, Rung

COLUMNS = (
    "date",
    "kind",
    "actor",
    "target",
    "claim",
    "detail",
    "us_killed",
    "us_wounded",
    "others_killed",
    "tally",
    "source",
)
EventKind = Literal[
    "rocket_attack",
    "drone_attack",
    "ied_attack",
    "missile_strike",
    "front_claim",
    "us_strike",
    "us_show_of_force",
    "us_threat",
    "us_posture",
    "embassy_siege",
    "government_raid",
    "demand",
    "ceasefire_offer",
    "dialogue",
    "base_handover",
    "political",
    "press_tally",
]
#: Attack rows and the model's attack mode each one is.
ATTACK_KINDS = {"rocket_attack": "rocket", "drone_attack": "drone", "ied_attack": "ied"}
SITE_MODES = ("rocket", "drone")  # modes that hit sites; IEDs hit supply convoys
Count = Annotated[int, Field(ge=0)]


@dataclass(frozen=True)
class Coding:
    """How a kind of row is coded: its rung, its CAMEO code and what the model calls it."""

    rung: Rung | None
    cameo: str
    model: str


def _move(move: Move, model: str) -> Coding:
    info = move.info
    return Coding(info.rung, info.cameo, model)


#: The coding rules (docs/data.md): rung, CAMEO code and model counterpart of each kind of row.
#: An attack's rung follows its outcome and a US strike's its target (`rung_of`).
CODING: dict[str, Coding] = {
    "rocket_attack": _move(Move.ROCKET_ATTACK, "rocket attack on a site"),
    "drone_attack": _move(Move.DRONE_ATTACK, "drone attack on a site"),
    "ied_attack": _move(Move.ROADSIDE_BOMB, "IED attack on a supply convoy"),
    "missile_strike": _move(Move.MISSILE_STRIKE, "Iran's direct missile strike"),
    "front_claim": Coding(None, "none (an attribute of the attacks claimed)", "claim = front"),
    "us_strike": _move(Move.AIR_STRIKE, "US answer to an attack"),
    "us_show_of_force": _move(Move.SHOW_OF_FORCE, "US show of force"),
    "us_threat": _move(Move.THREATEN_FORCE, "US threat"),
    "us_posture": _move(Move.ANNOUNCE_WITHDRAWAL, "US posture announcement (not modelled)"),
    "embassy_siege": Coding(Rung.COERCION, "145 Protest violently, riot", "not modelled"),
    "government_raid": _move(Move.RAID, "government raid"),
    "demand": _move(Move.DEMAND_WITHDRAWAL, "withdrawal_request calendar event"),
    "ceasefire_offer": _move(Move.OFFER_TRUCE, "Iran's truce offer"),
    "dialogue": _move(Move.CONSULT, "dialogue calendar event"),
    "base_handover": _move(Move.DRAW_DOWN, "handover calendar event"),
    "political": Coding(None, "none (context)", "not modelled"),
    "press_tally": Coding(None, "none (a count of attacks)", "attack counts"),
}


class EventRow(BaseModel):
    """One row of the record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date: date
    kind: EventKind
    actor: Annotated[str, Field(min_length=1)]
    target: str
    claim: Literal["claimed", "front", "unclaimed"] | None
    detail: str
    us_killed: Count
    us_wounded: Count
    others_killed: Count
    tally: Count | None
    source: Annotated[str, Field(pattern=r"^[\w.-]+\.[a-z]{2,}(/\S*)?$")]

    @field_validator("tally", "claim", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _consistent(self) -> "EventRow":
        if (self.kind == "press_tally") != (self.tally is not None):
            raise ValueError("tally: required for a press_tally row and only for it")
        if (self.kind in ATTACK_KINDS) != (self.claim is not None):
            raise ValueError("claim: required for an attack row and only for it")
        return self


def rung_of(kind: str, target: str, us_killed: int, others_killed: int) -> Rung | None:
    """The rung of one row: an attack by its outcome, a US strike by whom it hit."""
    if kind in ATTACK_KINDS:
        if us_killed:
            return Rung.US_CASUALTIES
        return Rung.IRAQI_CASUALTIES if others_killed else Rung.HARASSING_FIRE
    if kind == "us_strike" and "IRGC" in target:
        return Rung.STRIKES_ON_IRANIANS
    return CODING[kind].rung


def load_events(path: str | Path) -> pd.DataFrame:
    """Read and validate the record; one row per event, in date order, with its rung."""
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
    rungs = [rung_of(r.kind, r.target, r.us_killed, r.others_killed) for r in table.itertuples()]
    table["rung"] = pd.array(rungs, dtype="Int64")
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


# --- histories -------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """Per-day counts from ``start`` (day 0) to the last day, and whole-history totals."""

    start: date
    attacks: dict[str, np.ndarray]  # militia attacks by mode (rocket, drone, ied)
    deaths: np.ndarray  # Americans killed
    us_strikes: np.ndarray  # 1 on days the US struck militias or Iranians
    iran_strikes: np.ndarray  # Iran's direct (missile) strikes
    threats: int  # US threats
    baghdad: int  # attacks on the Baghdad sites (embassy and airport)

    @property
    def site_attacks(self) -> np.ndarray:
        """Attacks on sites (rockets and drones) per day."""
        return sum(self.attacks[m] for m in SITE_MODES)

    def day(self, when: date) -> int:
        """Index of a calendar date."""
        return (when - self.start).days

    def between(self, values: np.ndarray, first: date, last: date) -> int:
        """Sum of ``values`` from ``first`` to ``last`` inclusive (clipped to the history)."""
        lo, hi = max(self.day(first), 0), min(self.day(last), len(values) - 1)
        return int(values[lo : hi + 1].sum()) if hi >= lo else 0


def history_from_record(
    events: pd.DataFrame, start: date, end: date, baghdad_sites: tuple[str, ...] = ()
) -> History:
    """The record's events from ``start`` to ``end`` as a history; an attack is on a Baghdad
    site when its target names one of ``baghdad_sites`` (`names_site`)."""
    days = (end - start).days + 1
    zeros = {name: np.zeros(days, dtype=np.int64) for name in ("k", "s", "i")}
    attacks = {mode: np.zeros(days, dtype=np.int64) for mode in ATTACK_KINDS.values()}
    threats = baghdad = 0
    for row in events.itertuples(index=False):
        index = (row.date.date() - start).days
        if not 0 <= index < days:
            continue
        if row.kind in ATTACK_KINDS:
            mode = ATTACK_KINDS[row.kind]
            attacks[mode][index] += 1
            baghdad += mode in SITE_MODES and names_site(row.target, baghdad_sites)
        elif row.kind == "missile_strike":
            zeros["i"][index] += 1
        elif row.kind == "us_strike":
            zeros["s"][index] = 1
        elif row.kind == "us_threat":
            threats += 1
        zeros["k"][index] += row.us_killed if row.kind != "us_strike" else 0
    return History(start, attacks, zeros["k"], zeros["s"], zeros["i"], threats, baghdad)


def names_site(target: str, sites: tuple[str, ...]) -> bool:
    """Whether a record's target names one of the model's ``sites``, or a part of one's name
    (the model's "Green Zone / US Embassy" is the record's "Green Zone" and "US Embassy")."""
    return any(part in target for site in sites for part in site.split(" / "))


def history_from_run(
    series: pd.DataFrame, outcomes: dict[str, Any], baghdad_sites: tuple[str, ...] = ()
) -> History:
    """A model run as a history: its daily series (one row per day, day 0 first) and its
    outcomes (the runner's flattened columns) for the whole-run totals."""
    attacks = {
        mode: series[f"attacks:{mode}"].to_numpy().astype(np.int64)
        for mode in ATTACK_KINDS.values()
    }
    killed = np.diff(series["us_killed"].to_numpy(), prepend=0).astype(np.int64)
    strikes = (series["us_rung"].to_numpy() >= Rung.STRIKES_ON_MILITIAS).astype(np.int64)
    iran = (series["iran_rung"].to_numpy() == Rung.STATE_ON_STATE).astype(np.int64)
    baghdad = sum(int(outcomes[f"n_attacks_by_site.{site}"]) for site in baghdad_sites)
    start = date.fromisoformat(series["date"].iloc[0])
    return History(start, attacks, killed, strikes, iran, int(outcomes["us_threats"]), baghdad)


#: The daily series columns a run must keep for `history_from_run`.
SERIES_COLUMNS = [
    "date",
    "attacks:rocket",
    "attacks:drone",
    "attacks:ied",
    "us_killed",
    "us_rung",
    "iran_rung",
]


# --- summary statistics ----------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticSpec:
    """What the summary statistics measure (dates and sites from the calibration file).

    Attacks on sites are counted in windows ending on ``periods`` (the first from the history's
    start), all cut at ``until``, the last day fitted.
    """

    start: date
    periods: tuple[date, ...]
    until: date
    baghdad_sites: tuple[str, ...]
    answer_within_days: int = 2
    escalation_window_days: int = 30

    @property
    def windows(self) -> list[tuple[date, date]]:
        """(first, last) day of each count window that starts by ``until``."""
        firsts = [self.start, *(end + timedelta(days=1) for end in self.periods)]
        lasts = [*self.periods, self.until]
        return [(a, min(b, self.until)) for a, b in zip(firsts, lasts, strict=False) if a <= b]


#: The statistics after the window counts.
OTHER_STATISTICS = (
    "deadly_attacks",
    "deadly_attacks_answered",
    "iranian_strikes",
    "escalation_after_first_death",
    "drone_attacks",
    "us_threats",
    "baghdad_share",
)


def statistic_names(spec: StatisticSpec) -> list[str]:
    """Names of the statistics, in order."""
    windows = [
        f"attacks_to_{last:%b%d}" if first == spec.start else f"attacks_{first:%b%d}_{last:%b%d}"
        for first, last in spec.windows
    ]
    return [name.lower() for name in windows] + list(OTHER_STATISTICS)


def summary_statistics(history: History, spec: StatisticSpec) -> list[float]:
    """The statistics of one history (record or simulation), in `statistic_names` order,
    over the days up to ``spec.until``."""
    last = spec.until
    sites = history.site_attacks
    lethal = [d for d in np.flatnonzero(history.deaths) if d <= history.day(last)]
    window = spec.answer_within_days + 1
    answered = sum(bool(history.us_strikes[d : d + window].any()) for d in lethal)
    total = history.between(sites, spec.start, last)
    values = [history.between(sites, first, end) for first, end in spec.windows]
    values += [
        len(lethal),
        answered,
        history.between(history.iran_strikes, spec.start, last),
        escalation_after_first_death(history, lethal, spec.escalation_window_days),
        history.between(history.attacks["drone"], spec.start, last),
        history.threats,
        history.baghdad / total if total else 0.0,
    ]
    return [float(v) for v in values]


def escalation_after_first_death(history: History, lethal: list[int], window: int) -> int:
    """Site attacks and Iranian strikes in the ``window`` days after the first attack that
    killed Americans minus those in the ``window`` days before it; 0 without one."""
    if not lethal:
        return 0
    first = int(lethal[0])
    total = history.site_attacks + history.iran_strikes
    after = total[first + 1 : first + 1 + window].sum()
    before = total[max(first - window, 0) : first].sum()
    return int(after - before)


def record_statistics(events: pd.DataFrame, spec: StatisticSpec) -> list[float]:
    """The observed statistics. A window's attacks come from the press tallies when both its
    ends are tallied (its start being the record's start or the day after a tally), which
    count attacks the listing misses; otherwise from the listed attacks (a lower bound)."""
    history = history_from_record(events, spec.start, spec.until, spec.baghdad_sites)
    observed = summary_statistics(history, spec)
    tallies = press_tallies(events)
    for index, (first, last) in enumerate(spec.windows):
        before = first - timedelta(days=1)
        if last not in tallies or (first != spec.start and before not in tallies):
            continue
        observed[index] = float(tallies[last] - (tallies[before] if first != spec.start else 0))
    return observed


def press_tallies(events: pd.DataFrame) -> dict[date, int]:
    """The largest press tally of attacks so far on each tallied date."""
    rows = events[events["kind"] == "press_tally"]
    return {when.date(): int(tally) for when, tally in rows.groupby("date")["tally"].max().items()}


def weekly_counts(values: np.ndarray, first: int, weeks: int) -> np.ndarray:
    """Sums of ``values`` over ``weeks`` consecutive 7-day weeks from index ``first``."""
    return values[first : first + 7 * weeks].reshape(weeks, 7).sum(axis=1)
