"""Checks every committee form's tests share: a form deployed with only the boxes a person
fills in (plain text, each described), and a refused run that ends at once in its one
sentence with no traceback in the log."""

import logging
from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.orchestration import get_client

PREFECT_YAML = Path(__file__).resolve().parents[1] / "prefect.yaml"


def deployments() -> dict[str, dict[str, Any]]:
    """prefect.yaml's deployments by name."""
    return {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}


def flow_of(entrypoint: str) -> Any:
    """The flow a deployment's ``path.py:name`` entrypoint names."""
    path, name = entrypoint.split(":")
    return getattr(import_module(path.removesuffix(".py").replace("/", ".")), name)


def assert_only_text_boxes(form: Any, boxes: list[str], required: list[str]) -> None:
    """The form asks exactly ``boxes``, in order, each a described text box (no "str / None"
    switch), ``required`` of them without a default."""
    schema = form.parameters
    assert list(schema.properties) == boxes
    assert schema.required == required
    for name, box in schema.properties.items():
        assert box["type"] == "string" and "anyOf" not in box, (name, box)
        assert box["description"], name


def assert_refused_at_once(state: Any, sentence: str, caplog: pytest.LogCaptureFixture) -> None:
    """The run ended Failed with ``sentence`` within 2 s, logged it as an error, and logged
    no traceback."""
    assert state.is_failed()
    assert state.message == sentence
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
    assert run.start_time is not None and run.end_time is not None
    took = (run.end_time - run.start_time).total_seconds()
    assert took < 2, f"the refused run took {took:.1f} s"
    run_log = [r for r in caplog.records if r.name.startswith("prefect")]
    assert any(r.levelno == logging.ERROR and r.getMessage() == sentence for r in run_log)
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in run_log)
