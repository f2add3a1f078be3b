"""The four kinds of actors: Iran, the militia groups, the United States, the Iraqi government.

Every number an agent uses comes from its scenario table (`sim.scenario`); every rule is
described, with its theory and sources, in ``docs/model.md`` (section 7). Choices are noisy best
responses (logit); the militias' attack choice is staged (act and how high, then mode and claim,
then target) so that it does not depend on how the menu of targets is cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mesa

from sim.beliefs import Observation, TypeBelief, logit
from sim.ladder import Move, Rung

if TYPE_CHECKING:
    from sim.model import EscalationModel
    from sim.scenario import CalendarEvent, MilitiaParams

HARASS, LETHAL = Rung.HARASSING_FIRE, Rung.US_CASUALTIES  # the two levels an attack aims at
LEVELS = (HARASS, LETHAL)
CLAIMS = ("claimed", "front", "unclaimed")
ATTACK_MOVES = {"rocket": Move.ROCKET_ATTACK, "ied": Move.ROADSIDE_BOMB, "drone": Move.DRONE_ATTACK}


def logit_choice(u: float, utilities: list[float], rationality: float) -> int:
    """Index chosen with probability proportional to ``exp(rationality * utility)``, given one
    uniform draw ``u``."""
    top = max(utilities)
    weights = [math.exp(rationality * (v - top)) for v in utilities]
    return pick(u, weights)


def pick(u: float, weights: list[float]) -> int:
    """Index chosen with probability proportional to ``weights``, given one uniform draw."""
    draw = u * sum(weights)
    for index, weight in enumerate(weights):
        draw -= weight
        if draw < 0.0:
            return index
    return max(i for i, w in enumerate(weights) if w > 0.0)


def lethality(munitions: float, defence: float, kill_prob: float) -> float:
    """Chance that an attack of ``munitions`` kills at least one American."""
    return 1.0 - (1.0 - kill_prob * (1.0 - defence)) ** munitions


@dataclass
class Attack:
    """One attack (militia or Iranian) and what followed."""

    day: int
    attacker: str
    mode: str
    claim: str
    target: str
    level: Rung
    munitions: int
    us_killed: int
    iraqi_casualties: int
    rung: Rung
    violation: bool = False  # made while a US threat was live
    attributed: bool = False
    answered: bool = False
    struck_iranians: bool = False

    @property
    def by_iran(self) -> bool:
        return self.attacker == "Iran"


@dataclass
class LevelPlan:
    """A group's cached choice below the act/level stage: the inclusive value of one level and
    the utility and choice weight of each (mode, claim) within it."""

    inclusive: float
    options: list[tuple[str, str]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    utilities: list[float] = field(default_factory=list)


class Observer(mesa.Agent):
    """An actor that learns the US's type from what the US does."""

    model: EscalationModel
    belief: TypeBelief

    def observe(self, observation: Observation, weight: float = 1.0) -> None:
        """Update the belief with one piece of evidence, at today's date."""
        self.belief.observe(observation, self.model.day, weight)


