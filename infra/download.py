"""Fetching a form tool's CSV export over https, with a size limit and a time limit.

Only ``https://`` links are followed, redirects included (a form tool's export link often
redirects to its file server). Plain ``http://`` is accepted for this machine alone
(``127.0.0.1``, ``::1``, ``localhost``) and only when ``MENTORING_IMPORT_ALLOW_LOCAL_HTTP``
is on, for tests and for a file served locally by hand. Every failure is one sentence
naming the link and what went wrong, as :class:`DownloadRefused`.
"""

import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from domain.errors import DomainError

ALLOW_LOCAL_HTTP = "MENTORING_IMPORT_ALLOW_LOCAL_HTTP"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_LINK = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WEB_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<?xml")


class DownloadRefused(DomainError):
    """A link that could not be read; the message is one sentence for the committee."""


@dataclass(frozen=True)
class DownloadLimits:
    """How much a download may bring and how long it may take, in all."""

    max_bytes: int = 20 * 1024 * 1024
    timeout_seconds: float = 60.0
    allow_local_http: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "DownloadLimits":
        env = os.environ if env is None else env
        allowed = env.get(ALLOW_LOCAL_HTTP, "").strip().lower() in {"1", "true", "yes", "on"}
        return cls(allow_local_http=allowed)


def is_link(source: str) -> bool:
    """Whether ``source`` is written as a link (``scheme://…``) rather than a path."""
    return _LINK.match(source.strip()) is not None


def _checked(url: str, limits: DownloadLimits, shown: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise DownloadRefused(
            f"Could not read {shown}: it is not a link that can be read."
        ) from None
    if parts.scheme == "https" and host:
        return url
    if parts.scheme == "http" and host in LOOPBACK_HOSTS and limits.allow_local_http:
        return url
    if url != shown:
        raise DownloadRefused(
            f"Could not read {shown}: it sends the download on to {url}, which is not an "
            "https:// link."
        )
    raise DownloadRefused(
        f"Could not read {shown}: only https:// links are accepted (the form tool's link "
        "to its CSV export)."
    )


def size_words(limit: int) -> str:
    """A size limit as people read it: "20 MB", or bytes below a megabyte."""
    megabytes = limit / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{limit:,} bytes"


def fetch(url: str, target: Path, limits: DownloadLimits) -> Path:
    """Save what ``url`` answers in ``target``; refuse an error status, a web page instead
    of a file, more than ``limits.max_bytes``, or more than ``limits.timeout_seconds``."""
    shown = url.strip()
    deadline = time.monotonic() + limits.timeout_seconds
    current = _checked(shown, limits, shown)
    timeout = httpx.Timeout(min(limits.timeout_seconds, 30.0))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", current, headers={"Accept": "text/csv, */*"}) as answer:
                    if answer.status_code in _REDIRECTS and "location" in answer.headers:
                        current = _checked(
                            urljoin(current, answer.headers["location"]), limits, shown
                        )
                        continue
                    _save(answer, target, limits, deadline, shown)
                    return target
    except httpx.TimeoutException:
        raise DownloadRefused(
            f"Could not read {shown}: the server did not answer in time."
        ) from None
    except httpx.TransportError as error:
        raise DownloadRefused(
            f"Could not read {shown}: the server could not be reached ({_reason(error)})."
        ) from None
    except (httpx.RequestError, httpx.InvalidURL) as error:
        raise DownloadRefused(f"Could not read {shown}: {_reason(error)}.") from None
    raise DownloadRefused(
        f"Could not read {shown}: it was sent on more than {MAX_REDIRECTS} times."
    )


def _reason(error: httpx.RequestError | httpx.InvalidURL) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text.rstrip(".")


def _save(
    answer: httpx.Response, target: Path, limits: DownloadLimits, deadline: float, shown: str
) -> None:
    if answer.status_code != 200:
        phrase = f" ({answer.reason_phrase})" if answer.reason_phrase else ""
        raise DownloadRefused(
            f"Could not read {shown}: the server answered {answer.status_code}{phrase}."
        )
    kind = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in {"text/html", "application/xhtml+xml"}:
        raise _web_page(shown)
    size = 0
    with target.open("wb") as sink:
        for chunk in answer.iter_bytes():
            if size == 0 and chunk.lstrip()[:16].lower().startswith(_WEB_PAGE_STARTS):
                raise _web_page(shown)
            size += len(chunk)
            if size > limits.max_bytes:
                raise DownloadRefused(
                    f"Could not read {shown}: the file is larger than "
                    f"{size_words(limits.max_bytes)}, more than an export should be."
                )
            if time.monotonic() > deadline:
                raise DownloadRefused(
                    f"Could not read {shown}: the download took more than "
                    f"{limits.timeout_seconds:.0f} seconds."
                )
            sink.write(chunk)


def _web_page(shown: str) -> DownloadRefused:
    return DownloadRefused(
        f"Could not read {shown}: the server sent a web page, not a CSV file; give the "
        "link to the form tool's CSV export, shared so that anyone with the link can open it."
    )
