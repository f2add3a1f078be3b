"""docs/model.md must keep up with the code: fields, defaults, tables, outcomes and its figures.

The doc's parameter tables (header ``| Field | Default | Meaning | Source |``) must hold one row for
every scenario field path and no other; fields of list and dict items are written without the
item's key (``sites.defence``, ``modes.us_kill_prob``, ``us_types.severity``) and the items'
default values are in value tables, checked against the code below. Every figure the code can
compute cheaply (day-0 values, the replayed prior, one seeded run, the June 2020 headline over
200 seeds) is recomputed here, so a change of code or defaults that moves a quoted figure fails.
"""

import importlib
import importlib.util
import inspect
import math
import re
import tomllib
import typing
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim import agents
from sim.agents import HARASS, LETHAL, LEVELS, Attack, lethality
from sim.beliefs import logit, record_signals, replay
from sim.ladder import MOVE_INFO, RUNG_INFO, Move, Rung
from sim.model import CONVOYS, EscalationModel, EscalationScenario, simulate
from sim.scenario import (
    JUNE2020_PRIOR,
    ScenarioConfig,
    apply_overrides,
    field_exists,
    load_scenario,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
SIGNALS = ROOT / "data" / "us_signals_2019_2020.csv"
PARAMETER_HEADER = ["Field", "Default", "Meaning", "Source"]
SOURCE_KINDS = re.compile(
    r"assumption|replayed from the record|fitted|design|\b1[89]\d\d\b|\b20[0-2]\d\b"
)
MONTHS = "January February March April May June July August September October November December"
LONG_DATE = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTHS.split()) + r") (\d{4})\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
TABLE_NAMES = ("mechanisms", "sites", "militias", "modes", "militia_rules", "iran", "us",
               "us_types", "government", "events")  # fmt: skip
REQUIRED_REFERENCES = ("Ben-Akiva", "Berman", "Bloom", "Byman", "Cormac", "Daly", "Enders",
                       "Fearon", "Grimm", "Kydd", "McFadden", "Powell", "Salehyan", "Sartori",
                       "Schelling", "Tomz", "Train")  # fmt: skip


# --- reading the doc ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def chapter(doc: str, number: str) -> str:
    """The text of one ``## N.`` section."""
    return doc.split(f"\n## {number}. ", 1)[1].split("\n## ", 1)[0]


def section(doc: str, number: str) -> str:
    """The text of one ``### N.M`` section (up to the next ``###`` or ``##`` heading)."""
    text = doc.split(f"\n### {number} ", 1)[1]
    return re.split(r"\n#{2,3} ", text, maxsplit=1)[0]


def flat(text: str) -> str:
    """Text with every run of whitespace made one space (so quotes may wrap lines)."""
    return " ".join(text.split())


