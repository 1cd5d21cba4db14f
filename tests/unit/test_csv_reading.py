"""Reading a CSV says what it could not read, line by line, and swallows nothing."""

import csv
import io
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.applications import APPLICATION_FIELDS
from infra.form_mapping import (
    CsvProblem,
    FormMappingError,
    load_mapping,
    read_records,
    read_rows,
)
from tests.builders import DATA

HEADER = ",".join(APPLICATION_FIELDS)
ROW = (
    "2026-08-04T08:45,C100265,sam@example.org,mentee,Leadership & Management,mid,"
    "Riverside,academic,America/Denver,{goals},"
)


def write(tmp_path: Path, data: str | bytes, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def rows_of(goals: list[str]) -> list[str]:
    """The header, then one row per goals value: row n is on line n + 1."""
    return [HEADER, *(ROW.format(goals=g) for g in goals)]


def test_a_row_with_too_many_cells_is_refused_on_its_own_line(tmp_path: Path) -> None:
    lines = rows_of(["ok", "planning, renovation", "fine", "one, two, three"])
    read = read_records(write(tmp_path, "\n".join(lines) + "\n"), None)

    assert [line for line, _ in read.rows] == [2, 4]
    assert [row["goals"] for _, row in read.rows] == ["ok", "fine"]
    assert read.problems == (
        CsvProblem(3, "has 12 cells but the header has 11; quote any value that contains a comma"),
        CsvProblem(5, "has 13 cells but the header has 11; quote any value that contains a comma"),
    )


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_an_unclosed_quote_names_its_line_and_every_line_it_swallowed(
    tmp_path: Path, ending: str
) -> None:
    goals = [f"goal {n}" for n in range(2, 7)] + ['"never closed']
    goals += [f"goal {n}" for n in range(8, 41)]
    newline = ending or "\n"
    read = read_records(write(tmp_path, newline.join(rows_of(goals)) + ending), None)

    assert [line for line, _ in read.rows] == [2, 3, 4, 5, 6]
    assert read.problems == (
        CsvProblem(
            7,
            "a quote opened here is never closed; lines 7–40 were read as one value "
            "and are refused",
        ),
    )


def test_an_unclosed_quote_after_a_closed_multi_line_value_names_where_it_opened(
    tmp_path: Path,
) -> None:
    record = ROW.format(goals='"first\nsecond"').removesuffix(",") + ',"3'
    text = "\n".join([HEADER, ROW.format(goals="before"), record, "lost", "lost too"]) + "\n"
    read = read_records(write(tmp_path, text), None)

    assert [line for line, _ in read.rows] == [2]
    assert read.problems == (
        CsvProblem(
            4,
            "a quote opened here is never closed; lines 3–6 were read as one record "
            "and are refused",
        ),
    )


def test_an_unclosed_quote_on_the_last_line_refuses_that_line(tmp_path: Path) -> None:
    text = "\n".join(rows_of(["fine", '"open'])) + "\n"
    read = read_records(write(tmp_path, text), None)

    assert [line for line, _ in read.rows] == [2]
    assert read.problems == (
        CsvProblem(3, "a quote opened here is never closed; the line is refused"),
    )


def test_a_swallowed_tail_too_long_for_one_value_is_still_named(tmp_path: Path) -> None:
    goals = ["fine", '"never closed'] + ["x" * 100] * 2000
    read = read_records(write(tmp_path, "\n".join(rows_of(goals)) + "\n"), None)

    assert [line for line, _ in read.rows] == [2]
    [problem] = read.problems
    assert problem.line == 3
    assert "as when a quote is never closed" in problem.reason
    assert problem.reason.endswith("lines 3–2003 are refused")


def test_quoted_line_breaks_keep_later_line_numbers_right(tmp_path: Path) -> None:
    goals = ['"one\r\ntwo\rthree\nfour"', "plain", "a, b", "after"]
    read = read_records(write(tmp_path, "\r\n".join(rows_of(goals)) + "\r\n"), None)

    assert [line for line, _ in read.rows] == [2, 6, 8]
    assert read.rows[0][1]["goals"] == "one\r\ntwo\rthree\nfour"
    assert [p.line for p in read.problems] == [7]


def test_a_mapped_export_reports_problems_with_the_lines_of_the_export(tmp_path: Path) -> None:
    lines = (DATA / "mentee_form.csv").read_text(encoding="utf-8-sig").splitlines()
    lines[3] += ",an extra cell"
    path = write(tmp_path, "\n".join(lines) + "\n")
    read = read_records(path, load_mapping("google_forms_mentee"))

    assert [p.line for p in read.problems] == [4]
    assert [line for line, _ in read.rows] == [2, 3, *range(5, len(lines) + 1)]
    assert all(row["role"] == "mentee" for _, row in read.rows)


def test_a_problem_reads_as_an_import_rejection(tmp_path: Path) -> None:
    text = "\n".join(rows_of(["a, b"])) + "\n"
    [problem] = read_records(write(tmp_path, text), None).problems
    assert problem.as_rejection() == {
        "line": 2,
        "reason": "has 12 cells but the header has 11; quote any value that contains a comma",
    }


def test_read_rows_still_refuses_the_file_at_its_first_problem(tmp_path: Path) -> None:
    text = "\n".join(rows_of(["fine", '"never closed', "lost"])) + "\n"
    with pytest.raises(
        FormMappingError,
        match=r"^export\.csv line 3: a quote opened here is never closed; lines 3–4 were read",
    ):
        list(read_rows(write(tmp_path, text), None))


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    text = "\ufeff" + "\n".join(rows_of(["x"])) + "\n"
    read = read_records(write(tmp_path, text), None)
    assert [(line, row["submitted_at"]) for line, row in read.rows] == [(2, "2026-08-04T08:45")]


def test_a_file_that_is_not_utf8_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    text = "\n".join(rows_of(["fine", '"two\nlines"', "café", "naïve"])) + "\n"
    path = write(tmp_path, text.encode("latin-1"))
    with pytest.raises(FormMappingError) as refused:
        read_records(path, None)
    assert str(refused.value) == (
        "export.csv is not UTF-8: line 5 holds the byte 0xe9; save it as CSV UTF-8 and import again"
    )


def test_a_file_that_is_not_utf8_after_a_byte_order_mark_counts_lines_alike(
    tmp_path: Path,
) -> None:
    data = b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n" + ROW.format(goals="\xff").encode("latin-1")
    with pytest.raises(FormMappingError, match="line 2 holds the byte 0xff"):
        read_records(write(tmp_path, data), None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("\n".join(rows_of(["x"])).encode("utf-16"), r"^export\.csv is UTF-16 text, not UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00", r"^export\.csv is a workbook or archive, not a CSV"),
        (f"{HEADER}\nC1,\x00\n".encode(), r"^export\.csv line 2 holds a NUL byte"),
        (b"", r"^export\.csv is empty; expected a header on line 1"),
        (b"\xef\xbb\xbf", r"^export\.csv is empty"),
        (
            f"{HEADER},colour\n".encode(),
            r"^export\.csv: unknown column\(s\) 'colour' for the canonical layout$",
        ),
        (
            f'"{HEADER}\n{ROW}\n'.encode(),
            r"^export\.csv: the header cannot be read \(line 1: a quote opened here is never "
            r"closed; lines 1–2 were read as one value and are refused\)$",
        ),
    ],
)
def test_whole_file_problems_are_one_sentence_naming_the_file(
    tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(FormMappingError, match=message):
        read_records(write(tmp_path, data), None)


def test_a_directory_or_a_missing_file_cannot_be_opened(tmp_path: Path) -> None:
    with pytest.raises(
        FormMappingError, match=rf"^cannot open {re.escape(str(tmp_path))}: Is a directory$"
    ):
        read_records(tmp_path, None)
    with pytest.raises(FormMappingError, match=r"nowhere\.csv: No such file or directory$"):
        read_records(tmp_path / "nowhere.csv", None)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from('ab ,"\r\n;é'), max_size=12).filter(lambda g: g.strip()),
        min_size=1,
        max_size=6,
    )
)
def test_whatever_a_csv_writer_quotes_reads_back_on_the_lines_it_starts(goals: list[str]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(APPLICATION_FIELDS)
    starts = []
    for text in goals:
        starts.append(len(re.findall(r"\r\n|\r|\n", buffer.getvalue())) + 1)
        writer.writerow(["2026-08-04T08:45", "C1", "", "", "", "", "", "", "", text, ""])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "written.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        read = read_records(path, None)

    assert read.problems == ()
    assert [(line, row["goals"]) for line, row in read.rows] == list(
        zip(starts, goals, strict=True)
    )
