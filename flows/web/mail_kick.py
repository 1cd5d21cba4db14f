"""Sending the sign-in mail right after the answer, one delivery at a time.

A delivery sends every queued message (claims keep it from sending one twice beside the
scheduled delivery). Requests that come while one runs ask for one more round instead of
starting their own, so a burst of sign-ins costs two deliveries, not one each.
"""

import logging
import threading
from collections.abc import Callable

from flows.usecases import notifications
from infra.uow import UnitOfWork

log = logging.getLogger(__name__)


class MailKick:
    """Runs ``deliver`` now, or once more after the round in progress."""

    def __init__(self, deliver: Callable[[], None]) -> None:
        self._deliver = deliver
        self._lock = threading.Lock()
        self._running = False
        self._again = False

    def run(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            self._running = True
        finished = False
        try:
            while not finished:
                self._deliver()
                with self._lock:
                    finished = not self._again
                    self._again = False
                    self._running = not finished
        finally:
            if not finished:  # the delivery raised: the next request starts afresh
                with self._lock:
                    self._running = False


def delivery(uow_factory: Callable[[], UnitOfWork]) -> Callable[[], None]:
    """One delivery run as ``mentoring notifications deliver`` does it, logged in a line."""

    def deliver() -> None:
        try:
            counts = notifications.deliver(uow_factory())
        except ValueError as error:  # a mistake in a MENTORING_SMTP_* variable
            log.warning("mail not sent: %s", error)
            return
        if counts.blocked:
            log.warning("mail not sent: %s; it stays queued", counts.blocked)

    return deliver
