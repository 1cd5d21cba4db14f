"""The committee's imports from the Prefect UI: the membership roster, applications and
survey answers, each from a path on the server or an https link to a form tool's CSV export.

Each form is a deployment of its own, in the committee's words. A run checks only by
default (``dry_run``): it lists every refused line in the run's artifact and saves
nothing; the import itself is a second run with ``dry_run`` off. Both call the same use
cases as ``mentoring members|applications|assessment import``, their audit records naming
the run (trigger ``manual``, the flow run id) as a step's do. A file, link or cycle that
cannot be used ends the run at once, Failed, with one sentence and no traceback. The run's
sentence and page are worded in flows/import_pages.py.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

from prefect import State, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed, Failed

from domain.activities import Activity, ActivityRefused
from domain.calendar import DEFAULT_TIMEZONE
from domain.cycle_states import CycleState, Trigger
from domain.errors import DomainError, MissingValue
from domain.values import actor_name
from flows.committee_steps import ASK_THE_SERVER, STATE_WORDS, chosen_year, refusal_sentence
from flows.cycle_transition import database_trouble
from flows.import_pages import (
    TITLES,
    CycleImportFigures,
    ImportBoxes,
    ImportKind,
    ImportReport,
    RosterFigures,
    cycle_import_report,
    import_page,
    roster_report,
)
from flows.orchestration import current_flow_run_id, publish_cycle_pages
from flows.usecases import applications, assessment, members
from flows.usecases.clock import utcnow
from flows.usecases.cycles import describe
from flows.usecases.remote_files import SourceFile, local_copy
from infra.db import DatabaseUnusable
from infra.form_mapping import FormMapping, FormMappingError, load_mapping
from infra.uow import UnitOfWork

NO_MAPPING: Final = "None: the program's own columns"

ApplicationForm = Literal[
    "None: the program's own columns",
    "Google Forms: the mentor application",
    "Google Forms: the mentee application",
]
SurveyForm = Literal[
    "None: the program's own columns",
    "Google Forms: the end-of-program survey",
]
MAPPINGS: Mapping[str, str | None] = {
    NO_MAPPING: None,
    "Google Forms: the mentor application": "google_forms_mentor",
    "Google Forms: the mentee application": "google_forms_mentee",
    "Google Forms: the end-of-program survey": "survey_tool_assessment",
}
"""Each choice of the form_tool_mapping box, and the shipped mapping it names
(infra/mappings/NAME.toml)."""

OFFERED: tuple[str, ...] = (*get_args(ApplicationForm), *get_args(SurveyForm))


@dataclass(frozen=True)
class ImportRequest:
    """The boxes of an import form, as typed."""

    kind: ImportKind
    actor: str
    source: str
    year: str = ""
    mapping: str = NO_MAPPING
    dry_run: bool = True

    @property
    def boxes(self) -> ImportBoxes:
        """The boxes the run's page repeats."""
        form_tool = None if self.kind is ImportKind.roster else self.mapping
        return ImportBoxes(self.source, self.actor, form_tool)


@dataclass(frozen=True)
class ImportTarget:
    """What the boxes name once checked: the file to read, the cycle, the form tool, and
    the run the audit record names."""

    path: Path
    year: int | None  # None for the roster, which belongs to no cycle
    mapping: FormMapping | None
    flow_run_id: str | None = None

    @property
    def cycle(self) -> int:
        assert self.year is not None, "a cycle's import names its year"
        return self.year


FROM_A_FORM = Trigger.manual
"""Through what an import from the UI came, as the audit log records it: a run started
from a form, as the committee's steps record theirs."""


def _roster(
    uow: UnitOfWork, target: ImportTarget, request: ImportRequest, now: datetime
) -> ImportReport:
    result = members.import_roster(
        uow,
        target.path,
        actor=request.actor,
        dry_run=request.dry_run,
        now=now,
        trigger=FROM_A_FORM,
        flow_run_id=target.flow_run_id,
    )
    figures = RosterFigures(result.added, result.updated, result.unchanged, len(result.rejected))
    return roster_report(
        figures,
        actor=request.actor.strip(),
        saved=not request.dry_run,
        rejected=result.rejected,
        data=result.as_dict(),
    )


def _applications(
    uow: UnitOfWork, target: ImportTarget, request: ImportRequest, now: datetime
) -> ImportReport:
    result = applications.import_applications(
        uow,
        target.cycle,
        target.path,
        actor=request.actor,
        mapping=target.mapping,
        dry_run=request.dry_run,
        now=now,
        trigger=FROM_A_FORM,
        flow_run_id=target.flow_run_id,
    )
    figures = CycleImportFigures(
        "application",
        result.imported,
        repeats=len(result.replaced),
        replaced=len(set(result.replaced)),
        refused=len(result.rejected),
        warnings=len(result.warnings),
        messages=result.messages,
    )
    return cycle_import_report(
        ImportKind.applications,
        target.cycle,
        figures,
        actor=request.actor.strip(),
        saved=not request.dry_run,
        rejected=result.rejected,
        warnings=result.warnings,
        data=result.as_dict(),
    )


