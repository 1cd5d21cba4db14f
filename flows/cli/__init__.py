"""``mentoring``, the committee's command line: one module per sub-app, assembled in
``flows.cli.app``; shared plumbing in ``flows.cli.support``."""

import gc


def main() -> None:
    """The ``mentoring`` console script (``flows.cli:main``, and ``python -m flows.cli``).

    Imports the commands only when run, so importing one module of the package (say
    ``flows.cli.audit`` for its printer) does not load the whole command line. Python's
    cyclic garbage collector is held off while they load: importing SQLAlchemy, the
    tables and Typer makes some 200,000 objects that live as long as the process, and the
    collections their creation sets off walk all of them again and again, about a third
    of every command's start. :func:`_loaded` turns it back on before the command runs.
    """
    gc.disable()
    from flows.cli.app import main as run

    run(loaded=_loaded)


def _loaded() -> None:
    """The command's modules are in: their objects are set aside for good (``gc.freeze``),
    so the collector, on again for the command's own work, no longer walks them."""
    gc.freeze()
    gc.enable()
