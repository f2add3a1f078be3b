"""Human labels for every scenario field, outcome and level: the one table figures and reports use.

A figure shows ``Militia restraint``, not ``militias.*.restraint``, and ``Escalation dominance``,
not ``escalation_dominance``. `label` turns a dotted field path or an outcome column into words;
`level_label` does the same for a parameter's level. Paths into lists name their item:
``militias.Kata'ib Hezbollah.restraint`` is ``Restraint (Kata'ib Hezbollah)``; ``*`` is every
item (``Militia restraint``). `tests/test_labels.py` checks that every field of the scenario
format has a label here.
"""

from typing import Any

#: Table -> (label of the table, labels of its fields). ``{item}`` stands for a list item's name.
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "sites": (
        "Site",
        {
            "us_troops": "US troops at site",
            "defence": "Site defence",
            "militia_access": "Militia access to site",
            "symbolic_value": "Symbolic value of site",
            "retain_priority": "Priority to keep site",
            "lat": "Latitude",
            "lon": "Longitude",
        },
    ),
    "militias": (
        "Militia",
        {
            "capability": "Militia capability",
            "loyalty_to_iran": "Militia loyalty to Iran",
            "autonomy": "Militia autonomy",
            "restraint": "Militia restraint",
            "standing": "Militia standing",
            "arms": "Militia arms",
        },
    ),
    "modes": (
        "Attack mode",
        {
            "us_kill_prob": "P(US killed per munition)",
            "iraqi_casualty_prob": "P(Iraqi casualty per munition)",
            "harass_munitions": "Munitions per harassing attack",
            "lethal_munitions": "Munitions per lethal attack",
            "visibility": "Visibility",
            "availability": "Availability",
            "attribution_claimed": "Attribution when claimed",
            "attribution_front": "Attribution via front group",
            "attribution_unclaimed": "Attribution when unclaimed",
        },
    ),
    "militia_rules": (
        "Militia rules",
        {
            "rationality": "Militia rationality",
            "harass_odds": "Harassment odds",
            "lethal_odds": "Lethal-attack odds",
            "nest_dissimilarity": "Attack-mode nest dissimilarity",
            "pressure_value": "Value of pressure on US",
            "lethal_pressure": "Pressure weight of lethal attacks",
            "standing_value": "Value of standing",
            "front_credit": "Standing credit via front group",
            "front_visibility": "Visibility via front group",
            "unclaimed_visibility": "Visibility when unclaimed",
            "loss_weight": "Weight of expected losses",
            "iraqi_casualty_cost": "Cost of Iraqi casualties",
            "ceiling_violation_cost": "Cost of breaking Iran's ceiling",
            "enforcement_fear": "Fear of government enforcement",
            "harass_aim": "Aim of harassing fire",
            "access_weight": "Weight of site access",
            "symbolic_weight": "Weight of symbolic value",
            "opportunity_weight": "Weight of target size",
            "capability_recovery_per_day": "Militia capability recovery (per day)",
            "standing_half_life_days": "Half-life of standing (d)",
            "outbid_weight": "Outbidding weight",
            "own_experience_weight": "Weight of own experience",
            "belief_half_life_days": "Militia belief half-life (d)",
        },
    ),
    "iran": (
        "Iran",
        {
            "type_prior": "Iran's prior on US type",
            "belief_half_life_days": "Iran's belief half-life (d)",
            "rationality": "Iran's rationality",
            "review_interval_days": "Iran's review interval (d)",
            "withdrawal_value": "Iran's value of US withdrawal",
            "harassment_value": "Iran's value of harassment",
            "proxy_loss_cost": "Iran's cost of proxy losses",
            "strike_cost": "Iran's cost of a US strike on Iranians",
            "dialogue_window_days": "Dialogue window (d)",
            "dialogue_boost": "Dialogue boost to attacks",
            "response_value": "Iran's value of a direct response",
            "war_cost": "Iran's cost of open war",
            "missile_salvo": "Missiles per salvo",
            "missile_kill_prob": "P(US killed per missile)",
            "direct_response_prob": "P(Iran answers directly)",
            "red_line_crossed": "Iran's red line already crossed",
            "sanction": "Iran's sanction of a proxy",
            "sanction_days": "Sanction length (d)",
            "truce_value": "Iran's value of a truce",
            "truce_days": "Truce length (d)",
        },
    ),
    "us": (
        "US",
        {
            "policy": "US policy (true type)",
            "threat_prob": "P(US threat)",
            "threat_days": "Threat length (d)",
            "audience_cost": "US audience cost",
            "bluff_half_life_days": "Half-life of a called bluff (d)",
            "force_protection_gain": "Force-protection gain",
            "max_defence": "Maximum site defence",
            "presence_cost": "US cost of presence",
            "mission_half_size": "Mission half-size (troops)",
            "attack_cost": "US cost of an attack",
            "death_cost": "US cost of a death",
            "host_demand_cost": "US cost of a host demand",
            "election_weight": "Election weight",
            "election_window_days": "Election window (d)",
            "pressure_half_life_days": "Half-life of attack pressure (d)",
            "posture_review_days": "US posture review interval (d)",
            "drawdown_pace": "Drawdown pace (troops per review)",
            "reinforce_pace": "Reinforcement pace (troops per review)",
            "posture_deadband": "Posture dead band (troops)",
            "reinforce_threshold": "Reinforcement threshold (troops)",
            "no_retreat_days": "No retreat under fire (d)",
            "host_pressure_threshold": "Host-pressure threshold",
            "host_pressure_days": "Host-pressure interval (d)",
            "truce_accept_share": "Truce accepted below this share of troops",
            "drawdown_target": "Fixed drawdown target (troops)",
        },
    ),
    "us_types": (
        "US type",
        {
            "answer_harassing": "P(answer harassment)",
            "answer_deadly": "P(answer deadly attack)",
            "severity": "Severity of answers",
            "strikes_iranians": "P(strike Iranians)",
            "follow_through": "P(follow through on threat)",
            "show_of_force": "P(show of force)",
            "yields": "P(yield under pressure)",
        },
    ),
    "government": (
        "Government",
        {
            "enforcement": "Government enforcement",
            "political_capital": "Government political capital",
            "credibility": "Government credibility",
            "rationality": "Government rationality",
            "review_interval_days": "Government review interval (d)",
            "raid_value": "Value of a raid",
            "raid_cost": "Cost of a raid",
            "raid_failure_fear": "Fear of a failed raid",
            "capital_regen_per_day": "Capital regeneration (per day)",
            "militia_resistance": "Militia resistance to raids",
            "raid_capability_cut": "Capability cut by a raid",
            "raid_standing_loss": "Standing lost to a raid",
            "raid_success_credibility_gain": "Credibility gained by a raid",
            "raid_failure_credibility_loss": "Credibility lost by a failed raid",
            "backlash_standing_gain": "Standing gained from backlash",
            "attack_credibility_loss": "Credibility lost per attack",
            "strike_sovereignty_loss": "Credibility lost per US strike",
            "credibility_recovery_per_day": "Credibility recovery (per day)",
            "demand_value": "Value of demanding withdrawal",
            "demand_threshold": "Threshold to demand withdrawal",
            "grievance": "Initial grievance",
            "grievance_per_strike": "Grievance per US strike",
            "grievance_half_life_days": "Half-life of grievance (d)",
            "collapse_threshold": "Collapse threshold",
            "pressure_compliance": "Compliance with US pressure",
            "pressure_credibility_loss": "Credibility lost under US pressure",
            "demanded_withdrawal": "Withdrawal already demanded",
        },
    ),
    "mechanisms": (
        "Mechanism",
        {
            "choice": "Attack choice",
            "beliefs": "Beliefs about the US",
            "threats": "US threats",
            "attribution": "Attribution",
            "modes": "Attack modes",
            "outbidding": "Outbidding",
            "posture": "US posture",
            "bargaining": "Bargaining",
            "iran_response": "Iran's response",
            "host_pressure": "US pressure on the host",
        },
    ),
}

