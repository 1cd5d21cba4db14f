"""Applying (while a call is open): the form, its problems beside each field and in a
summary at the top, the member's input kept; an earlier application is shown for editing
and replaced on sending. The checks are the CSV intake's (``apply_on_site``); their
refusals are shown in the form's words, each field named by its label."""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from domain.application_form import FIELD_LABELS, FORM_FIELDS, FieldProblem, in_form_words
from domain.time_words import moment_words
from flows.usecases.site_applications import (
    ApplicationSaved,
    application_choices,
    apply_to_open_call,
    form_for_open_call,
)
from flows.usecases.standing import where_i_stand
from flows.web.access import membership_lapsed, session_member
from flows.web.forms import Form, errors_by_field
from flows.web.pages import plain, render
from flows.web.state import Portal

router = APIRouter()
FormValues = dict[str, str | list[str]]
CHOICES = application_choices()


@router.get("/apply")
def apply_form(request: Request) -> Response:
    portal, member_id, now = session_member(request)
    form = form_for_open_call(portal.uow(), member_id, now=now)
    if form is None:
        raise membership_lapsed(request)
    if form.year is None:
        return _call_closed(request, portal, member_id, None)
    return _form_page(request, form.year, form.values, [], editing=bool(form.values))


@router.post("/apply")
def apply(request: Request, form: Form) -> Response:
    """The membership check, the call and the form's checks share one transaction, and the
    writing takes a second."""
    portal, member_id, now = session_member(request)
    values: FormValues = {
        name: form.every(name) if name == "areas" else form.first(name) for name in FORM_FIELDS
    }
    outcome = apply_to_open_call(portal.uow(), member_id, values, now=now)
    if outcome is None:
        raise membership_lapsed(request)
    if isinstance(outcome, ApplicationSaved):
        return render(request, "apply_received", title="Application received", saved=outcome)
    if outcome.call_closed or outcome.year is None:
        sentence = outcome.problems[0].message if outcome.problems else None
        return _call_closed(request, portal, member_id, sentence)
    problems = [in_form_words(problem, values) for problem in outcome.problems]
    return _form_page(request, outcome.year, values, problems, editing=False, status=400)


def _form_page(
    request: Request,
    year: int,
    values: FormValues,
    problems: list[FieldProblem],
    *,
    editing: bool,
    status: int = 200,
) -> Response:
    chosen = values.get("areas", [])
    return render(
        request,
        "apply",
        title="Apply to the mentoring program",
        status=status,
        year=year,
        values=values,
        chosen_areas=[chosen] if isinstance(chosen, str) else chosen,
        problems=problems,
        errors=errors_by_field(problems),
        editing=editing,
        choices=CHOICES,
        labels=FIELD_LABELS,
    )


def _call_closed(
    request: Request, portal: Portal, member_id: str, sentence: str | None
) -> Response:
    """A plain page saying when the next call opens, in the member's zone."""
    if sentence is None:
        standing = where_i_stand(portal.uow(), member_id, now=portal.clock())
        if standing.next_call_opens is None:
            sentence = (
                "The call for applications is closed, and the next call has not been announced yet."
            )
        else:
            when = moment_words(standing.next_call_opens, standing.time_zone, with_year=True)
            sentence = f"The call for applications is closed; the next call opens {when}."
    return plain(
        request, 200, "The call for applications is closed", sentence, ("/me", "Where I stand")
    )
