"""The escalation model: one step is one day of the 2020 confrontation in Iraq."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd
from mesa.experimental.scenarios import Scenario

from sim.agents import (
    ATTACK_MOVES,
    CLAIMS,
    HARASS,
    LETHAL,
    Attack,
    Iran,
    IraqiGovernment,
    MilitiaGroup,
    UnitedStates,
    lethality,
    pick,
)
from sim.beliefs import Observation
from sim.ladder import Move, Rung
from sim.scenario import CalendarEvent, ModeParams, ScenarioConfig, SiteParams

DEFAULT_CONFIG = ScenarioConfig()
CONVOYS = "supply convoys"  # the target of modes that hit logistics convoys
SIZE_REFERENCE = 2500.0  # troops at standard sites at which the attack opportunity term is zero
UNIFORM_BATCH = 256  # uniform draws fetched from the generator at a time


class EscalationScenario(Scenario):
    """Typed defaults for the model: a validated scenario (June 2020 unless given)."""

    config: ScenarioConfig = DEFAULT_CONFIG


@dataclass
class TargetTable:
    """What one attack mode can hit today: each target's choice weight, the expected lethality
    of an attack at each level (averaged over the targets) and the price of its expected Iraqi
    casualties."""

    names: list[str]
    weights: list[float]
    defences: list[float]  # each target's defence (0 for convoys)
    lethality: dict[Rung, float]
    reach: float | None  # the targets' term in an attack's utility; None when there are none
    iraqi_cost: dict[Rung, float]  # expected Iraqi casualties, priced by iraqi_casualty_cost


class EscalationModel(mesa.Model):
    """Iran, militias, the US and the Iraqi government on a shared escalation ladder.

    Args:
        scenario: the scenario and seed; the June 2020 defaults when omitted.
        rng: seed, used when no scenario is given (as `mesa.batch_run` passes it).
        record: collect the daily series with a `mesa.DataCollector` (off for fast sweeps).
    """

    def __init__(
        self,
        scenario: EscalationScenario | None = None,
        rng: Any = None,
        record: bool = True,
    ):
        super().__init__(scenario=scenario or EscalationScenario(rng=rng))
        config = self.scenario.config
        self.rules = config.militia_rules
        self.mechanisms = config.mechanisms
        self.modes: dict[str, ModeParams] = dict(config.modes)
        self.active_modes = ["rocket"] if self.mechanisms.modes == "rockets" else list(self.modes)
        self.flat_menu = self.mechanisms.choice == "flat"
        self.claim_credit = {"claimed": 1.0, "front": self.rules.front_credit, "unclaimed": 0.0}
        self.claim_terms = self._claim_terms(self._attack_gains())
        self.standing_total = 0.0
        self.sites: tuple[SiteParams, ...] = config.sites
        self.site_troops: dict[str, float] = {s.name: float(s.us_troops) for s in self.sites}
        self.initial_troops = float(config.total_troops)
        self.troops_min = self.initial_troops
        self._uniforms: list[float] = []
        self._next_uniform = 0
        self.state_version = 0
        self._tables: dict[str, TargetTable] = {}
        self._tables_version = -1
        self.pressure_decay = 0.5 ** (1.0 / config.us.pressure_half_life_days)
        self.bluff_decay = 0.5 ** (1.0 / config.us.bluff_half_life_days)
        self.standing_decay = 0.5 ** (1.0 / self.rules.standing_half_life_days)
        self.grievance_decay = 0.5 ** (1.0 / config.government.grievance_half_life_days)
        self.attacks: list[Attack] = []
        self.attacks_today: list[Attack] = []
        self.us_killed = 0
        self.iraqi_casualties = 0
        self.system_rung = Rung.TALKS
        self.max_rung = Rung.TALKS
        self.days_at_rung: Counter[Rung] = Counter()
        self.moves: Counter[Move] = Counter()
        self.first_us_casualty_day: int | None = None
        self.drawdown_start_day: int | None = None
        self.drawdown_day: int | None = None
        self.withdrawal_day: int | None = None
        self.withdrawal_announced_day: int | None = None
        self.government_fell_day: int | None = None
        self.war_day: int | None = None
        self.truce_until = -1
        self.truce_day: int | None = None
        self.truce_violations = 0
        self.dialogue_held = False
        self.event_log: list[tuple[int, str, str]] | None = [] if record else None
        self.dialogue_days = [self.day_of(e.date) for e in config.events if e.kind == "dialogue"]
        self.election_days = [self.day_of(e.date) for e in config.events if e.kind == "election"]

        self.iran = Iran(self)
        for params in config.militias:
            MilitiaGroup(self, params)
        self.government = IraqiGovernment(self)
        self.us = UnitedStates(self)
        self.militias: tuple[MilitiaGroup, ...] = tuple(self.agents_by_type[MilitiaGroup])
        self.observers = (self.iran, *self.militias)
        self.actors = (self.iran, *self.militias, self.us, self.government)

        self.schedule_calendar(config.events)
        self.us.reveal_mission_value()
        self.check_troop_thresholds()
        self.datacollector = (
            mesa.DataCollector(model_reporters=self.reporters()) if record else None
        )
        self.collect()

    # --- time, chance and the calendar -------------------------------------------------------

    @property
    def day(self) -> int:
        """Days since the start date; the initial state is day 0."""
        return self.steps

    @property
    def date(self) -> date:
        """Calendar date of the current day."""
        return self.scenario.config.start_date + timedelta(days=self.day)

    def day_of(self, when: date) -> int:
        """Day number of a calendar date."""
        return (when - self.scenario.config.start_date).days

    def uniform(self) -> float:
        """The next U(0, 1) draw of the run's generator (fetched in batches, for speed)."""
        if self._next_uniform == len(self._uniforms):
            self._uniforms = self.rng.random(UNIFORM_BATCH).tolist()
            self._next_uniform = 0
        self._next_uniform += 1
        return self._uniforms[self._next_uniform - 1]

    @property
    def plan_key(self) -> tuple[int, int, bool]:
        """What the militias' cached plans depend on besides their beliefs: the state's version,
        the government's enforcement in steps of 0.02, and whether a US threat binds."""
        enforcement = round(50.0 * self.government.effective_enforcement)
        return self.state_version, enforcement, self.us.threat_binding()

    def touch(self) -> None:
        """Note that something the militias' attack choice depends on has changed."""
        self.state_version += 1

    def schedule_calendar(self, events: tuple[CalendarEvent, ...]) -> None:
        """Schedule each dated event at the start of its day, before the actors move."""
        for day in sorted({self.day_of(e.date) for e in events}):
            if day == 0:
                self.fire_calendar_events()
            else:
                self.schedule_event(self.fire_calendar_events, at=day - 0.5)

    def fire_calendar_events(self) -> None:
        """Apply the calendar events that fall on the coming day."""
        coming = round(self.time + 0.5)
        for event in self.scenario.config.events:
            if self.day_of(event.date) != coming:
                continue
            self.note("Calendar", event.label or event.kind, day=coming)
            match event.kind:
                case "dialogue":
                    self.dialogue_held = True
                    self.moves[Move.CONSULT] += 1
                case "withdrawal_request":
                    self.government.demanded_withdrawal = True
                    self.moves[Move.DEMAND_WITHDRAWAL] += 1
                case "handover":
                    self.hand_over(event.site)
                case "government_change":
                    self.government.take_office(event)

    def dialogue_is_salient(self, window: int) -> bool:
        """Whether a strategic-dialogue session lies within ``window`` days of today."""
        return any(abs(self.day - d) <= window for d in self.dialogue_days)

    def election_salience(self, window: int) -> float:
        """How close a US election is: 1 on election day, falling linearly to 0 ``window`` days
        before and after it."""
        return max((max(0.0, 1.0 - abs(self.day - d) / window) for d in self.election_days),
                   default=0.0)  # fmt: skip

    # --- the day -----------------------------------------------------------------------------

    def step(self) -> None:
        """One day: Iran, the militias, the US, the government; then everyone learns."""
        self.attacks_today = []
        for actor in self.actors:
            actor.rung = Rung.TALKS
        if self.at_war:
            self.record_day()
            return
        self.iran.step()
        for group in self.militias:
            group.recover()
        self.standing_total = sum(group.standing for group in self.militias)
        for group in self.militias:
            group.decide()
        self.us.step()
        self.government.step()
        self.learn_from_today()
        self.record_day()

    def record_day(self) -> None:
        """Today's rungs, thresholds and record; stop at the horizon."""
        self.system_rung = Rung.OPEN_WAR if self.at_war else max(a.rung for a in self.actors)
        self.max_rung = max(self.max_rung, self.system_rung)
        self.days_at_rung[self.system_rung] += 1
        self.check_troop_thresholds()
        self.collect()
        if self.day >= self.scenario.config.horizon_days:
            self.running = False

    def actor_rungs(self) -> dict[str, Rung]:
        """Today's rung of each actor, by name."""
        rungs = {"Iran": self.iran.rung, "US": self.us.rung, "Government": self.government.rung}
        rungs.update({m.name: m.rung for m in self.militias})
        return rungs

    def learn_from_today(self) -> None:
        """Every observer sees whether the US answered each of today's attacks (an attack that
        crossed a live threat tests the threat, which needs no attribution); attacking groups
        earn standing. A group weighs what happened to its own attacks more."""
        weight = self.rules.own_experience_weight
        for attack in self.attacks_today:
            if not attack.by_iran:
                self.militia(attack.attacker).credit(attack)
            observation = Observation(
                "threat_test" if attack.violation else "answer",
                attack.answered,
                deadly=attack.us_killed > 0,
                seen=1.0 if attack.violation else self.attack_attribution(attack),
                iranians=attack.struck_iranians if attack.answered else None,
            )
            if not self.observable(observation):
                continue
            for observer in self.observers:
                own = getattr(observer, "name", None) == attack.attacker
                observer.observe(observation, weight if own else 1.0)

    def observe_all(self, observation: Observation) -> None:
        """Every observer sees one US move (or its absence)."""
        if not self.observable(observation):
            return
        for observer in self.observers:
            observer.observe(observation)

    def observable(self, observation: Observation) -> bool:
        """Whether observers learn from this evidence: under v1's ``deadly_only`` beliefs, only
        from what followed an attack that killed Americans."""
        return self.mechanisms.beliefs == "types" or observation.deadly

    # --- attacks -----------------------------------------------------------------------------

    def attribution(self, mode: ModeParams, claim: str) -> float:
        """Chance the US identifies who is behind an attack of ``mode`` with ``claim``."""
        return 1.0 if self.mechanisms.attribution == "perfect" else mode.attribution(claim)

    def attack_attribution(self, attack: Attack) -> float:
        """The attribution chance of an attack as observers judge it (1 for Iran's strikes)."""
        return 1.0 if attack.by_iran else self.attribution(self.modes[attack.mode], attack.claim)

    def standing_gain(self, level: Rung, mode_name: str, claim: str) -> float:
        """Standing a group's constituency credits it with for an attack."""
        rules = self.rules
        weight = rules.lethal_pressure if level == LETHAL else 1.0
        return weight * self.modes[mode_name].visibility * self.claim_credit[claim]

    def _attack_gains(self) -> dict[tuple[Rung, str, str], float]:
        """What an attack is worth to its group before costs, by (level, mode, claim): the
        pressure it puts on the US (less when deniable) and the standing its claim earns, scaled
        by the mode's visibility and, for a lethal attack, by ``lethal_pressure``."""
        rules = self.rules
        visibility = {"claimed": 1.0, "front": rules.front_visibility,
                      "unclaimed": rules.unclaimed_visibility}  # fmt: skip
        gains = {}
        for level in (HARASS, LETHAL):
            weight = rules.lethal_pressure if level == LETHAL else 1.0
            for name, mode in self.modes.items():
                for claim in CLAIMS:
                    gains[level, name, claim] = (
                        weight
                        * mode.visibility
                        * (
                            rules.pressure_value * visibility[claim]
                            + rules.standing_value * self.claim_credit[claim]
                        )
                    )
        return gains

    def _claim_terms(
        self, gains: dict[tuple[Rung, str, str], float]
    ) -> dict[Rung, list[tuple[str, list[tuple[tuple[str, str], float, float]]]]]:
        """For each level, each active mode with its (mode, claim) options, each option's gain
        and its attribution chance: the parts of an attack's utility that never change."""
        return {
            level: [
                (name, [((name, c), gains[level, name, c], self.attribution(mode, c))
                        for c in CLAIMS])
                for name, mode in self.modes.items() if name in self.active_modes
            ]
            for level in (HARASS, LETHAL)
        }  # fmt: skip

    def reference_mode(self) -> str:
        """The mode Iran prices its ceiling by: rockets, else the first mode that hits sites."""
        if "rocket" in self.modes:
            return "rocket"
        return next(name for name, m in self.modes.items() if m.target == "sites")

    def defence(self, site: SiteParams) -> float:
        """A site's defence: its own, raised towards the US's best by force protection."""
        us = self.scenario.config.us
        return site.defence + (us.max_defence - site.defence) * self.us.force_protection

    def target_table(self, mode_name: str) -> TargetTable:
        """The targets of ``mode_name`` today (cached until the state changes)."""
        if self._tables_version != self.state_version:
            self._tables = {name: self.build_table(name) for name in self.modes}
            self._tables_version = self.state_version
        return self._tables[mode_name]

    def build_table(self, mode_name: str) -> TargetTable:
        """Targets with their size-weighted appeal: the size term (troops) makes a site split
        into identical halves weigh as much as the whole (Ben-Akiva and Lerman 1985, ch. 9)."""
        mode = self.modes[mode_name]
        rules = self.rules
        if mode.target == "convoys":
            names, sizes, appeals, defences = [CONVOYS], [self.troops], [1.0], [0.0]
        else:
            occupied = self.occupied_sites()
            names = [s.name for s in occupied]
            sizes = [self.site_troops[s.name] for s in occupied]
            appeals = [
                math.exp(rules.symbolic_weight * (s.symbolic_value - 1.0)
                         + rules.access_weight * (s.militia_access - 1.0))
                for s in occupied
            ]  # fmt: skip
            defences = [self.defence(s) for s in occupied]
        flat = self.flat_menu
        if flat:
            weights = [a**rules.rationality for a in appeals]
        else:
            weights = [size * a for size, a in zip(sizes, appeals, strict=True)]
        total = sum(weights)
        shares = [w / total for w in weights] if total > 0.0 else weights
        munitions = {HARASS: mode.harass_munitions, LETHAL: mode.lethal_munitions}
        aim = {HARASS: rules.harass_aim, LETHAL: 1.0}
        return TargetTable(
            names=names,
            weights=weights,
            defences=defences,
            lethality={
                level: sum(
                    s * lethality(n, d, aim[level] * mode.us_kill_prob)
                    for s, d in zip(shares, defences, strict=True)
                )
                for level, n in munitions.items()
            },
            reach=self.reach(total) if total > 0.0 else None,
            iraqi_cost={
                level: rules.iraqi_casualty_cost * n * mode.iraqi_casualty_prob
                for level, n in munitions.items()
            },
        )

    def reach(self, total: float) -> float:
        """The targets' term in an attack's utility. Staged choice: the opportunity, the log of
        the summed size-weighted appeal relative to SIZE_REFERENCE, times opportunity_weight.
        Flat menu (v1): every target an alternative, so the log of the summed appeal on the
        utility scale (1 / rationality)."""
        if self.flat_menu:
            return math.log(total) / self.rules.rationality
        return self.rules.opportunity_weight * math.log(total / SIZE_REFERENCE)

    def launch_attack(self, group: MilitiaGroup, level: Rung, mode_name: str, claim: str) -> Attack:
        """Carry out a group's attack: pick the target, the number of munitions, the casualties."""
        table = self.target_table(mode_name)
        chosen = pick(self.uniform(), table.weights)
        target = table.names[chosen]
        mode = self.modes[mode_name]
        mean = mode.lethal_munitions if level == LETHAL else mode.harass_munitions
        munitions = 1 + int(self.rng.poisson(mean - 1.0))
        aim = 1.0 if level == LETHAL else self.rules.harass_aim
        kill_prob = aim * mode.us_kill_prob * (1.0 - table.defences[chosen])
        attack = self.resolve(group.name, mode_name, claim, target, level, munitions, kill_prob,
                              mode.iraqi_casualty_prob)  # fmt: skip
        attack.violation = self.us.threat_binding()
        group.attacks += 1
        group.rung = attack.rung
        self.record_move(group.name, ATTACK_MOVES.get(mode_name, Move.ROCKET_ATTACK),
                         f"{claim} {mode_name} attack ({munitions}) on {target}: "
                         f"{attack.us_killed} Americans killed")  # fmt: skip
        if self.truce_active():
            self.truce_violated(group)
        elif level > self.iran.ceiling:
            self.iran.sanction(group)
        return attack

    def resolve(
        self,
        attacker: str,
        mode: str,
        claim: str,
        target: str,
        level: Rung,
        munitions: int,
        kill_prob: float,
        iraqi_prob: float,
    ) -> Attack:
        """Draw an attack's casualties and record it."""
        us_killed = int(self.rng.binomial(munitions, kill_prob)) if kill_prob > 0.0 else 0
        iraqi = int(self.rng.binomial(munitions, iraqi_prob)) if iraqi_prob > 0.0 else 0
        if us_killed:
            rung = Rung.US_CASUALTIES
        elif iraqi:
            rung = Rung.IRAQI_CASUALTIES
        else:
            rung = Rung.HARASSING_FIRE
        attack = Attack(self.day, attacker, mode, claim, target, level, munitions, us_killed,
                        iraqi, rung)  # fmt: skip
        self.attacks.append(attack)
        self.attacks_today.append(attack)
        self.us_killed += us_killed
        self.iraqi_casualties += iraqi
        if us_killed and self.first_us_casualty_day is None:
            self.first_us_casualty_day = self.day
        return attack

    def missile_lethality(self) -> float:
        """Chance Iran's missile salvo kills an American at the largest occupied site."""
        params = self.scenario.config.iran
        site = self.largest_site()
        return lethality(params.missile_salvo, self.defence(site), params.missile_kill_prob)

    def iranian_missile_strike(self) -> Attack:
        """Iran answers a strike on its personnel directly, at the largest US base."""
        params = self.scenario.config.iran
        site = self.largest_site()
        kill_prob = params.missile_kill_prob * (1.0 - self.defence(site))
        attack = self.resolve("Iran", "missile", "claimed", site.name, LETHAL, params.missile_salvo,
                              kill_prob, 0.0)  # fmt: skip
        attack.rung = Rung.STATE_ON_STATE
        text = f"missile strike on {site.name}: {attack.us_killed} Americans killed"
        self.record_move("Iran", Move.MISSILE_STRIKE, text)
        return attack

    # --- war, truce --------------------------------------------------------------------------

    @property
    def at_war(self) -> bool:
        """Whether open war has broken out (absorbing: the model does not go past it)."""
        return self.war_day is not None

    def start_war(self) -> None:
        """Open war between the US and Iran: the run stays at OPEN_WAR from here on."""
        self.war_day = self.day
        self.note("US and Iran", "direct exchange of strikes: open war")

    def truce_active(self) -> bool:
        """Whether a truce between Iran's proxies and the US holds today."""
        return self.day <= self.truce_until

    def offer_truce(self) -> None:
        """Iran offers a truce conditioned on a US withdrawal timetable; the US answers."""
        self.record_move("Iran", Move.OFFER_TRUCE, "offers a truce for a US withdrawal timetable")
        if self.us.consider_truce():
            self.truce_until = self.day + self.scenario.config.iran.truce_days
            self.truce_day = self.truce_day if self.truce_day is not None else self.day
            self.record_move("Iran", Move.DECLARE_TRUCE, "truce: proxies to hold their fire")
            self.touch()

    def truce_violated(self, group: MilitiaGroup) -> None:
        """An attack during a truce; it ends the truce if the US can tell who made it."""
        self.truce_violations += 1
        self.record_move(group.name, Move.VIOLATE_TRUCE, "attacks during the truce")

    def end_truce(self) -> None:
        """The US holds the truce broken: it ends, and so does the withdrawal it was paid with."""
        self.truce_until = self.day - 1
        self.us.committed = False
        self.note("US", "holds the truce broken and withdraws its timetable")
        self.touch()

    # --- forces and sites --------------------------------------------------------------------

    def site(self, name: str) -> SiteParams:
        """The site called ``name``."""
        return next(s for s in self.sites if s.name == name)

    def occupied_sites(self) -> list[SiteParams]:
        """Sites that still host US personnel."""
        return [s for s in self.sites if self.site_troops[s.name] > 0]

    def largest_site(self) -> SiteParams:
        """The occupied site with the most troops."""
        return max(self.occupied_sites(), key=lambda s: self.site_troops[s.name])

    @property
    def troops(self) -> float:
        """US troops in Iraq."""
        return sum(self.site_troops.values())

    @property
    def bases(self) -> int:
        """Sites still held by US forces."""
        return len(self.occupied_sites())

    def withdraw(self, amount: float) -> None:
        """Withdraw troops, emptying the least-valued sites first."""
        order = sorted(
            self.occupied_sites(), key=lambda s: (s.retain_priority, self.site_troops[s.name])
        )
        for site in order:
            if amount <= 0:
                break
            taken = min(amount, self.site_troops[site.name])
            self.site_troops[site.name] -= taken
            amount -= taken
        if self.drawdown_start_day is None:
            self.drawdown_start_day = self.day
        self.touch()

    def reinforce(self, amount: float) -> None:
        """Send troops to the occupied site the US values most."""
        sites = self.occupied_sites() or list(self.sites)
        keep = max(sites, key=lambda s: (s.retain_priority, self.site_troops[s.name]))
        self.site_troops[keep.name] += amount
        self.touch()

    def hand_over(self, site_name: str | None) -> None:
        """Hand a site to Iraqi forces, consolidating its troops at the largest remaining site.

        Handing over the last site takes its troops out of Iraq.
        """
        troops = self.site_troops.get(site_name, 0.0)
        self.site_troops[site_name] = 0.0
        remaining = self.occupied_sites()
        if troops and remaining:
            self.site_troops[self.largest_site().name] += troops
        self.touch()

    def check_troop_thresholds(self) -> None:
        """Note the first day troops are at or below half the initial level, and zero."""
        troops = self.troops
        self.troops_min = min(self.troops_min, troops)
        if self.drawdown_day is None and troops <= 0.5 * self.initial_troops + 1e-6:
            self.drawdown_day = self.day
        if self.withdrawal_day is None and troops <= 1e-6:
            self.withdrawal_day = self.day

    def most_active_militia(self) -> MilitiaGroup:
        """The group with most attacks so far, the most capable on ties."""
        return max(self.militias, key=lambda m: (m.attacks, m.capability))

    def militia(self, name: str) -> MilitiaGroup:
        """The militia group called ``name``."""
        return next(m for m in self.militias if m.name == name)

    # --- records -----------------------------------------------------------------------------

    def record_move(self, actor: str, move: Move, text: str) -> None:
        """Count a move and log it with its CAMEO code."""
        self.moves[move] += 1
        if self.event_log is not None:
            self.note(actor, f"{text} [CAMEO {move.info.cameo.split()[0]}]")

    def reporters(self) -> dict[str, Any]:
        """DataCollector reporters for the daily series."""
        reporters: dict[str, Any] = {
            "day": "day",
            "date": lambda m: m.date.isoformat(),
            "troops": lambda m: round(m.troops),
            "bases": "bases",
            "system_rung": lambda m: int(m.system_rung),
            "iran_rung": lambda m: int(m.iran.rung),
            "iran_ceiling": lambda m: int(m.iran.ceiling),
            "us_rung": lambda m: int(m.us.rung),
            "government_rung": lambda m: int(m.government.rung),
            "attacks": lambda m: sum(not a.by_iran for a in m.attacks_today),
            "us_killed": "us_killed",
            "iraqi_casualties": "iraqi_casualties",
            "us_credibility": lambda m: m.iran.belief.credibility,
            "us_resolve": lambda m: m.iran.belief.resolve,
            "government_credibility": lambda m: m.government.credibility,
            "attack_pressure": lambda m: m.us.pressure,
            "force_protection": lambda m: m.us.force_protection,
            "preferred_troops": lambda m: round(m.us.preferred_troops()),
        }
        for mode in self.modes:
            reporters[f"attacks:{mode}"] = partial(_attacks_by_mode, mode=mode)
        for index, us_type in enumerate(self.scenario.config.us_types):
            reporters[f"belief:{us_type.name}"] = partial(_belief, index=index)
        for name in (m.name for m in self.militias):
            reporters[f"rung:{name}"] = partial(_militia_rung, name=name)
        return reporters

    def note(self, actor: str, text: str, day: int | None = None) -> None:
        """Add a line to the event log (kept only when recording); ``day`` defaults to today."""
        if self.event_log is not None:
            self.event_log.append((self.day if day is None else day, actor, text))

    def collect(self) -> None:
        """Record today's state, if recording."""
        if self.datacollector is not None:
            self.datacollector.collect(self)

    def outcomes(self) -> dict[str, Any]:
        """The run's outcomes (see ``docs/model.md``)."""
        config = self.scenario.config
        militia_attacks = [a for a in self.attacks if not a.by_iran]
        belief = self.iran.belief
        return {
            "horizon_days": self.day,
            "drawdown_start_day": self.drawdown_start_day,
            "drawdown_start_censored": self.drawdown_start_day is None,
            "drawdown_day": self.drawdown_day,
            "drawdown_censored": self.drawdown_day is None,
            "withdrawal_day": self.withdrawal_day,
            "withdrawal_censored": self.withdrawal_day is None,
            "withdrawal_announced_day": self.withdrawal_announced_day,
            "redline_crossed": self.first_us_casualty_day is not None,
            "first_us_casualty_day": self.first_us_casualty_day,
            "us_killed": self.us_killed,
            "iraqi_casualties": self.iraqi_casualties,
            "max_rung": int(self.max_rung),
            "max_rung_label": self.max_rung.label,
            "days_at_rung": {r.name: self.days_at_rung[r] for r in Rung},
            "n_attacks": len(militia_attacks),
            "n_deadly_attacks": sum(a.us_killed > 0 for a in militia_attacks),
            "n_lethal_attempts": sum(a.level == LETHAL for a in militia_attacks),
            "n_attacks_by_group": {m.name: m.attacks for m in self.militias},
            "n_attacks_by_site": {
                name: sum(a.target == name for a in militia_attacks)
                for name in [s.name for s in config.sites] + [CONVOYS]
            },
            "n_attacks_by_mode": {
                mode: sum(a.mode == mode for a in militia_attacks) for mode in self.modes
            },
            "n_attacks_by_claim": {
                claim: sum(a.claim == claim for a in militia_attacks) for claim in CLAIMS
            },
            "attributed_share": _share(sum(a.attributed for a in militia_attacks), militia_attacks),
            "iranian_direct_strikes": self.iran.direct_strikes,
            "us_answers": self.us.answers,
            "us_strikes_on_iranians": self.us.strikes_on_iranians,
            "us_threats": self.us.threats,
            "us_bluffs": self.us.bluffs,
            "us_shows_of_force": self.us.shows_of_force,
            "us_host_pressure": self.us.host_pressures,
            "government_raids": self.government.raids,
            "government_failed_raids": self.government.failed_raids,
            "government_demanded_withdrawal": self.government.demanded_withdrawal,
            "government_fell_day": self.government_fell_day,
            "government_credibility_final": self.government.credibility,
            "truce_offers": self.iran.truce_offers,
            "truce_day": self.truce_day,
            "truce_violations": self.truce_violations,
            "open_war_day": self.war_day,
            "us_credibility_final": belief.credibility,
            "us_resolve_final": belief.resolve,
            "belief_final": {t.name: p for t, p in zip(belief.types, belief.p, strict=True)},
            "force_protection_final": self.us.force_protection,
            "troops_final": round(self.troops),
            "troops_min": round(self.troops_min),
        }


