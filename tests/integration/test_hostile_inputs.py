"""Hostile values through the importers and the commands that take free text (issue 10).

Every call, through the real command line or through its use case, keeps SPEC.md's
contract: no traceback; exit 0, 1 or 2; a refusal is one line on stderr starting with
``error:`` (a usage error may be Click's usage text instead), and with ``--json`` stdout is
one JSON document (``{"error": …, "exit": …}`` for a refusal). A refused command or a dry
run leaves every table as it was, and a dry run says what the real import then does. After
the examples, nothing they stored stops a year: a tick long after every milestone fails no
cycle. On SQLite and PostgreSQL.

A command-line call costs about 1.5 s, so the command-line properties draw few examples,
each a file of many hostile rows; their in-process twins draw more.
"""

import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from domain.applications import APPLICATION_FIELDS
from domain.assessment import ASSESSMENT_FIELDS
from domain.cycle_states import CycleEvent, Trigger
from domain.errors import DomainError
from domain.members import ROSTER_FIELDS
from flows.usecases import applications, assessment, cycles, members, program
from flows.usecases.tick import run_tick
from infra import db
from infra.tables import Base
from infra.uow import UnitOfWork
from tests.builders import AUG_2, DATA, paired_cycle
from tests.cli import Run
from tests.hostile import Plan, command_plan, ensure_cycle, hostile_csv

LARGE_AND_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
THROUGH_THE_CLI = settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=LARGE_AND_SLOW,
)
"""No shrinking through the command line: at 1.5 s a call it would outlast the test's
timeout; the in-process twin shrinks what both find, and the assertion says what broke."""
IN_PROCESS = settings(
    THROUGH_THE_CLI, max_examples=25, phases=(*THROUGH_THE_CLI.phases, Phase.shrink)
)
JULY_10 = datetime(2027, 7, 10, 15, tzinfo=UTC)
SHOWN = 1_500
EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception)\b")
LONG_AFTER = datetime(2101, 1, 1, tzinfo=UTC)


def mentoring(args: Sequence[str]) -> Run:
    """``mentoring ARGS`` in a subprocess, as :func:`tests.cli.mentoring`, but reading its
    output as bytes: text that is not UTF-8 fails the test by name."""
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], capture_output=True, timeout=120, check=False
    )
    return Run(proc.returncode, utf8(proc.stdout, "stdout"), utf8(proc.stderr, "stderr"))


def utf8(data: bytes, stream: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AssertionError(
            f"{stream} is not UTF-8: {data[max(0, error.start - 80) : error.end + 20]!r}"
        ) from None


def raised(stderr: str) -> str:
    """The exception a traceback ends with (its parameters may follow it for pages)."""
    named = [line for line in stderr.splitlines() if EXCEPTION_LINE.match(line)]
    return named[-1][:SHOWN] if named else stderr[-SHOWN:]


def check_contract(said: Run, argv: Sequence[str]) -> Any:
    """SPEC's command-line contract for one call; the JSON document when ``--json``."""
    printed = said.stdout + said.stderr
    assert "Traceback" not in printed, raised(said.stderr)
    assert said.code in (0, 1, 2), f"exit {said.code}: {said.stderr[-SHOWN:]}"
    lines = said.stderr.splitlines()
    one_error_line = len(lines) == 1 and lines[0].startswith("error: ")
    if said.code == 1:
        assert one_error_line, f"a refusal is one line starting 'error: ': {said.stderr[:SHOWN]!r}"
    if said.code == 2:
        click_usage = said.stderr.startswith("Usage: ") and "Error" in said.stderr
        assert one_error_line or click_usage, f"usage error: {said.stderr[:SHOWN]!r}"
    if "--json" not in argv:
        return None
    try:
        document = json.loads(said.stdout)
    except json.JSONDecodeError as error:
        raise AssertionError(
            f"--json, exit {said.code}: stdout is not one JSON document ({error}): "
            f"{said.stdout[:SHOWN]!r}; stderr {said.stderr[:SHOWN]!r}"
        ) from None
    if said.code:
        assert isinstance(document, dict) and set(document) == {"error", "exit"}, document
        assert document["exit"] == said.code, document
        assert isinstance(document["error"], str) and document["error"], document
        if said.code == 1:
            assert document["error"] in (lines[0], lines[0].removeprefix("error: ")), document
    return document


Snapshot = dict[str, list[Any]]


def snapshot(url: str) -> Snapshot:
    """Every table's rows as the database holds them, by primary key."""
    with db.engine_for(url).connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in conn.exec_driver_sql(
                    f'SELECT * FROM "{table.name}" ORDER BY '
                    + ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
                )
            ]
            for table in Base.metadata.sorted_tables
        }


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The tables whose rows differ."""
    return [name for name in before if before[name] != after[name]]


@dataclass(frozen=True)
class Refused:
    """A use case's refusal (a domain error), by its message."""

    message: str


