"""The committee's imports and look back under a real (test) Prefect server: a check-only
run lists every refused line in its artifact and saves nothing, the real run saves and
refreshes the cycle's page, files and links that cannot be used end the run at once in one
sentence, the history shows the cycle as it stood, and prefect.yaml deploys each form."""

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import import_module
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlalchemy import func, select

from domain.cycle_states import CycleEvent, Trigger
from flows.committee_history import show_the_history_as_it_stood
from flows.committee_imports import (
    MAPPINGS,
    NO_MAPPING,
    OFFERED,
    import_applications,
    import_survey_answers,
    import_the_membership_roster,
)
from flows.usecases import audit, cycles, members
from flows.usecases.audit_story import story
from infra.download import ALLOW_LOCAL_HTTP, DownloadLimits, DownloadRefused, fetch
from infra.form_mapping import shipped_mappings
from infra.tables import ApplicationRow, AssessmentResponseRow
from infra.uow import UnitOfWork
from tests.builders import AUG_2, DATA, cycle_with_applications, paired_cycle

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"
MENTOR_FORM = "Google Forms: the mentor application"
ROSTER_HEADER = "member_id,first_name,last_name,email,institution,membership_expires\n"


# --- a small web server for the links --------------------------------------------------


class _FormTool(BaseHTTPRequestHandler):
    """Answers as a form tool's export links do, and as they fail."""

    def do_GET(self) -> None:
        if self.path == "/exports/mentors.csv":
            self._send(200, "text/csv; charset=utf-8", (DATA / "mentor_form.csv").read_bytes())
        elif self.path == "/share/mentors":
            self.send_response(302)
            self.send_header("Location", "/exports/mentors.csv")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/share/elsewhere":
            self.send_response(302)
            self.send_header("Location", "http://example.org/mentors.csv")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/sign-in":
            self._send(200, "text/html", b"<!DOCTYPE html><html><body>Sign in</body></html>")
        elif self.path == "/exports/untyped.csv":
            self._send(200, "application/octet-stream", b"<html><body>Sign in</body></html>")
        else:
            self._send(404, "text/plain", b"not here")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads the answers, not the server's log."""


