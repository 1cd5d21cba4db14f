"""Every CSV the program writes keeps spreadsheet formulas from running."""

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.csv_export import FORMULA_TRIGGERS, csv_line, safe_cell, write_csv


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'),
        ("+1+2", '"\'+1+2"'),
        ("-Smith", '"\'-Smith"'),
        ("@SUM(A1:A2)", '"\'@SUM(A1:A2)"'),
        ("\tcmd", '"\'\tcmd"'),
        ("\r=1", '"\'\r=1"'),
        ("-5", '"\'-5"'),
    ],
)
def test_a_cell_that_could_start_a_formula_is_prefixed_and_quoted(value: str, written: str) -> None:
    assert csv_line([value]) == written + "\r\n"
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    ("cells", "written"),
    [
        (["Ana", "López"], "Ana,López"),
        (["a, b", 'say "hi"', "two\nlines"], '"a, b","say ""hi""","two\nlines"'),
        (["x=1", " =1", "'quoted", "", None, 3, 0.5], "x=1, =1,'quoted,,,3,0.5"),
    ],
)
def test_other_cells_are_written_as_csv_writer_writes_them(
    cells: list[object], written: str
) -> None:
    assert csv_line(cells) == written + "\r\n"
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerow(cells)
    assert csv_line(cells) == buffer.getvalue()


def test_a_row_of_one_empty_cell_is_not_a_blank_line() -> None:
    assert csv_line([""]) == '""\r\n'
    assert list(csv.reader(io.StringIO(csv_line([""]), newline=""))) == [[""]]


def test_write_csv_to_a_path_writes_utf8_with_the_header_first(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    count = write_csv(path, ["mentor_name", "score"], [["-Zoë", 0.9], ["=cmd|' /C calc'!A0", 1]])

    assert count == 2
    assert path.read_bytes().decode("utf-8") == (
        "mentor_name,score\r\n\"'-Zoë\",0.9\r\n\"'=cmd|' /C calc'!A0\",1\r\n"
    )


def test_write_csv_to_an_open_handle() -> None:
    buffer = io.StringIO(newline="")
    assert write_csv(buffer, ["name"], iter([["@me"]])) == 1
    assert buffer.getvalue() == 'name\r\n"\'@me"\r\n'


cells = st.one_of(
    st.none(),
    st.integers(),
    st.text(st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", ",", '"', "'", "a", " "])),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cells, min_size=1, max_size=5), max_size=5))
def test_what_is_written_reads_back_as_the_safe_cells(rows: list[list[object]]) -> None:
    buffer = io.StringIO(newline="")
    write_csv(buffer, ["h"], rows)
    read = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))

    assert read == [["h"], *([safe_cell(c) for c in row] for row in rows)]
    for row in read[1:]:
        assert not any(cell.startswith(FORMULA_TRIGGERS) for cell in row)
