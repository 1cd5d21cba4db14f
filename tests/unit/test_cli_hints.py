"""The command line adds the flag or command that answers a refusal; the sentence itself
(shared with the Prefect UI) names none."""

from domain.activities import Activity, ActivityRefused
from domain.cycle_states import CycleState
from domain.errors import CycleNotFound, DomainError, MissingValue, TransitionRefused
from flows.cli.hints import hint_for


def test_a_missing_actor_or_reason_points_at_its_flag() -> None:
    assert hint_for(MissingValue("actor", "an actor is required")) == " (--actor NAME)"
    assert hint_for(MissingValue("reason", "a reason is required")) == " (--reason TEXT)"
    assert hint_for(MissingValue("milestones", "name at least one milestone to move")) == (
        " (e.g. --close-applications 2026-10-07)"
    )


def test_a_transition_refused_for_want_of_a_reason_points_at_reason() -> None:
    refusal = TransitionRefused("a reason is required to cancel", year=2026, missing="reason")
    assert hint_for(refusal) == " (--reason TEXT)"


def test_announcing_without_approval_names_the_approve_command_for_that_year() -> None:
    refusal = TransitionRefused("no approved set", year=2031, missing="approved_pairings")
    assert hint_for(refusal) == " (mentoring pairings approve 2031 --actor NAME)"


def test_a_missing_cycle_says_how_to_create_it() -> None:
    assert hint_for(CycleNotFound.for_year(2031)) == (
        "; create it with `mentoring cycle create 2031`"
    )


def test_intake_after_the_call_closed_names_the_late_flag() -> None:
    refusal = ActivityRefused(Activity.intake, CycleState.applications_closed, 2026)
    assert hint_for(refusal) == " with --allow-late"


def test_other_refusals_get_no_hint() -> None:
    assert hint_for(DomainError("no such task")) == ""
    assert hint_for(TransitionRefused("not due yet", year=2026)) == ""
    assert hint_for(ActivityRefused(Activity.intake, CycleState.active, 2026)) == ""
