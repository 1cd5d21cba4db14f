"""The fields of a partner's pages (goals, meetings, check-ins, the survey): how each is
labelled and how its refusal is worded, shared by ``engagement_pages`` and
``survey_pages`` so a field reads the same wherever it is asked."""

from domain.application_form import FieldProblem
from flows.usecases.standing import CycleView, where_i_stand
from flows.web.forms import FieldWords, in_form_words
from flows.web.state import Portal

BACK = ("/me", "Where I stand")
FIELD_WORDS = {
    "goals": FieldWords(
        "One to three goals for your pair", "Write at least one goal for your pair"
    ),
    "met_on": FieldWords("The day you met", "Enter the day you met, for example 2027-01-14"),
    "minutes": FieldWords("About how long, in minutes", "Enter about how long you met, in minutes"),
    "mode": FieldWords("How did you meet?", "Choose how you met"),
    "note": FieldWords("A note (optional)", ""),
    "met": FieldWords("Have you met this month?", "Choose whether you have met this month"),
    "score": FieldWords(
        "How is it going?", "Choose how it is going, from 1 (badly) to 5 (very well)"
    ),
    "contact_committee": FieldWords(
        "Would you like the committee to get in touch?",
        "Choose whether you would like the committee to get in touch",
    ),
    "overall": FieldWords(
        "Overall, how would you rate the program?",
        "Choose how you rate the program overall, from 1 to 5",
    ),
    "goals_met": FieldWords(
        "The program met my goals", "Choose how far the program met your goals, from 1 to 5"
    ),
    "would_recommend": FieldWords(
        "Would you recommend the program to a colleague?",
        "Choose whether you would recommend the program to a colleague",
    ),
    "will_continue": FieldWords(
        "Will you go on meeting your partner on your own?",
        "Choose whether you will go on meeting your partner on your own",
    ),
    "comments": FieldWords("Anything else you would like to tell the committee (optional)", ""),
}
"""Each field of these pages as its page labels it, and what it says when left empty."""
LABELS = {name: words.label for name, words in FIELD_WORDS.items()}


def member_cycle(portal: Portal, member_id: str) -> CycleView | None:
    """The cycle the member takes part in now, as their status page shows it."""
    return where_i_stand(portal.uow(), member_id, now=portal.clock()).cycle


def field_problem(name: str, reason: str, value: str) -> FieldProblem:
    """A refusal of field ``name`` as its page words it."""
    words = FIELD_WORDS.get(name)
    message = reason if words is None else in_form_words(name, reason, value, words)
    return FieldProblem(name, message)
