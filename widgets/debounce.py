"""Debounce a reaction to a fast-changing value (a cursor held down): at once when it has been
quiet for `every_s`, else at most once every `every_s`, with the newest value when the timer
fires. So a cursor at rest answers at once and a moving one does not read every row it passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from textual.message_pump import MessagePump
from textual.timer import Timer

T = TypeVar("T")


class Debounced(Generic[T]):
    def __init__(self, owner: MessagePump, every_s: float, fn: Callable[[T], None]) -> None:
        self.owner, self.every_s, self.fn = owner, every_s, fn
        self.calls = 0  # how often fn ran (tests count them)
        self._value: T | None = None
        self._due = False
        self._timer: Timer | None = None
        self._last = float("-inf")

    def __call__(self, value: T) -> None:
        self._value, self._due = value, True
        if self._timer is not None:
            return  # a call is due: it takes the newest value
        wait = self._last + self.every_s - time.monotonic()
        if wait <= 0:
            self._fire()
        else:
            self._timer = self.owner.set_timer(wait, self._fire)

    def cancel(self) -> None:
        """Forget a pending value (it no longer applies)."""
        self._due = False

    def _fire(self) -> None:
        self._timer = None
        if not self._due:
            return
        self._due = False
        self._last = time.monotonic()
        self.calls += 1
        self.fn(cast(T, self._value))  # set with _due
