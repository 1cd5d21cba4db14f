"""What the site needs to run, read from the environment (``MENTORING_*``)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flows.web.secret_key import portal_secret_key
from flows.web.sessions import MAX_AGE_SECONDS
from infra.settings import Settings


@dataclass(frozen=True)
class PortalSettings:
    """The site's public address (``MENTORING_PORTAL_URL``), the key that signs sessions
    and the program's database."""

    portal_url: str
    secret_key: str
    database_url: str
    session_max_age: int = MAX_AGE_SECONDS

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over https only when the public address is https."""
        return self.portal_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "PortalSettings":
        """Raises :class:`flows.web.secret_key.SecretKeyMissing` without a usable key."""
        env = os.environ if env is None else env
        settings = Settings.from_env(env)
        return cls(
            portal_url=settings.portal_url,
            secret_key=portal_secret_key(env),
            database_url=settings.database_url,
        )
