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


def touched_since(node: DOMNode, path: str, seen: int) -> bool:
    """Did a row after seq `seen` write, move or delete `path`? Read from the rows the app
    already holds (`index_tail`); True when they do not reach back to `seen` (a long burst):
    a screen showing one memory reads it again only when it may have changed."""
    tail = shell(node).index_tail
    if not tail or tail[0].seq > seen + 1:
        return True
    return any(r.seq > seen and path in (r.path, r.extra.get("from")) for r in tail)
