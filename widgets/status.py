"""Messages every pane uses to talk to the app shell, and the guard that turns errors into them.

Screens and widgets may not import `brain_tui` (import contract), so the few messages they post
*to* the shell live here; `brain_tui.messages` re-exports them so all message types can be read
in one place. Both bubble: posted on any widget, they reach the `App`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from textual.message import Message

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(eq=False)
class ActivityChanged(Message):
    """A worker started (text) or finished (text None): the status line says what runs.
    `short` says it in a few characters, for a tabs line too narrow for every text."""

    key: str
    text: str | None
    short: str | None = None  # None: the text itself

    def can_replace(self, message: Message) -> bool:
        # Progress comes in bursts ("embedding 64/9,000", "128/9,000", ...): the newest wins.
        return isinstance(message, ActivityChanged) and message.key == self.key


@dataclass(eq=False)
class WorkFailed(Message):
    """Something the user asked for failed; the shell shows a notification and stays up."""

    doing: str
    error: BaseException


def describe(error: BaseException) -> str:
    """One line a person can act on: BrainError messages as written, others with their type."""
    from core.errors import BrainError

    text = " ".join(str(error).split())
    if isinstance(error, BrainError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def guarded(doing: str) -> Callable[[F], F]:
    """Wrap a method (worker body, action, handler) so an exception becomes `WorkFailed`.

    A handler that raises stops its widget's message loop and exits the app with a traceback;
    a worker that raises is an unhandled error. Neither is acceptable on screen, so every
    method that reaches the engine or the file system is wrapped with this.
    """

    def deco(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def awrapper(self, *args: Any, **kw: Any) -> Any:
                try:
                    return await fn(self, *args, **kw)
                except Exception as e:  # noqa: BLE001 - reported, never raised on screen
                    self.post_message(WorkFailed(doing, e))
                    return None

            return awrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(self, *args: Any, **kw: Any) -> Any:
            try:
                return fn(self, *args, **kw)
            except Exception as e:  # noqa: BLE001 - reported, never raised on screen
                self.post_message(WorkFailed(doing, e))
                return None

        return wrapper  # type: ignore[return-value]

    return deco


@dataclass(eq=False)
class StoreChanged(Message):
    """A pane changed the store or its state (repair, create): refresh the header now."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StoreChanged)  # a burst of writes is one refresh


@dataclass(eq=False)
class SemanticWanted(Message):
    """A pane asked for semantic search: the app warms the model now unless it has already."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SemanticWanted)


@dataclass(eq=False)
class RebalanceRequested(Message):
    """Recompute the memory tiers now (the `b` key); the app runs it and says what moved."""

    actor: str
