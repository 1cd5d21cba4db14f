"""What the command line adds to a refusal: the flag or command that answers it.

The domain and the use cases say what is wrong in plain words (the Prefect UI and the
participants' site show the same sentences); only here do flags and commands appear.
"""

from domain.activities import Activity, ActivityRefused
from domain.errors import CycleNotFound, DomainError, MissingValue, TransitionRefused
from infra.db import DatabaseMissing, DatabaseUnusable
from infra.seal_book import SealBroken

FLAGS = {
    "actor": "--actor NAME",
    "reason": "--reason TEXT",
    "role": "--role",
    "milestones": "e.g. --close-applications 2026-10-07",
}


def hint_for(refusal: DomainError) -> str:
    """The hint to print after ``refusal``'s sentence, or an empty string."""
    if isinstance(refusal, MissingValue) and refusal.field in FLAGS:
        return f" ({FLAGS[refusal.field]})"
    if isinstance(refusal, TransitionRefused):
        return _transition_hint(refusal)
    if isinstance(refusal, CycleNotFound) and refusal.year is not None:
        return f"; create it with `mentoring cycle create {refusal.year}`"
    if isinstance(refusal, ActivityRefused) and refusal.override is Activity.late_intake:
        return " with --allow-late"
    if isinstance(refusal, DatabaseMissing):
        return (
            "; create it with `mentoring db upgrade`, or point MENTORING_DATABASE_URL "
            "(or MENTORING_HOME) at the one you meant"
        )
    if isinstance(refusal, DatabaseUnusable):
        return " (MENTORING_DATABASE_URL)"
    if isinstance(refusal, SealBroken):
        return (
            f": see `mentoring audit verify`; to accept it, `mentoring audit accept "
            f"--row '{refusal.row}' --actor NAME --reason TEXT`"
        )
    return ""


def _transition_hint(refusal: TransitionRefused) -> str:
    if refusal.missing == "reason":
        return " (--reason TEXT)"
    if refusal.missing == "approved_pairings":
        return f" (mentoring pairings approve {refusal.year} --actor NAME)"
    return ""
