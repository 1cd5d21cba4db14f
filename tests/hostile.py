"""Hypothesis strategies for hostile input: what a careless export or a hostile user hands
the program (control characters, NUL, very long text, formula prefixes, odd zones, years,
dates and numbers, broken CSV files), and the commands that take free text as plans that
run on the command line or through their use case.

Values come mostly from hand-picked lists, so that a few examples reach every kind, mixed
with generated text for what nobody thought of.
"""

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from domain.cycle_states import CycleEvent, Trigger
from flows.usecases import cycles, followups, program, withdrawing
from infra.uow import UnitOfWork

# Each list is grown in short steps so that it stays readable one line at a time.
CONTROLS = (*"\x00\r\n\u2028\u2029\x85\x7f\x0b\x0c\x08\t\u202e\ufeff", "\r\n", "\x1b[31m")
FORMULAS: tuple[str, ...] = ("=1+1", "+1", "-1", "@SUM(A1:A9)")
FORMULAS += ('=HYPERLINK("https://evil.example")', "=cmd|' /C calc'!A0", "\t=1", "\r=1", "-Dupont")
MARKUP: tuple[str, ...] = ("[bold]x[/bold]", "[/]", "[/red]", "[link=https://evil.example]x")
MARKUP += (":warning:", "{0}", "%s%n", "$(id)", "<script>x</script>", "' OR 1=1 --", "\\", '"')
LONG: tuple[str, ...] = ("x" * 10_000, "é" * 10_000, "=" + "A" * 9_999, "a" * 65, "a" * 201)
LONG += ("a" * 301, "a" * 321, "a" * 2_001, "a" * 4_001)
ODD_ZONES: tuple[str, ...] = ("America", "Mars/Base", "../etc/passwd", "/etc/localtime")
ODD_ZONES += ("America/", "America/Chicago/..", "Factory", "localtime", "posixrules", "zone.tab")
ODD_ZONES += ("tzdata.zi", "utc", " UTC ", "Etc/GMT+99", "US/Pacific-New", "+05:00")
ODD_ZONES += ("America/Chicago\x00",)
ODD_YEARS: tuple[str, ...] = ("0", "1", "-1", "99999", "1999", "2101", "2147483648")
ODD_YEARS += ("9223372036854775808", "99999999999999999999", "2026.0", "1e3", "٢٠٢٦", " 2026")
ODD_YEARS += ("0x7ea",)
ODD_DATES: tuple[str, ...] = ("2026-02-30", "2026-13-01", "0000-01-01", "0001-01-01", "9999-12-31")
ODD_DATES += ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00+01:00", "10000-01-01")
ODD_DATES += ("2026-03-08T02:30", "2026-11-01T01:30", "2026-08-01T24:00", "2026-08-01T12:00+25:00")
ODD_DATES += ("2026-08-01T12:00:00Z", "2026-08-01 12:00:00.123456789", "２０２６-０８-０１")
ODD_DATES += ("2026-W31-1", "20260801", "-2026-08-01", "1e9", "", "2026-11-20T13:00-06:00")
ODD_NUMBERS: tuple[str, ...] = ("0", "-1", "6", "3.5", "1e3", "NaN", "inf", "99999999999999999999")
ODD_NUMBERS += ("١", "٣", " 3 ", "+3", "0x3", "3_0")
ODD_EMAILS: tuple[str, ...] = ("x", "@", "a@b", "a@b..org", "a b@example.org", '"a,b"@example.org')
ODD_EMAILS += ("a@example.org\nBcc: victim@example.org", "Name <a@example.org>", "a@exämple.org")
ODD_EMAILS += ("ä@example.org", "a@example.org,b@example.org", "a@" + "x" * 300 + ".org")
ODD_LINKS: tuple[str, ...] = ("javascript:alert(1)", "ftp://example.org", "https://")
ODD_LINKS += ("https://exa mple.org", "http://[::1", "https://example.org:99999", "//example.org")
ODD_LINKS += ("file:///etc/passwd", "https://example.org/\r\nX-Injected: yes")
ODD_LINKS += ("data:text/html,<script>x</script>", "https://" + "x" * 2_100 + ".org")
NOT_UTF8_ARGUMENTS = ("\udcff", "caf\udce9", "\udc80\udc80")
"""Arguments holding bytes that are not UTF-8 (Python passes them as surrogate escapes)."""

