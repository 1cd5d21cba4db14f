"""The participants' site: an entry point beside the CLI and the Prefect flows, calling
the same use cases (``mentoring portal`` serves it; see docs/portal.md)."""

from flows.web.app import create_app
from flows.web.settings import PortalSettings

__all__ = ["PortalSettings", "create_app"]
