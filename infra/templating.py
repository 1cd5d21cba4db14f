"""The one way this project sets up Jinja2, for the mail and for the committee's documents."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


def template_environment(folder: Path, filters: Mapping[str, Callable[..., Any]]) -> Environment:
    """Templates from ``folder``: autoescape for ``.html.j2`` only, undefined names raise
    rather than print nothing, and each template is compiled once per process.

    Templates ship with the code, so ``auto_reload`` is off: it spares a ``stat`` of every
    file (and of each one it extends or includes) on every render.
    """
    env = Environment(
        loader=FileSystemLoader(folder),
        auto_reload=False,
        undefined=StrictUndefined,
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(filters)
    return env
