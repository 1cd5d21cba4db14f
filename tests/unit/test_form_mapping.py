import csv
from pathlib import Path

import pytest

from domain.applications import (
    APPLICATION_FIELDS,
    Area,
    CareerStage,
    LibraryType,
    Role,
    parse_application_row,
)
from infra.form_mapping import (
    FormMappingError,
    load_mapping,
    parse_mapping,
    read_rows,
    shipped_mappings,
)
from tests.builders import DATA

TZ = "America/Chicago"


def canonical_by_member() -> dict[str, dict[str, str]]:
    with (DATA / "applications.csv").open(encoding="utf-8-sig", newline="") as handle:
        return {row["member_id"]: row for row in csv.DictReader(handle)}


def form_rows(form: str) -> list[tuple[int, dict[str, str]]]:
    return list(read_rows(DATA / f"{form}_form.csv", load_mapping(f"google_forms_{form}")))


def test_the_shipped_mappings_are_listed_by_name() -> None:
    assert {"google_forms_mentor", "google_forms_mentee"} <= set(shipped_mappings())


def test_every_mentor_form_row_imports_with_its_role_areas_and_stage() -> None:
    rows = form_rows("mentor")
    assert len(rows) == 52
    assert [line for line, _ in rows] == list(range(2, 54))
    apps = [parse_application_row(row, default_tz=TZ) for _, row in rows]
    assert {app.role for app in apps} == {Role.MENTOR, Role.BOTH}
    first = apps[0]
    assert first.member_id == "C100079"
    assert first.role is Role.MENTOR
    assert first.areas == {Area.PRESERVATION, Area.BUILDINGS_OPERATIONS}
    assert first.career_stage is CareerStage.EARLY
    assert first.library_type is LibraryType.ACADEMIC
    assert first.max_mentees == 1
    assert first.submitted_at.isoformat() == "2026-08-01T17:21:00-05:00"
    jun = next(app for app in apps if app.member_id == "C100342")
    assert jun.role is Role.BOTH
    assert jun.max_mentees == 3


def test_every_mentee_form_row_imports_as_a_mentee() -> None:
    rows = form_rows("mentee")
    assert len(rows) == 84
    apps = [parse_application_row(row, default_tz=TZ) for _, row in rows]
    assert all(app.role is Role.MENTEE and app.max_mentees is None for app in apps)
    assert CareerStage.STUDENT in {app.career_stage for app in apps}
    keisha = next(app for app in apps if app.member_id == "C100038")
    assert keisha.areas == {Area.TECHNOLOGY, Area.BUILDINGS_OPERATIONS}


def test_the_two_form_exports_match_the_canonical_applications() -> None:
    """A `both` applicant's mentee-form row repeats their mentor-form application."""
    imported: dict[str, dict[str, str]] = {}
    for form in ("mentor", "mentee"):
        for _, row in form_rows(form):
            if imported.get(row["member_id"], {}).get("role") == "both":
                continue
            imported[row["member_id"]] = row
    canonical = canonical_by_member()
    assert imported.keys() == canonical.keys()
    for member_id, row in canonical.items():
        expected = parse_application_row(row, default_tz=TZ)
        assert parse_application_row(imported[member_id], default_tz=TZ) == expected


def test_canonical_file_reads_without_a_mapping() -> None:
    rows = list(read_rows(DATA / "applications.csv", None))
    assert len(rows) == 120
    line, first = rows[0]
    assert line == 2
    assert list(first) == list(APPLICATION_FIELDS)
    assert first["areas"] == "Preservation;Buildings & Operations"


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


HEADER = ",".join(APPLICATION_FIELDS)
ROW = (
    "2026-08-04T08:45,C100265,sam@example.org,mentee,Leadership & Management,mid,"
    "Riverside,academic,America/Denver,{goals},"
)


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff" + HEADER + "\n" + ROW.format(goals="x") + "\n")
    [(line, row)] = list(read_rows(path, None))
    assert line == 2
    assert row["submitted_at"] == "2026-08-04T08:45"


