"""Reading the forms the site posts (``application/x-www-form-urlencoded``, no files), with
the CSRF check every POST passes first; and saying a refused field in the form's words."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import Depends
from starlette.requests import Request

from domain.application_form import FieldProblem
from flows.web import csrf
from flows.web.refusals import FORGED_FORM, PlainRefusal

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class FormFields:
    """The posted fields, each with every value it was given."""

    values: dict[str, list[str]]

    def first(self, name: str) -> str:
        """The field's first value, or "" when it was not posted."""
        return self.values.get(name, [""])[0]

    def every(self, name: str) -> list[str]:
        """Every value of the field (checkboxes), in the order posted."""
        return list(self.values.get(name, []))

    def without(self, *names: str) -> dict[str, list[str]]:
        return {k: v for k, v in self.values.items() if k not in names}


async def read_form(request: Request) -> FormFields:
    """The request's form, refused with a plain page when it is not one or too large."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        raise PlainRefusal(415, "Not a form", "This address only takes the site's own forms.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PlainRefusal(413, "Too long", "What was sent is too long for this form.")
    try:
        text = body.decode("utf-8")
        values = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise PlainRefusal(
            400, "Not a form", "What was sent could not be read as a form."
        ) from None
    return FormFields(values)


async def checked_form(request: Request) -> FormFields:
    """The form, once its ``csrf_token`` matches the session's (else 403, a plain page)."""
    form = await read_form(request)
    if not csrf.is_valid(request.session, form.first(csrf.FIELD)):
        raise FORGED_FORM
    return form


Form = Annotated[FormFields, Depends(checked_form)]
"""A page's posted form, CSRF-checked, as a route's parameter."""


@dataclass(frozen=True)
class FieldWords:
    """How a form names one of its fields: its label (or its group's legend) as the page
    shows it, and what the page says when the field was left empty."""

    label: str
    when_empty: str


def in_form_words(name: str, reason: str, value: str, words: FieldWords) -> str:
    """A refusal worded for a CSV line or a command (``reason``, which names field
    ``name`` first) as the form says it: the field named by its label. The rule that
    refused ``value`` stays where it is; only the words change."""
    if not value.strip() and words.when_empty:
        return words.when_empty
    said = reason.removeprefix(f"{name}: ").removeprefix(f"{name} ")
    if said.startswith(("is ", "contains ")):
        return f"Your answer to “{words.label}” {said}"
    return f"“{words.label}”: {said}"


def errors_by_field(problems: Sequence[FieldProblem]) -> dict[str, list[str]]:
    """Each field's refusals, for the message beside it; a problem with the whole form
    (``field`` empty) is only in the summary at the top."""
    errors: dict[str, list[str]] = {}
    for problem in problems:
        if problem.field:
            errors.setdefault(problem.field, []).append(problem.message)
    return errors
