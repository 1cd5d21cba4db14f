"""Run the real ``mentoring`` command in a subprocess, as the committee's scripts do."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def mentoring(*args: str, env: dict[str, str] | None = None) -> Run:
    """``mentoring ARGS`` with the test's environment (its database URL)."""
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