def attempt(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or its refusal; any other exception fails the test."""
    try:
        return call()
    except DomainError as refusal:
        message = str(refusal)
        assert len(message.splitlines()) == 1, f"a refusal is one line: {message[:SHOWN]!r}"
        return Refused(message)


def check_rejections(rejected: list[dict[str, Any]]) -> None:
    """Each refused line is named by its number, with a reason on one line."""
    for entry in rejected:
        assert isinstance(entry["line"], int) and entry["line"] >= 2, entry
        reason = entry["reason"]
        assert isinstance(reason, str) and reason, entry
        assert len(reason.splitlines()) == 1, f"line {entry['line']}: {reason[:SHOWN]!r}"


def open_call(uow: UnitOfWork) -> None:
    """Cycle 2026 taking applications, with the sample roster."""
    cycles.create_cycle(uow, 2026, timezone="America/Chicago", milestones={}, actor="chair")
    cycles.fire_event(uow, 2026, CycleEvent.open_call, actor="s", trigger=Trigger.cli, now=AUG_2)
    members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2)


def mentoring_ended(uow: UnitOfWork) -> None:
    """Cycle 2026 with the sample pairs, mentoring ended: the survey window."""
    paired_cycle(uow)
    for event, when in (
        (CycleEvent.start_orientation, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        (CycleEvent.start_mentoring, datetime(2026, 12, 1, 12, tzinfo=UTC)),
        (CycleEvent.end_mentoring, datetime(2027, 7, 1, 12, tzinfo=UTC)),
    ):
        cycles.fire_event(uow, 2026, event, actor="s", trigger=Trigger.cli, now=when)


@dataclass(frozen=True)
class Importer:
    """One importer: its command, its file's layout, the state it needs, and the result
    fields a dry run and the real import must agree on."""

    name: str
    command: tuple[str, ...]
    header: tuple[str, ...]
    sample: str
    agreed: tuple[str, ...]
    prepare: Callable[[UnitOfWork], object]
    run: Callable[[UnitOfWork, Path, bool], dict[str, Any]]


IMPORTERS = (
    Importer(
        "roster",
        ("members", "import"),
        ROSTER_FIELDS,
        "roster.csv",
        ("added", "updated", "unchanged", "rejected"),
        lambda uow: members.import_roster(uow, DATA / "roster.csv", actor="chair", now=AUG_2),
        lambda uow, path, dry: members.import_roster(
            uow, path, actor="chair", dry_run=dry, now=AUG_2
        ).as_dict(),
    ),
    Importer(
        "applications",
        ("applications", "import", "2026"),
        APPLICATION_FIELDS,
        "applications.csv",
        ("imported", "rejected", "warnings"),
        open_call,
        lambda uow, path, dry: applications.import_applications(
            uow, 2026, path, actor="chair", dry_run=dry, now=AUG_2
        ).as_dict(),
    ),
    Importer(
        "survey",
        ("assessment", "import", "2026"),
        ASSESSMENT_FIELDS,
        "assessment.csv",
        ("imported", "rejected"),
        mentoring_ended,
        lambda uow, path, dry: assessment.import_responses(
            uow, 2026, path, actor="chair", dry_run=dry, now=JULY_10
        ).as_dict(),
    ),
)


@pytest.fixture(params=IMPORTERS, ids=[i.name for i in IMPORTERS])
def importer(request: pytest.FixtureRequest, uow: UnitOfWork) -> Importer:
    """An importer, with its database in the state it imports in."""
    chosen: Importer = request.param
    chosen.prepare(uow)
    return chosen


def draw_file(data: st.DataObject, importer: Importer, folder: Path) -> Path:
    path = folder / "hostile.csv"
    file = data.draw(hostile_csv(importer.header, DATA / importer.sample), label="file")
    path.write_bytes(file.content)
    return path


def check_the_roster_grew_by_what_was_added(
    importer: Importer, before: Snapshot, after: Snapshot, result: dict[str, Any]
) -> None:
    if importer.name == "roster":
        assert len(after["members"]) - len(before["members"]) == result["added"]


def keyed(test: Callable[[], None], request: pytest.FixtureRequest) -> Callable[[], None]:
    """A nested property, told its parametrisation as Hypothesis's pytest plugin tells a
    top-level one, so that each keeps its own failing examples to replay."""
    test.hypothesis.inner_test._hypothesis_internal_add_digest = request.node.nodeid.encode()  # type: ignore[attr-defined]
    return test


def check_every_cycle_still_moves(uow: UnitOfWork) -> None:
    """Nothing the examples stored stops a year: a tick long after every milestone moves
    each cycle as far as its guards allow, none fails, and each can still be shown."""
    ensure_cycle(uow, 2027)  # so that a call for applications goes to the roster
    report = run_tick(uow, now=LONG_AFTER)
    assert report.failed == (), [f.message for f in report.failed]
    for cycle in cycles.list_all(uow):
        program.details(uow, cycle.year)


def try_file_on_the_command_line(
    importer: Importer, url: str, folder: Path, data: st.DataObject
) -> None:
    path = draw_file(data, importer, folder)
    dry_json = data.draw(st.booleans(), label="dry run with --json")
    before = snapshot(url)
    dry_args = [*importer.command, str(path), "--dry-run", *(["--json"] * dry_json)]
    dry = mentoring(dry_args)
    dry_result = check_contract(dry, dry_args)
    assert changed(before, snapshot(url)) == [], "the dry run wrote"
    real_args = [*importer.command, str(path), "--json"]
    real = mentoring(real_args)
    result = check_contract(real, real_args)
    after = snapshot(url)
    assert real.code == dry.code, (dry.stderr[:SHOWN], real.stderr[:SHOWN])
    if real.code:
        assert changed(before, after) == [], "a refused import wrote"
        assert real.stderr == dry.stderr
        return
    check_rejections(result["rejected"])
    check_the_roster_grew_by_what_was_added(importer, before, after, result)
    if dry_json:
        assert {k: dry_result[k] for k in importer.agreed} == {
            k: result[k] for k in importer.agreed
        }
    else:
        check_the_human_dry_run_said(dry.stdout, result["rejected"])


def check_the_human_dry_run_said(printed: str, rejected: list[dict[str, Any]]) -> None:
    """The dry run's human output names the refused lines the import refused, the first
    few word for word, then how many more."""
    words = "".join(printed.split())  # a terminal's width may wrap a long reason anywhere
    named = [e for e in rejected if "".join(f"line {e['line']}: {e['reason']}".split()) in words]
    assert named == rejected[: len(named)], printed[:SHOWN]
    hidden = len(rejected) - len(named)
    assert not hidden or f"and{hidden:,}more" in words, printed[:SHOWN]
    count = re.search(r"rejected (\d+)", printed)
    assert count and int(count[1]) == len(rejected), printed[:SHOWN]


def try_file_in_process(importer: Importer, uow: UnitOfWork, url: str, path: Path) -> None:
    before = snapshot(url)
    dry = attempt(lambda: importer.run(uow, path, True))
    assert changed(before, snapshot(url)) == [], "the dry run wrote"
    real = attempt(lambda: importer.run(uow, path, False))
    after = snapshot(url)
    if isinstance(dry, Refused) or isinstance(real, Refused):
        assert real == dry
        assert changed(before, after) == [], "a refused import wrote"
        return
    check_rejections(real["rejected"])
    check_the_roster_grew_by_what_was_added(importer, before, after, real)
    assert {k: dry[k] for k in importer.agreed} == {k: real[k] for k in importer.agreed}


def test_hostile_files_on_the_command_line_are_refused_as_their_dry_run_said(
    importer: Importer,
    uow: UnitOfWork,
    database_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    @THROUGH_THE_CLI
    @given(data=st.data())
    def each_file(data: st.DataObject) -> None:
        try_file_on_the_command_line(importer, database_url, tmp_path, data)

    keyed(each_file, request)()
    check_every_cycle_still_moves(uow)


def test_hostile_files_meet_their_use_case_as_refusals_only_as_the_dry_run_said(
    importer: Importer,
    uow: UnitOfWork,
    database_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    @IN_PROCESS
    @given(data=st.data())
    def each_file(data: st.DataObject) -> None:
        try_file_in_process(importer, uow, database_url, draw_file(data, importer, tmp_path))

    keyed(each_file, request)()
    check_every_cycle_still_moves(uow)


@pytest.fixture
def busy_year(uow: UnitOfWork) -> UnitOfWork:
    """Cycle 2026 paired (applications, pairs, tasks 1-3), cycle 2027 planned."""
    paired_cycle(uow)
    ensure_cycle(uow, 2027)
    return uow


def try_command_line(uow: UnitOfWork, url: str, plan: Plan) -> None:
    plan.prepare(uow)
    argv = plan.argv()
    before = snapshot(url)
    said = mentoring(argv)
    check_contract(said, argv)
    if said.code:
        assert changed(before, snapshot(url)) == [], "a refused command wrote"


def chair(command: str, year: int, **options: str) -> Plan:
    """A plan the issue names, by the chair: it must be refused, or the year must go on."""
    return Plan(command, year, "", (("actor", "chair"), *options.items()), False, False)


def try_use_case(uow: UnitOfWork, url: str, plan: Plan) -> None:
    plan.prepare(uow)
    before = snapshot(url)
    if isinstance(attempt(lambda: plan.call(uow)), Refused):
        assert changed(before, snapshot(url)) == [], "a refused use case wrote"


def test_commands_given_hostile_free_text_refuse_it_in_one_line_or_the_year_still_moves(
    busy_year: UnitOfWork, database_url: str, request: pytest.FixtureRequest
) -> None:
    @settings(THROUGH_THE_CLI, max_examples=6)
    @given(plan=command_plan(cli=True))
    def each_command(plan: Plan) -> None:
        try_command_line(busy_year, database_url, plan)

    keyed(each_command, request)()
    check_every_cycle_still_moves(busy_year)


def test_use_cases_given_hostile_free_text_refuse_it_or_the_year_still_moves(
    busy_year: UnitOfWork, database_url: str, request: pytest.FixtureRequest
) -> None:
    @settings(IN_PROCESS, max_examples=40)
    @given(plan=command_plan(cli=False))
    @example(plan=chair("create", 1, timezone="America"))
    @example(plan=chair("create", 2031, timezone="UTC", open_call="0001-01-01T00:00+01:00"))
    @example(plan=chair("program", 2026, committee_email="committee at example dot org"))
    @example(plan=chair("program", 2026, orientation_at="2026-11-20T13:00-06:00"))
    def each_command(plan: Plan) -> None:
        try_use_case(busy_year, database_url, plan)

    keyed(each_command, request)()
    check_every_cycle_still_moves(busy_year)
