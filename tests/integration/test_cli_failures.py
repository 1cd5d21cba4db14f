"""The command line's edges (issue 10): whatever goes wrong is one line on stderr with the
contract's exit code (1 refused, 2 usage), one JSON document on stdout with ``--json``, no
traceback, and nothing created or half-written on the way."""

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from flows.cli.app import app
from flows.cli.output_files import CannotWrite, output_file
from infra import db
from infra.uow import UnitOfWork
from tests.builders import paired_cycle
from tests.cli import Run, mentoring, mentoring_here


def refusal_line(run: Run, code: int = 1) -> str:
    """The failure's single stderr line, after checking its exit code and that no
    traceback was printed."""
    assert run.code == code, run
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def usage_failure(run: Run) -> str:
    """Click's usual usage message (as before), exit 2, no traceback; returns its words
    without the frame drawn around them."""
    assert run.code == 2, run
    assert "Traceback" not in run.stderr
    assert "Usage:" in run.stderr
    return " ".join(run.stderr.replace("│", " ").split())


@pytest.fixture
def no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database URL naming a file that does not exist: a command that reads it says so."""
    path = tmp_path / "absent" / "mentoring.db"
    monkeypatch.setenv("MENTORING_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("MENTORING_HOME", str(tmp_path / "home"))
    return path


# --- With --json, a refusal or a usage error is also one JSON document on stdout ----------


def test_with_json_a_refusal_also_prints_its_line_as_one_json_document(
    database_url: str,
) -> None:
    assert mentoring("cycle", "create", "2027").code == 0
    for args in (
        ("cycle", "show", "2040", "--json"),
        ("cycle", "advance", "2027", "start_mentoring", "--actor", "chair", "--json"),
    ):
        run = mentoring(*args)
        line = refusal_line(run)
        assert line.startswith("error: ")
        assert run.json == {"error": line, "exit": 1}


USAGE_ERRORS = {
    "an unknown option": (("cycle", "show", "2026", "--bogus"), "No such option: --bogus"),
    "a missing argument": (("cycle", "show"), "Missing argument"),
    "a bad parameter": (("audit", "2026", "--as-of", "tomorrow"), "is not an ISO datetime"),
    "a bad format": (("audit", "2026", "--format", "pdf"), "choose text, md, html or json"),
    "a value not among the choices": (
        ("cycle", "advance", "2026", "fly_away", "--actor", "x"),
        "'fly_away' is not one of",
    ),
    "a file that does not exist": (("members", "import", "/nonexistent/r.csv"), "does not exist"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_with_json_a_usage_error_also_prints_one_json_document(
    case: str, no_database: Path
) -> None:
    args, words = USAGE_ERRORS[case]
    run = mentoring_here(*args, "--json")
    assert words in usage_failure(run)
    document = run.json
    assert document["exit"] == 2
    assert document["error"].startswith("error: ") and words in document["error"]
    assert "\n" not in document["error"]
    assert not no_database.parent.exists()


def test_help_and_usage_errors_without_json_print_as_before(tmp_path: Path) -> None:
    helped = mentoring("--help")
    assert helped.code == 0 and "Usage:" in helped.stdout
    assert mentoring_here("cycle", "show", "--help").code == 0
    plain = mentoring("cycle", "show", "2026", "--bogus")
    assert "No such option: --bogus" in usage_failure(plain)
    assert plain.stdout == ""
    bare = mentoring_here("cycle")
    assert bare.code == 2 and "Usage:" in bare.stdout + bare.stderr


# --- A database URL the program cannot use --------------------------------------------------

BAD_URLS = {
    "garbage": ("nonsense", "'nonsense' is not one the program can read (not a URL)"),
    "an unknown scheme": ("mysql://x/y", "mysql"),
    "a port out of range": ("postgresql+psycopg://u:secret@127.0.0.1:99999/db", "port 99999"),
    "a port that is no number": ("postgresql+psycopg://u:secret@127.0.0.1:abc/db", "port"),
    "a driver that is not installed": ("postgresql+psycopg2://u:secret@127.0.0.1/db", "psycopg2"),
    "an asynchronous driver": ("postgresql+asyncpg://u:secret@127.0.0.1/db", "asyncpg"),
    "a refused connection": (
        "postgresql+psycopg://u:secret@127.0.0.1:1/db",
        "postgresql+psycopg://u:***@127.0.0.1:1/db",
    ),
}


@pytest.mark.parametrize("case", BAD_URLS)
def test_a_database_url_that_cannot_be_used_is_one_line_without_its_password(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, words = BAD_URLS[case]
    monkeypatch.setenv("MENTORING_DATABASE_URL", url)
    for args in (("cycle", "list", "--json"), ("db", "upgrade", "--json")):
        run = mentoring_here(*args)
        line = refusal_line(run)
        assert words in line
        assert "secret" not in run.stderr + run.stdout
        assert run.json == {"error": line, "exit": 1}


def test_a_garbage_database_url_is_one_line_from_the_console_script() -> None:
    run = mentoring("cycle", "list", env={"MENTORING_DATABASE_URL": "nonsense"})
    assert "is not one the program can read" in refusal_line(run)


# --- --output to a missing folder, a folder, or a device ------------------------------------

OUTPUT_COMMANDS = (("pairings", "export", "2026"), ("assessment", "report", "2026"))


@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_an_output_to_a_missing_folder_or_a_folder_is_refused_before_any_work(
    command: tuple[str, ...], tmp_path: Path, no_database: Path
) -> None:
    missing = mentoring_here(*command, "--output", str(tmp_path / "nowhere" / "x.csv"))
    assert f"the folder {tmp_path / 'nowhere'} does not exist" in refusal_line(missing)
    assert not (tmp_path / "nowhere").exists()
    folder = mentoring_here(*command, "--output", str(tmp_path))
    assert f"cannot write {tmp_path}: it is a folder" in refusal_line(folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.fixture
def paired(uow: UnitOfWork) -> UnitOfWork:
    return paired_cycle(uow)


def test_an_output_the_system_cannot_write_is_one_line(paired: UnitOfWork) -> None:
    for command in OUTPUT_COMMANDS:
        run = mentoring_here(*command, "--output", "/dev/full")
        line = refusal_line(run)
        assert line.startswith("error: cannot write /dev/full") and "No space left" in line


def test_an_output_replaces_the_file_only_once_written_in_full(
    paired: UnitOfWork, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "pairs.csv"
    target.write_text("an earlier export\n")
    run = mentoring_here("pairings", "export", "2026", "--output", str(target))
    assert run.code == 0, run
    assert target.read_text().startswith("mentor_id,") and str(target) in run.stdout
    assert [p.name for p in folder.iterdir()] == ["pairs.csv"]


def test_a_write_that_fails_midway_leaves_the_earlier_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("the earlier report\n")
    with (
        pytest.raises(CannotWrite, match=r"cannot write .*report\.md: No space left"),
        output_file(target) as scratch,
    ):
        scratch.write_text("half a rep")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert target.read_text() == "the earlier report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


# --- A year out of range is a usage error, for every command that takes one -----------------


def _commands_taking_a_year() -> Iterator[tuple[tuple[str, ...], bool]]:
    """Each command with a cycle year among its parameters, and whether it is an option."""

    def walk(group: TyperGroup, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        for name, command in group.commands.items():
            if isinstance(command, TyperGroup):
                yield from walk(command, (*path, name))
            else:
                yield (*path, name), command

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    for path, command in walk(root, ()):
        for param in command.params:
            if param.name in ("year", "year_or_verify"):
                yield path, param.param_type_name == "option"


YEAR_COMMANDS = list(_commands_taking_a_year())


def test_the_sweep_finds_the_commands_that_take_a_year() -> None:
    found = {" ".join(path) for path, _ in YEAR_COMMANDS}
    assert {"cycle create", "cycle show", "audit", "tasks list", "notifications list"} <= found
    assert len(found) >= 20


@pytest.mark.parametrize("year", ["0", "1", "99999", "-5"])
@pytest.mark.parametrize(
    ("path", "option"), YEAR_COMMANDS, ids=[" ".join(p) for p, _ in YEAR_COMMANDS]
)
def test_a_year_out_of_range_is_a_usage_error(
    path: tuple[str, ...], option: bool, year: str, no_database: Path
) -> None:
    given = ("--year", year) if option else ("--", year)
    said = usage_failure(mentoring_here(*path, *given))
    assert f"year {year} is out of range; a cycle year runs from 2000 to 2100" in said
    assert not no_database.parent.exists()


def test_a_year_out_of_range_with_json_is_one_json_document(no_database: Path) -> None:
    run = mentoring_here("cycle", "show", "99999", "--json")
    said = usage_failure(run)
    error = run.json["error"]
    assert error.startswith("error: ") and error.removeprefix("error: ") in said
    assert "year 99999 is out of range; a cycle year runs from 2000 to 2100" in error
    assert run.json["exit"] == 2


# --- A typo'd SQLite path is not created by a command that only reads ---------------------

READERS = (
    ("cycle", "list"),
    ("cycle", "show", "2026"),
    ("audit", "2026"),
    ("audit", "verify"),
    ("audit", "anchor"),
    ("tasks", "list", "2026"),
    ("notifications", "list"),
    ("tick",),
)


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_typod_sqlite_path_is_not_created_by_a_command_that_reads(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    typo = tmp_path / "typo" / "mentorig.db"
    run = mentoring_here(*args, env={"MENTORING_DATABASE_URL": f"sqlite:///{typo}"})
    line = refusal_line(run)
    assert f"there is no database at {typo}" in line
    assert "create it with `mentoring db upgrade`" in line
    assert not (tmp_path / "typo").exists()


def test_an_empty_home_gets_a_database_from_db_upgrade_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MENTORING_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    env = {"MENTORING_HOME": str(home)}
    listed = mentoring("cycle", "list", "--json", env=env)
    line = refusal_line(listed)
    assert f"there is no database at {home / 'mentoring.db'}" in line
    assert listed.json == {"error": line, "exit": 1}
    assert list(home.iterdir()) == []
    assert mentoring("db", "upgrade", env=env).code == 0
    assert (home / "mentoring.db").is_file()
    assert mentoring("cycle", "list", "--json", env=env).json == {"cycles": []}


def test_db_upgrade_creates_the_folder_of_a_new_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "mentoring.db"
    url = f"sqlite:///{path}"
    with pytest.raises(db.DatabaseMissing):
        db.session_factory(url)
    assert db.current_revision(url) is None and not path.parent.exists()
    db.upgrade(url)
    assert db.current_revision(url) is not None
    db.engine_for(url).dispose()


def test_a_refusal_on_stderr_is_the_same_text_as_its_json(tmp_path: Path) -> None:
    """Text that looks like an emoji code (``:warning:``) is printed as typed, so stderr and
    the JSON document say the same thing."""
    env = {"MENTORING_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    assert mentoring("db", "upgrade", env=env).code == 0
    said = mentoring("cycle", "create", "2026", "--timezone", ":warning:Mars", "--json", env=env)
    assert said.code == 1
    assert ":warning:" in said.stderr and "⚠" not in said.stderr
    assert said.json["error"] == said.stderr.strip()