def _survey_answers(
    uow: UnitOfWork, target: ImportTarget, request: ImportRequest, now: datetime
) -> ImportReport:
    result = assessment.import_responses(
        uow,
        target.cycle,
        target.path,
        actor=request.actor,
        mapping=target.mapping,
        dry_run=request.dry_run,
        now=now,
        trigger=FROM_A_FORM,
        flow_run_id=target.flow_run_id,
    )
    figures = CycleImportFigures(
        "survey answer",
        result.imported,
        repeats=result.replaced,
        replaced=result.replaced,
        refused=len(result.rejected),
    )
    return cycle_import_report(
        ImportKind.survey_answers,
        target.cycle,
        figures,
        actor=request.actor.strip(),
        saved=not request.dry_run,
        rejected=result.rejected,
        data=result.as_dict(),
    )


IMPORTS: Mapping[
    ImportKind, Callable[[UnitOfWork, ImportTarget, ImportRequest, datetime], ImportReport]
] = {
    ImportKind.roster: _roster,
    ImportKind.applications: _applications,
    ImportKind.survey_answers: _survey_answers,
}


def _mapping(choice: str) -> FormMapping | None:
    if choice not in MAPPINGS:
        offered = ", ".join(f"“{c}”" for c in OFFERED)
        raise FormMappingError(f"the form_tool_mapping box holds {choice!r}; choose {offered}")
    name = MAPPINGS[choice]
    return None if name is None else load_mapping(name)


# --- refusals in the form's words --------------------------------------------------------


_ALLOWED_WHEN: Mapping[Activity, str] = {
    Activity.intake: "applications are imported only while the call for applications is open",
    Activity.survey_answers: "survey answers are imported only once mentoring has ended and "
    "before the assessment is recorded (the July survey window)",
}


def import_refusal(refusal: DomainError, request: ImportRequest, file: SourceFile | None) -> str:
    """The one sentence a refused import ends with, naming the form's boxes."""
    if isinstance(refusal, MissingValue) and refusal.field == "actor":
        return "Write your name in the Your name box: the history records who imported what."
    if isinstance(refusal, ActivityRefused):
        return _not_now(refusal)
    if isinstance(refusal, DatabaseUnusable):
        return _sentence(
            f"The import could not start: the program's database cannot be used ({refusal}); "
            f"{ASK_THE_SERVER}"
        )
    if isinstance(refusal, FormMappingError):
        return _bad_file(str(refusal), request, file)
    if file is not None and str(file.path) in str(refusal):
        return _sentence(str(refusal).replace(str(file.path), file.shown))
    return refusal_sentence(refusal)


def _not_now(refusal: ActivityRefused) -> str:
    state = STATE_WORDS[refusal.state]
    allowed = _ALLOWED_WHEN.get(refusal.activity, str(refusal))
    text = f"Cycle {refusal.year} is {state}: {allowed}"
    if refusal.activity is Activity.intake and refusal.state is CycleState.applications_closed:
        text += f"; to accept late applications, {ASK_THE_SERVER}"
    return text + "."


def _bad_file(message: str, request: ImportRequest, file: SourceFile | None) -> str:
    if file is None:
        return _sentence(message)
    name = file.path.name
    if message.startswith(f"{name}: "):
        message = message[len(name) + 2 :]
    elif message.startswith(f"{name} "):
        message = "the file " + message[len(name) + 1 :]
    message = message.replace(str(file.path), "the file")
    for label, mapping in MAPPINGS.items():
        if mapping is not None:
            message = message.replace(f"mapping {mapping}", f"the form tool “{label}”")
    if "for the canonical layout" in message:
        message = message.replace("for the canonical layout", "for the program's own columns")
        if request.kind is not ImportKind.roster:
            message += (
                "; if the file is a form tool's export, choose it in the form_tool_mapping box"
            )
    return _sentence(f"{file.shown} cannot be imported: {message}")


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


# --- the run -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOutcome:
    """A refusal's sentence, or the report of what the import found or did."""

    refusal: str | None = None
    report: ImportReport | None = None
    page: str = ""


