"""Abuse controls: sliding-window counters per client, shared by the API and the UI of one server."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from advisor.config import Settings
from advisor.roles import Role, UnknownKey, resolve_role


class SlidingWindow:
    """At most `limit` events per `window` seconds for each key; a key with no event in the window is forgotten,
    and at most `max_keys` keys are held (the least recently active go first), so memory stays bounded."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000) -> None:
        self.limit, self.window, self._clock, self.max_keys = limit, window, clock, max_keys
        self._events: dict[str, deque[float]] = {}  # insertion order = order of last activity
        self._lock = threading.Lock()
        self._next_sweep = clock() + window

    def __len__(self) -> int:
        return len(self._events)

    def _trim(self, key: str, now: float) -> deque[float]:
        events = self._events.pop(key, None) or deque()
        while events and now - events[0] > self.window:
            events.popleft()
        self._events[key] = events  # re-inserted: now the most recently active
        return events

    def _forget(self, now: float) -> None:
        """Drop keys whose newest event left the window (at most once a window), then the oldest over the cap."""
        if now >= self._next_sweep:
            self._next_sweep = now + self.window
            for key in [k for k, events in self._events.items() if not events or now - events[-1] > self.window]:
                del self._events[key]
        while len(self._events) > self.max_keys:
            del self._events[next(iter(self._events))]

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may act again; 0 when it may act now."""
        with self._lock:
            now = self._clock()
            events = self._trim(key, now)
            wait = int(self.window - (now - events[0])) + 1 if len(events) >= self.limit else 0
            if not events:
                del self._events[key]
            return wait

    def record(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            self._trim(key, now).append(now)
            self._forget(now)

    def take(self, key: str) -> int:
        """Record an event unless over the limit; returns 0 when taken, else the seconds to wait."""
        with self._lock:
            now = self._clock()
            events = self._trim(key, now)
            if len(events) >= self.limit:
                return int(self.window - (now - events[0])) + 1
            events.append(now)
            self._forget(now)
            return 0


class RateLimited(Exception):
    """Too many requests, or too many wrong keys, from one client; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Guards:
    """The limits one server keeps per client address, shared by the API and the UI's prospect chat and sign-in:
    anonymous questions a minute, and wrong API keys per window."""

    def __init__(self, *, per_minute: int, key_attempts: int, key_window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.anonymous = SlidingWindow(per_minute, 60.0, clock)
        self.wrong_keys = SlidingWindow(key_attempts, key_window_s, clock)

    @classmethod
    def from_settings(cls, settings: Settings) -> Guards:
        return cls(per_minute=settings.anonymous_requests_per_minute, key_attempts=settings.failed_key_attempts,
                   key_window_s=settings.failed_key_window_s)

    def anonymous_request(self, client: str) -> None:
        retry = self.anonymous.take(client)
        if retry:
            raise RateLimited(f"rate limit of {self.per_minute} requests a minute reached; retry in {retry} s "
                              "or use an API key", retry)

    def may_try_a_key(self, client: str) -> None:
        retry = self.wrong_keys.retry_after(client)
        if retry:
            raise RateLimited(f"too many wrong API keys from this address; retry in {retry} s", retry)

    def wrong_key(self, client: str) -> None:
        self.wrong_keys.record(client)

    def admit(self, key: str | None, client: str, settings: Settings, *, count_anonymous: bool = True) -> Role:
        """The caller's role, under this client's limits: a client that sent too many wrong keys waits (even with
        the right one), a wrong key is counted, and an anonymous request counts against the per-minute allowance
        (`count_anonymous`). Raises RateLimited or UnknownKey."""
        if key:
            self.may_try_a_key(client)
        try:
            role = resolve_role(key, settings)
        except UnknownKey:
            self.wrong_key(client)
            raise
        if role == "anonymous" and count_anonymous:
            self.anonymous_request(client)
        return role