def tables(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table in ``text``: (header cells, body rows of cells)."""
    found, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif block:
            found.append((block[0], [row for row in block[2:]]))
            block = []
    return found


def parameter_rows(doc: str) -> dict[str, list[list[str]]]:
    """Rows of the parameter tables of section 8, by the field path in their first cell."""
    rows: dict[str, list[list[str]]] = {}
    for header, body in tables(chapter(doc, "8")):
        if header == PARAMETER_HEADER:
            for row in body:
                rows.setdefault(unquote(row[0]), []).append(row)
    return rows


def unquote(cell: str) -> str:
    return cell[1:-1] if len(cell) >= 2 and cell[0] == cell[-1] == "`" else cell


def table_with(text: str, first_header: str) -> tuple[list[str], dict[str, list[str]]]:
    """The one table whose first header cell is ``first_header``: header, rows by first cell."""
    matches = [(h, b) for h, b in tables(text) if h[0] == first_header]
    assert len(matches) == 1, f"expected one table headed {first_header!r}, found {len(matches)}"
    header, body = matches[0]
    return header, {unquote(row[0]): row for row in body}


# --- the scenario fields --------------------------------------------------------------------------


def nested_models(annotation: object) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation: itself, or inside a tuple, dict, list or union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in nested_models(arg)]


def scenario_fields(
    model: type[BaseModel] = ScenarioConfig, prefix: str = ""
) -> Iterator[tuple[str, FieldInfo]]:
    """(dotted path, field) of every field reachable from `ScenarioConfig`; the items of lists
    (sites, militias, events, us_types) and dicts (modes) are written without their key."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info
        for nested in nested_models(info.annotation):
            yield from scenario_fields(nested, f"{path}.")


FIELDS = dict(scenario_fields())


def cell_states(cell: str, default: object) -> bool:
    """Whether a Default cell such as `0.9`, `"never"`, `false`, `2020-06-01` or none states
    ``default``."""
    if default is None:
        return cell.lower().startswith("none")
    text = unquote(cell)
    if text == cell:
        return False
    if isinstance(default, bool):
        return text == str(default).lower()
    if isinstance(default, int | float):
        try:
            return float(text) == default
        except ValueError:
            return False
    if isinstance(default, date):
        return text == default.isoformat()
    return text == f'"{default}"'


def number(cell: str) -> float:
    return float(unquote(cell).replace(",", ""))


# --- parameter tables -----------------------------------------------------------------------------


def test_the_field_walk_reaches_every_table():
    # Guards the tests below against passing vacuously if the walk stops finding fields.
    for expected in ("record_until", "mechanisms.choice", "sites.defence", "militias.arms",
                     "modes.us_kill_prob", "us_types.answer_deadly", "events.announced",
                     "militia_rules.harass_odds", "iran.type_prior", "us.drawdown_target",
                     "government.pressure_compliance"):  # fmt: skip
        assert expected in FIELDS
    assert not any(path.count(".") > 1 for path in FIELDS)
    assert {path.split(".")[0] for path in FIELDS if "." in path} == set(TABLE_NAMES)


def test_every_scenario_field_has_a_row_in_a_parameter_table(doc: str):
    rows = parameter_rows(doc)
    missing = [path for path in FIELDS if path not in rows]
    assert not missing, f"scenario fields without a parameter row in docs/model.md: {missing}"
    twice = [path for path, found in rows.items() if len(found) > 1]
    assert not twice, f"fields with more than one parameter row: {twice}"


def test_every_parameter_row_names_a_scenario_field(doc: str):
    stale = [path for path in parameter_rows(doc) if path not in FIELDS]
    assert not stale, f"parameter rows for fields the code does not have: {stale}"


def test_documented_defaults_match_the_code(doc: str):
    rows = parameter_rows(doc)
    wrong = []
    for path, info in FIELDS.items():
        if path not in rows:
            continue  # reported by test_every_scenario_field_has_a_row_in_a_parameter_table
        cell = rows[path][0][1]
        if info.is_required():
            ok = cell == "required"
        elif info.default_factory is not None:
            value = info.default_factory()
            # containers with their own value tables: the cell names them; empty ones say so
            ok = cell.startswith("empty") if not value else bool(cell) and cell != "required"
        elif isinstance(info.default, BaseModel):
            ok = cell.startswith("table")
        else:
            ok = cell_states(cell, info.default)
        if not ok:
            wrong.append((path, cell))
    assert not wrong, f"Default cells that disagree with sim/scenario.py: {wrong}"


def quoted_dates(text: str) -> list[date]:
    months = MONTHS.split()
    found = [date(int(y), int(m), int(d)) for y, m, d in ISO_DATE.findall(text)]
    found += [date(int(y), months.index(m) + 1, int(d)) for d, m, y in LONG_DATE.findall(text)]
    return found


def test_every_parameter_row_has_a_source_published_before_the_start(doc: str):
    start = ScenarioConfig().start_date
    unsourced, late = [], []
    for path, [row] in parameter_rows(doc).items():
        source = row[-1]
        if not SOURCE_KINDS.search(source):
            unsourced.append(path)
        late += [(path, d) for d in quoted_dates(source) if d >= start]
    assert not unsourced, (
        f"rows whose source is not a dated source, assumption or design: {unsourced}"
    )
    assert not late, f"sources dated on or after {start} (hindsight): {late}"


def test_site_militia_mode_type_and_event_tables_match_the_defaults(doc: str):
    config = ScenarioConfig()
    text = chapter(doc, "8")
    header, sites = table_with(text, "Site")
    assert set(sites) == {s.name for s in config.sites}
    for site in config.sites:
        row = dict(zip(header, sites[site.name], strict=True))
        for name in ("lat", "lon", "us_troops", "defence", "militia_access", "symbolic_value",
                     "retain_priority"):  # fmt: skip
            assert number(row[name]) == getattr(site, name), (site.name, name)
    header, groups = table_with(text, "Group")
    assert set(groups) == {m.name for m in config.militias}
    for militia in config.militias:
        row = dict(zip(header, groups[militia.name], strict=True))
        for name in ("capability", "loyalty_to_iran", "autonomy", "restraint", "standing"):
            assert number(row[name]) == getattr(militia, name), (militia.name, name)
        arms = ", ".join(f"{m} {a:g}" for m, a in militia.arms.items()) or "none"
        assert row["arms"] == arms, militia.name
        assert row["type_prior"] == ("none" if militia.type_prior is None else "given")
    header, modes = table_with(text, "Mode field")
    assert [unquote(h) for h in header[1:-1]] == list(config.modes)
    assert set(modes) == set(type(config.modes["rocket"]).model_fields)
    for field, row in modes.items():
        for mode, cell in zip(config.modes, row[1:-1], strict=True):
            value = getattr(config.modes[mode], field)
            assert unquote(cell) == (f'"{value}"' if isinstance(value, str) else f"{value:g}")
    header, types = table_with(text, "Type field")
    names = [t.name for t in config.us_types]
    assert [unquote(h) for h in header[1:-1]] == names
    assert set(types) == set(type(config.us_types[0]).model_fields) - {"name"}
    for field, row in types.items():
        assert [number(c) for c in row[1:-1]] == [getattr(t, field) for t in config.us_types]
    header, events = table_with(text, "Event date")
    assert set(events) == {e.date.isoformat() for e in config.events}
    for event in config.events:
        row = dict(zip(header, events[event.date.isoformat()], strict=True))
        assert unquote(row["kind"]) == f'"{event.kind}"'
        assert row["label"] == event.label
        assert unquote(row["announced"]) == event.announced.isoformat()
        assert row["source"] == event.source


def test_mechanism_switches_table_matches_the_code_and_the_v1_scenario(doc: str):
    v1 = tomllib.loads((ROOT / "scenarios" / "v1_assumptions.toml").read_text())["mechanisms"]
    _, rows = table_with(section(doc, "4.1"), "Switch")
    mechanisms = ScenarioConfig().mechanisms
    assert set(rows) == {f"mechanisms.{name}" for name in type(mechanisms).model_fields}
    for path, row in rows.items():
        name = path.split(".", 1)[1]
        assert cell_states(row[1], getattr(mechanisms, name)), path
        assert cell_states(row[2], v1[name]), path


def test_only_existing_scenario_fields_are_named_outside_the_v1_contrast(doc: str):
    # v1's parameter names may appear only in 4.1, where v1's assumptions are contrasted.
    text = doc.replace(section(doc, "4.1"), "")
    pattern = re.compile(r"`((?:" + "|".join(TABLE_NAMES) + r")\.[\w.*'<> -]+)`")
    unknown = sorted({p for p in pattern.findall(text) if p not in FIELDS and not field_exists(p)})
    assert not unknown, f"names that are not scenario fields: {unknown}"


# --- ladder, moves, outcomes, series --------------------------------------------------------------


def test_ladder_table_matches_rung_info(doc: str):
    header, rows = table_with(section(doc, "2.4"), "Rung")
    assert [int(r) for r in rows] == [int(r) for r in Rung]
    for rung in Rung:
        info = RUNG_INFO[rung]
        row = dict(zip(header, rows[str(int(rung))], strict=True))
        assert unquote(row["Name"]) == rung.name
        assert row["Label"] == info.label
        assert row["CAMEO root code"] == info.cameo
        assert float(row["Goldstein"]) == info.goldstein
        assert int(row["MID hostility"]) == info.mid_hostility


def test_move_table_matches_move_info(doc: str):
    header, rows = table_with(section(doc, "2.5"), "Move")
    assert set(rows) == {move.name for move in Move}
    for move in Move:
        info = MOVE_INFO[move]
        row = dict(zip(header, rows[move.name], strict=True))
        assert row["Rung"] == f"{int(info.rung)} `{info.rung.name}`", move
        assert row["CAMEO code"] == info.cameo, move
        assert float(row["Goldstein"]) == info.goldstein, move
        assert row["Actor"], move


@pytest.fixture(scope="module")
def short_run() -> EscalationModel:
    config = apply_overrides(ScenarioConfig(), {"horizon_days": 2})
    model = EscalationModel(EscalationScenario(rng=0, config=config))
    while model.running:
        model.step()
    return model


def test_every_outcome_is_documented_and_nothing_else(doc: str, short_run: EscalationModel):
    _, rows = table_with(section(doc, "9.1"), "Key")
    assert set(rows) == set(short_run.outcomes())


def test_every_series_column_is_documented_and_nothing_else(doc: str, short_run):
    _, rows = table_with(section(doc, "9.2"), "Column")
    config = short_run.scenario.config
    documented = set()
    for column in rows:
        if column == "attacks:<mode>":
            documented |= {f"attacks:{mode}" for mode in config.modes}
        elif column == "belief:<type>":
            documented |= {f"belief:{t.name}" for t in config.us_types}
        elif column == "rung:<militia name>":
            documented |= {f"rung:{m.name}" for m in config.militias}
        else:
            documented.add(column)
    assert documented == set(short_run.datacollector.get_model_vars_dataframe().columns)


# --- figures the code computes --------------------------------------------------------------------


@pytest.fixture
def day0() -> EscalationModel:
    return EscalationModel(EscalationScenario(rng=0, config=ScenarioConfig()), record=False)


def softmax(utilities: list[float], rationality: float) -> list[float]:
    top = max(utilities)
    weights = [math.exp(rationality * (u - top)) for u in utilities]
    return [w / sum(weights) for w in weights]


def joined(values: list[float], digits: int = 3) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in values)


