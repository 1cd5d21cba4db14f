"""How well a mentor suits a mentee: a score the committee can weigh and read in words.

Every criterion contributes a whole number of hundredths of a point, so the solver's integer
costs and the explanation shown to the committee are the same numbers, not two roundings.
"""

import math
import re
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from domain.applications import Application, Area
from domain.errors import DomainError

MAX_WEIGHT = 1000.0
MINUTES_PER_DAY = 24 * 60
TIME_ZONE_HORIZON_MINUTES = 12 * 60
_WORD = re.compile(r"[a-z0-9]+")
_STOP_TEXT = (
    "about after all and are been but can for from get getting help how into its more new "
    "our out over the their them this want what when with would you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())


class InvalidWeights(DomainError):
    """A weight the committee set that the matching cannot use."""


@dataclass(frozen=True)
class MatchWeights:
    """Points per criterion; the committee may change them each cycle.

    ``shared_area`` counts per shared Core area; ``goals`` is earned in full when every term of
    the mentee's goals appears in the mentor's expertise or areas; the career points depend on
    how many stages the mentor is ahead; ``time_zone`` falls linearly from same offset to 0 at
    12 hours apart.
    """

    shared_area: float = 15.0
    goals: float = 20.0
    career_step: float = 20.0
    career_same: float = 5.0
    career_far: float = 10.0
    same_library_type: float = 10.0
    time_zone: float = 15.0

    def __post_init__(self) -> None:
        for weight in fields(self):
            value = getattr(self, weight.name)
            if not (math.isfinite(value) and 0 <= value <= MAX_WEIGHT):
                raise InvalidWeights(
                    f"weight {weight.name} = {value!r} is not allowed; "
                    f"use a number from 0 to {MAX_WEIGHT:g}"
                )

    def cents(self, name: str) -> int:
        """The weight in hundredths of a point, the unit all scores are computed in."""
        return round(float(getattr(self, name)) * 100)

    def career_cents(self, gap: int) -> int:
        """Points for a mentor ``gap`` stages ahead: one or two is best, none is allowed."""
        if gap in (1, 2):
            return self.cents("career_step")
        if gap == 0:
            return self.cents("career_same")
        return self.cents("career_far") if gap >= 3 else 0


@dataclass(frozen=True)
class Contribution:
    """One criterion's share of a pair's score, with the words that justify it."""

    criterion: str
    cents: int
    text: str

    @property
    def points(self) -> float:
        """The contribution in points."""
        return self.cents / 100


def format_points(cents: int) -> str:
    """``+30`` or ``+13.75``: whole points without decimals."""
    text = f"{cents / 100:.2f}".rstrip("0").rstrip(".")
    return f"+{text}" if cents >= 0 else text


@dataclass(frozen=True)
class ScoreBreakdown:
    """A pair's score and what each criterion contributed."""

    contributions: tuple[Contribution, ...]

    @property
    def total_cents(self) -> int:
        """The score in hundredths of a point."""
        return sum(part.cents for part in self.contributions)

    @property
    def total(self) -> float:
        """The score in points."""
        return self.total_cents / 100

    def points(self, criterion: str) -> float:
        """One criterion's contribution in points."""
        return sum(p.cents for p in self.contributions if p.criterion == criterion) / 100

    def explain(self) -> str:
        """The score in words, one clause per criterion with its points."""
        return "; ".join(f"{p.text} ({format_points(p.cents)})" for p in self.contributions)


def goal_terms(text: str) -> frozenset[str]:
    """Content words of free text, lower-cased, with a plural ``s`` dropped."""
    words = _WORD.findall(text.casefold())
    return frozenset(_singular(word) for word in words if len(word) > 2 and word not in _STOP_WORDS)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def mentee_terms(mentee: Application) -> frozenset[str]:
    """What the mentee hopes to get out of the program."""
    return goal_terms(mentee.goals)


def mentor_terms(mentor: Application) -> frozenset[str]:
    """What the mentor can share: the expertise they wrote and the areas they chose."""
    return goal_terms(" ".join([mentor.goals, *(area.value for area in mentor.areas)]))


@lru_cache(maxsize=4096)
def utc_offset_minutes(time_zone: str, ref: datetime) -> int:
    """The zone's UTC offset at ``ref`` (aware, or naive read as local time in the zone)."""
    zone = ZoneInfo(time_zone)
    local = ref.astimezone(zone) if ref.tzinfo else ref.replace(tzinfo=zone)
    offset = local.utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def minutes_apart(offset_a: int, offset_b: int) -> int:
    """Clock distance between two offsets, the short way round the day."""
    distance = abs(offset_a - offset_b) % MINUTES_PER_DAY
    return min(distance, MINUTES_PER_DAY - distance)


def time_zone_cents(weight_cents: int, distance: int) -> int:
    """Full points at the same offset, none at 12 hours or more apart."""
    return round(weight_cents * max(0, TIME_ZONE_HORIZON_MINUTES - distance) / 720)


def goals_cents(weight_cents: int, shared_terms: int, mentee_term_count: int) -> int:
    """The share of the mentee's goal terms the mentor covers, in weight cents."""
    return round(weight_cents * shared_terms / mentee_term_count) if mentee_term_count else 0


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def _areas(mentor: Application, mentee: Application, weights: MatchWeights) -> Contribution:
    shared = [area.value for area in Area if area in mentor.areas and area in mentee.areas]
    text = f"shares {_join(shared)}" if shared else "no shared area"
    return Contribution("areas", weights.cents("shared_area") * len(shared), text)


def _goals(mentor: Application, mentee: Application, weights: MatchWeights) -> Contribution:
    wanted = mentee_terms(mentee)
    shared = sorted(wanted & mentor_terms(mentor))
    cents = goals_cents(weights.cents("goals"), len(shared), len(wanted))
    if shared:
        return Contribution("goals", cents, f"goals meet the mentor's expertise in {_join(shared)}")
    return Contribution("goals", cents, "goals do not overlap the mentor's expertise")


def _career(mentor: Application, mentee: Application, weights: MatchWeights) -> Contribution:
    gap = mentor.career_stage.rank - mentee.career_stage.rank
    stages = f"{mentor.career_stage.label} → {mentee.career_stage.label}"
    if gap == 0:
        text = f"same career stage ({mentor.career_stage.label})"
    elif gap < 0:
        text = f"mentor is at an earlier career stage ({stages})"
    else:
        text = f"mentor is {gap} stage{'s' if gap > 1 else ''} ahead ({stages})"
    return Contribution("career_stage", weights.career_cents(gap), text)


def _library(mentor: Application, mentee: Application, weights: MatchWeights) -> Contribution:
    if mentor.library_type == mentee.library_type:
        text = f"both in {mentor.library_type.value} libraries"
        return Contribution("library_type", weights.cents("same_library_type"), text)
    text = f"different library types ({mentor.library_type.value}, {mentee.library_type.value})"
    return Contribution("library_type", 0, text)


def _time_zone(
    mentor: Application, mentee: Application, weights: MatchWeights, ref: datetime
) -> Contribution:
    distance = minutes_apart(
        utc_offset_minutes(mentor.time_zone, ref), utc_offset_minutes(mentee.time_zone, ref)
    )
    text = "same UTC offset" if distance == 0 else f"{distance / 60:g} h apart"
    return Contribution("time_zone", time_zone_cents(weights.cents("time_zone"), distance), text)


def score_pair(
    mentor: Application, mentee: Application, weights: MatchWeights, ref: datetime
) -> ScoreBreakdown:
    """Score a mentor for a mentee; hard constraints are checked elsewhere, not here.

    ``ref`` is the moment at which UTC offsets are compared (daylight saving differs).
    """
    return ScoreBreakdown(
        (
            _areas(mentor, mentee, weights),
            _goals(mentor, mentee, weights),
            _career(mentor, mentee, weights),
            _library(mentor, mentee, weights),
            _time_zone(mentor, mentee, weights, ref),
        )
    )
