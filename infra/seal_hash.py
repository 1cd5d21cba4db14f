"""How a row seal hashes: a row's values, its key, and the entries an audit record covers.

Pure functions, no database: ``infra.seal_book`` stores and checks what they compute. The
bytes hashed are fixed (rows sealed earlier must still match), so a faster way to compute
them must give the very same bytes; ``tests/unit/test_seal_hash.py`` holds them to it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import struct
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from json.encoder import encode_basestring_ascii
from operator import itemgetter
from typing import Any

RowKey = tuple[Any, ...]
Entry = tuple[str, str, str | None]  # facet, row key, row hash (None: deleted)

_PLAIN_KEY = re.compile(r"[ -!#-\[\]-~]*")  # printable ASCII but the quote and backslash
_SIZE = struct.Struct(">Q").pack
_NULL = _SIZE(1) + b"N"
_BY_ROW = itemgetter(0, 1)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def encoded(value: Any) -> bytes:
    """One value as the seal hashes it: a type letter and a canonical text."""
    if value is None:
        return b"N"
    if isinstance(value, str):
        return b"S" + value.encode()
    if isinstance(value, bool):
        return b"B1" if value else b"B0"
    if isinstance(value, int):
        return b"I%d" % value
    if isinstance(value, float):
        return b"F" + repr(value).encode()
    if isinstance(value, (datetime, date)):
        return b"T" + str(_plain(value)).encode()
    return b"J" + _json_text(value).encode()


_MAKE_ENCODER: Callable[..., Callable[[object, int], Sequence[str]]] | None = getattr(
    json.encoder, "c_make_encoder", None
)


def _json_text(value: Any) -> str:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)``: the
    C encoder ``dumps`` builds for these options, without ``dumps``' own cost per call
    (most of hashing a message, whose attachments are JSON). Its circular-reference
    marks are made anew each call, as ``dumps`` makes them."""
    if _MAKE_ENCODER is None:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
    encode = _MAKE_ENCODER({}, _plain, encode_basestring_ascii, None, ":", ",", True, False, True)
    return "".join(encode(value, 0))


@functools.lru_cache(maxsize=4096, typed=True)
def _framed_time(value: date) -> bytes:
    """A date or time with its frame: rows written together share a few times (when
    queued, when due), and turning each to UTC text costs more than hashing it."""
    data = encoded(value)
    return _SIZE(len(data)) + data


def row_hash(values: Sequence[Any]) -> str:
    """SHA-256 of a row's sealed values, as read back from the database: each value
    framed by its length, so no two rows hash alike by shifting text between columns.
    (No JSON around the text itself: escaping long bodies cost three times the hashing.)

    The frame is 8 bytes of length, then :func:`encoded`'s bytes; texts, ``None``, plain
    ints, dates and times are framed inline (a text's type letter rides with its length,
    so a long body is copied once), anything else through :func:`encoded`."""
    parts: list[bytes] = []
    add = parts.append
    for value in values:
        kind = type(value)
        if isinstance(value, str):  # enums of text too: their text, as encoded() gives it
            data = value.encode()
            add(_SIZE(len(data) + 1) + b"S")
            add(data)
        elif value is None:
            add(_NULL)
        elif kind is int:
            data = b"I%d" % value
            add(_SIZE(len(data)) + data)
        elif kind is datetime or kind is date:
            add(_framed_time(value))
        elif kind is list or kind is dict:
            text = _json_text(value) if value else ("[]" if kind is list else "{}")
            data = b"J" + text.encode()
            add(_SIZE(len(data)) + data)
        else:
            data = encoded(value)
            add(_SIZE(len(data)) + data)
    return hashlib.sha256(b"".join(parts)).hexdigest()


def key_text(key: RowKey) -> str:
    """A row key as stored in ``seal_entries``: its values as JSON."""
    if len(key) == 1:
        (value,) = key
        if isinstance(value, int) and not isinstance(value, bool):
            return f"[{value}]"
        if isinstance(value, str) and _PLAIN_KEY.fullmatch(value):
            return f'["{value}"]'  # what json.dumps writes for it, without its cost
    return json.dumps([_plain(v) for v in key], separators=(",", ":"))


def entries_digest(entries: Iterable[Entry]) -> str:
    """What an audit record commits to: its entries, sorted by facet and key, one line
    each (``facet<TAB>key<TAB>hash or -``), hashed."""
    lines = "".join(
        f"{facet}\t{key}\t{digest or '-'}\n" for facet, key, digest in sorted(entries, key=_BY_ROW)
    )
    return hashlib.sha256(lines.encode()).hexdigest()
