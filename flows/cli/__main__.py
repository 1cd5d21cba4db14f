"""``python -m flows.cli ARGS``: the same as the ``mentoring`` console script."""

from flows.cli.app import main

main()
