"""Index reads for pane 5: proposals by status, oldest first, paged by seq (never OFFSET)."""

from __future__ import annotations

import sqlite3

from core.index.queries import MemoryRow, memory_rows

# An active memory under the prefix whose tags hold the status tag. `tags` is the sidecar's
# JSON array: the quoted tag is matched as text (a tag never holds a quote, `%` or `_` is
# not in a status): at 10k pending the pane's reads take half the time json_each took.
_WHERE = (
    "state = 'active' AND path > ? AND path < ? AND (tags LIKE ? OR tags LIKE ? OR tags LIKE ?)"
)


def _args(prefix: str, statuses: tuple[str, ...]) -> list[object]:
    tags = [f'%"status:{s}"%' for s in statuses][:3]
    return [prefix, prefix + "\U0010ffff", *tags, *[tags[-1]] * (3 - len(tags))]


def page(
    conn: sqlite3.Connection, prefix: str, statuses: tuple[str, ...], after_seq: int, limit: int
) -> list[MemoryRow]:
    """Rows (with one of up to three statuses) with seq > after_seq, by seq ascending (the oldest write first)."""
    sql = f"SELECT path FROM memories WHERE {_WHERE} AND seq > ? ORDER BY seq LIMIT ?"
    found = [r[0] for r in conn.execute(sql, [*_args(prefix, statuses), after_seq, limit])]
    return memory_rows(conn, found)


def count(conn: sqlite3.Connection, prefix: str, statuses: tuple[str, ...]) -> int:
    sql = f"SELECT count(*) FROM memories WHERE {_WHERE}"
    (n,) = conn.execute(sql, _args(prefix, statuses)).fetchone()
    return int(n)