# --- one run -------------------------------------------------------------------------------

Seed = int | np.random.SeedSequence


@dataclass
class RunResult:
    """Outcomes of one run, and its daily series when asked for."""

    outcomes: dict[str, Any]
    series: pd.DataFrame | None


def simulate(config: ScenarioConfig, seed: Seed, series: bool = False) -> RunResult:
    """Run a scenario to its horizon and collect its outcomes.

    Outcomes are computed directly by the model; the daily series (one row per day, day 0 the
    initial state) comes from the model's DataCollector, which runs only when asked for.

    Args:
        config: the scenario, run for ``config.horizon_days`` days.
        seed: the run's seed (an integer or a `numpy.random.SeedSequence`); the same seed gives
            the same run.
        series: also record the daily series (slower).

    Returns:
        The run's outcomes (see ``docs/model.md``) and, if ``series``, its daily series.
    """
    model = EscalationModel(EscalationScenario(rng=seed, config=config), record=series)
    while model.running:
        model.step()
    table = model.datacollector.get_model_vars_dataframe() if series else None
    return RunResult(model.outcomes(), table)


def _share(count: int, items: list) -> float:
    return count / len(items) if items else 0.0


def _militia_rung(model: EscalationModel, name: str) -> int:
    return int(model.militia(name).rung)


def _attacks_by_mode(model: EscalationModel, mode: str) -> int:
    return sum(a.mode == mode for a in model.attacks_today)


def _belief(model: EscalationModel, index: int) -> float:
    return model.iran.belief.p[index]