class Iran(Observer):
    """IRGC-Quds Force: sets its proxies' ceiling, funds and sanctions them, answers strikes on
    its own people, and may offer a truce conditioned on a US withdrawal."""

    def __init__(self, model: EscalationModel):
        super().__init__(model)
        config = model.scenario.config
        self.params = config.iran
        prior = [self.params.type_prior.get(t.name, 0.0) for t in config.us_types]
        self.belief = TypeBelief(config.us_types, prior, self.params.belief_half_life_days)
        self.ceiling = HARASS
        self.red_line_crossed = self.params.red_line_crossed
        self.in_exchange = False  # the US has just struck Iranian forces for Iran's own strike
        self.urgency = 0.0
        self.rung = Rung.TALKS
        self.direct_strikes = 0
        self.truce_offers = 0

    def step(self) -> None:
        """Dialogue urgency, a direct answer if Iranians were struck, the weekly review. Iran
        striking back at a US strike that answered its own strike is a second round of direct
        exchange between the states: open war (absorbing)."""
        model = self.model
        salient = model.dialogue_is_salient(self.params.dialogue_window_days)
        self.urgency = self.params.dialogue_boost if salient else 0.0
        if self.red_line_crossed:
            self.red_line_crossed = False
            if model.occupied_sites() and self.decides_to_strike():
                model.iranian_missile_strike()
                self.direct_strikes += 1
                self.rung = Rung.STATE_ON_STATE
                if self.in_exchange:  # a second round of direct strikes between the states
                    model.start_war()
            self.in_exchange = False
        if (model.day - 1) % self.params.review_interval_days == 0:
            self.review()

    def decides_to_strike(self) -> bool:
        """Answer a strike on Iranians with a missile strike: a coin flip (v1) or a logit choice
        between absorbing it and striking, against the believed US answer (certain war when the
        strike would be a second round of direct exchange)."""
        u = self.model.uniform()
        if self.model.mechanisms.iran_response == "coin_flip":
            return u < self.params.direct_response_prob
        params = self.params
        kill = self.model.missile_lethality()
        if self.in_exchange:  # striking back again would be a second round: open war
            cost = params.war_cost
        else:
            cost = self.belief.expected(
                kill * t.answer_deadly * params.war_cost
                + (1.0 - kill) * t.answer_harassing * params.strike_cost
                for t in self.belief.types
            )
        return logit_choice(u, [0.0, params.response_value - cost], params.rationality) == 1

    def review(self) -> None:
        """Weekly: set the proxies' ceiling (no attacks during a truce), perhaps offer a truce."""
        model = self.model
        if model.truce_active():
            ceiling = Rung.TALKS
        else:
            ceiling = self.choose_ceiling()
            if model.mechanisms.bargaining and self.offers_truce():
                model.offer_truce()
                self.truce_offers += 1
                ceiling = Rung.TALKS if model.truce_active() else ceiling
        if ceiling != self.ceiling:
            model.note("Iran", f"proxies may now go up to: {ceiling.label}")
            self.ceiling = ceiling
            model.touch()

    def choose_ceiling(self) -> Rung:
        """Logit choice of the proxies' ceiling: pressure on the US to leave against the expected
        cost of US answers to Iran's proxies and to Iranians."""
        params = self.params
        value = params.withdrawal_value * (1.0 + self.urgency)
        options = [(Rung.TALKS, 0.0)]
        for level, share in ((HARASS, params.harassment_value), (LETHAL, 1.0)):
            options.append((level, value * share - self.expected_cost(level)))
        index = logit_choice(self.model.uniform(), [u for _, u in options], params.rationality)
        return options[index][0]

    def expected_cost(self, level: Rung) -> float:
        """Expected cost to Iran of one unclaimed rocket attack at ``level``."""
        model = self.model
        mode_name = model.reference_mode()
        seen = model.attribution(model.modes[mode_name], "unclaimed")
        kill = model.target_table(mode_name).lethality[level]
        severity, iranians = self.belief.answer_cost(kill, model.us.threat_binding())
        return seen * (self.params.proxy_loss_cost * severity + self.params.strike_cost * iranians)

    def offers_truce(self) -> bool:
        """Offer a truce for a US withdrawal timetable once the US is seen leaving: the share of
        troops already gone is Iran's estimate of the chance the US accepts; a coming dialogue
        session raises the offer's value."""
        model = self.model
        if model.us.committed or model.us.truce_refused_until > model.day:
            return False
        accept = 1.0 - model.troops / max(model.initial_troops, 1.0)
        if accept <= 0.0:
            return False
        gain = (
            self.params.truce_value * accept * (1.0 + self.urgency) - self.params.harassment_value
        )
        return logit_choice(model.uniform(), [0.0, gain], self.params.rationality) == 1

    def sanction(self, group: MilitiaGroup) -> None:
        """Cut a group's funding after it went above the ceiling."""
        group.sanctioned_until = self.model.day + self.params.sanction_days
        self.model.note("Iran", f"cuts funding to {group.name} for going above the ceiling")


