"""Reading application CSVs: the canonical layout, or a form tool's export through a mapping.

A mapping is a small TOML file (see ``infra/mappings/``) naming which export column feeds
which canonical field, how answers translate ("Early career (0-5 years)" → ``early``), how
lists and timestamps are written, and constants the form implies (``role = "mentee"``).
Rows come out canonical, so one validator (:func:`domain.applications.parse_application_row`)
judges every source alike and reports lines of the file the committee actually has.
:func:`read_records` also names each line that is not readable CSV, so an import can refuse
it like any other record and still check the rest.
"""

import csv
import io
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from domain.applications import APPLICATION_FIELDS
from domain.errors import DomainError

SHIPPED_MAPPINGS = Path(__file__).parent / "mappings"
_SECTIONS = frozenset(
    {"description", "ignored_columns", "columns", "constants", "timestamps", "lists", "values"}
)


class FormMappingError(DomainError):
    """A mapping file or a CSV header that cannot be read; the message names what and where."""


@dataclass(frozen=True)
class ListSplit:
    """How a form writes a multiple-choice answer, and how the canonical field joins it."""

    separator: str
    join: str


@dataclass(frozen=True)
class FormMapping:
    """Export column → canonical field, with the value translations the form needs."""

    name: str
    columns: Mapping[str, str]
    ignored: frozenset[str] = frozenset()
    constants: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    lists: Mapping[str, ListSplit] = field(default_factory=dict)
    timestamps: Mapping[str, str] = field(default_factory=dict)
    description: str = ""

    @property
    def fields(self) -> frozenset[str]:
        """The canonical fields this mapping fills."""
        return frozenset(self.columns.values()) | frozenset(self.constants)

    def translate(self, field_name: str, raw: str) -> str:
        """One answer in canonical form; unknown answers pass through for validation to judge."""
        text = raw.strip()
        if field_name in self.timestamps:
            try:
                return datetime.strptime(text, self.timestamps[field_name]).isoformat()
            except ValueError:
                return text
        if field_name in self.lists:
            split = self.lists[field_name]
            items = [item.strip() for item in text.split(split.separator) if item.strip()]
            return split.join.join(self._value(field_name, item) for item in items)
        return self._value(field_name, text)

    def _value(self, field_name: str, text: str) -> str:
        table = self.values.get(field_name, {})
        if text in table:
            return table[text]
        folded = {answer.casefold(): value for answer, value in table.items()}
        return folded.get(text.casefold(), text)

    def convert(self, record: Mapping[str, str]) -> dict[str, str]:
        """A canonical row from one export record keyed by header."""
        row = {
            target: self.translate(target, record[header])
            for header, target in self.columns.items()
        }
        row.update(self.constants)
        return row


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise FormMappingError(f"{where} must be a table of text keys and text values")
    return dict(value)


def _lists(value: Any, where: str) -> dict[str, ListSplit]:
    tables = value if isinstance(value, dict) else None
    if tables is None:
        raise FormMappingError(f"{where} must be a table of [lists.<field>] tables")
    result = {}
    for name, table in tables.items():
        entries = _strings(table, f"{where}.{name}")
        if set(entries) != {"separator", "join"}:
            raise FormMappingError(f"{where}.{name} needs exactly the keys separator and join")
        result[name] = ListSplit(entries["separator"], entries["join"])
    return result


def _check_targets(mapping: FormMapping) -> None:
    targets = list(mapping.columns.values()) + list(mapping.constants)
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise FormMappingError(f"mapping {mapping.name} fills {', '.join(twice)} more than once")
    for section in ("values", "lists", "timestamps"):
        stray = sorted(set(getattr(mapping, section)) - mapping.fields)
        if stray:
            raise FormMappingError(
                f"mapping {mapping.name}: [{section}] names {', '.join(stray)}, "
                "which no column or constant fills"
            )


