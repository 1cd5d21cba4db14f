"""The committee names people, not member ids: who each applicant is, and edits by name.

:func:`people` gives each applicant's name, institution and career stage for the review;
:func:`edit_by_name` takes pairs as names or ids, understands every one before making any,
and says which pair it meant.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError
from domain.pairing_status import PairingSetStatus
from domain.values import shown
from flows.usecases.pairings import PairingEdit, edit
from infra.uow import UnitOfWork

PAIR_SEPARATOR = re.compile(r"\s*(?:→|->|:)\s*")
"""Between mentor and mentee in an edit: ``Ada Lovelace : Grace Hopper``, ``C1 → C2``."""


class UnplacedName(DomainError):
    """A name or pair in the committee's edit that names no one, or more than one."""


@dataclass(frozen=True)
class Person:
    """An applicant as the committee knows them: roster name, the institution and career
    stage they applied with, and the role they applied for."""

    member_id: str
    name: str
    institution: str
    career_stage: str
    applied_as: str

    @property
    def named(self) -> str:
        """The name with the id after it, to say unmistakably whom an edit meant."""
        return f"{self.name} ({self.member_id})"

    @classmethod
    def unknown(cls, member_id: str) -> "Person":
        """Someone in a set but no longer among the cycle's applicants or on the roster."""
        return cls(member_id, member_id, "", "", "")


@dataclass(frozen=True)
class NamedEdit:
    """A committee edit as understood: the pair it meant, and what was done."""

    kind: str
    mentor: Person
    mentee: Person
    done: PairingEdit

    @property
    def said(self) -> str:
        """The edit in the committee's words, naming the pair it meant."""
        verb = "Removed" if self.kind == "block" else "Kept"
        pair = f"{self.mentor.named} → {self.mentee.named}"
        if not self.done.changed:
            return f"{pair} was already {'removed' if self.kind == 'block' else 'kept'}"
        return f"{verb} {pair}"


def people(uow: UnitOfWork, year: int) -> dict[str, Person]:
    """The cycle's active applicants by member id, named as the roster names them (the id
    stands in for someone no longer on the roster)."""
    with uow:
        roster = uow.members.by_id()
        applied = uow.applications.active(year)
    found: dict[str, Person] = {}
    for app in applied:
        member = roster.get(app.member_id)
        found[app.member_id] = Person(
            app.member_id,
            member.full_name if member and member.full_name else app.member_id,
            app.institution or (member.institution if member else ""),
            app.career_stage.label,
            "mentor and mentee" if str(app.role) == "both" else str(app.role),
        )
    return found


def find_person(applicants: Mapping[str, Person], text: str, year: int) -> Person:
    """The applicant ``text`` names, by member id or by full name (case and spacing
    ignored); an unknown or shared name is refused in one sentence naming it (UnplacedName)."""
    wanted = " ".join(text.split())
    if not wanted:
        raise UnplacedName("a pair was given with an empty name; write a name or a member id")
    by_id = applicants.get(wanted) or applicants.get(wanted.upper())
    if by_id is not None:
        return by_id
    key = wanted.casefold()
    named = [p for p in applicants.values() if p.name.casefold() == key]
    if len(named) == 1:
        return named[0]
    if named:
        ids = ", ".join(sorted(p.member_id for p in named))
        raise UnplacedName(
            f"{shown(wanted)} is the name of {len(named)} applicants in cycle {year} "
            f"({ids}); write the member id of the one you mean"
        )
    raise UnplacedName(
        f"no applicant in cycle {year} is named {shown(wanted)}; write the name as the "
        "pairing list shows it, or the member id"
    )


def find_pair(
    applicants: Mapping[str, Person],
    proposed: Sequence[tuple[str, str]],
    text: str,
    year: int,
) -> tuple[Person, Person]:
    """The (mentor, mentee) ``text`` names: ``MENTOR : MENTEE`` by names or ids, or one
    person alone for the one ``proposed`` pair they are in."""
    parts = PAIR_SEPARATOR.split(text.strip(), maxsplit=1)
    if len(parts) == 2:
        return find_person(applicants, parts[0], year), find_person(applicants, parts[1], year)
    person = find_person(applicants, parts[0], year)
    theirs = [pair for pair in proposed if person.member_id in pair]
    if len(theirs) == 1:
        return _person_of(applicants, theirs[0][0]), _person_of(applicants, theirs[0][1])
    where = "no proposed pair" if not theirs else f"{len(theirs)} proposed pairs"
    raise UnplacedName(f"{person.named} is in {where}; name both people, as Mentor : Mentee")


def _person_of(applicants: Mapping[str, Person], member_id: str) -> Person:
    return applicants.get(member_id) or Person.unknown(member_id)


def edit_by_name(
    uow: UnitOfWork,
    year: int,
    *,
    remove: Sequence[str] = (),
    keep: Sequence[str] = (),
    actor: str,
    now: datetime | None = None,
) -> list[NamedEdit]:
    """Remove (block) or keep (fix) pairs the committee names by names or ids; every one
    is understood before any is made, so a refused name changes nothing."""
    applicants = people(uow, year)
    with uow:
        latest = uow.pairings.latest_set(year, PairingSetStatus.proposed)
        proposed = [p.members for p in uow.pairings.pairs_of(latest.id)] if latest else []
    meant = [
        (kind, *find_pair(applicants, proposed, text, year))
        for kind, texts in (("block", remove), ("fix", keep))
        for text in texts
        if text.strip()
    ]
    return [
        NamedEdit(
            kind,
            mentor,
            mentee,
            edit(
                uow,
                year,
                kind=kind,
                mentor_id=mentor.member_id,
                mentee_id=mentee.member_id,
                actor=actor,
                now=now,
            ),
        )
        for kind, mentor, mentee in meant
    ]
