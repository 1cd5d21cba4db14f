"""Writing the file a command's ``--output`` names: all of it or nothing.

A target that cannot be written (a folder that does not exist, a folder given as the file,
a full disk or device) is refused in one line; a regular file is replaced only once its new
content is complete, so a failed write leaves the earlier file, or none, as it was.
"""

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from domain.errors import DomainError


class CannotWrite(DomainError):
    """The ``--output`` target cannot be written; nothing was left behind."""

    def __init__(self, target: Path, reason: str) -> None:
        super().__init__(f"cannot write {target}: {reason}")
        self.target = target


def check_target(target: Path) -> None:
    """Refuse a target that can never be written, before any work is done for it."""
    if target.is_dir():
        raise CannotWrite(target, "it is a folder; name a file in it")
    folder = target.parent
    if not folder.exists():
        raise CannotWrite(target, f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise CannotWrite(target, f"{folder} is a file, not a folder")


@contextmanager
def output_file(target: Path) -> Iterator[Path]:
    """Where to write ``target``'s content: a scratch file beside it that replaces it once
    the block ends without error. A device or pipe (``/dev/stdout``) is written in place,
    having nothing to replace. An ``OSError`` in the block becomes :class:`CannotWrite`."""
    check_target(target)
    final = target.resolve() if target.is_symlink() else target
    if final.exists() and not final.is_file():
        with _refused_as(target):
            yield final
        return
    scratch = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")
    try:
        with _refused_as(target):
            scratch.touch(exist_ok=False)
            yield scratch
            if final.exists():
                shutil.copymode(final, scratch)
            os.replace(scratch, final)
    finally:
        scratch.unlink(missing_ok=True)


@contextmanager
def _refused_as(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise CannotWrite(target, error.strerror or str(error)) from None
