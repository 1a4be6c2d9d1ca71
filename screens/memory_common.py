"""What the memory screens ask of the app: its store, who is acting, and the time.

The app shell exposes `store`, `actor` and `now()` (ns); a screen may also be handed a store
directly (tests, or a pane opened on another store).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.store import Store

DEFAULT_ACTOR = "human:tui@localhost"


def store_of(screen: Any) -> Store:
    store = getattr(screen, "_store", None) or getattr(screen.app, "store", None)
    if store is None:
        from core.errors import BrainError

        raise BrainError("no store is open")
    return store


def actor_of(screen: Any) -> str:
    return getattr(screen.app, "actor", None) or DEFAULT_ACTOR


def now_of(screen: Any) -> int:
    now = getattr(screen.app, "now", None)
    return int(now()) if callable(now) else time.time_ns()