#: Top-level fields and run outcomes (and the design columns figures show).
NAMES: dict[str, str] = {
    "horizon_days": "Horizon (d)",
    "variant": "Model variant",
    "policy": "Candidate policy",
    "world": "Sampled world",
    "drawdown_start_day": "Drawdown start day",
    "drawdown_start_censored": "No drawdown start within horizon",
    "drawdown_day": "Drawdown day",
    "drawdown_censored": "No drawdown within horizon",
    "drawdown_day_restricted": "Drawdown day (censored = horizon)",
    "withdrawal_day": "Withdrawal day",
    "withdrawal_censored": "No withdrawal within horizon",
    "withdrawal_announced_day": "Withdrawal announced (day)",
    "redline_crossed": "Red line crossed",
    "first_us_casualty_day": "First US casualty day",
    "us_killed": "US killed",
    "iraqi_casualties": "Iraqi casualties",
    "max_rung": "Highest rung",
    "n_attacks": "Militia attacks",
    "n_deadly_attacks": "Deadly attacks",
    "n_lethal_attempts": "Lethal attempts",
    "attributed_share": "Share of attacks attributed",
    "iranian_direct_strikes": "Iranian direct strikes",
    "us_answers": "US answers",
    "us_strikes_on_iranians": "US strikes on Iranians",
    "us_threats": "US threats",
    "us_bluffs": "US bluffs called",
    "us_shows_of_force": "US shows of force",
    "us_host_pressure": "US pressure on the host",
    "government_raids": "Government raids",
    "government_failed_raids": "Failed government raids",
    "government_demanded_withdrawal": "Government demanded withdrawal",
    "government_fell_day": "Government fell (day)",
    "government_credibility_final": "Government credibility at end",
    "truce_offers": "Truce offers",
    "truce_day": "Truce day",
    "truce_violations": "Truce violations",
    "open_war_day": "Open war day",
    "us_credibility_final": "Iran's belief in US credibility at end",
    "us_resolve_final": "Iran's belief in US resolve at end",
    "force_protection_final": "Force protection at end",
    "troops_final": "US troops at end",
    "troops_min": "Fewest US troops",
}

