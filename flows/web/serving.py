"""How ``mentoring portal`` runs an app under uvicorn: one process, no access log (a
sign-in link's path holds its token), no ``Server`` header. The site's benchmark serves
its "hello world" ceiling through the same function, so both run alike."""

from importlib.util import find_spec

from starlette.types import ASGIApp


def serve(app: ASGIApp, host: str, port: int) -> None:
    """Serve ``app`` until Ctrl-C."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False, log_level="info")


def server_words() -> str:
    """What uvicorn picks on this installation ("auto": uvloop and httptools when
    installed, else asyncio's loop and h11), for the benchmark's report."""
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    parser = "httptools" if find_spec("httptools") else "h11"
    return f"uvicorn, 1 process, {loop} loop, {parser} HTTP parser"
