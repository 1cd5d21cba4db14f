"""``mentoring portal``: serve the participants' site (``flows.web``) until Ctrl-C."""

from typing import Annotated

import typer

from flows.cli.support import err
from flows.web.secret_key import SecretKeyMissing
from flows.web.settings import PortalSettings

Host = Annotated[str, typer.Option(help="Address to listen on; keep 127.0.0.1 behind a proxy.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def portal_command(host: Host = "127.0.0.1", port: Port = 8050) -> None:
    """Serve the participants' site: members sign in, apply, see where they stand, withdraw.

    Needs MENTORING_SECRET_KEY (with the embedded default home, one is generated once and
    kept there). Links in the program's mail start with MENTORING_PORTAL_URL. Requests are
    not logged one by one: a sign-in link's path holds its token."""
    try:
        settings = PortalSettings.from_env()
    except SecretKeyMissing as refusal:
        err.print(f"error: {refusal}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    from flows.web import create_app
    from flows.web.serving import serve

    typer.echo(
        f"participants' site: http://{host}:{port}/ (mailed links: {settings.portal_url}/)",
        err=True,
    )
    serve(create_app(settings), host, port)
