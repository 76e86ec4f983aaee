"""A small in-process token bucket per client address, for the endpoints anyone may call
without signing in (the public medicine lookup). Each address may make ``rate`` calls a minute,
in bursts of up to ``rate``; the refused caller hears how many seconds to wait."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Request

from lianfang.api.deps import client_ip
from lianfang.errors import RateLimitedError
from lianfang.i18n import _

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


def public_lookup(request: Request) -> None:
    """Take one of the caller's public lookups (setting ``public_lookups_per_minute``, one
    bucket per address for the API and the page alike); refuse with ``RateLimitedError`` (429,
    ``Retry-After``) when none is left. A dependency: it runs before the route touches the
    database, and ``api.responses`` declares 429 for every route that depends on it."""
    state = request.app.state
    bucket = getattr(state, "public_bucket", None)
    if bucket is None:
        bucket = state.public_bucket = TokenBucket(state.settings.public_lookups_per_minute)
    wait = bucket.take(client_ip(request) or "unknown")
    if wait > 0:
        seconds = int(retry_after(wait))
        raise RateLimitedError(
            _("too many lookups from this address; try again in %(seconds)s s", seconds=seconds),
            retry_after_s=seconds,
        )
