"""The 2019-2020 record: loader validation, coding rules and the observed statistics."""

import csv
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS

from sim.calibration.record import (
    CODING,
    COLUMNS,
    StatisticSpec,
    history_from_record,
    history_from_run,
    load_events,
    press_tallies,
    record_statistics,
    statistic_names,
    summary_statistics,
)
from sim.errors import RecordError
from sim.ladder import Rung
from sim.model import simulate
from sim.runner import flatten_outcomes
from sim.scenario import load_scenario

RECORD = ROOT / "data" / "events_2019_2020.csv"
SIGNALS = ROOT / "data" / "us_signals_2019_2020.csv"
START = date(2019, 10, 28)
BAGHDAD = ("Green Zone / US Embassy", "Baghdad airport")
PERIODS = (date(2020, 2, 16), date(2020, 3, 16), date(2020, 5, 31))
GOOD = "2020-03-11,rocket_attack,militia,Camp Taji,unclaimed,18 rockets,2,12,1,,example.com/taji"


def spec(until: date) -> StatisticSpec:
    return StatisticSpec(START, PERIODS, until, BAGHDAD)


def write_record(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("\n".join([",".join(COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


def test_record_loads_with_every_row_sourced_and_coded():
    events = load_events(RECORD)
    assert events["date"].is_monotonic_increasing
    assert (events["source"].str.len() > 5).all()
    assert (events["kind"] == "rocket_attack").sum() == 30
    assert events["us_killed"].sum() == 3  # the K-1 contractor and two soldiers at Taji
    attacks = events[events["kind"] == "rocket_attack"]
    assert set(attacks["claim"]) == {"unclaimed", "front"}
    assert (attacks["claim"] == "front").sum() == 3  # Taji 11 and 14 March, Besmaya 16 March
    assert set(events["kind"]) <= set(CODING)
    assert press_tallies(events)[date(2020, 6, 22)] == 34


def test_rows_take_the_rung_of_their_outcome_or_target():
    events = load_events(RECORD)

    def rung(day: str, kind: str) -> int:
        return events.loc[(events["date"] == day) & (events["kind"] == kind), "rung"].iloc[0]

    assert rung("2019-12-27", "rocket_attack") == Rung.US_CASUALTIES  # K-1
    assert rung("2019-10-30", "rocket_attack") == Rung.IRAQI_CASUALTIES
    assert rung("2020-01-03", "us_strike") == Rung.STRIKES_ON_IRANIANS  # IRGC-QF leadership
    assert rung("2020-03-12", "us_strike") == Rung.STRIKES_ON_MILITIAS
    assert rung("2020-04-01", "us_threat") == Rung.THREATS
    assert events.loc[events["kind"] == "press_tally", "rung"].isna().all()
    assert CODING["ied_attack"].cameo.startswith("1833")


def test_every_us_move_in_the_record_is_a_signal_irans_beliefs_replay():
    with SIGNALS.open(encoding="utf-8", newline="") as handle:
        signals = {(r["date"], r["evidence"], r["happened"]) for r in csv.DictReader(handle)}
    events = load_events(RECORD)
    evidence = {"us_show_of_force": "show_of_force", "us_threat": "threat"}
    for row in events[events["kind"].isin(list(evidence))].itertuples():
        assert (f"{row.date:%Y-%m-%d}", evidence[row.kind], "true") in signals
    assert ("2020-06-14", "drawdown", "true") in signals  # the week of the 11 June statement


def test_observed_statistics_of_the_record():
    observed = record_statistics(load_events(RECORD), spec(date(2020, 6, 22)))
    assert dict(zip(statistic_names(spec(date(2020, 6, 22))), observed, strict=True)) == {
        "attacks_to_feb16": 19.0,  # AFP tally
        "attacks_feb17_mar16": 5.0,  # AFP tallies 24 - 19
        "attacks_mar17_may31": 4.0,  # listed: 17 and 26 March, 6 April, 6 May
        "attacks_jun01_jun22": 6.0,  # listed: 8, 10, 13, 16, 18, 22 June (AFP: 29 -> 34)
        "deadly_attacks": 2.0,  # 27 Dec (K-1), 11 Mar (Taji)
        "deadly_attacks_answered": 2.0,  # US strikes 29 Dec, 12 Mar
        "iranian_strikes": 1.0,  # 8 Jan
        "escalation_after_first_death": 5.0,  # 9 in the 30 days after K-1, 4 before
        "drone_attacks": 0.0,
        "us_threats": 1.0,  # 1 April
        "baghdad_share": 17 / 30,
    }


@pytest.mark.parametrize(
    ("until", "windows", "counts"),
    [
        (date(2020, 2, 29), ["attacks_to_feb16", "attacks_feb17_feb29"], [19.0, 0.0]),
        (date(2020, 3, 31), ["attacks_to_feb16", "attacks_feb17_mar16", "attacks_mar17_mar31"],
         [19.0, 5.0, 2.0]),
    ],
)  # fmt: skip
def test_statistics_up_to_an_origin_cut_the_windows_there(until, windows, counts):
    names = statistic_names(spec(until))
    observed = record_statistics(load_events(RECORD), spec(until))
    assert names[: len(windows)] == windows
    assert observed[: len(windows)] == counts
    assert observed[names.index("us_threats")] == (1.0 if until >= date(2020, 4, 1) else 0.0)


def test_simulated_statistics_agree_with_the_run_outcomes():
    config = load_scenario(SCENARIOS / "october2019.toml")
    result = simulate(config, 3, series=True)
    history = history_from_run(result.series, flatten_outcomes(result.outcomes), BAGHDAD)
    outcomes = result.outcomes
    assert history.iran_strikes.sum() == outcomes["iranian_direct_strikes"]
    assert history.deaths.sum() == outcomes["us_killed"]
    for mode, count in outcomes["n_attacks_by_mode"].items():
        assert history.attacks[mode].sum() == count
    full = spec(date(2020, 6, 22))
    stats = dict(zip(statistic_names(full), summary_statistics(history, full), strict=True))
    windows = sum(v for k, v in stats.items() if k.startswith("attacks_"))
    assert windows == history.site_attacks.sum()
    assert stats["us_threats"] == outcomes["us_threats"]


def test_the_record_as_a_history_counts_attacks_by_mode_and_site():
    history = history_from_record(load_events(RECORD), START, date(2020, 6, 22), BAGHDAD)
    assert history.site_attacks.sum() == 30 and history.attacks["ied"].sum() == 0
    assert history.baghdad == 17 and history.threats == 1
    assert history.us_strikes.sum() == 3 and history.iran_strikes.sum() == 1


@pytest.mark.parametrize(
    ("row", "where", "problem"),
    [
        ("2020-02-30,rocket_attack,militia,Taji,unclaimed,,0,0,0,,example.com/a", "line 2: date",
         "date"),
        ("2020-03-11,rocket_attak,militia,Taji,unclaimed,,0,0,0,,example.com/a", "line 2: kind",
         "Input"),
        ("2020-03-11,rocket_attack,militia,Taji,unclaimed,,-1,0,0,,example.com/a",
         "line 2: us_killed", "greater than or equal to 0"),
        ("2020-03-11,rocket_attack,militia,Taji,unclaimed,,x,0,0,,example.com/a",
         "line 2: us_killed", "integer"),
        ("2020-03-11,rocket_attack,militia,Taji,unclaimed,,0,0,0,,", "line 2: source", "pattern"),
        ("2020-03-11,press_tally,AFP,,,,0,0,0,,example.com/a", "line 2: tally", "required"),
        ("2020-03-11,rocket_attack,militia,Taji,unclaimed,,0,0,0,4,example.com/a",
         "line 2: tally", "only for it"),
        ("2020-03-11,rocket_attack,militia,Taji,,,0,0,0,,example.com/a", "line 2: claim",
         "required for an attack row"),
        ("2020-03-11,us_threat,US,Iran,front,,0,0,0,,example.com/a", "line 2: claim",
         "only for it"),
        ("2020-03-11,drone_attack,militia,Taji,boasted,,0,0,0,,example.com/a", "line 2: claim",
         "Input should be"),
        ("2020-03-11,rocket_attack,militia,Taji", "line 2", "expected 11 fields"),
    ],
)  # fmt: skip
def test_malformed_rows_are_rejected_with_file_line_and_column(tmp_path, row, where, problem):
    path = write_record(tmp_path, row)
    with pytest.raises(RecordError) as caught:
        load_events(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: ")
    assert problem in message
    assert "\n" not in message


def test_rows_out_of_date_order_are_rejected(tmp_path):
    path = write_record(tmp_path, GOOD, GOOD.replace("2020-03-11", "2020-03-01"))
    with pytest.raises(RecordError, match=r"line 3: date: 2020-03-01 is earlier"):
        load_events(path)


def test_wrong_header_is_rejected(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("date,kind\n2020-03-11,rocket_attack\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"line 1: columns must be date, kind, actor"):
        load_events(path)
