"""docs/model.md must keep up with the code: fields, rungs, outcomes and its day-0 figures."""

import math
import re
import typing
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim import agents
from sim.agents import lethality
from sim.ladder import RUNG_INFO, Rung
from sim.model import EscalationModel, EscalationScenario
from sim.scenario import ScenarioConfig, apply_overrides

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"
TABLE_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
LADDER_ROW = re.compile(
    r"^\|\s*(\d+)\s*\|\s*`(\w+)`\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([+-]?[\d.]+)\s*\|\s*(\d)\s*\|",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def code_spans(doc: str) -> set[str]:
    """Everything written between backticks in the doc."""
    return set(re.findall(r"`([^`\n]+)`", doc))


def nested_models(annotation: object) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation: itself, or inside a tuple, list or union."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in nested_models(arg)]


def scenario_fields(
    model: type[BaseModel] = ScenarioConfig, prefix: str = ""
) -> Iterator[tuple[str, FieldInfo]]:
    """(dotted path, field) of every field reachable from `ScenarioConfig`, list items unindexed."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info
        for nested in nested_models(info.annotation):
            yield from scenario_fields(nested, f"{path}.")


def plain_default(info: FieldInfo) -> tuple[bool, object]:
    """(True, default) for a field with a scalar default; (False, None) otherwise."""
    if info.is_required() or info.default_factory is not None:
        return False, None
    if isinstance(info.default, BaseModel):
        return False, None
    return True, info.default


def cell_states(cell: str, default: object) -> bool:
    """Whether a table cell such as `0.9`, `"never"`, `false` or `2020-06-01` equals ``default``."""
    if default is None:
        return "none" in cell.lower()
    if not (len(cell) >= 2 and cell.startswith("`") and cell.endswith("`")):
        return False
    text = cell[1:-1]
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


def test_the_field_walk_reaches_every_table():
    # Guards the tests below against passing vacuously if the walk stops finding fields.
    paths = {path for path, _ in scenario_fields()}
    for expected in (
        "horizon_days",
        "sites.defence",
        "militias.restraint",
        "events.site",
        "militia_rules.attack_propensity",
        "iran.learning_rate",
        "us.retaliation_prob",
        "government.collapse_threshold",
    ):
        assert expected in paths
    assert not any(path.count(".") > 1 for path in paths)


def test_every_scenario_field_is_documented(code_spans: set[str]):
    missing = [path for path, _ in scenario_fields() if path not in code_spans]
    assert not missing, f"scenario fields not documented in docs/model.md: {missing}"


def test_documented_defaults_match_the_code(doc: str):
    parameters = doc.split("\n## 8. Parameters", 1)[1].split("\n## 9.", 1)[0]
    rows: dict[str, list[str]] = {}
    for path, cell in TABLE_ROW.findall(parameters):
        rows.setdefault(path, []).append(cell)
    wrong = []
    for path, info in scenario_fields():
        has_default, default = plain_default(info)
        if info.is_required():
            cells_ok = all("required" in cell for cell in rows.get(path, ["?"]))
        elif has_default:
            cells_ok = path in rows and all(cell_states(c, default) for c in rows[path])
        else:
            continue
        if not cells_ok:
            wrong.append((path, rows.get(path), "required" if info.is_required() else default))
    assert not wrong, f"parameter rows disagree with sim/scenario.py: {wrong}"


def test_ladder_table_matches_the_ladder(doc: str, code_spans: set[str]):
    table = {int(rung): rest for rung, *rest in LADDER_ROW.findall(doc)}
    assert set(table) == {int(r) for r in Rung}
    for rung in Rung:
        info = RUNG_INFO[rung]
        name, label, cameo, goldstein, hostility = table[int(rung)]
        assert name == rung.name
        assert label == info.label
        assert cameo == info.cameo
        assert float(goldstein) == info.goldstein
        assert int(hostility) == info.mid_hostility
        assert rung.name in code_spans


def test_outcomes_and_series_columns_are_documented(code_spans: set[str]):
    config = apply_overrides(ScenarioConfig(), {"horizon_days": 2})
    model = EscalationModel(EscalationScenario(rng=0, config=config))
    while model.running:
        model.step()
    missing = [key for key in model.outcomes() if key not in code_spans]
    columns = model.datacollector.get_model_vars_dataframe().columns
    missing += [c for c in columns if not c.startswith("rung:") and c not in code_spans]
    assert "rung:<militia name>" in code_spans
    assert not missing, f"outcomes or series columns not documented in docs/model.md: {missing}"


def section(doc: str, heading: str) -> str:
    """The text of one `###` subsection of the doc."""
    return doc.split(f"\n### {heading}", 1)[1].split("\n### ", 1)[0]


def softmax(utilities: list[float], rationality: float) -> list[float]:
    top = max(utilities)
    weights = [math.exp(rationality * (u - top)) for u in utilities]
    return [w / sum(weights) for w in weights]


def joined(values: list[float], digits: int = 3) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in values)


@pytest.fixture
def june_day0() -> EscalationModel:
    return EscalationModel(EscalationScenario(rng=0, config=ScenarioConfig()), record=False)


def test_quoted_kill_chances_are_the_codes(doc: str):
    text = " ".join(section(doc, "7.2 Salvo lethality and attack resolution").split())
    rules, iran = ScenarioConfig().militia_rules, ScenarioConfig().iran
    kill = rules.us_kill_prob_per_rocket
    light = [lethality(rules.light_salvo_mean, d, kill) for d in (0.3, 0.4)]
    heavy = [lethality(rules.heavy_salvo_mean, d, kill) for d in (0.3, 0.4)]
    missiles = lethality(iran.missile_salvo, 0.4, iran.missile_kill_prob)
    for quoted in (joined(light, 4), joined(heavy, 4), f"{missiles:.4f}"):
        assert quoted in text


def test_quoted_day0_ceiling_choice_is_the_codes(
    doc: str, june_day0: EscalationModel, monkeypatch: pytest.MonkeyPatch
):
    # The utilities are captured from Iran's own choose_ceiling, so the doc is checked against
    # the rule as coded, not against a copy of its equation.
    text = " ".join(section(doc, "7.3 Iran (IRGC-Quds Force)").split())
    iran = june_day0.iran
    assert f"resolve {iran.resolve:.2f}, reaction {iran.reaction:.4f}" in text
    captured: list[tuple[list[float], float]] = []
    monkeypatch.setattr(agents, "logit_choice", lambda _, u, lam: captured.append((u, lam)) or 0)
    for urgency in (0.0, iran.params.dialogue_boost):
        iran.urgency = urgency
        iran.choose_ceiling()
    for utilities, rationality in captured:
        assert joined(utilities) in text
        assert joined(softmax(utilities, rationality)) in text


def test_quoted_day0_attack_rates_are_the_codes(doc: str, june_day0: EscalationModel):
    text = " ".join(section(doc, "7.4 Militia groups").split())
    rules = june_day0.scenario.config.militia_rules
    june_day0.attack_menu = agents.attack_menu(june_day0)

    def attacks_a_year(ceiling: Rung, urgency: float) -> str:
        june_day0.iran.ceiling, june_day0.iran.urgency = ceiling, urgency
        daily = 0.0
        for group in june_day0.militias:
            options = [0.0, rules.threat_gain, *map(group.attack_utility, june_day0.attack_menu)]
            daily += sum(softmax(options, rules.rationality)[2:])
        return f"{365 * daily:.1f}"

    ceilings = (Rung.US_CASUALTIES, Rung.HARASSING_FIRE, Rung.THREATS)
    outside = [attacks_a_year(c, 0.0) for c in ceilings]
    inside = [attacks_a_year(c, june_day0.iran.params.dialogue_boost) for c in ceilings]
    assert f"{outside[0]} attacks a year if nothing changed" in text
    assert f"`HARASSING_FIRE`, {outside[1]} a year; at `THREATS`, {outside[2]} a year" in text
    assert f"give {inside[0]}, {inside[1]} and {inside[2]} attacks a year" in text
