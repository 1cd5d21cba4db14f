"""Withdrawing from a cycle: which roles a member leaves, which one they keep, which pairs end.

A member who applied as ``both`` may give up one role and stay in the other; anyone else
(and a ``both`` member leaving altogether) withdraws from the whole program. Each pair the
member held in a role they leave dissolves, leaving the partner short of a mentor or of a
mentee.
"""

from dataclasses import dataclass
from datetime import datetime

from domain.applications import ApplicationStatus, Role
from domain.enrolment import Enrolment
from domain.errors import DomainError
from domain.offers import FreedSlot
from domain.pairs import Pair

PAIRED_ROLES = frozenset({Role.MENTOR, Role.MENTEE})


def role_named(text: str | None) -> Role | None:
    """The one role a withdrawal names, or None for the whole program."""
    if text is None:
        return None
    if text not in (Role.MENTOR, Role.MENTEE):
        raise DomainError(f"role {text!r} is not allowed; use mentor or mentee")
    return Role(text)


def held_roles(applied: Role) -> frozenset[Role]:
    """The roles an application takes part in (``both`` holds two)."""
    return PAIRED_ROLES if applied is Role.BOTH else frozenset({applied})


@dataclass(frozen=True)
class Withdrawal:
    """``member_id``, who applied as ``applied_as``, leaves the roles in ``leaving``."""

    member_id: str
    applied_as: Role
    leaving: frozenset[Role]

    @property
    def staying(self) -> Role | None:
        """The role a ``both`` participant keeps; None when they leave the program."""
        rest = held_roles(self.applied_as) - self.leaving
        return next(iter(rest)) if rest else None

    @property
    def withdrew_as(self) -> str:
        """``all`` when both roles leave, else the one role (as results and audit say it)."""
        return "all" if self.leaving == PAIRED_ROLES else str(next(iter(self.leaving)))

    @property
    def as_role(self) -> str:
        """`` as mentor`` or `` as mentee`` after "withdrew", or nothing when both leave."""
        return "" if self.leaving == PAIRED_ROLES else f" as {next(iter(self.leaving))}"

    def ends(self, pair: Pair) -> bool:
        """Whether ``pair`` dissolves: the member holds it in a role they leave."""
        return (Role.MENTOR in self.leaving and pair.mentor_id == self.member_id) or (
            Role.MENTEE in self.leaving and pair.mentee_id == self.member_id
        )

    def left_behind(self, pair: Pair) -> FreedSlot:
        """The partner a dissolved ``pair`` leaves short, in the role that needs someone."""
        if pair.mentor_id == self.member_id:
            return FreedSlot(pair.mentee_id, Role.MENTEE)
        return FreedSlot(pair.mentor_id, Role.MENTOR)


def withdrawal(enrolment: Enrolment, wanted: Role | None) -> Withdrawal:
    """The roles withdrawing from ``wanted`` ends (every role held when None); a role the
    member did not apply for is refused."""
    applied = enrolment.application.role
    held = held_roles(applied)
    if wanted is None:
        return Withdrawal(enrolment.member_id, applied, held)
    if wanted not in held:
        raise DomainError(
            f"{enrolment.member_id} applied as {applied}, not as {wanted}; withdraw them from "
            "the whole program instead"
        )
    return Withdrawal(enrolment.member_id, applied, frozenset({wanted}))


def already_withdrawn(enrolment: Enrolment, wanted: Role | None) -> str | None:
    """Why there is nothing to do, if this withdrawal was recorded before."""
    if enrolment.status is ApplicationStatus.withdrawn:
        return (
            f"{enrolment.member_id} already withdrew from cycle {enrolment.cycle_year}"
            f"{_on(enrolment.withdrawn_at)}; nothing to do"
        )
    applied = enrolment.application.role
    partial = enrolment.withdrawn_at is not None and applied is not Role.BOTH
    if wanted is not None and partial and applied is not wanted:
        return (
            f"{enrolment.member_id} already withdrew as {wanted}{_on(enrolment.withdrawn_at)}; "
            "nothing to do"
        )
    return None


def _on(moment: datetime | None) -> str:
    return f" on {moment:%Y-%m-%d}" if moment else ""