class MilitiaGroup(Observer):
    """An Iran-backed militia: its own beliefs, capability, funding and standing; each day it
    decides whether to attack and how high, then how and under which claim, then where."""

    def __init__(self, model: EscalationModel, params: MilitiaParams):
        super().__init__(model)
        config = model.scenario.config
        self.name = params.name
        self.params = params
        self.capability = params.capability
        self.standing = params.standing
        self.loyalty = params.loyalty_to_iran
        self.autonomy = params.autonomy
        prior_weights = params.type_prior or config.iran.type_prior
        prior = [prior_weights.get(t.name, 0.0) for t in config.us_types]
        rules = config.militia_rules
        self.belief = TypeBelief(config.us_types, prior, rules.belief_half_life_days)
        arms = {m: params.arms.get(m, mode.availability) for m, mode in model.modes.items()}
        self.log_arms = {m: math.log(a) if a > 0.0 else None for m, a in arms.items()}
        self.base_log_odds = {
            HARASS: math.log(rules.harass_odds) + math.log(1.0 - params.restraint),
            LETHAL: math.log(rules.lethal_odds) + math.log(1.0 - params.restraint),
        }
        self.rung = Rung.TALKS
        self.attacks = 0
        self.sanctioned_until = -1
        self._plans: dict[Rung, LevelPlan] = {}
        self._plan_key: tuple[tuple[int, int, bool], int] = ((-1, -1, False), -1)

    # --- the daily decision ------------------------------------------------------------------

    def decide(self) -> Attack | None:
        """Today's attack, if any: the level (or none), then mode and claim, then the target.

        The odds of each level are its base odds times capability times exp(rationality x (the
        level's inclusive value + today's pull)); the pull is the dialogue urgency (through
        loyalty) plus the outbidding deficit, and a lethal attack's pull is `lethal_pressure`
        times larger.
        """
        model = self.model
        if self.capability <= 0.0:
            return None
        plans = self.plans()
        rules = model.rules
        rationality = rules.rationality
        pull = rules.pressure_value * self.loyalty * model.iran.urgency + self.outbid_deficit()
        log_capability = math.log(self.capability)
        harass, lethal = plans[HARASS], plans[LETHAL]
        odds_harass = math.exp(
            self.base_log_odds[HARASS] + log_capability + rationality * (harass.inclusive + pull)
        )
        odds_lethal = math.exp(
            self.base_log_odds[LETHAL]
            + log_capability
            + rationality * (lethal.inclusive + rules.lethal_pressure * pull)
        )
        u = model.uniform() * (1.0 + odds_harass + odds_lethal)
        if u >= odds_harass + odds_lethal:
            return None
        level, plan = (HARASS, harass) if u < odds_harass else (LETHAL, lethal)
        mode, claim = plan.options[pick(model.uniform(), plan.weights)]
        return model.launch_attack(self, level, mode, claim)

    def plans(self) -> dict[Rung, LevelPlan]:
        """The cached lower stages, rebuilt when the model's state (`EscalationModel.plan_key`:
        its version, a binding US threat, the government's enforcement in steps of 0.02) or the
        group's belief changed."""
        key = (self.model.plan_key, self.belief.version)
        if key != self._plan_key:
            self._plans = {level: self.plan(level) for level in LEVELS}
            self._plan_key = key
        return self._plans

    def plan(self, level: Rung) -> LevelPlan:
        """Nested logit below the level stage (McFadden 1978): the utility of each (mode,
        claim), the nest's inclusive value, and the choice probabilities within the nest.

        The utility of an attack is the pressure it brings and the standing it earns, less the
        expected cost of being identified (a US answer, arrests by the government), of Iraqi
        casualties and of going above Iran's ceiling; plus the reach of its targets and the
        group's arms for the mode as a size term (``scale * log(arms)``, so that a mode split
        into two with half the arms each weighs as much as the whole). Under the flat menu (v1)
        every target is an alternative of its own, without a size term.
        """
        model = self.model
        rules = model.rules
        threatened = model.us.threat_binding()
        arrests = rules.enforcement_fear * model.government.effective_enforcement
        ceiling = 0.0
        if level > model.iran.ceiling:
            ceiling = rules.ceiling_violation_cost * self.loyalty * (1.0 - self.autonomy)
        dissimilarity = 1.0 if model.flat_menu else rules.nest_dissimilarity
        scale = dissimilarity / rules.rationality  # theta: the nest's own utility scale
        answer_cost, loss = self.belief.answer_cost, rules.loss_weight
        options: list[tuple[str, str]] = []
        utilities: list[float] = []
        for mode_name, claims in model.claim_terms[level]:
            log_arms = self.log_arms[mode_name]
            targets = model.target_table(mode_name)
            if log_arms is None or targets.reach is None:
                continue
            identified = loss * answer_cost(targets.lethality[level], threatened)[0] + arrests
            common = scale * log_arms + targets.reach - targets.iraqi_cost[level] - ceiling
            for option, gain, seen in claims:
                options.append(option)
                utilities.append(common + gain - seen * identified)
        if not utilities:
            return LevelPlan(-math.inf)
        top = max(utilities)
        weights = [math.exp((u - top) / scale) for u in utilities]
        return LevelPlan(top + scale * math.log(sum(weights)), options, weights, utilities)

    def outbid_deficit(self) -> float:
        """How far the group's standing trails its rivals' mean (outbidding, Bloom 2004)."""
        model = self.model
        if not model.mechanisms.outbidding or len(model.militias) < 2:
            return 0.0
        rivals = (model.standing_total - self.standing) / (len(model.militias) - 1)
        return model.rules.outbid_weight * max(0.0, rivals - self.standing)

    # --- state changes -----------------------------------------------------------------------

    def recover(self) -> None:
        """Daily: capability recovers towards the group's strength with Iran's funding; standing
        fades."""
        model = self.model
        funding = 1.0
        if model.day <= self.sanctioned_until:
            funding -= model.scenario.config.iran.sanction
        recovered = self.capability + model.rules.capability_recovery_per_day * funding
        self.capability = max(self.capability, min(self.params.capability, recovered))
        self.standing *= model.standing_decay

    def credit(self, attack: Attack) -> None:
        """Standing from the group's own attack: what its claim lets its constituency credit,
        less the Iraqi casualties it caused."""
        model = self.model
        rules = model.rules
        self.standing += model.standing_gain(attack.level, attack.mode, attack.claim)
        self.standing = max(
            0.0, self.standing - rules.iraqi_casualty_cost * attack.iraqi_casualties
        )

    def weaken(self, fraction: float) -> None:
        """Lose a fraction of capability (US strike, government raid)."""
        self.capability *= 1.0 - fraction


