"""Run the real ``mentoring`` command, in a subprocess as the committee's scripts do, or in
this process through the same entry point when a test runs it many times."""

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any
from unittest import mock


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


def mentoring_here(*args: str, env: dict[str, str] | None = None) -> Run:
    """``mentoring ARGS`` through the console script's entry point, in this process: the
    same parsing, output and exit code as :func:`mentoring`, without starting Python again.
    An exception the entry point lets through fails the test, as a traceback would."""
    from flows.cli.app import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        mock.patch.object(sys, "argv", ["mentoring", *args]),
        mock.patch.dict(os.environ, env or {}),
        redirect_stdout(stdout),
        redirect_stderr(stderr),
    ):
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = _exit_code(exit_.code)
    return Run(code, stdout.getvalue(), stderr.getvalue())


def _exit_code(code: object) -> int:
    """What the shell sees for ``sys.exit(code)``."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1