LITERALS: tuple[str, ...] = (
    CONTROLS + FORMULAS + MARKUP + LONG + ODD_ZONES + ODD_DATES + ODD_EMAILS + ODD_LINKS
)


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """One hostile string: a picked value, generated text, or a picked value wrapped in
    generated text."""
    picked = st.sampled_from(LITERALS)
    generated = st.text(max_size=30)
    kind = draw(st.sampled_from(("picked", "generated", "wrapped")))
    if kind == "picked":
        return draw(picked)
    if kind == "generated":
        return draw(generated)
    return draw(generated) + draw(picked) + draw(generated)


def argument_text() -> st.SearchStrategy[str]:
    """A hostile command-line argument: no NUL (no operating system passes one), but bytes
    that are not UTF-8 may come."""
    return st.one_of(
        hostile_text().map(lambda text: text.replace("\x00", "")),
        st.sampled_from(NOT_UTF8_ARGUMENTS),
    )


FIELD_ODDITIES: dict[str, Sequence[str]] = {
    "member_id": ("", " ", "C100001 ", "c100001", "C100001\x00", "../C100001", "a" * 65),
    "email": ODD_EMAILS,
    "membership_expires": ODD_DATES,
    "submitted_at": ODD_DATES,
    "time_zone": ODD_ZONES,
    "max_mentees": ODD_NUMBERS,
    "overall": ODD_NUMBERS,
    "goals_met": ODD_NUMBERS,
    "role": ("MENTOR", "mentor;mentee", " mentor ", "admin", "both", ""),
    "areas": ("Technology;;", ";", "Technology;Technology", "technology", "Astrology", ""),
    "career_stage": ("Early", "retired", ""),
    "library_type": ("Academic", "zoo", ""),
    "would_recommend": ("YES", "y", "maybe", "1", ""),
    "will_continue": ("NO", "n", "true", ""),
}


def hostile_cell(field: str) -> st.SearchStrategy[str]:
    """A hostile value for one CSV column: one of its odd values, or any hostile text."""
    odd = FIELD_ODDITIES.get(field, ())
    return st.one_of(st.sampled_from(odd), hostile_text()) if odd else hostile_text()


BREAKAGES = (
    "byte order mark",
    "blank lines",
    "old Mac line ends",
    "too many cells",
    "unterminated quote",
    "NUL byte",
    "not UTF-8",
    "UTF-16",
    "cut short",
    "header only",
    "empty",
    "repeated column",
)
"""What may be done to a file as a whole (half the files are left whole, so that their
cells, not their shape, are what the importer judges)."""


@dataclass(frozen=True)
class HostileCsv:
    """A CSV file's bytes, and what was done to the file as a whole."""

    content: bytes
    breakage: str
    records: int


@st.composite
def hostile_csv(draw: st.DrawFn, header: Sequence[str], sample: Path) -> HostileCsv:
    """Valid rows (from the ``sample`` file) with hostile values in some cells, written as
    a CSV writer would (so line breaks sit inside quoted cells), then perhaps broken as a
    whole."""
    with sample.open(newline="", encoding="utf-8") as valid:
        base_rows = list(csv.reader(valid))[1:]
    rows = draw(st.lists(_hostile_row(header, base_rows), min_size=1, max_size=16))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL))),
        lineterminator=newline,
    )
    writer.writerow(header)
    writer.writerows(rows)
    breakage = draw(st.one_of(st.just("none"), st.sampled_from(BREAKAGES)))
    content = _broken(buffer.getvalue(), list(header), breakage, newline, draw)
    return HostileCsv(content, breakage, len(rows))


@st.composite
def _hostile_row(
    draw: st.DrawFn, header: Sequence[str], base_rows: Sequence[Sequence[str]]
) -> list[str]:
    row = list(draw(st.sampled_from(base_rows)))
    for index in draw(st.sets(st.integers(0, len(header) - 1), max_size=4)):
        row[index] = draw(hostile_cell(header[index]))
    return row


