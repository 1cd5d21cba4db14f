"""``python -m flows.cli ARGS``: the same as the ``mentoring`` console script."""

from flows.cli import main

main()
