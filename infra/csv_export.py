"""Writing CSV files the committee opens in a spreadsheet, safe from formula injection.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be run as
a formula when a spreadsheet opens the file (OWASP, "CSV Injection"). Such a cell is
written with a leading single quote, which spreadsheets show as text and do not display,
and always inside double quotes; nothing is dropped (a name may really begin with ``-``).
Other cells are quoted only when they must be, as :func:`csv.writer` does, so files
without such cells come out byte for byte as before.
"""

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_MUST_QUOTE = frozenset(',"\r\n')
LINE_END = "\r\n"


def safe_cell(value: object) -> str:
    """The cell's text (``None`` is empty), with ``'`` in front if it could start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _field(value: object) -> str:
    plain = "" if value is None else str(value)
    text = safe_cell(plain)
    if text != plain or not _MUST_QUOTE.isdisjoint(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Iterable[object]) -> str:
    """One CSV record, ending in CRLF as RFC 4180 and :func:`csv.writer` end it."""
    fields = [_field(cell) for cell in cells]
    if fields == [""]:
        return '""' + LINE_END
    return ",".join(fields) + LINE_END


def write_csv(
    target: Path | TextIO, header: Sequence[str], rows: Iterable[Iterable[object]]
) -> int:
    """Write the header and rows (UTF-8 to a path, else to the open text handle, which
    should be opened with ``newline=""``); return how many rows were written."""
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8", newline="") as handle:
            return write_csv(handle, header, rows)
    target.write(csv_line(header))
    count = 0
    for row in rows:
        target.write(csv_line(row))
        count += 1
    return count
