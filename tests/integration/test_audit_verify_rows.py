"""PostgreSQL hashes each sealed row for ``audit verify`` exactly as the program hashes it
(infra/seal_hash.py): a difference would make every row of a table look edited."""

from pathlib import Path

import pytest
from sqlalchemy import text

from flows.usecases import audit, notifications, program
from infra import db
from infra.audit_verify_rows import _frames, _here, _there
from infra.mail_eml import EmlFolderTransport
from infra.seal_book import FACETS
from infra.uow import UnitOfWork
from tests.builders import paired_cycle

AWKWARD = (
    # text beyond ASCII, and a time with no microseconds beside one with some
    "UPDATE members SET first_name = 'Zoë 名前 ✓', last_name = '' WHERE member_id = 'C100001'",
    "UPDATE members SET updated_at = '2026-08-03 09:30:00+00' WHERE member_id = 'C100002'",
    "UPDATE members SET updated_at = '2026-08-02 12:00:00.000001+05:30' "
    "WHERE member_id = 'C100003'",
)


def test_the_server_hashes_every_row_as_the_program_does(
    uow: UnitOfWork, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the server hashes rows on PostgreSQL only")
    paired_cycle(uow, fixed=(("C100002", "C100001"),))
    program.set_details(uow, 2026, {"orientation_minutes": 60}, actor="chair")
    notifications.deliver(uow, EmlFolderTransport(str(tmp_path)))
    with db.engine_for(database_url).begin() as conn:
        for statement in AWKWARD:
            assert conn.execute(text(statement)).rowcount == 1
    hashed_there = 0
    with uow:
        for facet in FACETS:
            frames = _frames(facet)
            if frames is None:
                continue
            here = sorted((key, digest) for _, key, digest in _here(uow.session, facet))
            there = sorted((key, digest) for _, key, digest in _there(uow.session, facet, frames))
            assert there == here, facet.name
            hashed_there += len(there)
    assert hashed_there > 100
    problems = [str(p) for p in audit.verify(uow).problems]
    assert len(problems) == len(AWKWARD), problems