class UnitedStates(mesa.Agent):
    """US forces: attribution and answers, threats, shows of force, force protection, posture
    (drawdown, reinforcement, withdrawal) and pressure on the host government."""

    model: EscalationModel

    def __init__(self, model: EscalationModel):
        super().__init__(model)
        config = model.scenario.config
        self.params = config.us
        self.type = config.us_type(self.params.policy)
        self.rung = Rung.TALKS
        self.pressure = 0.0  # decaying count of attacks
        self.deaths = 0.0  # decaying count of Americans killed
        self.threat_until = -1
        self.threats = 0
        self.bluffs = 0
        self.bluff_cost = 0.0  # decaying audience costs paid for threats not backed
        self.answers = 0
        self.strikes_on_iranians = 0
        self.shows_of_force = 0
        self.force_protection = 0.0
        self.no_retreat_until = -1
        self.committed = False  # to a full withdrawal
        self.truce_refused_until = -1
        self.host_pressure_until = -1
        self.host_pressures = 0
        self.mission_value = 0.0  # set by reveal_mission_value once the model is built

    def threat_live(self) -> bool:
        """Whether a US deterrent threat covers today's attacks."""
        return self.model.day <= self.threat_until

    def threat_binding(self) -> bool:
        """Whether a live threat commits the US (threats as commitments; under v1's believed
        threats a threat only moves beliefs)."""
        return self.model.mechanisms.threats == "commitments" and self.threat_live()

    def step(self) -> None:
        """Answer today's attacks, threaten or show force, review the posture weekly."""
        model = self.model
        params = self.params
        attacks = model.attacks_today
        self.pressure = self.pressure * model.pressure_decay + len(attacks)
        self.deaths = self.deaths * model.pressure_decay + sum(a.us_killed for a in attacks)
        self.bluff_cost *= model.bluff_decay
        answered = False
        for attack in attacks:
            answered |= self.respond(attack)
        if attacks and not model.at_war:
            if not answered:
                self.consider_threat()
            self.consider_show_of_force()
        if (model.day - 1) % params.posture_review_days == 0 and not model.at_war:
            self.review_posture()

    # --- answers -----------------------------------------------------------------------------

    def respond(self, attack: Attack) -> bool:
        """Attribute the attack, then decide whether to answer it: a logit around the type's
        rate. An attack that crosses a live threat is answered even unattributed (against the
        usual suspect, the most active group): the threat committed the US to answer any
        attack, at its follow-through rate raised by the audience cost of backing down."""
        model = self.model
        attack.attributed = model.uniform() < model.attack_attribution(attack)
        committed = attack.violation and model.mechanisms.threats == "commitments"
        if not (attack.attributed or committed):
            return False
        if attack.attributed and model.truce_active() and not attack.by_iran:
            model.end_truce()
        rate = self.type.answer_deadly if attack.us_killed else self.type.answer_harassing
        boost = 0.0
        if committed:
            rate = max(rate, self.type.follow_through)
            boost = self.params.audience_cost
        chance = 1.0 / (1.0 + math.exp(-(logit(rate) + boost))) if rate > 0.0 else 0.0
        if model.uniform() >= chance:
            if committed:
                self.pay_audience_cost()
            return False
        attack.answered = True
        self.answers += 1
        self.no_retreat_until = model.day + self.params.no_retreat_days
        if attack.by_iran:
            self.strike_iran(attack)
        else:
            target = attack.attacker if attack.attributed else model.most_active_militia().name
            self.strike_group(attack, model.militia(target))
        return True

    def strike_group(self, attack: Attack, group: MilitiaGroup) -> None:
        """Strike a militia group; some strikes kill Iranian personnel with it."""
        model = self.model
        group.weaken(self.type.severity)
        model.government.on_us_strike()
        model.record_move("US", Move.AIR_STRIKE, f"strikes {group.name}")
        self.rung = max(self.rung, Rung.STRIKES_ON_MILITIAS)
        if model.uniform() < self.type.strikes_iranians:
            attack.struck_iranians = True
            self.strikes_on_iranians += 1
            model.iran.red_line_crossed = True
            self.rung = max(self.rung, Rung.STRIKES_ON_IRANIANS)
            model.note("US", "the strike kills Iranian personnel: Iran's red line crossed")

    def strike_iran(self, attack: Attack) -> None:
        """Answer an Iranian strike: open war if it killed Americans, else a strike on Iranian
        forces (Iran's red line crossed again, in a direct exchange: `Iran.step`)."""
        model = self.model
        attack.struck_iranians = True
        self.strikes_on_iranians += 1
        if attack.us_killed:
            model.start_war()
            self.rung = Rung.OPEN_WAR
            return
        model.iran.red_line_crossed = True
        model.iran.in_exchange = True
        model.record_move("US", Move.AIR_STRIKE, "strikes Iranian forces")
        self.rung = max(self.rung, Rung.STRIKES_ON_IRANIANS)

    def pay_audience_cost(self) -> None:
        """A threat crossed without an answer: a bluff, paid for at home."""
        self.bluffs += 1
        self.bluff_cost += 1.0
        self.model.note("US", "does not answer an attack that crossed its threat (a bluff)")

    # --- signals -----------------------------------------------------------------------------

    def consider_threat(self) -> None:
        """After attacks it did not answer, threaten force; fewer threats after costly bluffs."""
        model = self.model
        if self.threat_live():
            return
        chance = self.params.threat_prob * math.exp(-self.bluff_cost)
        if model.uniform() < chance:
            self.threat_until = model.day + self.params.threat_days
            self.threats += 1
            self.rung = max(self.rung, Rung.THREATS)
            model.record_move("US", Move.THREATEN_FORCE, "threatens force if attacks go on")
            model.touch()
            if model.mechanisms.threats == "believed":
                model.observe_all(Observation("answer", True, deadly=True))

    def consider_show_of_force(self) -> None:
        """On a day of attacks, a show of force at the type's rate: air defences are deployed
        (force protection rises) and everyone sees it."""
        model = self.model
        shown = model.uniform() < self.type.show_of_force
        if shown:
            self.shows_of_force += 1
            self.force_protection += self.params.force_protection_gain * (
                1.0 - self.force_protection
            )
            self.rung = max(self.rung, Rung.SHOW_OF_FORCE)
            model.record_move("US", Move.SHOW_OF_FORCE, "deploys air defences (show of force)")
            model.touch()
        model.observe_all(Observation("show_of_force", shown))

    # --- posture -----------------------------------------------------------------------------

    def marginal_cost(self) -> float:
        """Weekly cost of 1,000 troops: presence, attacks and deaths, a host demand to leave and
        the domestic calendar."""
        params = self.params
        model = self.model
        return (
            params.presence_cost
            + params.attack_cost * self.pressure
            + params.death_cost * self.deaths
            + params.host_demand_cost * model.government.demanded_withdrawal
            + params.election_weight * model.election_salience(params.election_window_days)
        )

    def reveal_mission_value(self) -> None:
        """The value v of the mission for which the initial deployment N0 is the preferred
        level at the initial weekly cost k0 (revealed preference): v = k0 (N0 + N_h) / 1000."""
        troops = self.model.initial_troops + self.params.mission_half_size
        self.mission_value = self.marginal_cost() * troops / 1000.0

    def preferred_troops(self) -> float:
        """The level that maximises mission value ``v log(1 + N / N_h)`` less cost ``k N``:
        ``N* = v / k - N_h``: the initial level at the initial cost (`reveal_mission_value`)."""
        if self.committed:
            return 0.0
        half = self.params.mission_half_size
        return max(0.0, 1000.0 * self.mission_value / self.marginal_cost() - half)

    def review_posture(self) -> None:
        """Weekly: move towards the preferred level (or the fixed target, v1), at most one pace
        a week; press the host government when attacks mount."""
        model = self.model
        troops = model.troops
        goal = self.posture_goal(troops)
        reduced = False
        if self.moves_down(goal, troops):
            model.withdraw(min(self.params.drawdown_pace, troops - goal))
            reduced = True
            model.record_move("US", Move.DRAW_DOWN, f"draws down to {round(model.troops):,} troops")
        elif goal > troops + self.params.reinforce_threshold:
            model.reinforce(min(self.params.reinforce_pace, goal - troops))
            self.rung = max(self.rung, Rung.SHOW_OF_FORCE)
            model.record_move("US", Move.REINFORCE, f"reinforces to {round(model.troops):,} troops")
        if self.pressure >= 1.0:
            model.observe_all(Observation("drawdown", reduced))
        if model.mechanisms.host_pressure:
            self.consider_host_pressure()

    def posture_goal(self, troops: float) -> float:
        """The level the US moves towards: the fixed target once the dialogue has been held
        (v1), else the preferred level, committing to leave when that is zero."""
        model = self.model
        if model.mechanisms.posture == "fixed_target":
            return float(self.params.drawdown_target) if model.dialogue_held else troops
        goal = self.preferred_troops()
        if goal == 0.0 and troops > 0.0 and not self.committed:
            self.commit_to_withdrawal("costs exceed the mission's value")
        return goal

    def moves_down(self, goal: float, troops: float) -> bool:
        """Whether to draw down this week: not in the weeks after a red-line answer, and (the
        strategic US) only when the goal is more than the deadband below, or zero."""
        if self.model.day <= self.no_retreat_until:
            return False
        strategic = self.model.mechanisms.posture == "strategic"
        band = self.params.posture_deadband if strategic and goal > 0.0 else 0.0
        return goal < troops - band

    def commit_to_withdrawal(self, why: str) -> None:
        """Announce a full withdrawal: the preferred level becomes zero for good."""
        self.committed = True
        self.model.withdrawal_announced_day = self.model.day
        self.model.record_move(
            "US", Move.ANNOUNCE_WITHDRAWAL, f"announces a full withdrawal ({why})"
        )

    def consider_truce(self) -> bool:
        """Accept Iran's truce-for-timetable offer if the US already prefers to leave: its
        preferred level is below ``truce_accept_share`` of the initial one."""
        model = self.model
        accept = self.preferred_troops() < self.params.truce_accept_share * model.initial_troops
        if accept:
            self.commit_to_withdrawal("truce with Iran's proxies")
        else:
            self.truce_refused_until = model.day + model.scenario.config.iran.truce_days
            model.record_move("US", Move.REJECT_TRUCE, "rejects a truce for a withdrawal timetable")
            self.rung = max(self.rung, Rung.DEMANDS)
        return accept

    def consider_host_pressure(self) -> None:
        """Compel the host government to rein in the militias (threatening aid and waivers) when
        attack pressure passes a threshold and no pressure is on."""
        model = self.model
        government = model.government
        if government.fallen or model.day <= self.host_pressure_until:
            return
        if self.pressure >= self.params.host_pressure_threshold:
            self.host_pressure_until = model.day + self.params.host_pressure_days
            self.host_pressures += 1
            self.rung = max(self.rung, Rung.THREATS)
            model.record_move("US", Move.THREATEN_AID, "presses Baghdad to rein in the militias")

    def host_pressure_on(self) -> bool:
        """Whether US pressure on the government is on today."""
        return self.model.day <= self.host_pressure_until


