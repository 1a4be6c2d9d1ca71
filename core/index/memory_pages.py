"""Memory pages from either end of a filtered listing, and its size: what a virtual list needs
to jump to the last page by key (`G`) instead of walking every page from the first.

The ascending page and the row decoding are `core.index.queries`' (one shape of `MemoryRow`); this
module adds only the descending key range and the count over the same filters.
"""

from __future__ import annotations

import sqlite3

from core.index.queries import MemoryRow, memory_filters, memory_page, memory_rows


def page(
    conn: sqlite3.Connection,
    after: str = "",
    limit: int = 100,
    *,
    descending: bool = False,
    kind: str | None = None,
    folder_prefix: str | None = None,
    tier: str | None = None,
    state: str | None = None,
) -> list[MemoryRow]:
    """Ascending: paths > after. Descending: paths < after ("" = from the very end), nearest
    first. Either way by key on the unique path index, never by OFFSET."""
    if not descending:
        return memory_page(
            conn, after, limit, kind=kind, folder_prefix=folder_prefix, tier=tier, state=state
        )
    where, args = memory_filters(kind, folder_prefix, tier, state)
    if after:
        where.append("path < ?")
        args.append(after)
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    sql = f"SELECT path FROM memories{cond} ORDER BY path DESC LIMIT ?"
    paths = [p for (p,) in conn.execute(sql, [*args, limit])]
    return memory_rows(conn, paths)


def count(
    conn: sqlite3.Connection,
    *,
    kind: str | None = None,
    folder_prefix: str | None = None,
    tier: str | None = None,
    state: str | None = None,
) -> int:
    where, args = memory_filters(kind, folder_prefix, tier, state)
    cond = f" WHERE {' AND '.join(where)}" if where else ""
    return conn.execute(f"SELECT COUNT(*) FROM memories{cond}", args).fetchone()[0]
