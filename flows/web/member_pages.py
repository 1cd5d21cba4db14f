"""A signed-in member's pages: where I stand, my data, the orientation's calendar file,
and withdrawing. Each takes the member from the session, never from the address or form.

Applying is in :mod:`flows.web.apply_pages`.
"""

import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from domain.application_form import FieldProblem
from domain.cycle_states import Trigger
from flows.usecases.member_data import member_data
from flows.usecases.standing import current_member_standing, orientation_ics, where_i_stand
from flows.usecases.withdrawing import withdraw
from flows.web.access import membership_lapsed, session_member, signed_in
from flows.web.forms import Form, errors_by_field
from flows.web.pages import plain, render

router = APIRouter()
REASON_MISSING = "Enter why you are withdrawing"
REASON_MAX = 2000


@router.get("/me")
def where_i_stand_page(request: Request) -> Response:
    """The membership check and the page's reading share one transaction."""
    portal, member_id, now = session_member(request)
    standing = current_member_standing(portal.uow(), member_id, now=now)
    if standing is None:
        raise membership_lapsed(request)
    return render(request, "me", title="Where I stand", standing=standing, now=now)


@router.get("/me/data.json")
def my_data(request: Request) -> Response:
    """Everything the program holds about me, as a download."""
    portal, member = signed_in(request)
    data = member_data(portal.uow(), member.member_id)
    return Response(
        data.as_json(),
        media_type="application/json",
        headers={"Content-Disposition": _attachment(member.member_id, "json")},
    )


@router.get("/me/orientation.ics")
def my_orientation(request: Request) -> Response:
    """The orientation session as a calendar file, once the committee has set it."""
    portal, member = signed_in(request)
    standing = where_i_stand(portal.uow(), member.member_id, now=portal.clock())
    invitation = (
        None
        if standing.cycle is None
        else orientation_ics(portal.uow(), standing.cycle.year, member.member_id)
    )
    if invitation is None:
        return plain(
            request,
            404,
            "No orientation yet",
            "There is no orientation session for you yet; it appears here once you are paired "
            "and the committee has set it.",
            ("/me", "Where I stand"),
        )
    return Response(
        invitation,
        media_type="text/calendar",
        headers={"Content-Disposition": _attachment(member.member_id, "ics", "orientation")},
    )


def _attachment(member_id: str, extension: str, what: str = "mentoring-data") -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]", "", member_id)
    return f'attachment; filename="{what}-{safe}.{extension}"'


@router.get("/withdraw")
def withdraw_form(request: Request) -> Response:
    portal, member = signed_in(request)
    standing = where_i_stand(portal.uow(), member.member_id, now=portal.clock())
    if not standing.can_withdraw:
        return _nothing_to_withdraw(request)
    return _reason_page(request, "", None)


@router.post("/withdraw")
def withdraw_check(request: Request, form: Form) -> Response:
    """Asks to confirm, with the reason kept in the confirmation form."""
    portal, member = signed_in(request)
    reason = form.first("reason").strip()[:REASON_MAX]
    if not reason:
        return _reason_page(request, reason, REASON_MISSING)
    standing = where_i_stand(portal.uow(), member.member_id, now=portal.clock())
    if not standing.can_withdraw:
        return _nothing_to_withdraw(request)
    return render(request, "withdraw_confirm", title="Are you sure?", reason=reason)


@router.post("/withdraw/confirm")
def withdraw_confirmed(request: Request, form: Form) -> Response:
    """Withdraws through the committee's own use case, the member as actor."""
    portal, member = signed_in(request)
    reason = form.first("reason").strip()[:REASON_MAX]
    if not reason:
        return _reason_page(request, reason, REASON_MISSING)
    now = portal.clock()
    standing = where_i_stand(portal.uow(), member.member_id, now=now)
    if not standing.can_withdraw or standing.cycle is None:
        return _nothing_to_withdraw(request)
    year = standing.cycle.year
    withdraw(
        portal.uow(),
        year,
        member.member_id,
        actor=member.member_id,
        reason=reason,
        trigger=Trigger.site,
        now=now,
    )
    return render(request, "withdraw_done", title="You have withdrawn", year=year)


def _reason_page(request: Request, reason: str, problem: str | None) -> Response:
    problems = [] if problem is None else [FieldProblem("reason", problem)]
    return render(
        request,
        "withdraw",
        title="Withdraw from the program",
        status=200 if problem is None else 400,
        reason=reason,
        problems=problems,
        errors=errors_by_field(problems),
    )


def _nothing_to_withdraw(request: Request) -> Response:
    return plain(
        request,
        409,
        "Nothing to withdraw from",
        "You have no application you can withdraw from now.",
        ("/me", "Where I stand"),
    )
