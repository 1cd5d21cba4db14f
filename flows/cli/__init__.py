"""``mentoring``, the committee's command line: one module per sub-app, assembled in
``flows.cli.app``; shared plumbing in ``flows.cli.support``."""


def main() -> None:
    """The ``mentoring`` console script (``flows.cli:main``).

    Imports the commands only when run, so importing one module of the package (say
    ``flows.cli.audit`` for its printer) does not load the whole command line.
    """
    from flows.cli.app import main as run

    run()