@pytest.fixture
def form_tool(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The base address of a local web server; plain http to it is allowed for the test."""
    monkeypatch.setenv(ALLOW_LOCAL_HTTP, "1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FormTool)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# --- helpers ---------------------------------------------------------------------------


def page(state: Any, key: str) -> str:
    """The markdown the run published under ``key`` (exactly one version per run)."""
    run_id: UUID = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
            )
        )
    assert len(found) == 1, f"{key}: {len(found)} artifact(s) from the run"
    return str(found[0].data)


def count(uow: UnitOfWork, table: Any) -> int:
    with uow:
        return int(uow.session.scalar(select(func.count()).select_from(table)) or 0)


def roster_size(uow: UnitOfWork) -> int:
    with uow:
        return len(uow.members.by_id())


def call_open(uow: UnitOfWork, year: int = 2026) -> UnitOfWork:
    """Cycle ``year`` open for applications, with the sample roster."""
    cycles.create_cycle(uow, year, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(
        uow, year, CycleEvent.open_call, actor="s", trigger=Trigger.schedule, now=AUG_2
    )
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)
    return uow


def bad_roster(tmp_path: Path) -> Path:
    """The sample roster's first three members, then a bad address and a bad date."""
    good = (DATA / "roster.csv").read_text().splitlines()[1:4]
    path = tmp_path / "roster.csv"
    path.write_text(
        ROSTER_HEADER
        + "\n".join(good)
        + "\nC200001,Ann,Lee,not-an-address,Some Library,2027-06-30"
        + "\nC200002,Bo,Kim,bo.kim@example.org,Some Library,next June\n"
    )
    return path


# --- the imports -----------------------------------------------------------------------


def test_a_check_only_roster_run_lists_each_refused_line_and_saves_nothing(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    source = bad_roster(tmp_path)
    state = import_the_membership_roster(
        your_name="Pat Chair", source=str(source), return_state=True
    )
    assert state.is_completed(), state.message
    assert state.message == (
        "Checked 5 lines: 3 members would be added, 0 updated, 0 unchanged, 2 refused (see "
        "“roster-import” in the run's Artifacts tab). Nothing was saved; run again with "
        "dry_run (Check only) switched off to import."
    )
    shown = page(state, "roster-import")
    assert shown.startswith("# Import of the membership roster (checked only: nothing was saved)\n")
    assert "| added | 3 |" in shown and "| refused | 2 |" in shown
    assert "| 5 | C200001 | " in shown and "not-an-address" in shown
    assert "| 6 | C200002 | membership\\_expires 'next June' is not an ISO date" in shown
    assert roster_size(uow) == 0


def test_the_real_roster_import_saves_and_records_who(uow: UnitOfWork, tmp_path: Path) -> None:
    state = import_the_membership_roster(
        your_name="Pat Chair", source=str(bad_roster(tmp_path)), dry_run=False, return_state=True
    )
    assert state.is_completed(), state.message
    assert state.message == (
        "Roster imported (by Pat Chair): 3 members added, 0 updated, 0 unchanged; 2 lines "
        "refused (see “roster-import” in the run's Artifacts tab)."
    )
    assert roster_size(uow) == 3
    with uow:
        [record] = uow.audit.records(None, "roster_imported")
    assert (record.actor, record.fields["trigger"], record.fields["flow_run_id"]) == (
        "Pat Chair",
        "manual",  # a run started from a form, as the committee's steps record theirs
        str(state.state_details.flow_run_id),
    )
    result: Any = state.result()
    assert result["added"] == 3
    assert "# Import of the membership roster (imported)" in page(state, "roster-import")


def test_applications_from_a_link_are_checked_then_imported_and_the_cycle_page_follows(
    uow: UnitOfWork, form_tool: str
) -> None:
    call_open(uow)
    link = f"{form_tool}/share/mentors"  # sent on to the export, as form tools do
    checked = import_applications(
        your_name="Pat Chair",
        source=link,
        year="2026",
        form_tool_mapping=MENTOR_FORM,
        return_state=True,
    )
    assert checked.is_completed(), checked.message
    message = str(checked.message)
    assert message.startswith("Checked 52 lines: ")
    assert message.endswith(
        "Nothing was saved; run again with dry_run (Check only) switched off to import."
    )
    shown = page(checked, "cycle-2026-import-applications")
    assert shown.startswith("# Import of applications, cycle 2026 (checked only")
    assert f"- From: {link}" in shown
    assert f"- Form tool: {MENTOR_FORM}" in shown
    assert count(uow, ApplicationRow) == 0

    imported = import_applications(
        your_name="Pat Chair",
        source=link,
        form_tool_mapping=MENTOR_FORM,
        dry_run=False,
        return_state=True,
    )
    assert imported.is_completed(), imported.message
    stored = count(uow, ApplicationRow)
    assert stored > 0
    assert str(imported.message).startswith(
        f"Imported {stored} applications into cycle 2026 (by Pat Chair); "
    )
    assert "(see “cycle-2026-import-applications” in the run's Artifacts tab)" in str(
        imported.message
    )
    record = audit.history(uow, 2026).records[-1]
    assert (record.kind, record.actor, record.fields["file"]) == (
        "applications_imported",
        "Pat Chair",
        "127.0.0.1_share_mentors",  # where the link (as given) points
    )
    run_id = str(imported.state_details.flow_run_id)
    assert (record.fields["trigger"], record.fields["flow_run_id"]) == ("manual", run_id)
    status = page(imported, "cycle-2026")
    assert f"Applicants: {stored} accepted" in status
    told = story(uow, 2026)
    [told_figures] = told.applications["imports"]
    assert told_figures["flow_run_id"] == run_id
    [told_import] = [(e["what"], e["actor"]) for e in told.timeline if e["seq"] == record.seq]
    assert told_import == (
        "applications imported in the Prefect UI from 127.0.0.1_share_mentors: "
        f"{stored} accepted, {told_figures['refused']} refused",
        "Pat Chair",
    )
    assert "applications imported in the Prefect UI from" in page(imported, "cycle-2026-history")


def test_every_refused_application_line_is_on_the_page_with_its_number(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    call_open(uow)
    lines = (DATA / "applications.csv").read_text().splitlines()
    source = tmp_path / "applications.csv"
    source.write_text(
        "\n".join(
            [*lines[:4], "2026-08-05T10:00,C999999,nobody@example.org," + lines[1].split(",", 3)[3]]
        )
        + "\n"
    )
    state = import_applications(your_name="Pat", source=str(source), return_state=True)
    assert state.is_completed(), state.message
    result: Any = state.result()
    rejected = result["rejected"]
    assert str(state.message).startswith(
        f"Checked 4 lines: {4 - len(rejected)} applications would be imported, "
        f"{len(rejected)} refused"
    )
    shown = page(state, "cycle-2026-import-applications")
    assert f"## Refused lines ({len(rejected)})" in shown
    assert "| 5 | C999999 | member id C999999 is not on the Core roster |" in shown
    for entry in rejected:
        assert f"| {entry['line']} | {entry.get('member_id', '')} | " in shown


def test_survey_answers_are_checked_then_imported(uow: UnitOfWork) -> None:
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
        (CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, 2026, event, actor="s", trigger=Trigger.schedule, now=when)
    survey = "Google Forms: the end-of-program survey"
    source = str(DATA / "assessment_survey_export.csv")
    checked = import_survey_answers(
        your_name="Pat", source=source, form_tool_mapping=survey, return_state=True
    )
    assert checked.is_completed(), checked.message
    assert str(checked.message).startswith(
        "Checked 62 lines: 61 survey answers would be imported, 0 refused"
    )
    assert "No line was refused." in page(checked, "cycle-2026-import-survey-answers")
    assert count(uow, AssessmentResponseRow) == 0
    imported = import_survey_answers(
        your_name="Pat", source=source, form_tool_mapping=survey, dry_run=False, return_state=True
    )
    assert imported.message == (
        "Imported 61 survey answers into cycle 2026 (by Pat); 0 lines refused (see "
        "“cycle-2026-import-survey-answers” in the run's Artifacts tab)."
    )
    assert count(uow, AssessmentResponseRow) == 61
    record = audit.history(uow, 2026).records[-1]
    assert (record.kind, record.actor, record.fields["trigger"], record.fields["flow_run_id"]) == (
        "assessment_imported",
        "Pat",
        "manual",
        str(imported.state_details.flow_run_id),
    )


REFUSALS: list[tuple[str, str, dict[str, str], str]] = [
    (
        "no file at the path",
        "applications",
        {"source": "/srv/nowhere/applications.csv"},
        "No file at /srv/nowhere/applications.csv on the server.",
    ),
    (
        "a folder",
        "applications",
        {"source": "{tmp}"},
        "{tmp} on the server is a folder, not a file.",
    ),
    (
        "a link that answers 404",
        "applications",
        {"source": "{web}/exports/gone.csv"},
        "Could not read {web}/exports/gone.csv: the server answered 404 (Not Found).",
    ),
    (
        "a link to a sign-in page",
        "applications",
        {"source": "{web}/sign-in"},
        "Could not read {web}/sign-in: the server sent a web page, not a CSV file; give the "
        "link to the form tool's CSV export, shared so that anyone with the link can open it.",
    ),
    (
        "a page sent as a file",
        "applications",
        {"source": "{web}/exports/untyped.csv"},
        "Could not read {web}/exports/untyped.csv: the server sent a web page, not a CSV "
        "file; give the link to the form tool's CSV export, shared so that anyone with the "
        "link can open it.",
    ),
    (
        "a link sent on to plain http elsewhere",
        "applications",
        {"source": "{web}/share/elsewhere"},
        "Could not read {web}/share/elsewhere: it sends the download on to "
        "http://example.org/mentors.csv, which is not an https:// link.",
    ),
    (
        "a workbook instead of a CSV",
        "applications",
        {"source": "{tmp}/mentors.xlsx"},
        "{tmp}/mentors.xlsx cannot be imported: the file is a workbook or archive, not a "
        "CSV; save it as CSV UTF-8 and import again.",
    ),
    (
        "a form tool's export without its mapping",
        "applications",
        {"source": str(DATA / "mentor_form.csv")},
        "cannot be imported: unknown column(s) 'Timestamp'",
    ),
    (
        "the mentee form read as the mentor form",
        "applications",
        {"source": str(DATA / "mentee_form.csv"), "form_tool_mapping": MENTOR_FORM},
        f"{DATA / 'mentee_form.csv'} cannot be imported: unknown column(s) 'What do you hope "
        "to get out of the program?' and missing column(s) 'What expertise can you share?', "
        "'How many mentees can you take on?', 'Would you also like to be a mentee?' for the "
        f"form tool “{MENTOR_FORM}”.",
    ),
    (
        "no such cycle",
        "applications",
        {"source": str(DATA / "applications.csv"), "year": "2031"},
        "There is no cycle 2031: check the Year box, or start it with the “Start a new year” form.",
    ),
    (
        "survey answers while the call is open",
        "survey",
        {"source": str(DATA / "assessment.csv")},
        "Cycle 2026 is open for applications: survey answers are imported only once "
        "mentoring has ended and before the assessment is recorded (the July survey window).",
    ),
    (
        "a roster without one valid line",
        "roster",
        {"source": "{tmp}/bad-roster.csv"},
        "{tmp}/bad-roster.csv: no valid roster line (first problem: line 2: email is empty; "
        "every roster row needs one).",
    ),
    (
        "no name",
        "roster",
        {"source": str(DATA / "roster.csv"), "your_name": " "},
        "Write your name in the Your name box: the history records who imported what.",
    ),
    (
        "an empty source",
        "roster",
        {"source": "  "},
        "Write in the Source box a path to the CSV file on the server, or an https:// link "
        "to the form tool's CSV export.",
    ),
]
FORMS: dict[str, Any] = {
    "applications": import_applications,
    "survey": import_survey_answers,
    "roster": import_the_membership_roster,
}


@pytest.mark.parametrize(
    ("form", "boxes", "sentence"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_a_file_or_link_that_cannot_be_used_ends_the_run_at_once_in_one_sentence(
    uow: UnitOfWork,
    tmp_path: Path,
    form_tool: str,
    caplog: pytest.LogCaptureFixture,
    form: str,
    boxes: dict[str, str],
    sentence: str,
) -> None:
    call_open(uow)
    (tmp_path / "mentors.xlsx").write_bytes(b"PK\x03\x04 a workbook")
    (tmp_path / "bad-roster.csv").write_text(ROSTER_HEADER + "C200001,Ann,Lee,,,2027-06-30\n")
    filled = {k: v.format(tmp=tmp_path, web=form_tool) for k, v in boxes.items()}
    expected = sentence.format(tmp=tmp_path, web=form_tool)
    members_before = roster_size(uow)
    with caplog.at_level(logging.INFO):
        state = FORMS[form](**{"your_name": "Pat", **filled, "dry_run": False}, return_state=True)
    assert state.is_failed()
    if expected.startswith("cannot"):
        assert f"{filled['source']} {expected}" in str(state.message)
        assert str(state.message).endswith(
            "if the file is a form tool's export, choose it in the form_tool_mapping box."
        )
    else:
        assert state.message == expected
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert run.start_time is not None and run.end_time is not None
    assert (run.end_time - run.start_time).total_seconds() < 5
    run_log = [r for r in caplog.records if r.name.startswith("prefect")]
    assert any(r.levelno == logging.ERROR and r.getMessage() == state.message for r in run_log)
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in run_log)
    assert count(uow, ApplicationRow) == 0
    assert roster_size(uow) == members_before


def test_plain_http_is_refused_without_the_local_setting(
    uow: UnitOfWork, form_tool: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ALLOW_LOCAL_HTTP)
    link = f"{form_tool}/exports/mentors.csv"
    state = import_the_membership_roster(your_name="Pat", source=link, return_state=True)
    assert state.is_failed()
    assert state.message == (
        f"Could not read {link}: only https:// links are accepted (the form tool's link to "
        "its CSV export)."
    )


def test_a_download_stops_at_its_size_limit(form_tool: str, tmp_path: Path) -> None:
    link = f"{form_tool}/exports/mentors.csv"
    with pytest.raises(DownloadRefused) as refused:
        fetch(link, tmp_path / "x.csv", DownloadLimits(max_bytes=100, allow_local_http=True))
    assert str(refused.value) == (
        f"Could not read {link}: the file is larger than 100 bytes, more than an export should be."
    )


def test_every_shipped_mapping_is_offered_by_a_form() -> None:
    assert set(shipped_mappings()) == {name for name in MAPPINGS.values() if name}
    assert set(OFFERED) == set(MAPPINGS)
    assert MAPPINGS[NO_MAPPING] is None


# --- the history as it stood -----------------------------------------------------------


def test_the_history_shows_the_cycle_as_it_stood(uow: UnitOfWork) -> None:
    cycle_with_applications(uow)  # call opened Aug 2, applications closed Oct 1
    state = show_the_history_as_it_stood(year="2026", as_of="2026-09-01", return_state=True)
    assert state.is_completed(), state.message
    assert state.message == (
        "The history of cycle 2026 as it stood on Tue Sep 1, 2026, 12:00 AM Chicago time "
        "(the cycle was open for applications, 1 step(s) taken) is in the artifact "
        "cycle-2026-history-as-of."
    )
    shown = page(state, "cycle-2026-history-as-of")
    assert shown.startswith(
        "# Cycle 2026: the history as it stood on Tue Sep 1, 2026, 12:00 AM Chicago time\n"
    )
    assert "**Then:** The call for applications is open." in shown
    assert "**Now:** Applications are closed" in shown
    assert "| Open the call for applications | planned → call open |" in shown
    assert "Close applications" not in shown.split("## Applications by then")[0]

    later = show_the_history_as_it_stood(year="2026", as_of="2026-10-02 09:00", return_state=True)
    assert "| Close applications | call open → applications closed |" in page(
        later, "cycle-2026-history-as-of"
    )
    now = show_the_history_as_it_stood(return_state=True)
    assert str(now.message).startswith("The history of cycle 2026 as it stands now ")


@pytest.mark.parametrize(
    ("as_of", "sentence"),
    [
        (
            "last Tuesday",
            "The As of box holds 'last Tuesday': write a date, or a date and a time, in "
            "Chicago time, such as 2026-10-01 (the start of that day) or 2026-10-01 09:00; "
            "leave it empty for now.",
        ),
        (
            "2099-01-01",
            "The As of box holds Thu Jan 1, 2099, 12:00 AM Chicago time, which has not come "
            "yet: give a moment that has passed, or leave it empty for now.",
        ),
        (
            "2027-03-14 02:30",
            "The As of box: 2027-03-14T02:30 does not exist in America/Chicago (clocks go "
            "forward from 02:00 to 03:00 that day); pick another time.",
        ),
    ],
)
def test_a_moment_that_cannot_be_read_is_one_sentence(
    uow: UnitOfWork, as_of: str, sentence: str
) -> None:
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    state = show_the_history_as_it_stood(year="2026", as_of=as_of, return_state=True)
    assert state.is_failed()
    assert state.message == sentence


# --- prefect.yaml ------------------------------------------------------------------------


FORM_BOXES = {
    "Import the membership roster": ["your_name", "source", "dry_run"],
    "Import applications": ["your_name", "source", "year", "form_tool_mapping", "dry_run"],
    "Import survey answers": ["your_name", "source", "year", "form_tool_mapping", "dry_run"],
    "Show the history as it stood": ["year", "as_of"],
}


@pytest.mark.parametrize("name", list(FORM_BOXES))
def test_each_form_is_deployed_by_its_name_with_its_boxes(name: str) -> None:
    deployments = {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}
    deployment = deployments[name]
    path, attribute = deployment["entrypoint"].split(":")
    form = getattr(import_module(path.removesuffix(".py").replace("/", ".")), attribute)
    assert form.name == name
    assert "committee" in deployment["tags"] and "triggers" not in deployment
    schema = form.parameters
    assert list(schema.properties) == FORM_BOXES[name]
    for box, field in schema.properties.items():
        assert field["description"], box
    if "dry_run" in schema.properties:
        assert schema.properties["dry_run"]["default"] is True
    if "form_tool_mapping" in schema.properties:
        choices = schema.properties["form_tool_mapping"]["enum"]
        assert choices[0] == NO_MAPPING and set(choices) <= set(MAPPINGS)