def _broken(text: str, header: list[str], breakage: str, newline: str, draw: st.DrawFn) -> bytes:
    """The file's bytes after ``breakage``; a broken line goes after the header and the
    first record's first line, so that valid records follow it."""
    first, _, rest = text.partition(newline)
    second, _, tail = rest.partition(newline)
    head = first + newline + second + newline

    def inserted(line: str) -> bytes:
        return (head + line + newline + tail).encode()

    if breakage == "byte order mark":
        return b"\xef\xbb\xbf" + text.encode()
    if breakage == "blank lines":
        return inserted(newline + "  " + newline + ",,,")
    if breakage == "old Mac line ends":
        return text.replace(newline, "\r").encode()
    if breakage == "too many cells":
        return inserted(",".join(["extra"] * (len(header) + 2)))
    if breakage == "unterminated quote":
        return inserted('"this quote is never closed,' + ",".join(["x"] * (len(header) - 1)))
    if breakage == "NUL byte":
        return inserted("C1\x00,x")
    if breakage == "not UTF-8":
        return (
            (head + "caf").encode()
            + draw(st.sampled_from((b"\xe9", b"\xff", b"\xc3")))
            + (newline + tail).encode()
        )
    if breakage == "UTF-16":
        return text.encode("utf-16")
    if breakage == "cut short":
        data = text.encode()
        return data[: draw(st.integers(len(first), max(len(first), len(data) - 1)))]
    if breakage == "header only":
        return (first + newline).encode()
    if breakage == "empty":
        return b""
    if breakage == "repeated column":
        return (first + "," + header[0] + newline + rest).encode()
    return text.encode()


COMMANDS = ("create", "cancel", "withdraw", "program", "task done", "reschedule")
PAIRED_MEMBERS = ("C100001", "C100002", "C100016", "C100003")
"""Sample members: a mentee, a mentor, a ``both`` participant, and one left unpaired."""
PROGRAM_LINKS = ("apply_url", "checkin_url", "survey_url", "orientation_join_url")
PROGRAM_ADDRESSES = ("committee_email", "call_list_address")
PROGRAM_OPTIONS = (*PROGRAM_LINKS, *PROGRAM_ADDRESSES, "orientation_at", "orientation_minutes")
ODD_MINUTES = (0, -1, 14, 15, 480, 481, 2**31, 10**20)
ODD_INT_YEARS = (0, 1, -1, 99999, 1999, 2101, 2**31, 2**63, 10**20)


@dataclass(frozen=True)
class Plan:
    """A command that takes free text, with hostile values: its cycle year (text as typed
    on the command line, or a number for the use case), the member or task it names, its
    options by name, and how they are written (``--name=value`` when ``glued``)."""

    command: str
    year: str | int
    subject: str | int
    options: tuple[tuple[str, str | int], ...]
    as_json: bool
    glued: bool

    def prepare(self, uow: UnitOfWork) -> None:
        """Make sure the cycle the command acts on exists (not for ``cycle create``, nor
        for the paired cycle a withdrawal or a task names)."""
        if self.command in ("cancel", "program", "reschedule"):
            ensure_cycle(uow, self.year)

    def argv(self) -> list[str]:
        """The command line: ``mentoring`` and these arguments."""
        year, subject = str(self.year), str(self.subject)
        args = {
            "create": ["cycle", "create", year],
            "cancel": ["cycle", "advance", year, "cancel"],
            "withdraw": ["applications", "withdraw", year, subject],
            "program": ["cycle", "program", year],
            "task done": ["tasks", "done", subject],
            "reschedule": ["cycle", "reschedule", year],
        }[self.command]
        for name, value in self.options:
            flag = "--" + name.replace("_", "-")
            args += [f"{flag}={value}"] if self.glued else [flag, str(value)]
        return args + ["--json"] * self.as_json

    def call(self, uow: UnitOfWork) -> object:
        """What the command line does for this plan, through the use case, with the same
        defaults (an empty actor is the user's name where the command line says so)."""
        o: dict[str, Any] = dict(self.options)
        year = int(self.year)
        if self.command == "create":
            dates = {CycleEvent.open_call: o["open_call"]} if "open_call" in o else {}
            return cycles.create_cycle(
                uow, year, timezone=o["timezone"], milestones=dates, actor=o["actor"] or "chair"
            )
        if self.command == "cancel":
            return cycles.fire_event(
                uow,
                year,
                CycleEvent.cancel,
                actor=o["actor"],
                trigger=Trigger.cli,
                reason=o["reason"],
            )
        if self.command == "withdraw":
            return withdrawing.withdraw(
                uow,
                year,
                str(self.subject),
                role=o.get("role"),
                actor=o["actor"],
                reason=o["reason"],
            )
        if self.command == "program":
            values = {k: v for k, v in o.items() if k != "actor"}
            return program.set_details(uow, year, values, actor=o["actor"] or "chair")
        if self.command == "task done":
            return followups.mark_done(uow, int(self.subject), actor=o["actor"])
        moved = {CycleEvent.close_applications: o["close_applications"]}
        return cycles.reschedule(uow, year, moved, actor=o["actor"])


