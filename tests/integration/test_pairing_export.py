"""``pairings export``: the approved pairs as a CSV the committee opens in a spreadsheet."""

import csv
from pathlib import Path

import pytest

from domain.errors import DomainError
from flows.usecases import pairing_export
from infra.tables import MemberRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle

# Each would run as a formula if a spreadsheet opened the cell as written (OWASP).
HOSTILE_NAMES = {
    "C100156": ('=HYPERLINK("http://x")', "Doe"),
    "C100159": ("+1", "Plus"),
    "C100270": ("-Ann", "Dash"),
    "C100318": ("@SUM(A1)", "At"),
}


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_names_that_start_like_a_formula_are_exported_whole_as_text(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    paired_cycle(uow)
    with uow:  # written through the program's session, so sealed as the program's own
        for member_id, (first, last) in HOSTILE_NAMES.items():
            row = uow.session.get(MemberRow, member_id)
            assert row is not None
            row.first_name, row.last_name, row.institution = first, last, "\tTab Library"
        uow.commit()
    path = tmp_path / "pairs.csv"
    result = pairing_export.export(uow, 2026, path)
    rows = rows_of(path)
    assert result.pairs == len(rows) == 60
    names = {r["mentor_id"]: (r["mentor_name"], r["mentor_institution"]) for r in rows}
    names |= {r["mentee_id"]: (r["mentee_name"], r["mentee_institution"]) for r in rows}
    for member_id, (first, last) in HOSTILE_NAMES.items():
        assert names[member_id] == (f"'{first} {last}", "'\tTab Library")
    text = path.read_text(encoding="utf-8")
    assert '"\'-Ann Dash"' in text and "\n-Ann" not in text and ",-Ann" not in text
    plain = next(r for r in rows if r["mentor_id"] not in HOSTILE_NAMES)
    assert not plain["mentor_name"].startswith("'")


def test_an_export_to_a_place_that_cannot_be_written_is_refused_naming_it(
    uow: UnitOfWork, tmp_path: Path
) -> None:
    paired_cycle(uow)
    for target in (tmp_path / "missing" / "pairs.csv", tmp_path):
        with pytest.raises(DomainError, match=rf"^cannot write {target}: "):
            pairing_export.export(uow, 2026, target)
