"""What the memory screens ask of the shell: its store, who is acting, and the time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import BrainError
from widgets.shell import shell

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from core.store import Store


def store_of(node: DOMNode) -> Store:
    store = shell(node).store
    if store is None:
        raise BrainError("no store is open")
    return store


def actor_of(node: DOMNode) -> str:
    return shell(node).actor


def now_of(node: DOMNode) -> int:
    return shell(node).now()
