"""After pairing, a partner's pages: the pair's goals, its meeting log, the monthly check-in
and, after the formal end, whether the pair goes on meeting (the survey is
``survey_pages``).

Each takes the member from the session; a pair named in the address or a form is only
shown or written to when the member is one of its partners (the use cases refuse anyone
else): otherwise the page is the site's plain "Page not found", whichever pair it names.
What one partner writes (a check-in, a meeting's note) is never shown to the other.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.application_form import FieldProblem
from domain.engagement import (
    ALLOWED,
    GOALS_MAX,
    MODE_WORDS,
    EngagementStep,
    InvalidEntry,
    NotInPair,
    checked_check_in,
    month_words,
)
from flows.pair_attention import announce_needs_attention
from flows.usecases.engagement import (
    MemberPair,
    PairLog,
    check_in,
    log_meeting,
    pair_log,
    pairs_of_member,
    say_whether_continuing,
    set_goals,
)
from flows.usecases.standing import CycleView
from flows.web.access import signed_in
from flows.web.engagement_fields import (
    BACK,
    LABELS,
    field_problem,
    member_cycle,
)
from flows.web.forms import Form, FormFields, errors_by_field
from flows.web.pages import plain, render
from flows.web.state import Portal

router = APIRouter()
PAIR_ANSWER_TITLES = {"check_in": "Monthly check-in", "continuing": "Do you go on meeting?"}
CHOOSE_PAIR = "Choose the pair this is about"
CHOOSE_CONTINUING = "Choose whether you go on meeting on your own"
CHECK_IN_FIELDS = ("met", "score", "contact_committee")
MEETING_FIELDS = ("met_on", "minutes", "mode", "note")
MODES = tuple((str(mode), words) for mode, words in MODE_WORDS.items())
CHECK_IN_STAND_INS = {"met": "yes", "score": "3", "contact_committee": "no"}
"""Answers that pass the check-in's checks, stood in for a refused one to find the next."""


def _not_found(request: Request) -> Response:
    """The site's own 404 page: the same for a pair that does not exist and another's."""
    return plain(request, 404, "Page not found", "There is no page at this address.")


def _allowed(step: EngagementStep, cycle: CycleView | None) -> bool:
    """Whether the cycle's state allows ``step`` now (the use cases hold to the same)."""
    return cycle is not None and cycle.state in {str(s) for s in ALLOWED[step]}


def _not_now(request: Request, step: EngagementStep, cycle: CycleView | None) -> Response | None:
    """A plain page when the cycle's state does not allow ``step`` now, else None."""
    if _allowed(step, cycle):
        return None
    sentences = {
        EngagementStep.goals: "Goals are set from the pairing announcement until mentoring ends.",
        EngagementStep.meeting: "Meetings are logged from the pairing announcement until the "
        "survey closes.",
        EngagementStep.check_in: "Check-ins are answered while mentoring runs, December to June.",
        EngagementStep.continuing: "This is asked once formal mentoring has ended.",
    }
    return plain(request, 200, "Not open now", sentences[step], BACK)


def _no_pair(request: Request) -> Response:
    return plain(request, 200, "You are not in a pair", "You have no pair to write about.", BACK)


def _refused(refused: InvalidEntry, values: dict[str, str]) -> list[FieldProblem]:
    """Each field ``refused`` names (a meeting's checks name every field they refuse)."""
    return [
        field_problem(r.field_name, r.reason, values.get(r.field_name, "")) for r in refused.every
    ]


def _check_in_problems(values: dict[str, str]) -> list[FieldProblem]:
    """Every answer of the check-in its checks refuse, in the form's order: they stop at
    the first, so a refused answer is stood in for and the answers checked again."""
    trial = {name: values[name] for name in CHECK_IN_FIELDS}
    problems: list[FieldProblem] = []
    for _ in CHECK_IN_FIELDS:
        try:
            checked_check_in(**trial)
        except InvalidEntry as refused:
            problems += _refused(refused, values)
            if refused.field_name not in CHECK_IN_STAND_INS:
                break
            trial[refused.field_name] = CHECK_IN_STAND_INS[refused.field_name]
            continue
        break
    return problems


def _chosen_pair(form: FormFields, pairs: Sequence[MemberPair]) -> int | None:
    """The pair the form names, or the member's only pair when it names none; None when it
    names none and they have several, or names one unreadably (the use cases refuse a
    pair that is not theirs)."""
    raw = form.first("pair_id").strip()
    if not raw:
        return pairs[0].pair_id if len(pairs) == 1 else None
    return int(raw) if raw.isdigit() and len(raw) <= 12 else None


# Goals and meetings: the pair in the address ------------------------------------------


@router.get("/pair/goals")
def goals_of_my_pair(request: Request) -> Response:
    return _to_my_pair(request, "goals", "Your pair's goals")