def captured_logits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[float], float]]:
    """Make `logit_choice` record (utilities, rationality) and choose the first option, so a
    figure is checked against the rule as coded, not against a copy of its equation."""
    calls: list[tuple[list[float], float]] = []
    monkeypatch.setattr(agents, "logit_choice", lambda _, u, lam: calls.append((u, lam)) or 0)
    return calls


def threshold(chosen: typing.Callable[[float], bool]) -> float:
    """The u at which a rule that acts when its uniform draw is below a cut-off stops acting."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if chosen(middle) else (low, middle)
    return low


def level_chances(model: EscalationModel, group) -> tuple[float, float]:
    """A group's chance today of a harassing and of a lethal attack, from its own decide()."""
    model.launch_attack = lambda _group, level, _mode, _claim: level

    def outcome(u: float) -> Rung | None:
        draws = iter([u, 0.5])
        model.uniform = lambda: next(draws)
        return group.decide()

    harass = threshold(lambda u: outcome(u) == HARASS)
    attack = threshold(lambda u: outcome(u) is not None)
    return harass, attack - harass


def test_quoted_priors_are_the_record_replayed(doc: str):
    text = section(doc, "7.2")
    header, rows = table_with(text, "Scenario")
    for name in ("june2020", "january2020", "october2019"):
        config = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        replayed = replay(config.us_types, record_signals(SIGNALS, config),
                          config.iran.belief_half_life_days)  # fmt: skip
        row = dict(zip(header, rows[f"{name}.toml"], strict=True))
        assert [number(row[t.name]) for t in config.us_types] == pytest.approx(replayed, abs=1e-9)
        assert row["signals"] == str(len(record_signals(SIGNALS, config)))
    assert [number(rows["june2020.toml"][i + 1]) for i in range(4)] == list(JUNE2020_PRIOR.values())
    config = ScenarioConfig()
    unfaded = replay(config.us_types, record_signals(SIGNALS, config), math.inf)
    assert f"without fading it would be {joined(unfaded, 4)}" in flat(text)
    belief = EscalationModel(EscalationScenario(rng=0, config=config), record=False).iran.belief
    assert f"credibility {belief.credibility:.3f} and resolve {belief.resolve:.3f}" in flat(text)