#: Outcomes stored per key: ``n_attacks_by_site.Erbil`` is ``Attacks on Erbil``.
GROUPED: dict[str, str] = {
    "n_attacks_by_site": "Attacks on {key}",
    "n_attacks_by_group": "Attacks by {key}",
    "n_attacks_by_mode": "Attacks by {key}",
    "n_attacks_by_claim": "Attacks {key}",
    "days_at_rung": "Days at rung {key}",
    "belief_final": "Iran's belief at end: {key}",
}

#: Levels whose words differ from the identifier with underscores as spaces, capitalised.
LEVELS: dict[str, str] = {
    "escalation_dominance": "Escalation dominance",
    "v1": "Model v1",
    "v2": "Model v2",
    "deadly_only": "Deadly attacks only",
    "fixed_target": "Fixed target",
    "coin_flip": "Coin flip",
    "all": "All modes",
    "rockets": "Rockets only",
    "ied": "IED",
    "True": "Yes",
    "False": "No",
    "true": "Yes",
    "false": "No",
}


def label(path: str) -> str:
    """Words for a dotted scenario field path or an outcome column."""
    if path in NAMES:
        return NAMES[path]
    head, _, rest = path.partition(".")
    if head in GROUPED and rest:
        return GROUPED[head].format(key=rest)
    if head in TABLES and rest:
        return table_field_label(head, rest)
    return path


def table_field_label(table: str, rest: str) -> str:
    """Words for a field inside one table: ``us.threat_prob``, ``militias.*.restraint``."""
    title, fields = TABLES[table]
    if table in {"sites", "militias", "modes", "us_types"}:
        item, _, field = rest.partition(".")
        words = fields.get(field.partition(".")[0], field)
        if field.startswith("arms."):
            words = f"Arms: {field.removeprefix('arms.')}"
        if item == "*":
            return words if table in {"sites", "militias"} else f"{words} (every {title.lower()})"
        return f"{words} ({level_label(item)})"
    field, _, key = rest.partition(".")
    words = fields.get(field, field.replace("_", " "))
    return f"{words}: {level_label(key)}" if key else words


def level_label(level: Any) -> str:
    """Words for a level: ``escalation_dominance`` -> ``Escalation dominance``; numbers to 3
    significant digits."""
    if isinstance(level, bool):
        return "Yes" if level else "No"
    if isinstance(level, float):
        return f"{level:.3g}"
    text = str(level)
    if text in LEVELS:
        return LEVELS[text]
    if "_" in text or text.islower():
        words = text.replace("_", " ")
        return words[:1].upper() + words[1:]
    return text
