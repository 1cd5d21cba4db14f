"""The ``.eml`` folder transport: mail written to files when no SMTP host is configured."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import quote

from domain.notifications import OutgoingMessage
from infra.mail import (
    DEFAULT_FROM,
    BadAddressError,
    DeliveryReport,
    DeliveryResult,
    DeliveryStatus,
    Flush,
    OnResult,
    Progress,
    halted,
)
from infra.mail_mime import MessageWriter


def eml_filename(key: str) -> str:
    """A readable, collision-free file name for a key: "2026+pairing_notice+C100079.eml"."""
    return quote(key, safe="/@").replace("/", "+") + ".eml"


class FolderUnusable(Exception):
    """The folder itself cannot be written (missing rights, full disk): stop the run."""


class EmlFolderTransport:
    """Writes each message to ``<folder>/<key>.eml``: for development, demos and tests.

    Writes are atomic (a temporary file, then ``os.replace``) and named by the key, so a
    re-delivery overwrites the same file instead of adding a copy, and a reader never sees
    half a message. Files are not synced one by one (that cost milliseconds each on a busy
    disk): a written file survives a crash of the program, not a power cut. ``flush`` comes
    every ``chunk`` messages and at the end, since a file written again after a crash
    replaces its copy.
    """

    chunk = 250
    resend_replaces = True

    def __init__(self, folder: Path | str, sender: str = DEFAULT_FROM) -> None:
        self.folder = Path(folder)
        self._prefix = os.path.join(self.folder, "")
        self.sender = sender
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        self.writer = MessageWriter(sender, self.domain, linesep="\n")

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
        *,
        deadline: float | None = None,
        stop: threading.Event | None = None,
        flush: Flush | None = None,
    ) -> DeliveryReport:
        """Write each message; see :class:`infra.mail.Transport` for the keywords."""
        counts = dict.fromkeys(DeliveryStatus, 0)
        blocked: str | None = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            blocked = self._unusable(exc)
        for done, msg in enumerate(messages, start=1):
            reason = blocked or halted(deadline, stop)
            if reason is None:
                try:
                    result = self._write(msg)
                except FolderUnusable as exc:
                    blocked = reason = str(exc)
            if reason is not None:
                result = DeliveryResult(msg.key, DeliveryStatus.released, reason, tried=False)
            counts[result.status] += 1
            on_result(result)
            if progress is not None:
                progress(done)
            if flush is not None and (done % self.chunk == 0 or done == len(messages)):
                flush()
        return DeliveryReport.of(counts, blocked)

    def _write(self, msg: OutgoingMessage) -> DeliveryResult:
        try:
            data = self.writer.write(msg)
        except BadAddressError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.failed, str(exc), tried=False)
        name = eml_filename(msg.key)
        target = self._prefix + name
        # A claimed message has one writer at a time; the pid keeps two runs' temp files
        # apart should a crashed run's lease run out while it still lives.
        temp = f"{self._prefix}.{name}.{os.getpid()}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            raise FolderUnusable(self._unusable(exc)) from exc
        try:
            _write_all(fd, data)
        except OSError as exc:
            _unlink(temp)
            raise FolderUnusable(self._unusable(exc)) from exc
        finally:
            os.close(fd)
        try:
            os.replace(temp, target)
        except OSError as exc:
            _unlink(temp)
            return DeliveryResult(msg.key, DeliveryStatus.deferred, f"cannot write {target}: {exc}")
        return DeliveryResult(msg.key, DeliveryStatus.sent, f"written to {target}")

    def _unusable(self, exc: OSError) -> str:
        return f"mail folder {self.folder} cannot be written: {exc}"


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
