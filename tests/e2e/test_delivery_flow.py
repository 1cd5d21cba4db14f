"""The delivery flow under a real (test) Prefect server: a server that cannot be used ends
the run Failed with the sentence that names it; a good run completes with its counts."""

import socket
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.deliver_notifications import deliver_notifications
from infra.tables import MessageRow
from infra.uow import UnitOfWork
from tests.builders import paired_cycle


def _closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _attempts(uow: UnitOfWork) -> Counter[tuple[str, int]]:
    with uow:
        rows = uow.session.execute(select(MessageRow.status, MessageRow.attempts))
        return Counter((status, attempts) for status, attempts in rows)


def test_a_mail_server_that_is_down_fails_the_run_naming_it(
    uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    paired_cycle(uow)
    queued = sum(_attempts(uow).values())
    port = _closed_port()
    monkeypatch.setenv("MENTORING_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MENTORING_SMTP_PORT", str(port))
    monkeypatch.setenv("MENTORING_SMTP_TIMEOUT", "2")
    state = deliver_notifications(return_state=True)
    assert state.is_failed()
    assert str(state.message).startswith(f"mail server 127.0.0.1:{port} is unreachable")
    assert str(state.message).endswith(f"{queued} message(s) stay queued")
    assert "Traceback" not in str(state.message)
    assert _attempts(uow) == Counter({("pending", 0): queued}), "nothing was tried"


def test_a_good_run_completes_with_its_counts(uow: UnitOfWork, tmp_path: Path) -> None:
    paired_cycle(uow)
    queued = sum(_attempts(uow).values())
    state = deliver_notifications(return_state=True)
    assert state.is_completed()
    assert state.result() == {"sent": queued, "failed": 0, "pending": 0}
    assert state.message == (
        f"Sent {queued} message(s); 0 refused by the mail server; 0 still waiting "
        "(see the mail-delivery artifact)."
    )
    assert len(list((tmp_path / "home" / "mail").glob("*.eml"))) == queued