def _argument(value: str) -> str:
    return value.replace("\x00", "")


@st.composite
def command_plan(draw: st.DrawFn, cli: bool) -> Plan:
    """A free-text command with hostile values, for the command line (``cli``: text only,
    no NUL) or for its use case (numbers as numbers)."""
    text = argument_text() if cli else hostile_text()

    def odd(values: Sequence[str]) -> st.SearchStrategy[str]:
        either = st.one_of(st.sampled_from(values), text)
        return either.map(_argument) if cli else either

    def number(valid: Sequence[int], odd_numbers: Sequence[str | int]) -> str | int:
        """A valid number or an odd one, as often; text on the command line."""
        either = st.one_of(st.sampled_from(valid), st.sampled_from(odd_numbers))
        return draw(either.map(str) if cli else either)

    command = draw(st.sampled_from(COMMANDS))
    fresh = draw(st.integers(2030, 2099))
    year: str | int = number([2026, 2027, fresh], ODD_YEARS if cli else ODD_INT_YEARS)
    subject: str | int = ""
    options: dict[str, str | int] = {"actor": draw(text)}
    if command == "create":
        options["timezone"] = draw(st.one_of(st.just("America/Chicago"), odd(ODD_ZONES)))
        if draw(st.booleans()):
            options["open_call"] = draw(odd(ODD_DATES))
    elif command == "cancel":
        year = number([fresh], ODD_YEARS if cli else ODD_INT_YEARS)
        options["reason"] = draw(text)
    elif command == "withdraw":
        year = "2026" if cli else 2026
        subject = draw(st.one_of(st.sampled_from(PAIRED_MEMBERS), text))
        options["reason"] = draw(text)
        if draw(st.booleans()):
            options["role"] = draw(odd(("mentor", "mentee", "both", "MENTOR")))
    elif command == "program":
        for name in draw(st.sets(st.sampled_from(PROGRAM_OPTIONS), min_size=1, max_size=3)):
            options[name] = _program_value(draw, name, odd, cli)
    elif command == "task done":
        subject = number([1, 2, 3], ODD_YEARS if cli else ODD_INT_YEARS)
    else:
        options["close_applications"] = draw(odd(ODD_DATES))
    return Plan(
        command,
        year,
        subject,
        tuple(options.items()),
        as_json=command != "task done" and draw(st.booleans()),
        glued=draw(st.booleans()),
    )


def _program_value(
    draw: st.DrawFn, name: str, odd: Callable[[Sequence[str]], st.SearchStrategy[str]], cli: bool
) -> str | int:
    if name in PROGRAM_LINKS:
        return str(draw(odd(ODD_LINKS)))
    if name in PROGRAM_ADDRESSES:
        return str(draw(odd(ODD_EMAILS)))
    if name == "orientation_at":
        return str(draw(odd(ODD_DATES)))
    if cli:
        return draw(st.sampled_from([*map(str, ODD_MINUTES), *ODD_NUMBERS]))
    return draw(st.sampled_from(ODD_MINUTES))


def ensure_cycle(uow: UnitOfWork, year: str | int) -> None:
    """Cycle ``year`` exists (created ``planned`` if need be), when it is a cycle year."""
    try:
        number = int(year)
    except ValueError:
        return
    if 2000 <= number <= 2100 and number not in {c.year for c in cycles.list_all(uow)}:
        cycles.create_cycle(uow, number, timezone="America/Chicago", milestones={}, actor="chair")