def test_quoted_day0_lethality_and_targets_are_the_codes(doc: str, day0: EscalationModel):
    text = flat(section(doc, "7.4"))
    header, rows = table_with(section(doc, "7.4"), "Mode")
    for mode in day0.modes:
        table = day0.target_table(mode)
        row = dict(zip(header, rows[mode], strict=True))
        assert row["harassing"] == f"{table.lethality[HARASS]:.4f}", mode
        assert row["lethal"] == f"{table.lethality[LETHAL]:.4f}", mode
        assert row["opportunity term"] == f"{table.reach:+.3f}", mode
    rocket = day0.target_table("rocket")
    shares = {n: w / sum(rocket.weights) for n, w in zip(rocket.names, rocket.weights, strict=True)}
    quoted = "; ".join(f"{name} {100 * share:.0f} %" for name, share in shares.items())
    assert quoted in text
    assert day0.target_table("ied").names == [CONVOYS]
    kill = day0.modes["rocket"].us_kill_prob
    lethal = [lethality(day0.modes["rocket"].lethal_munitions, d, kill) for d in (0.3, 0.4)]
    harass = [lethality(day0.modes["rocket"].harass_munitions, d, day0.rules.harass_aim * kill)
              for d in (0.3, 0.4)]  # fmt: skip
    assert f"{joined(lethal)} for a lethal salvo" in text
    assert f"{joined(harass, 4)} for a harassing one" in text


