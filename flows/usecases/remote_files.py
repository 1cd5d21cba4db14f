"""The file an import reads: a path on the server, or a copy of an https link's download.

The import use cases read a file on this machine; a link is fetched first into a folder of
its own that is removed afterwards, under a name made of its host and path (the name the
audit log records).
"""

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from domain.errors import DomainError
from infra.download import DownloadLimits, fetch, is_link, size_words

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SourceUnreadable(DomainError):
    """The path names no readable file; the message is one sentence."""


@dataclass(frozen=True)
class SourceFile:
    """The file to read on this machine, and the source as the person wrote it."""

    path: Path
    shown: str


def file_name(link: str) -> str:
    """A safe file name for a link's download, naming where it came from: its host and
    path (``docs.google.com_spreadsheets_d_…_pub``), at most 120 characters."""
    parts = urlsplit(link)
    named = f"{parts.hostname or ''}/{unquote(parts.path)}"
    safe = _UNSAFE.sub("_", named).strip("._")
    return safe[:120] or "export.csv"


@contextmanager
def local_copy(source: str, limits: DownloadLimits | None = None) -> Iterator[SourceFile]:
    """The file ``source`` names, downloaded first when it is a link (removed on exit)."""
    written = source.strip()
    limits = limits or DownloadLimits.from_env()
    if is_link(written):
        with tempfile.TemporaryDirectory(prefix="mentoring-import-") as folder:
            target = Path(folder) / file_name(written)
            yield SourceFile(fetch(written, target, limits), written)
        return
    yield SourceFile(_server_file(written, limits), written)


def _server_file(written: str, limits: DownloadLimits) -> Path:
    path = Path(written).expanduser()
    where = path if path.is_absolute() else Path.cwd() / path
    try:
        if where.is_dir():
            raise SourceUnreadable(f"{where} on the server is a folder, not a file.")
        if not where.is_file():
            raise SourceUnreadable(f"No file at {where} on the server.")
        size = where.stat().st_size
    except ValueError:
        raise SourceUnreadable(f"No file at {written!r} on the server.") from None
    except OSError as error:
        raise SourceUnreadable(
            f"{where} cannot be read on the server ({error.strerror or error})."
        ) from None
    if size > limits.max_bytes:
        raise SourceUnreadable(
            f"{where} is larger than {size_words(limits.max_bytes)}, more than an export should be."
        )
    return where
