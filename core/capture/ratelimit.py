"""A token bucket per watched folder: a burst of `burst` captures at once, then `rate` a
second. A file without a token waits for one (its capture is delayed, never dropped)."""

from __future__ import annotations


class Bucket:
    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self.rate = max(float(rate_per_s), 1e-3)
        self.burst = max(1, burst)
        self.tokens = float(self.burst)
        self.t = now

    def _refill(self, now: float) -> None:
        if now > self.t:
            self.tokens = min(float(self.burst), self.tokens + (now - self.t) * self.rate)
            self.t = now

    def take(self, now: float) -> bool:
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def next_at(self, now: float) -> float:
        """When the next token is there (monotonic seconds)."""
        self._refill(now)
        return now if self.tokens >= 1.0 else now + (1.0 - self.tokens) / self.rate