@router.get("/pair/meetings")
def meetings_of_my_pair(request: Request) -> Response:
    return _to_my_pair(request, "meetings", "Your pair's meetings")


def _to_my_pair(request: Request, page: str, title: str) -> Response:
    """Straight to the member's pair's page, or a choice when they have several."""
    portal, member = signed_in(request)
    cycle = member_cycle(portal, member.member_id)
    pairs = [] if cycle is None else pairs_of_member(portal.uow(), cycle.year, member.member_id)
    if not pairs:
        return _no_pair(request)
    if len(pairs) == 1:
        return RedirectResponse(f"/pair/{pairs[0].pair_id}/{page}", status_code=303)
    return render(request, "pair_choice", title=title, pairs=pairs, page=page)


@dataclass(frozen=True)
class Seen:
    """A pair's records as the signed-in partner may see them, and the cycle they are of."""

    portal: Portal
    member_id: str
    cycle: CycleView
    log: PairLog


def _log(request: Request, pair_id: int) -> Seen | None:
    """The pair's records as the member may see them; None when they are not its partner."""
    portal, member = signed_in(request)
    cycle = member_cycle(portal, member.member_id)
    if cycle is None:
        return None
    try:
        log = pair_log(portal.uow(), cycle.year, member.member_id, pair_id)
    except NotInPair:
        return None
    return Seen(portal, member.member_id, cycle, log)


@router.get("/pair/{pair_id}/goals")
def goals_page(request: Request, pair_id: int) -> Response:
    seen = _log(request, pair_id)
    if seen is None:
        return _not_found(request)
    cycle, log = seen.cycle, seen.log
    return _goals_form(request, log, cycle, list(log.goals), [])


@router.post("/pair/{pair_id}/goals")
def goals_sent(request: Request, pair_id: int, form: Form) -> Response:
    seen = _log(request, pair_id)
    if seen is None:
        return _not_found(request)
    portal, member_id, cycle, log = seen.portal, seen.member_id, seen.cycle, seen.log
    goals = form.every("goals")[:GOALS_MAX]
    try:
        set_goals(portal.uow(), cycle.year, member_id, goals, pair_id=pair_id, now=portal.clock())
    except NotInPair:
        return _not_found(request)
    except InvalidEntry as refused:
        wrong = _refused(refused, {"goals": " ".join(goals)})
        return _goals_form(request, log, cycle, goals, wrong, status=400)
    return RedirectResponse(f"/pair/{pair_id}/goals", status_code=303)


def _goals_form(
    request: Request,
    log: PairLog,
    cycle: CycleView,
    goals: list[str],
    problems: list[FieldProblem],
    *,
    status: int = 200,
) -> Response:
    return render(
        request,
        "goals",
        title="Your pair's goals",
        labels=LABELS,
        status=status,
        log=log,
        values=(goals + [""] * GOALS_MAX)[:GOALS_MAX],
        can_write=_allowed(EngagementStep.goals, cycle),
        problems=problems,
        errors=errors_by_field(problems),
    )


@router.get("/pair/{pair_id}/meetings")
def meetings_page(request: Request, pair_id: int) -> Response:
    seen = _log(request, pair_id)
    if seen is None:
        return _not_found(request)
    cycle, log = seen.cycle, seen.log
    return _meetings_form(request, log, cycle, {}, [])


@router.post("/pair/{pair_id}/meetings")
def meeting_sent(request: Request, pair_id: int, form: Form) -> Response:
    seen = _log(request, pair_id)
    if seen is None:
        return _not_found(request)
    portal, member_id, cycle, log = seen.portal, seen.member_id, seen.cycle, seen.log
    values = {name: form.first(name) for name in MEETING_FIELDS}
    try:
        log_meeting(
            portal.uow(),
            cycle.year,
            member_id,
            pair_id=pair_id,
            met_on=values["met_on"],
            minutes=values["minutes"],
            mode=values["mode"],
            note=values["note"],
            now=portal.clock(),
        )
    except NotInPair:
        return _not_found(request)
    except InvalidEntry as refused:
        return _meetings_form(request, log, cycle, values, _refused(refused, values), status=400)
    return RedirectResponse(f"/pair/{pair_id}/meetings", status_code=303)


def _meetings_form(
    request: Request,
    log: PairLog,
    cycle: CycleView,
    values: dict[str, str],
    problems: list[FieldProblem],
    *,
    status: int = 200,
) -> Response:
    return render(
        request,
        "meetings",
        title="Your pair's meetings",
        labels=LABELS,
        status=status,
        log=log,
        values=values,
        modes=MODES,
        mode_words={mode: words for mode, words in MODES},
        month_words=month_words,
        can_write=_allowed(EngagementStep.meeting, cycle),
        problems=problems,
        errors=errors_by_field(problems),
    )


# The monthly check-in and the continuing question: the pair in the form -----------------


