"""Proactive request pacing shared by every worker, with adaptive slow-down after 429s.

One `Pacer` per client: each request takes the next free slot on a single timeline spaced
`60 / rate` seconds apart, so N workers together never exceed the configured requests per minute.
After a 429 the rate is cut (multiplicative decrease) and everybody holds until `Retry-After`
(or a backoff) has passed; successes then restore the rate step by step (additive increase), quickly
up to just below the rate that was throttled and then only slowly beyond it — a configured limit
above the server's real one would otherwise climb back into a 429 every few dozen requests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    def __init__(
        self,
        requests_per_minute: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        decrease: float = 0.7,
        floor_fraction: float = 0.1,
        recover_steps: int = 20,
    ) -> None:
        self.limit = requests_per_minute if requests_per_minute and requests_per_minute > 0 else None
        self.rate = self.limit
        self._clock = clock
        self._sleep = sleep
        self._decrease = decrease
        self._floor = (self.limit or 0) * floor_fraction
        self._step = (self.limit or 0) / recover_steps
        self._ceiling = self.limit  # rises by _step / 50 per success past the last throttled rate
        self._next = 0.0
        self._hold_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for this request's slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._hold_until)
            if self.rate is not None:
                slot = max(slot, self._next)
                self._next = slot + 60.0 / self.rate
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)

    def throttled(self, hold_seconds: float) -> None:
        """A 429: hold every worker for `hold_seconds` and lower the rate."""
        with self._lock:
            now = self._clock()
            self._hold_until = max(self._hold_until, now + hold_seconds)
            if self.rate is not None:
                self._ceiling = max(self._floor, self.rate * 0.95)
                self.rate = max(self._floor, self.rate * self._decrease)

    def succeeded(self) -> None:
        """A success: creep back towards the configured limit."""
        if self.rate is None or self.limit is None or self.rate >= self.limit:
            return
        with self._lock:
            if self.rate is not None and self.limit is not None and self._ceiling is not None:
                self._ceiling = min(self.limit, self._ceiling + self._step / 50)
                self.rate = min(self._ceiling, self.rate + self._step)
