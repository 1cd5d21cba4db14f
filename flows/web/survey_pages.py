"""The end-of-program survey on the site: open once formal mentoring has ended, to the
program's participants, one answer per role they took (a member who was both answers as
a mentor and as a mentee)."""

from collections.abc import Sequence

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from flows.usecases.engagement import pair_log, pairs_of_member
from flows.usecases.site_survey import (
    ANSWER_FIELDS,
    SurveyNotSaved,
    SurveyProblem,
    SurveyStanding,
    answer_survey,
    survey_standing,
)
from flows.web.access import signed_in
from flows.web.engagement_fields import (
    BACK,
    LABELS,
    field_problem,
    member_cycle,
)
from flows.web.forms import Form, errors_by_field
from flows.web.pages import plain, render
from flows.web.state import Portal

router = APIRouter()


def _survey(request: Request) -> tuple[Portal, str, SurveyStanding] | Response:
    """The member's place in the survey when it is open and they took part; else the page."""
    portal, member = signed_in(request)
    cycle = member_cycle(portal, member.member_id)
    if cycle is None:
        return plain(request, 200, "No survey now", "There is no survey for you now.", BACK)
    standing = survey_standing(portal.uow(), cycle.year, member.member_id)
    if not standing.roles:
        return plain(
            request,
            200,
            "No survey for you",
            "The survey is for the program's participants: mentors and mentees in its pairs.",
            BACK,
        )
    if not standing.is_open:
        return plain(
            request,
            200,
            "The survey is not open",
            "The survey opens once formal mentoring has ended, in July, and closes with the "
            "committee's assessment.",
            BACK,
        )
    return portal, member.member_id, standing


def _role_asked(standing: SurveyStanding, wanted: str) -> str:
    if wanted in standing.roles:
        return wanted
    return (standing.roles_left or standing.roles)[0]


@router.get("/survey")
def survey_page(request: Request, role: str = "") -> Response:
    found = _survey(request)
    if isinstance(found, Response):
        return found
    portal, member_id, standing = found
    asked = _role_asked(standing, role)
    return _survey_form(request, portal, member_id, standing, asked, {}, [])


@router.post("/survey")
def survey_sent(request: Request, form: Form) -> Response:
    found = _survey(request)
    if isinstance(found, Response):
        return found
    portal, member_id, standing = found
    asked = _role_asked(standing, form.first("role"))
    values = {name: form.first(name) for name in ANSWER_FIELDS}
    outcome = answer_survey(
        portal.uow(), standing.year, member_id, asked, values, now=portal.clock()
    )
    if isinstance(outcome, SurveyNotSaved):
        return _survey_form(
            request, portal, member_id, standing, asked, values, outcome.problems, status=400
        )
    return render(request, "survey_done", title="Thank you", answered=outcome)


def _survey_form(
    request: Request,
    portal: Portal,
    member_id: str,
    standing: SurveyStanding,
    role: str,
    values: dict[str, str],
    problems: Sequence[SurveyProblem],
    *,
    status: int = 200,
) -> Response:
    shown = [field_problem(p.field, p.message, values.get(p.field, "")) for p in problems]
    goals = [
        pair_log(portal.uow(), standing.year, member_id, pair.pair_id).goals
        for pair in pairs_of_member(portal.uow(), standing.year, member_id)
        if pair.role == role
    ]
    return render(
        request,
        "survey",
        title="The program's survey",
        labels=LABELS,
        status=status,
        role=role,
        both=len(standing.roles) > 1,
        answered=role in standing.answered,
        goals=[goal for pair_goals in goals for goal in pair_goals],
        values=values,
        problems=shown,
        errors=errors_by_field(shown),
    )
