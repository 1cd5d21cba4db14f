"""Settings read from the environment (SPEC's ``MENTORING_*`` variables), with embedded defaults.

Mail settings are read apart from :class:`Settings`, when mail is sent: a mistake in a
``MENTORING_SMTP_*`` variable stops delivery, not every command that opens the database.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.mail import DEFAULT_FROM, MailSettings

DEFAULT_PORTAL_URL = "http://127.0.0.1:8050"


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("MENTORING_HOME", "var"))


def portal_url_from_env(env: Mapping[str, str] | None = None) -> str:
    """``MENTORING_PORTAL_URL``, the participants' site's public address every mailed link
    starts with, without a trailing slash (default ``http://127.0.0.1:8050``)."""
    env = os.environ if env is None else env
    return (env.get("MENTORING_PORTAL_URL") or "").strip().rstrip("/") or DEFAULT_PORTAL_URL


@dataclass(frozen=True)
class Settings:
    """Where the program keeps its data; defaults need no server at all."""

    database_url: str
    home: Path
    portal_url: str = DEFAULT_PORTAL_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = _home(env)
        url = env.get("MENTORING_DATABASE_URL") or f"sqlite:///{home / 'mentoring.db'}"
        return cls(database_url=url, home=home, portal_url=portal_url_from_env(env))


def mail_settings_from_env(env: Mapping[str, str] | None = None) -> MailSettings:
    """The ``MENTORING_SMTP_*`` and ``MENTORING_MAIL_*`` variables.

    Without ``MENTORING_MAIL_DIR`` the .eml folder is ``mail`` in ``MENTORING_HOME``; the
    port follows the kind of TLS (465 implicit, 587 STARTTLS, 25 plain) unless given.
    """
    env = os.environ if env is None else env
    use_ssl = _flag(env, "MENTORING_SMTP_SSL")
    starttls = _flag(env, "MENTORING_SMTP_STARTTLS")
    default_port = 465 if use_ssl else 587 if starttls else 25
    return MailSettings(
        host=env.get("MENTORING_SMTP_HOST") or None,
        port=_integer(env, "MENTORING_SMTP_PORT", default_port, 1),
        user=env.get("MENTORING_SMTP_USER") or None,
        password=env.get("MENTORING_SMTP_PASSWORD") or None,
        starttls=starttls,
        ssl=use_ssl,
        mail_from=env.get("MENTORING_MAIL_FROM") or DEFAULT_FROM,
        connections=_integer(env, "MENTORING_SMTP_CONNECTIONS", 4, 1),
        mail_dir=Path(env.get("MENTORING_MAIL_DIR") or _home(env) / "mail"),
        timeout=_integer(env, "MENTORING_SMTP_TIMEOUT", 10, 1),
        deadline_seconds=_integer(env, "MENTORING_MAIL_DEADLINE", 600, 1),
    )


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "false").strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value
