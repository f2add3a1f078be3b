"""Beliefs about the United States as a type, learned by Bayes' rule from what the US does.

An observer (Iran, each militia group) holds a posterior over a few US *types*, each a likelihood
model of how the US answers provocations and what else it does (`sim.scenario.USType`). Every
observed US action or non-action multiplies the posterior by its likelihood under each type;
old evidence is discounted by raising the posterior to the power ``memory`` before each update
(a power prior, so types may drift). Expected costs are sums over types of
P(type) x P(answer | provocation, type) x severity.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sim.scenario import ScenarioConfig, USType

#: What an observer can see the US do (or not do), each with its own likelihood.
Evidence = Literal["answer", "threat_test", "show_of_force", "drawdown"]
TREMBLE = 0.01  # chance that any type acts out of character (docs/model.md 7.2)


@dataclass(frozen=True)
class Observation:
    """One piece of evidence: ``kind``, whether the US did it, and what the US had to go on.

    ``deadly``: the provocation killed Americans (``answer`` and ``threat_test`` only);
    ``seen``: the chance the US could act at all, i.e. that it attributed the attack to a group;
    ``iranians``: for an answer, whether it struck Iranian personnel (None: not observed).
    """

    kind: Evidence
    happened: bool
    deadly: bool = False
    seen: float = 1.0
    iranians: bool | None = None


def likelihood(us_type: USType, observation: Observation) -> float:
    """P(observation | type); every type may act out of character with a small chance
    (``TREMBLE``), so no single observation rules a type out for good."""
    match observation.kind:
        case "answer":
            p = observation.seen * _answer_rate(us_type, observation)
        case "threat_test":
            p = observation.seen * max(us_type.follow_through, _answer_rate(us_type, observation))
        case "show_of_force":
            p = us_type.show_of_force
        case "drawdown":
            p = us_type.yields
    p = min(max(p, TREMBLE), 1.0 - TREMBLE)
    if not observation.happened:
        return 1.0 - p
    if observation.iranians is None:
        return p
    share = min(max(us_type.strikes_iranians, TREMBLE), 1.0 - TREMBLE)
    return p * (share if observation.iranians else 1.0 - share)


def _answer_rate(us_type: USType, observation: Observation) -> float:
    return us_type.answer_deadly if observation.deadly else us_type.answer_harassing


class TypeBelief:
    """A posterior over US types, updated by Bayes' rule; old evidence fades with a half-life."""

    def __init__(self, types: Sequence[USType], prior: Sequence[float], half_life_days: float):
        self.types = tuple(types)
        total = sum(prior)
        self.p = [w / total for w in prior]
        self.half_life_days = half_life_days
        self._rows = [
            (t.answer_deadly, t.answer_harassing, t.follow_through, t.severity, t.strikes_iranians)
            for t in self.types
        ]
        self.last_day = 0
        self.version = 0  # bumped on every update, so cached expected costs know they are stale

    def observe(self, observation: Observation, day: int = 0, weight: float = 1.0) -> None:
        """Fade the evidence so far to ``day``, then multiply by the observation's likelihood
        (raised to ``weight``) and normalise."""
        self.fade(day)
        weights = [
            p * likelihood(t, observation) ** weight
            for p, t in zip(self.p, self.types, strict=True)
        ]
        total = sum(weights)
        self.p = [w / total for w in weights]
        self.version += 1

    def fade(self, day: int) -> None:
        """Discount the evidence by the days since the last update (a power prior: the
        posterior is raised to ``0.5 ** (days / half_life_days)`` and normalised)."""
        if day == self.last_day:
            return
        memory = 0.5 ** ((day - self.last_day) / self.half_life_days)
        self.last_day = day
        weights = [p**memory for p in self.p]
        total = sum(weights)
        self.p = [w / total for w in weights]
        self.version += 1

    def expected(self, values: Iterable[float]) -> float:
        """The posterior mean of a per-type quantity."""
        return sum(p * v for p, v in zip(self.p, values, strict=True))

    @property
    def credibility(self) -> float:
        """Believed chance that the US backs a threat: the mean follow-through."""
        return self.expected(t.follow_through for t in self.types)

    @property
    def resolve(self) -> float:
        """Believed chance that the US answers an attributed attack that kills Americans."""
        return self.expected(t.answer_deadly for t in self.types)

    def answer_cost(self, lethality: float, threatened: bool) -> tuple[float, float]:
        """Expected (severity of the answer, chance it strikes Iranians) of one attributed attack.

        ``lethality`` is the chance the attack kills Americans; under a live US threat each type
        answers at least at its follow-through rate.
        """
        severity = iranians = 0.0
        for p, (deadly, harassing, follow, hit, iranian) in zip(self.p, self._rows, strict=True):
            answer = lethality * deadly + (1.0 - lethality) * harassing
            if threatened and follow > answer:
                answer = follow
            severity += p * answer * hit
            iranians += p * answer * iranian
        return severity, iranians


def replay(
    types: Sequence[USType],
    observations: Sequence[tuple[int, Observation]],
    half_life_days: float,
    until: int = 0,
) -> list[float]:
    """The posterior on day ``until`` after dated ``observations`` (day, observation), from a
    uniform prior, rounded to 4 decimals: how scenario priors are derived from the record."""
    belief = TypeBelief(types, [1.0] * len(types), half_life_days)
    belief.last_day = min((day for day, _ in observations), default=until)
    for day, observation in observations:
        belief.observe(observation, day)
    belief.fade(until)
    return [round(p, 4) for p in belief.p]


def logit(p: float) -> float:
    """Log-odds of a probability, kept finite at 0 and 1."""
    p = min(max(p, 1e-9), 1.0 - 1e-9)
    return math.log(p / (1.0 - p))


def record_signals(path: Path, config: ScenarioConfig) -> list[tuple[int, Observation]]:
    """The US moves before ``config``'s start date listed in ``path`` (data/us_signals_*.csv),
    as dated observations (day 0: the start date, so earlier moves have negative days).

    A row's attribution names the claim of the attack it answers ('certain' when the US could
    not miss who acted); a 'threat' row only records that a threat was live, its tests have
    rows of their own."""
    start = config.start_date
    mode = config.modes[next(n for n, m in config.modes.items() if m.target == "sites")]
    signals = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            when = date.fromisoformat(row["date"])
            if when >= start or row["evidence"] == "threat":
                continue
            claim = row["attribution"]
            observation = Observation(
                row["evidence"],
                row["happened"] == "true",
                deadly=row["deadly"] == "true",
                seen=1.0 if claim in ("", "certain") else mode.attribution(claim),
                iranians={"true": True, "false": False}.get(row["iranians"]),
            )
            signals.append(((when - start).days, observation))
    return signals