def parse_mapping(data: Mapping[str, Any], name: str) -> FormMapping:
    """Build and check a mapping from decoded TOML."""
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise FormMappingError(
            f"mapping {name} has unknown section(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_SECTIONS))}"
        )
    ignored = data.get("ignored_columns", [])
    if not isinstance(ignored, list) or not all(isinstance(c, str) for c in ignored):
        raise FormMappingError(f"mapping {name}: ignored_columns must be a list of headers")
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise FormMappingError(f"mapping {name}: [values] must hold [values.<field>] tables")
    mapping = FormMapping(
        name=name,
        columns=_strings(data.get("columns"), f"mapping {name}: [columns]"),
        ignored=frozenset(ignored),
        constants=_strings(data.get("constants", {}), f"mapping {name}: [constants]"),
        values={k: _strings(v, f"mapping {name}: [values.{k}]") for k, v in values.items()},
        lists=_lists(data.get("lists", {}), f"mapping {name}: [lists]"),
        timestamps=_strings(data.get("timestamps", {}), f"mapping {name}: [timestamps]"),
        description=str(data.get("description", "")),
    )
    _check_targets(mapping)
    return mapping


def shipped_mappings() -> list[str]:
    """Names accepted by :func:`load_mapping` without a path."""
    return sorted(path.stem for path in SHIPPED_MAPPINGS.glob("*.toml"))


