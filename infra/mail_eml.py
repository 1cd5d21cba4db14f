"""The ``.eml`` folder transport: mail written to files when no SMTP host is configured."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from email import policy
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
    OnResult,
    Progress,
    build_email,
)


def eml_filename(key: str) -> str:
    """A readable, collision-free file name for a key: "2026+pairing_notice+C100079.eml"."""
    return quote(key, safe="/@").replace("/", "+") + ".eml"


class EmlFolderTransport:
    """Writes each message to ``<folder>/<key>.eml``: for development, demos and tests.

    Writes are atomic (a temporary file, then ``os.replace``) and named by the key, so a
    re-delivery overwrites the same file instead of adding a copy.
    """

    def __init__(self, folder: Path | str, sender: str = DEFAULT_FROM) -> None:
        self.folder = Path(folder)
        self.sender = sender
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"

    def deliver(
        self,
        messages: Sequence[OutgoingMessage],
        on_result: OnResult,
        progress: Progress | None = None,
    ) -> DeliveryReport:
        self.folder.mkdir(parents=True, exist_ok=True)
        counts = dict.fromkeys(DeliveryStatus, 0)
        for done, msg in enumerate(messages, start=1):
            result = self._write(msg)
            counts[result.status] += 1
            on_result(result)
            if progress is not None:
                progress(done)
        return DeliveryReport.of(counts)

    def _write(self, msg: OutgoingMessage) -> DeliveryResult:
        try:
            data = build_email(msg, self.sender, self.domain).as_bytes(policy=policy.default)
        except BadAddressError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.failed, str(exc))
        target = self.folder / eml_filename(msg.key)
        try:
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temp, target)
            finally:
                if os.path.exists(temp):
                    os.unlink(temp)
        except OSError as exc:
            return DeliveryResult(msg.key, DeliveryStatus.deferred, f"cannot write {target}: {exc}")
        return DeliveryResult(msg.key, DeliveryStatus.sent, f"written to {target}")