def test_a_multi_line_record_is_reported_at_the_line_where_it_starts(tmp_path: Path) -> None:
    text = "\r\n".join(
        [
            HEADER,
            ROW.format(goals='"first line\r\nsecond line\r\nthird line"'),
            ROW.format(goals="after"),
            "",
            ROW.format(goals="after a blank line"),
        ]
    )
    rows = list(read_rows(write(tmp_path, text + "\r\n"), None))
    assert [line for line, _ in rows] == [2, 5, 7]
    assert rows[0][1]["goals"] == "first line\r\nsecond line\r\nthird line"
    assert rows[2][1]["goals"] == "after a blank line"


def test_an_unknown_header_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + ",favourite_colour\n")
    with pytest.raises(FormMappingError, match=r"unknown column.*'favourite_colour'"):
        list(read_rows(path, None))


def test_a_missing_header_is_named(tmp_path: Path) -> None:
    header = ",".join(f for f in APPLICATION_FIELDS if f != "time_zone")
    with pytest.raises(FormMappingError, match=r"missing column.*'time_zone'"):
        list(read_rows(write(tmp_path, header + "\n"), None))


def test_a_form_export_with_a_renamed_question_is_reported(tmp_path: Path) -> None:
    source = (DATA / "mentee_form.csv").read_text(encoding="utf-8-sig")
    renamed = source.replace("Type of library", "Kind of library", 1)
    path = write(tmp_path, renamed)
    with pytest.raises(FormMappingError) as refused:
        list(read_rows(path, load_mapping("google_forms_mentee")))
    assert "'Kind of library'" in str(refused.value)
    assert "'Type of library'" in str(refused.value)
    assert "google_forms_mentee" in str(refused.value)


def test_a_row_with_too_many_cells_is_reported_with_its_line(tmp_path: Path) -> None:
    bad = ROW.format(goals="planning, renovation")
    path = write(tmp_path, HEADER + "\n" + ROW.format(goals="ok") + "\n" + bad + "\n")
    with pytest.raises(FormMappingError, match=r"export\.csv line 3: has 12 cells"):
        list(read_rows(path, None))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FormMappingError, match="cannot open"):
        list(read_rows(tmp_path / "nowhere.csv", None))


def test_an_empty_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(FormMappingError, match="empty"):
        list(read_rows(write(tmp_path, ""), None))


def test_unmapped_answers_pass_through_for_validation_to_refuse(tmp_path: Path) -> None:
    source = (DATA / "mentee_form.csv").read_text(encoding="utf-8-sig").splitlines()
    source[1] = source[1].replace("Early career (0-5 years)", "Apprentice")
    path = write(tmp_path, "\n".join(source[:2]) + "\n")
    [(_, row)] = list(read_rows(path, load_mapping("google_forms_mentee")))
    assert row["career_stage"] == "Apprentice"


def test_a_mapping_loads_from_a_path(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "infra" / "mappings"
    copy = tmp_path / "my_form.toml"
    copy.write_text((shipped / "google_forms_mentee.toml").read_text())
    mapping = load_mapping(copy)
    assert mapping.name == "my_form"
    assert mapping.constants["role"] == "mentee"


def test_an_unknown_mapping_name_lists_the_shipped_ones() -> None:
    with pytest.raises(FormMappingError, match="google_forms_mentor"):
        load_mapping("surveymonkey")


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[columns\n")
    with pytest.raises(FormMappingError, match="not valid TOML"):
        load_mapping(path)


def test_a_mapping_filling_a_field_twice_is_refused() -> None:
    with pytest.raises(FormMappingError, match="fills role more than once"):
        parse_mapping({"columns": {"Role": "role"}, "constants": {"role": "mentee"}}, "x")


def test_a_mapping_section_for_a_field_no_column_fills_is_refused() -> None:
    with pytest.raises(FormMappingError, match=r"\[values\] names career_stage"):
        parse_mapping({"columns": {"Role": "role"}, "values": {"career_stage": {}}}, "x")


def test_a_mapping_with_an_unknown_section_is_refused() -> None:
    with pytest.raises(FormMappingError, match=r"unknown section.*colums"):
        parse_mapping({"colums": {}}, "x")


def test_a_mapping_that_leaves_a_field_unfilled_is_refused(tmp_path: Path) -> None:
    mapping = parse_mapping({"columns": {"Timestamp": "submitted_at"}}, "partial")
    with pytest.raises(FormMappingError, match=r"does not fill field.*member_id"):
        list(read_rows(write(tmp_path, "Timestamp\n"), mapping))