@task(name="import-the-file", retries=2, retry_delay_seconds=5, retry_condition_fn=database_trouble)
def run_import(request: ImportRequest, flow_run_id: str | None) -> ImportOutcome:
    """Read the source and call the import's use case, its audit record naming the flow
    run; log the run's first line. A refusal comes back as a value so the run ends at once
    without a traceback; only database trouble is retried (nothing was saved then)."""
    logger = get_run_logger()
    now = utcnow()
    uow = UnitOfWork.from_settings()
    file: SourceFile | None = None
    try:
        actor_name(request.actor)
        roster = request.kind is ImportKind.roster
        year = None if roster else chosen_year(uow, request.year)
        mapping = None if roster else _mapping(request.mapping)
        with local_copy(request.source) as file:
            target = ImportTarget(file.path, year, mapping, flow_run_id)
            report = IMPORTS[request.kind](uow, target, request, now)
        zone = DEFAULT_TIMEZONE if report.year is None else describe(uow, report.year).timezone
    except DomainError as refusal:
        sentence = import_refusal(refusal, request, file)
        logger.error(sentence)
        return ImportOutcome(refusal=sentence)
    logger.info(report.sentence)
    return ImportOutcome(report=report, page=import_page(report, request.boxes, now, zone))


def take_import(request: ImportRequest) -> State[Any]:
    """What every import flow does: import (or check), publish the page, end in a sentence."""
    if not request.source.strip():
        sentence = (
            "Write in the Source box a path to the CSV file on the server, or an https:// "
            "link to the form tool's CSV export."
        )
        get_run_logger().error(sentence)
        return Failed(message=sentence)
    outcome = run_import(request, current_flow_run_id())
    report = outcome.report
    if report is None:
        return Failed(message=outcome.refusal)
    create_markdown_artifact(
        key=report.key,
        markdown=outcome.page,
        description=TITLES[report.kind] + (" (check only)" if not report.saved else ""),
    )
    if report.saved and report.year is not None:
        publish_cycle_pages(UnitOfWork.from_settings(), report.year, report.sentence)
    return Completed(message=report.sentence, data=dict(report.data))


# --- the forms ---------------------------------------------------------------------------


@flow(name="Import the membership roster")
def import_the_membership_roster(your_name: str, source: str, dry_run: bool = True) -> State[Any]:
    """Load or refresh the Core membership roster (whoever applies must be on it). Columns:
    member_id, first_name, last_name, email, institution, membership_expires. Importing the
    same file again changes nothing.

    Args:
        your_name: Your name: the history records who imported what.
        source: The roster's CSV file: a path on the server (/srv/mentoring/roster.csv) or
            an https:// link to the CSV export.
        dry_run: Check only: nothing is saved. The run's artifact lists every line that
            would be refused and why. Switch it off to import.
    """
    return take_import(ImportRequest(ImportKind.roster, your_name, source, dry_run=dry_run))


@flow(name="Import applications")
def import_applications(
    your_name: str,
    source: str,
    year: str = "",
    form_tool_mapping: ApplicationForm = NO_MAPPING,
    dry_run: bool = True,
) -> State[Any]:
    """Check applications and load the valid ones, while the call for applications is open.
    A member's repeated application replaces the earlier one; every applicant is told
    whether they are in.

    Args:
        your_name: Your name: the history records who imported what.
        source: The CSV file: a path on the server (/srv/mentoring/mentors.csv) or an
            https:// link to the form tool's CSV export.
        year: The cycle's year, the year its call opens. Leave it empty for the current
            cycle.
        form_tool_mapping: The form the file comes from, so its columns and answers are
            read right; None for a file in the program's own columns.
        dry_run: Check only: nothing is saved and nobody is told. The run's artifact lists
            every line that would be refused and why. Switch it off to import.
    """
    request = ImportRequest(
        ImportKind.applications, your_name, source, year, form_tool_mapping, dry_run
    )
    return take_import(request)


@flow(name="Import survey answers")
def import_survey_answers(
    your_name: str,
    source: str,
    year: str = "",
    form_tool_mapping: SurveyForm = NO_MAPPING,
    dry_run: bool = True,
) -> State[Any]:
    """Load the end-of-program survey's answers, while the survey is open (after mentoring
    ends, before the assessment is recorded). Only the cycle's paired participants answer,
    for the role they took part in; a later answer replaces an earlier one.

    Args:
        your_name: Your name: the history records who imported what.
        source: The CSV file: a path on the server (/srv/mentoring/survey.csv) or an
            https:// link to the survey tool's CSV export.
        year: The cycle's year, the year its call opens. Leave it empty for the current
            cycle.
        form_tool_mapping: The survey tool the file comes from, so its columns and answers
            are read right; None for a file in the program's own columns.
        dry_run: Check only: nothing is saved. The run's artifact lists every line that
            would be refused and why. Switch it off to import.
    """
    request = ImportRequest(
        ImportKind.survey_answers, your_name, source, year, form_tool_mapping, dry_run
    )
    return take_import(request)