def _pair_options(pairs: Sequence[MemberPair]) -> list[tuple[str, str]]:
    """Each pair as a choice: its id and "Your pair with NAME (you are the ROLE)"."""
    return [
        (str(p.pair_id), f"Your pair with {p.partner_name} (you are the {p.role})") for p in pairs
    ]


@dataclass(frozen=True)
class Mine:
    """The signed-in member's pairs in the cycle they are of."""

    portal: Portal
    member_id: str
    year: int
    pairs: list[MemberPair]


def _my_pairs(request: Request, step: EngagementStep) -> Mine | Response:
    """The member's pairs when ``step`` is open now; else the page to answer with."""
    portal, member = signed_in(request)
    cycle = member_cycle(portal, member.member_id)
    closed = _not_now(request, step, cycle)
    if closed is not None or cycle is None:
        return closed or _no_pair(request)
    pairs = pairs_of_member(portal.uow(), cycle.year, member.member_id)
    if not pairs:
        return _no_pair(request)
    return Mine(portal, member.member_id, cycle.year, pairs)


@router.get("/check-in")
def check_in_page(request: Request) -> Response:
    mine = _my_pairs(request, EngagementStep.check_in)
    if isinstance(mine, Response):
        return mine
    return _pair_answer_form(request, "check_in", mine.pairs, {}, [])


@router.post("/check-in")
def check_in_sent(request: Request, form: Form) -> Response:
    mine = _my_pairs(request, EngagementStep.check_in)
    if isinstance(mine, Response):
        return mine
    portal, member_id, year, pairs = mine.portal, mine.member_id, mine.year, mine.pairs
    values = {name: form.first(name) for name in (*CHECK_IN_FIELDS, "pair_id")}
    pair_id = _chosen_pair(form, pairs)
    if pair_id is None:
        problems = [FieldProblem("pair_id", CHOOSE_PAIR), *_check_in_problems(values)]
        return _pair_answer_form(request, "check_in", pairs, values, problems, status=400)
    try:
        result = check_in(
            portal.uow(),
            year,
            member_id,
            pair_id=pair_id,
            met=values["met"],
            score=values["score"],
            contact_committee=values["contact_committee"],
            now=portal.clock(),
        )
    except NotInPair:
        return _not_found(request)
    except InvalidEntry as refused:
        problems = _check_in_problems(values) or _refused(refused, values)
        return _pair_answer_form(request, "check_in", pairs, values, problems, status=400)
    asked = values["contact_committee"].strip().casefold() == "yes"
    sentence = "Thank you: your check-in for " + month_words(result.month) + " is kept."
    if asked:
        sentence += " The committee will get in touch with you."
    response = plain(request, 200, "Check-in received", sentence, BACK)
    if result.flagged:
        response.background = BackgroundTask(
            announce_needs_attention, result.year, result.pair_id, result.reasons
        )
    return response


def _pair_answer_form(
    request: Request,
    page: str,
    pairs: list[MemberPair],
    values: dict[str, str],
    problems: list[FieldProblem],
    *,
    status: int = 200,
) -> Response:
    """The check-in or going-on form (``page``): the pair to choose when there are
    several, the member's answers kept, each problem beside its field."""
    return render(
        request,
        page,
        title=PAIR_ANSWER_TITLES[page],
        labels=LABELS,
        status=status,
        pairs=_pair_options(pairs),
        values=values,
        problems=problems,
        errors=errors_by_field(problems),
    )


@router.get("/continuing")
def continuing_page(request: Request) -> Response:
    mine = _my_pairs(request, EngagementStep.continuing)
    if isinstance(mine, Response):
        return mine
    return _pair_answer_form(request, "continuing", mine.pairs, {}, [])


@router.post("/continuing")
def continuing_sent(request: Request, form: Form) -> Response:
    mine = _my_pairs(request, EngagementStep.continuing)
    if isinstance(mine, Response):
        return mine
    portal, member_id, year, pairs = mine.portal, mine.member_id, mine.year, mine.pairs
    values = {name: form.first(name) for name in ("continuing", "pair_id")}
    pair_id = _chosen_pair(form, pairs)
    answer = {"yes": True, "no": False}.get(values["continuing"].strip().casefold())
    problems = []
    if pair_id is None:
        problems.append(FieldProblem("pair_id", CHOOSE_PAIR))
    if answer is None:
        problems.append(FieldProblem("continuing", CHOOSE_CONTINUING))
    if pair_id is None or answer is None:
        return _pair_answer_form(request, "continuing", pairs, values, problems, status=400)
    try:
        say_whether_continuing(
            portal.uow(), year, member_id, pair_id=pair_id, continuing=answer, now=portal.clock()
        )
    except NotInPair:
        return _not_found(request)
    sentence = (
        "Thank you: the program counts your pair among those going on."
        if answer
        else "Thank you: the program counts your pair among those ending with the program."
    )
    return plain(request, 200, "Answer received", sentence, BACK)
