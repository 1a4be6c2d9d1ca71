"""Tiers and pins for a rebuild: the log's rows replayed in seq order, as the applier
(core.index.db.IndexWriter) applied them, so a rebuilt index equals one built row by row.

A tier.changed row names paths as they were when it was written: a later move carries the
state to the new path, a delete drops it (a memory written there again starts cold and
unpinned), and a row naming a path no memory held at that point changes nothing.
"""

from __future__ import annotations

import sqlite3

from core.models import Row

_DEFAULT = ("cold", 0)


class TierReplay:
    def __init__(self) -> None:
        self.state: dict[str, tuple[str, int]] = {}  # path -> (tier, pinned), when not default
        # Paths a move or purge left without a memory (until a put or a move writes one again):
        # the applier's UPDATE for them matches no row. Few: puts only discard from it.
        self.gone: set[str] = set()

    def feed(self, row: Row) -> None:
        op, path = row.op, row.path
        if op == "put":
            self.gone.discard(path)
        elif op == "move":
            src = row.extra.get("from", "")
            kept = self.state.pop(src, None)
            if kept is None:
                self.state.pop(path, None)
            else:
                self.state[path] = kept
            self.gone.discard(path)
            self.gone.add(src)
        elif op == "delete":
            self.state.pop(path, None)
            if row.extra.get("mode") == "purge":
                self.gone.add(path)
        elif op == "tier.changed":
            self._tier_row(row.extra)

    def _tier_row(self, extra: dict) -> None:
        # The order of IndexWriter.apply_tier_row: moves, then pins, then unpins.
        for path, _old, tier in extra.get("moves") or []:
            self._set(path, tier=tier)
        for key, value in (("pin", 1), ("unpin", 0)):
            for path in extra.get(key) or []:
                self._set(path, pinned=value)

    def _set(self, path: str, *, tier: str | None = None, pinned: int | None = None) -> None:
        if path in self.gone:
            return
        old_tier, old_pin = self.state.get(path, _DEFAULT)
        new = (tier if tier is not None else old_tier, pinned if pinned is not None else old_pin)
        if new == _DEFAULT:
            self.state.pop(path, None)
        else:
            self.state[path] = new

    def write(self, conn: sqlite3.Connection) -> None:
        """Set the replayed state on the memories a rebuild indexed (cold, unpinned by default)."""
        conn.executemany(
            "UPDATE memories SET tier = ?, pinned = ? WHERE path = ?",
            [(tier, pinned, path) for path, (tier, pinned) in self.state.items()],
        )
