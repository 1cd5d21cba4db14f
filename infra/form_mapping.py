"""Reading application CSVs: the canonical layout, or a form tool's export through a mapping.

A mapping is a small TOML file (see ``infra/mappings/``) naming which export column feeds
which canonical field, how answers translate ("Early career (0-5 years)" → ``early``), how
lists and timestamps are written, and constants the form implies (``role = "mentee"``).
Rows come out canonical, so one validator (:func:`domain.applications.parse_application_row`)
judges every source alike and reports lines of the file the committee actually has.
"""

import csv
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


def _check_header(header: list[str], mapping: FormMapping | None, fields: Sequence[str]) -> None:
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise FormMappingError(f"the header repeats column(s) {', '.join(twice)}")
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
        raise FormMappingError(f"{' and '.join(problems)} for {source}")
    if mapping is not None and mapping.fields != set(fields):
        absent = sorted(set(fields) - mapping.fields)
        extra = sorted(mapping.fields - set(fields))
        raise FormMappingError(
            f"mapping {mapping.name} does not fill field(s) {', '.join(absent) or '-'} "
            f"and fills unknown field(s) {', '.join(extra) or '-'}"
        )


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the file line it starts on (quoted fields may span lines)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise FormMappingError(f"cannot open {path}: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        line = 1
        try:
            for record in reader:
                yield line, record
                line = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as error:
            raise FormMappingError(f"{path.name} line {line} cannot be read: {error}") from None


def read_rows(
    path: str | Path,
    mapping: FormMapping | None,
    *,
    fields: Sequence[str] = APPLICATION_FIELDS,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (file line, canonical row) for every non-blank record; line 1 is the header.

    Without a mapping the file must have exactly the canonical columns (in any order).
    """
    records = _records(Path(path))
    first = next(records, None)
    if first is None:
        raise FormMappingError(f"{Path(path).name} is empty; expected a header on line 1")
    header = [cell.strip() for cell in first[1]]
    _check_header(header, mapping, fields)
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header):
            raise FormMappingError(
                f"{Path(path).name} line {line} has {len(record)} cells but the header has "
                f"{len(header)}; quote any value that contains a comma"
            )
        cells = dict(zip(header, record + [""] * (len(header) - len(record)), strict=False))
        yield line, cells if mapping is None else mapping.convert(cells)