def load_mapping(path_or_name: str | Path) -> FormMapping:
    """A shipped mapping by name (``google_forms_mentor``) or a TOML file by path."""
    text = str(path_or_name)
    is_path = isinstance(path_or_name, Path) or text.endswith(".toml") or "/" in text
    path = Path(path_or_name) if is_path else SHIPPED_MAPPINGS / f"{text}.toml"
    if not path.is_file():
        raise FormMappingError(
            f"no mapping {text!r}: give a TOML file or one of {', '.join(shipped_mappings())}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise FormMappingError(f"mapping file {path} is not valid TOML: {error}") from None
    return parse_mapping(data, path.stem)


def _check_header(
    header: list[str], mapping: FormMapping | None, fields: Sequence[str], name: str
) -> None:
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise FormMappingError(f"{name}: the header repeats column(s) {', '.join(twice)}")
    known = set(fields) if mapping is None else set(mapping.columns) | mapping.ignored
    source = "the canonical layout" if mapping is None else f"mapping {mapping.name}"
    unknown = [h for h in header if h not in known]
    missing = [h for h in (fields if mapping is None else mapping.columns) if h not in header]
    problems = []
    if unknown:
        problems.append(f"unknown column(s) {', '.join(repr(h) for h in unknown)}")
    if missing:
        problems.append(f"missing column(s) {', '.join(repr(h) for h in missing)}")
    if problems:
        raise FormMappingError(f"{name}: {' and '.join(problems)} for {source}")
    if mapping is not None and mapping.fields != set(fields):
        absent = sorted(set(fields) - mapping.fields)
        extra = sorted(mapping.fields - set(fields))
        raise FormMappingError(
            f"mapping {mapping.name} does not fill field(s) {', '.join(absent) or '-'} "
            f"and fills unknown field(s) {', '.join(extra) or '-'}"
        )


@dataclass(frozen=True)
class CsvProblem:
    """A line refused before its cells are judged; reported like any refused record."""

    line: int
    reason: str

    def as_rejection(self) -> dict[str, object]:
        """The entry an import's ``rejected`` list holds for it."""
        return {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class CsvRead:
    """A CSV's canonical rows and its refused lines, each by file line, in file order."""

    rows: tuple[tuple[int, dict[str, str]], ...]
    problems: tuple[CsvProblem, ...]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SAVE_AS = "save it as CSV UTF-8 and import again"


def _line_at(text: str) -> int:
    """The line on which the end of ``text`` lies, counted as the CSV reader counts."""
    return len(_LINE_BREAK.findall(text)) + 1


def _text(path: Path) -> str:
    """The file's text; a file that is not UTF-8 (a BOM is fine) is refused whole."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise FormMappingError(f"cannot open {path}: {error.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FormMappingError(f"{path.name} is UTF-16 text, not UTF-8; {_SAVE_AS}")
    if data.startswith(b"PK\x03\x04"):
        raise FormMappingError(f"{path.name} is a workbook or archive, not a CSV; {_SAVE_AS}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = _line_at(data[: error.start].decode("utf-8"))
        raise FormMappingError(
            f"{path.name} is not UTF-8: line {line} holds the byte 0x{data[error.start]:02x}; "
            f"{_SAVE_AS}"
        ) from None
    if "\x00" in text:
        line = _line_at(text[: text.index("\x00")])
        raise FormMappingError(f"{path.name} line {line} holds a NUL byte, so it is not CSV text")
    return text


def _span(first: int, last: int) -> str:
    return f"line {first} is" if first == last else f"lines {first}–{last} are"


class _Feed:
    """The file's lines for :func:`csv.reader`, noting whether it asked past the last one:
    it does so within a record only while a quoted value is still open."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = iter(lines)
        self.ran_out = False

    def __iter__(self) -> "_Feed":
        return self

    def __next__(self) -> str:
        try:
            return next(self._lines)
        except StopIteration:
            self.ran_out = True
            raise


def _records(text: str) -> Iterator[tuple[int, list[str]] | CsvProblem]:
    """Each CSV record with the file line it starts on (quoted values may span lines).

    A quote never closed, or a value the reader cannot take, ends the file: the lines it
    swallowed are named as one problem instead of vanishing into one value.
    """
    if text and not text.endswith(("\n", "\r")):
        text += "\n"  # so an open value holds one line break for each line it swallowed
    lines = io.StringIO(text, newline="").readlines()
    last = len(lines)
    feed = _Feed(lines)
    reader = csv.reader(feed)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield CsvProblem(
                start,
                f"cannot be read as CSV ({error}, as when a quote is never closed); "
                f"{_span(start, last)} refused",
            )
            return
        if feed.ran_out:
            opened = last - len(_LINE_BREAK.findall(record[-1])) + 1
            swallowed = "one value" if start == opened else "one record"
            yield CsvProblem(
                opened,
                "a quote opened here is never closed; "
                + (
                    "the line is refused"
                    if start == last
                    else f"lines {start}–{last} were read as {swallowed} and are refused"
                ),
            )
            return
        yield start, record
        start = reader.line_num + 1


def read_records(
    path: str | Path,
    mapping: FormMapping | None,
    *,
    fields: Sequence[str] = APPLICATION_FIELDS,
) -> CsvRead:
    """Every non-blank record as (file line, canonical row), and every line refused as CSV.

    Line 1 is the header. Without a mapping the file must have exactly the canonical
    columns (in any order). What concerns the whole file (unreadable, not UTF-8, empty, a
    header that does not fit) raises :class:`FormMappingError` naming the file.
    """
    path = Path(path)
    records = _records(_text(path))
    first = next(records, None)
    if first is None:
        raise FormMappingError(f"{path.name} is empty; expected a header on line 1")
    if isinstance(first, CsvProblem):
        raise FormMappingError(
            f"{path.name}: the header cannot be read (line {first.line}: {first.reason})"
        )
    header = [cell.strip() for cell in first[1]]
    _check_header(header, mapping, fields, path.name)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[CsvProblem] = []
    for item in records:
        if isinstance(item, CsvProblem):
            problems.append(item)
            continue
        line, record = item
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            problems.append(
                CsvProblem(
                    line,
                    f"has {len(record)} cells but the header has {len(header)}; "
                    "quote any value that contains a comma",
                )
            )
            continue
        cells = dict(zip(header, record + [""] * (len(header) - len(record)), strict=False))
        rows.append((line, cells if mapping is None else mapping.convert(cells)))
    return CsvRead(tuple(rows), tuple(problems))


def read_rows(
    path: str | Path,
    mapping: FormMapping | None,
    *,
    fields: Sequence[str] = APPLICATION_FIELDS,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (file line, canonical row) as :func:`read_records` reads them, but refuse the
    whole file at its first refused line (for callers not yet reporting lines one by one).
    """
    read = read_records(path, mapping, fields=fields)
    if read.problems:
        first = read.problems[0]
        raise FormMappingError(f"{Path(path).name} line {first.line}: {first.reason}")
    yield from read.rows
