"""The key that signs the site's sessions (``MENTORING_SECRET_KEY``).

Sign-in links need no key: each is a random token stored only as a hash. Sessions do: a
cookie signed with this key is the member's proof of having signed in. Without the
variable, the embedded default home (``MENTORING_HOME`` unset) gets a key generated once
into ``<home>/secret_key`` (mode 0600) and reused; any other setup must give one.
"""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from infra.settings import Settings

VARIABLE = "MENTORING_SECRET_KEY"
FILE_NAME = "secret_key"
MIN_LENGTH = 32


class SecretKeyMissing(Exception):
    """The site cannot start: no key, and none may be generated here."""


def portal_secret_key(env: Mapping[str, str] | None = None) -> str:
    """``MENTORING_SECRET_KEY``, or the embedded home's generated key (made on first use).

    Raises :class:`SecretKeyMissing` with one sentence naming the variable when the key
    is missing (or too short) and ``MENTORING_HOME`` is set."""
    env = os.environ if env is None else env
    given = env.get(VARIABLE, "").strip()
    if given:
        if len(given) < MIN_LENGTH:
            raise SecretKeyMissing(
                f"{VARIABLE} is too short: give at least {MIN_LENGTH} random characters "
                '(python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        return given
    if env.get("MENTORING_HOME"):
        raise SecretKeyMissing(
            f"{VARIABLE} is not set: the participants' site needs it to sign sessions "
            "(MENTORING_HOME is set, so none is generated)"
        )
    return _generated(Settings.from_env(env).home / FILE_NAME)


def _generated(path: Path) -> str:
    """The key kept at ``path``, written there first (readable by its owner only); two
    processes starting at once end up with the same key."""
    kept = _kept(path)
    if kept is not None:
        return kept
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{FILE_NAME}.{os.getpid()}")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(partial, path)  # fails if another process wrote one first: keep theirs
    except FileExistsError:
        if _kept(path) is None:  # an empty or truncated file: replace it
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.read_text().strip()


def _kept(path: Path) -> str | None:
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        return None
    return kept if len(kept) >= MIN_LENGTH else None
