"""Per-user rate limit: a token bucket per (org, user), refilled continuously.

A batched push or pull is one request, so the limit counts round trips, not memories. The
bucket holds `rate` tokens (a burst of a full minute's worth is allowed after an idle minute).
Buckets live in the process: with several uvicorn workers each worker limits on its own, so
the effective limit is `rate` × workers (docs/sync.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

DEFAULT_RATE = 100  # requests per minute per user
_MAX_BUCKETS = 100_000  # forget idle full buckets past this many users


class RateLimiter:
    def __init__(
        self, rate_per_min: int = DEFAULT_RATE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_min < 1:
            raise ValueError("the rate limit must be at least 1 request a minute")
        self.rate = rate_per_min
        self._per_s = rate_per_min / 60.0
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # key → (tokens, at)

    def take(self, org: str, user: str) -> int:
        """0 when the request may go ahead (a token is spent); else the whole seconds to wait
        before one will be there (the `Retry-After` value, at least 1)."""
        now = self._clock()
        key = (org, user)
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - at) * self._per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > _MAX_BUCKETS:
                    self._forget_full(now)
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self._per_s))

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: a fresh bucket is the same as a full one."""
        full = [
            k
            for k, (tokens, at) in self._buckets.items()
            if tokens + (now - at) * self._per_s >= self.rate
        ]
        for k in full:
            del self._buckets[k]


__all__ = ["DEFAULT_RATE", "RateLimiter"]
