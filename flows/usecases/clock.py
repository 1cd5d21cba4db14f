"""The one place use cases read the time (tests and the demo pass ``now`` instead)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
