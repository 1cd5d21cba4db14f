"""Settings read from the environment (SPEC's ``MENTORING_*`` variables), with embedded defaults."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Where the program keeps its data; defaults need no server at all."""

    database_url: str
    home: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(env.get("MENTORING_HOME", "var"))
        url = env.get("MENTORING_DATABASE_URL") or f"sqlite:///{home / 'mentoring.db'}"
        return cls(database_url=url, home=home)