def test_quoted_day0_attack_choice_is_the_codes(doc: str, day0: EscalationModel):
    text = flat(section(doc, "7.4"))
    day0.iran.urgency = 0.0
    per_ceiling = {}
    for ceiling in (Rung.TALKS, HARASS, LETHAL):
        day0.iran.ceiling = ceiling
        day0.touch()
        chances = {g.name: level_chances(day0, g) for g in day0.militias}
        per_ceiling[ceiling] = 365 * sum(h + x for h, x in chances.values())
        if ceiling == LETHAL:
            for name, (harass, lethal) in chances.items():
                assert f"{name} {harass:.4f} and {lethal:.5f}" in text, name
    quoted = " / ".join(f"{per_ceiling[c]:.1f}" for c in (Rung.TALKS, HARASS, LETHAL))
    assert f"{quoted} attacks a year" in text
    group = day0.militias[0]
    plan = group.plans()[HARASS]
    share = {}
    for (mode, claim), weight in zip(plan.options, plan.weights, strict=True):
        share[mode] = share.get(mode, 0.0) + weight / sum(plan.weights)
        share[claim] = share.get(claim, 0.0) + weight / sum(plan.weights)
    quoted = ", ".join(f"{key} {100 * share[key]:.0f} %" for key in
                       ("rocket", "ied", "drone", "claimed", "front", "unclaimed"))  # fmt: skip
    assert quoted in text
    assert f"inclusive values {plan.inclusive:.3f} (harassing)" in text


def test_quoted_identification_cost_is_the_codes(doc: str, day0: EscalationModel):
    text = flat(section(doc, "7.4"))
    group, rules = day0.militias[0], day0.rules
    kill = day0.target_table("rocket").lethality[HARASS]
    answer = rules.loss_weight * group.belief.answer_cost(kill, day0.us.threat_live())[0]
    arrest = rules.enforcement_fear * day0.government.effective_enforcement
    quoted = f"costs {group.name} {answer + arrest:.3f}, of which {arrest:.3f} is the government's"
    assert quoted in text
    assert f"and {answer:.3f} the expected US answer" in text


def test_quoted_day0_iran_figures_are_the_codes(doc, day0, monkeypatch: pytest.MonkeyPatch):
    text = flat(section(doc, "7.3"))
    iran = day0.iran
    costs = [iran.expected_cost(level) for level in LEVELS]
    assert f"expected costs {joined(costs)}" in text
    calls = captured_logits(monkeypatch)
    for urgency in (0.0, iran.params.dialogue_boost):
        iran.urgency = urgency
        iran.choose_ceiling()
    for utilities, rationality in calls:
        assert f"utilities {joined(utilities)}" in text
        assert f"probabilities {joined(softmax(utilities, rationality))}" in text
    calls.clear()
    assert f"missile salvo kills with chance {day0.missile_lethality():.4f}" in text
    iran.decides_to_strike()
    (utilities, rationality), *_ = calls
    cost = iran.params.response_value - utilities[1]
    strike = softmax(utilities, rationality)[1]
    assert f"expected cost {cost:.3f}, so Iran strikes with probability {strike:.3f}" in text
    calls.clear()
    assert not iran.offers_truce() and not calls  # no offer before the US is seen leaving
    for site in day0.site_troops:
        day0.site_troops[site] *= 0.75
    chances = []
    for urgency in (0.0, iran.params.dialogue_boost):
        iran.urgency = urgency
        iran.offers_truce()
        (utilities, rationality), *_ = calls
        calls.clear()
        chances.append(softmax(utilities, rationality)[1])
    quoted = (
        f"With a quarter of the troops gone ({day0.troops:,.0f}, about the level the US reaches "
        f"in 2020 at the defaults) Iran offers with probability {chances[0]:.3f} at a review "
        f"outside a dialogue window and {chances[1]:.3f} inside one"
    )
    assert quoted in text


