"""The Prefect UI's run form explains every parameter of every deployed flow."""

from importlib import import_module
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.utilities.callables import parameter_schema

PREFECT_YAML = Path(__file__).resolve().parents[2] / "prefect.yaml"


def deployed_flows() -> list[tuple[str, Any]]:
    deployments = yaml.safe_load(PREFECT_YAML.read_text())["deployments"]
    found = []
    for deployment in deployments:
        path, name = deployment["entrypoint"].split(":")
        module = import_module(path.removesuffix(".py").replace("/", "."))
        found.append((deployment["name"], getattr(module, name)))
    return found


@pytest.mark.parametrize(("deployment", "flow"), deployed_flows())
def test_every_parameter_has_a_description_in_the_run_form(deployment: str, flow: Any) -> None:
    schema = parameter_schema(flow.fn)
    missing = [name for name, prop in schema.properties.items() if not prop.get("description")]
    assert missing == [], f"{deployment}: no description for {missing}"
