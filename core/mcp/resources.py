"""Memories as MCP resources: `brain://memories/<kind>/.../<slug>.md`, listed by page.

Listing pages by key (the last path of a page is the next cursor), never by offset, so a
100k-memory store lists as cheaply per page as a small one. Only active memories are listed;
a read of a tombstoned one returns its stub, as `brain view` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.index.queries import MemoryRow
    from core.models import Memory
    from core.store import Store

PAGE = 200


class MemoryResources:
    def __init__(self, store: Store, page: int = PAGE) -> None:
        self.store = store
        self.page_size = page

    def page(self, cursor: str) -> tuple[list[MemoryRow], str | None]:
        self.store.refresh()
        rows = self.store.memories(after=cursor, limit=self.page_size, state="active")
        nxt = rows[-1].path if len(rows) == self.page_size else None
        return rows, nxt

    def read(self, path: str, actor: str) -> Memory:
        return self.store.view(path, actor=actor)  # an agent's read is an access