def test_quoted_dialogue_window_is_the_calendars(doc: str, day0: EscalationModel):
    text = flat(section(doc, "7.3"))
    config = day0.scenario.config
    [session] = [e for e in config.events if e.kind == "dialogue"]
    day = day0.day_of(session.date)
    width = config.iran.dialogue_window_days
    assert f"The {session.date.day} June 2020 session (day {day}) puts days {day - width}-" in text
    assert f"{day + width} in a window" in text
    interval = config.iran.review_interval_days
    reviews = [t for t in range(1, day + width + 1) if (t - 1) % interval == 0]
    inside = [t for t in reviews if abs(t - day) <= width]
    outside = [t for t in reviews if abs(t - day) > width]
    assert f"the reviews of days {', '.join(map(str, inside[:-1]))} and {inside[-1]}" in text
    assert f"the first one (day {outside[0]}) without" in text and outside == [1]


def test_quoted_us_figures_are_the_codes(doc: str, day0: EscalationModel):
    text = flat(section(doc, "7.5"))
    us = day0.us
    assert f"v = {us.mission_value:g}" in text
    levels = [us.preferred_troops()]
    day0.election_salience = lambda _window: 1.0
    levels.append(us.preferred_troops())
    day0.government.demanded_withdrawal = True
    levels.append(us.preferred_troops())
    quoted = " / ".join(f"{n:,.0f}" for n in levels)
    assert f"N* = {quoted}" in text
    half = us.params.mission_half_size
    assert f"k reaches (N_0 + N_h)/N_h = {(day0.initial_troops + half) / half:g} times k_0" in text
    accept = us.params.truce_accept_share * day0.initial_troops
    assert f"N* falls below {accept:,.0f} only when k exceeds " in text
    assert f"{1000.0 * us.mission_value / (accept + half):.2f}" in text
    assert accept < levels[2] < levels[1]  # even a demand on election day leaves no truce
    attack = Attack(1, "Kata'ib Hezbollah", "rocket", "claimed", "Camp Taji", HARASS, 3, 0, 0,
                    Rung.HARASSING_FIRE, violation=True)  # fmt: skip

    def answered(u: float) -> bool:
        draws = iter([0.0, u, 0.99])
        day0.uniform = lambda: next(draws)
        return us.respond(attack)

    rate = us.type.follow_through
    boosted = 1.0 / (1.0 + math.exp(-(logit(rate) + us.params.audience_cost)))
    assert threshold(answered) == pytest.approx(boosted, abs=1e-9)
    assert f"answers it with probability {boosted:.3f} instead of {rate:g}" in text


def test_quoted_raid_and_rounding_figures_are_the_codes(doc: str, day0: EscalationModel):
    government = day0.government
    chances = {g.name: government.raid_success_prob(g) for g in day0.militias}
    text = flat(section(doc, "7.6"))
    usual = day0.militias[0]  # the most capable group, the usual target of raids
    assert f"S is {chances[usual.name]:.2f} against {usual.name} (c = {usual.capability:g})" in text
    weakest = min(day0.militias, key=lambda g: g.capability)
    assert f"at most {max(chances.values()):.2f} (against {weakest.name}" in text
    rules = day0.rules
    text = flat(section(doc, "7.4"))
    assert f"`militia_rules.enforcement_fear` x 0.02 = {rules.enforcement_fear * 0.02:.2f}" in text


def test_quoted_single_run_is_the_codes(doc: str):
    outcomes = simulate(ScenarioConfig(), 7).outcomes
    modes = ", ".join(f"{n} {m}" for m, n in outcomes["n_attacks_by_mode"].items())
    quoted = (
        f"{outcomes['n_attacks']} militia attacks ({modes}); Americans killed: "
        f"{outcomes['us_killed']} (first on day {outcomes['first_us_casualty_day']}); US answers: "
        f"{outcomes['us_answers']}; highest rung {outcomes['max_rung']}; drawdown from day "
        f"{outcomes['drawdown_start_day']} to a low of {outcomes['troops_min']:,} troops, "
        f"{outcomes['troops_final']:,} at the end"
    )
    assert quoted in flat(chapter(doc, "11"))


