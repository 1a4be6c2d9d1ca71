"""Index reads for the PII review queue: memories whose sidecar says `held`."""

from __future__ import annotations

import sqlite3

_HELD = "FROM memories WHERE pii_status = 'held' AND state = 'active'"


def held_paths(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Held memories' paths, oldest write first (the review queue's order)."""
    rows = conn.execute(f"SELECT path {_HELD} ORDER BY seq LIMIT ?", (limit,)).fetchall()
    return [r[0] for r in rows]


def held_count(conn: sqlite3.Connection) -> int:
    (n,) = conn.execute(f"SELECT count(*) {_HELD}").fetchone()
    return int(n)
