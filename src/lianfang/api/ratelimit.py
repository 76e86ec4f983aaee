"""A small in-process token bucket per client address, for the endpoints anyone may call
without signing in (the public medicine lookup). Each address may make ``rate`` calls a minute,
in bursts of up to ``rate``; the refused caller hears how many seconds to wait."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 10_000


class TokenBucket:
    """Tokens per key, refilled at ``per_minute`` a minute up to ``per_minute``."""

    def __init__(self, per_minute: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = max(1.0, per_minute)
        self.per_second = per_minute / 60.0
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0 when granted, else the seconds until one is free."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.per_second)
            if tokens >= 1.0:
                self._remember(key, (tokens - 1.0, now))
                return 0.0
            self._remember(key, (tokens, now))
            return (1.0 - tokens) / self.per_second

    def _remember(self, key: str, state: tuple[float, float]) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_CLIENTS:
            self._buckets.clear()  # a flood of addresses: forget them all rather than grow
        self._buckets[key] = state


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header's value: whole seconds, at least one."""
    return str(max(1, math.ceil(seconds)))