class IraqiGovernment(mesa.Agent):
    """The al-Kadhimi government: raids on militias (under US pressure, at a domestic cost),
    demands for a US withdrawal, credibility and collapse."""

    model: EscalationModel

    def __init__(self, model: EscalationModel):
        super().__init__(model)
        self.params = params = model.scenario.config.government
        self.enforcement = params.enforcement
        self.capital = params.political_capital
        self.credibility = params.credibility
        self.normal_credibility = params.credibility  # what credibility recovers towards
        self.grievance = params.grievance
        self.demanded_withdrawal = params.demanded_withdrawal
        self.fallen = False
        self.rung = Rung.TALKS
        self.raids = 0
        self.failed_raids = 0

    def take_office(self, event: CalendarEvent) -> None:
        """A new government: its enforcement, capital and credibility; the old one's fall is
        history. Grievance and a demand to leave carry over (parliament's, not the cabinet's)."""
        self.enforcement = event.enforcement
        self.capital = event.political_capital
        self.credibility = event.credibility
        self.normal_credibility = event.credibility
        self.fallen = False
        self.model.touch()

    @property
    def effective_enforcement(self) -> float:
        """Enforcement the militias must reckon with: capacity backed by credibility."""
        return 0.0 if self.fallen else self.enforcement * self.credibility

    def step(self) -> None:
        """Lose credibility for today's attacks, recover some, perhaps fall; review weekly."""
        params = self.params
        model = self.model
        self.capital = min(1.0, self.capital + params.capital_regen_per_day)
        self.grievance *= model.grievance_decay
        self.credibility -= params.attack_credibility_loss * len(model.attacks_today)
        gap = self.normal_credibility - self.credibility
        if gap > 0.0:
            self.credibility += min(params.credibility_recovery_per_day, gap)
        self.credibility = max(0.0, self.credibility)
        if self.fallen:
            return
        if self.credibility < params.collapse_threshold:
            self.fallen = True
            if model.government_fell_day is None:  # the first fall is the outcome
                model.government_fell_day = model.day
            model.note("Government", "loses its hold: the government falls")
            return
        if (model.day - 1) % params.review_interval_days == 0:
            self.review()

    def review(self) -> None:
        """Talk, raid the most active group, or demand a US withdrawal timetable (logit)."""
        params = self.params
        model = self.model
        target = model.most_active_militia()
        success = self.raid_success_prob(target)
        options = [(Rung.TALKS, 0.0)]
        if self.capital >= params.raid_cost and target.attacks:
            options.append((Rung.COERCION, self.raid_utility(success)))
        if not self.demanded_withdrawal:
            options.append(
                (Rung.DEMANDS, params.demand_value * (self.grievance - params.demand_threshold))
            )
        choice = options[
            logit_choice(model.uniform(), [u for _, u in options], params.rationality)
        ][0]
        if choice == Rung.COERCION:
            self.raid(target, success)
        elif choice == Rung.DEMANDS:
            self.demanded_withdrawal = True
            model.record_move(
                "Government", Move.DEMAND_WITHDRAWAL, "demands a timetable for US withdrawal"
            )
        self.rung = choice

    def raid_utility(self, success: float) -> float:
        """Value of a raid: attack pressure relieved if it holds, less the fear of failure,
        plus what the US threatens to withhold if the government does nothing (compellence)."""
        params = self.params
        value = params.raid_value * self.model.us.pressure * success
        compelled = params.pressure_compliance * self.model.us.host_pressure_on()
        return value - params.raid_failure_fear * (1.0 - success) + compelled

    def raid_success_prob(self, target: MilitiaGroup) -> float:
        """Chance a raid holds: enforcement against the target's armed resistance."""
        return self.enforcement * (1.0 - self.params.militia_resistance * target.capability)

    def raid(self, target: MilitiaGroup, success_prob: float) -> None:
        """Raid and arrest: success weakens the group and costs it standing; failure costs the
        government credibility and raises the group's standing (backlash). A raid under US
        pressure costs credibility as well (seen as acting for Washington)."""
        params = self.params
        model = self.model
        self.capital -= params.raid_cost
        self.raids += 1
        if model.us.host_pressure_on():
            self.credibility = max(0.0, self.credibility - params.pressure_credibility_loss)
        if model.uniform() < success_prob:
            target.weaken(params.raid_capability_cut)
            target.standing *= 1.0 - params.raid_standing_loss
            self.credibility = min(1.0, self.credibility + params.raid_success_credibility_gain)
            model.record_move("Government", Move.RAID, f"raid on {target.name} succeeds")
        else:
            self.failed_raids += 1
            self.credibility = max(0.0, self.credibility - params.raid_failure_credibility_loss)
            target.standing += params.backlash_standing_gain
            model.record_move(
                "Government", Move.RAID, f"raid on {target.name} fails; detainees released"
            )
        model.touch()

    def on_us_strike(self) -> None:
        """A US strike on Iraqi soil costs sovereignty credibility and feeds grievance."""
        self.credibility = max(0.0, self.credibility - self.params.strike_sovereignty_loss)
        self.grievance += self.params.grievance_per_strike
