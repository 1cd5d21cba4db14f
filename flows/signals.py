"""Stopping a delivery politely: SIGTERM and Ctrl-C become a stop event, not an exception.

An exception raised in the middle of a delivery loses the results of the messages in
flight, which would then be sent again once their lease runs out. Turned into an event,
the run stops beginning messages, lets those in flight finish and records them, and gives
the rest back; then the signal takes its usual course.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
Handler = Callable[[int, FrameType | None], object] | int | None


@contextmanager
def stop_on_signals(*, pass_on: bool = True) -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs (main thread only).

    On leaving, the previous handlers come back and, with ``pass_on``, a signal that
    arrived meanwhile is passed to them, so a flow run still ends as Prefect expects after
    a SIGTERM; without it the caller reads the event and ends in its own words.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    caught: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        caught.append(signum)
        stop.set()

    previous: dict[int, Handler] = {sig: signal.signal(sig, note) for sig in _SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught and pass_on:
            signal.raise_signal(caught[0])