def load_measure():
    spec = importlib.util.spec_from_file_location("measure", ROOT / "docs" / "measure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_headline_june2020_figures_are_current(doc: str):
    # 200 runs of the June 2020 scenario (about 5 seconds): the figures that sections 1 and 11
    # lead with, measured as docs/measure.py measures them.
    measure = load_measure()
    runs = [measure.run(ScenarioConfig(), seed) for seed in measure.SEEDS]
    text = flat(chapter(doc, "11"))
    attacks = measure.col(runs, "n_attacks")
    assert f"militia attacks a year: {measure.mean_ci(attacks)}" in text
    redline = sum(r["redline_crossed"] for r in runs)
    assert f"red line crossed in {measure.share_ci(redline, len(runs))} of runs" in text
    lethal = measure.col(runs, "n_lethal_attempts")
    assert f"lethal attempts a year: {measure.mean_ci(lethal)}" in text
    troops = measure.col(runs, "troops_min")
    assert f"lowest troop level: {measure.mean_ci(troops)}" in text
    assert f"(the three Baghdad sites {100 * measure.baghdad_share(runs):.0f} %)" in text
    truces = sum(r["truce_day"] is not None for r in runs)
    assert f"a truce was agreed in {truces} runs" in text
    fell = sum(r["government_fell_day"] is not None for r in runs)
    assert f"fell in {fell} runs" in text


# --- what the doc cites exists --------------------------------------------------------------------

SIM_MODULES = ("sim.agents", "sim.model", "sim.scenario", "sim.beliefs", "sim.ladder")


def test_every_test_the_doc_names_exists(doc: str):
    defined = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        defined.add(path.stem)
        defined |= set(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.MULTILINE))
    named = set(re.findall(r"\b(test_\w+)", doc))
    assert not named - defined, f"tests the doc names that do not exist: {sorted(named - defined)}"


def test_every_file_the_doc_names_exists(doc: str):
    paths = set(re.findall(r"`([\w./-]+/[\w./-]*)(?:::\w+)?`", doc))
    missing = sorted(p for p in paths if not p.startswith("../") and not (ROOT / p).exists())
    for name in set(re.findall(r"`(\w+\.py)(?:::\w+)?`", doc)):  # modules named bare
        if not any((ROOT / folder / name).exists() for folder in ("sim", "tests", "docs")):
            missing.append(name)
    assert not missing, f"files the doc names that do not exist: {missing}"


def test_every_code_name_the_doc_cites_exists(doc: str):
    missing = []
    for dotted in set(re.findall(r"`(sim(?:\.\w+)+)(?:\([^`]*\))?`", doc)):
        module, _, name = dotted.rpartition(".")
        try:
            found = hasattr(importlib.import_module(module), name)
        except ImportError:
            found = False
        if not found:
            missing.append(dotted)
    classes = {}
    for module in SIM_MODULES:
        classes.update(vars(importlib.import_module(module)))
    for owner, attribute in set(re.findall(r"`([A-Z]\w+)\.(\w+)(?:\([^`]*\))?`", doc)):
        cls = classes.get(owner)
        source = inspect.getsource(cls) if isinstance(cls, type) else ""
        if not (
            hasattr(cls, attribute)
            or attribute in getattr(cls, "__annotations__", {})
            or re.search(rf"self\.{attribute}\s*[:=]", source)
        ):
            missing.append(f"{owner}.{attribute}")
    assert not missing, f"code names the doc cites that do not exist: {sorted(missing)}"


# --- references -----------------------------------------------------------------------------------


def test_every_reference_is_cited_and_the_required_ones_are_listed(doc: str):
    body, references = doc.split("\n## 13. References", 1)
    entries = [line[2:] for line in references.splitlines() if line.startswith("- ")]
    surnames = [re.match(r"[\w'-]+", entry).group(0) for entry in entries]
    uncited = [name for name in surnames if name not in body]
    assert not uncited, f"references never cited in the text: {uncited}"
    missing = [name for name in REQUIRED_REFERENCES if name not in surnames]
    assert not missing, f"references the model rests on but the list lacks: {missing}"
