"""Sliding-window counters per client: anonymous request rates in the API, failed key attempts in the UI."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` events per `window` seconds for each key."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events[key]
        while events and now - events[0] > self.window:
            events.popleft()
        return events

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may act again; 0 when it may act now."""
        with self._lock:
            now = self._clock()
            events = self._trim(key, now)
            return int(self.window - (now - events[0])) + 1 if len(events) >= self.limit else 0

    def record(self, key: str) -> None:
        with self._lock:
            self._trim(key, self._clock()).append(self._clock())

    def take(self, key: str) -> int:
        """Record an event unless over the limit; returns 0 when taken, else the seconds to wait."""
        with self._lock:
            now = self._clock()
            events = self._trim(key, now)
            if len(events) >= self.limit:
                return int(self.window - (now - events[0])) + 1
            events.append(now)
            return 0
