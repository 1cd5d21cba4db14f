"""Applying (while a call is open): the form, its problems beside each field and in a
summary at the top, the member's input kept; an earlier application is shown for editing
and replaced on sending. The checks are the CSV intake's (``apply_on_site``); their
refusals are shown in the form's words, each field named by its label."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from domain.application_form import FIELD_LABELS, FORM_FIELDS, FieldProblem, in_form_words
from domain.time_words import moment_words
from flows.usecases.site_applications import (
    ApplicationSaved,
    application_choices,
    application_form_defaults,
    apply_on_site,
    open_call_year,
)
from flows.usecases.standing import where_i_stand
from flows.web.access import signed_in
from flows.web.forms import FormFields, checked_form
from flows.web.pages import plain, render
from flows.web.state import Portal

router = APIRouter()
Form = Annotated[FormFields, Depends(checked_form)]
FormValues = dict[str, str | list[str]]
CHOICES = application_choices()


@router.get("/apply")
def apply_form(request: Request) -> Response:
    portal, member = signed_in(request)
    now = portal.clock()
    year = open_call_year(portal.uow(), now=now)
    if year is None:
        return _call_closed(request, portal, member.member_id, None)
    values = application_form_defaults(portal.uow(), year, member.member_id)
    return _form_page(request, year, values, [], editing=bool(values))


@router.post("/apply")
def apply(request: Request, form: Form) -> Response:
    portal, member = signed_in(request)
    now = portal.clock()
    values: FormValues = {
        name: form.every(name) if name == "areas" else form.first(name) for name in FORM_FIELDS
    }
    year = open_call_year(portal.uow(), now=now)
    if year is None:
        return _call_closed(request, portal, member.member_id, None)
    outcome = apply_on_site(portal.uow(), year, member.member_id, values, now=now)
    if isinstance(outcome, ApplicationSaved):
        closes = where_i_stand(portal.uow(), member.member_id, now=now)
        return render(
            request,
            "apply_received",
            title="Application received",
            saved=outcome,
            standing=closes,
        )
    if outcome.call_closed:
        sentence = outcome.problems[0].message if outcome.problems else None
        return _call_closed(request, portal, member.member_id, sentence)
    problems = [in_form_words(problem, values) for problem in outcome.problems]
    return _form_page(request, year, values, problems, editing=False, status=400)


def _form_page(
    request: Request,
    year: int,
    values: FormValues,
    problems: list[FieldProblem],
    *,
    editing: bool,
    status: int = 200,
) -> Response:
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.field:
            errors.setdefault(problem.field, []).append(problem.message)
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
        errors=errors,
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
