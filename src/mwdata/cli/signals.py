"""Stop long-running commands (`simulate`, `dashboard`, `demo`) cleanly on SIGINT or SIGTERM.

Relying on Python's default `KeyboardInterrupt` fails when the process inherits SIGINT as ignored (as
background jobs of a non-interactive shell do), and SIGTERM would kill it without its clean stop. The
handlers here are installed explicitly, so either signal ends the wait however the parent set them up.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by the first SIGINT or SIGTERM; the previous handlers come back on exit."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)
        stop.set()

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def wait_for_stop(stop: threading.Event) -> None:
    """Block until `stop` is set (polling, so signal handlers always get to run)."""
    while not stop.wait(0.5):
        pass
