"""Index reads for pane 5: memories by status, oldest write first, paged by seq (never
OFFSET), and their count.

Both read what the index maintains for every put (core.index.schema, version 3): the
`status` column's partial index on (status, seq) and the per-(folder, status) counts kept by
triggers. A page walks the index from its key and a count is a lookup, so the pane costs the
same on 10k pending proposals as on 10.
"""

from __future__ import annotations

import heapq
import sqlite3

from core.index.queries import MEM_COLS, MemoryRow, mem_row

# Within one status the partial index yields rows by seq; the folder test filters what it
# yields (memories elsewhere that carry the same status are skipped, not sorted).
_PAGE = (
    f"SELECT {MEM_COLS} FROM memories m INDEXED BY memories_status_seq"
    " LEFT JOIN access a ON a.path = m.path"
    " WHERE m.status = ? AND m.state = 'active' AND m.seq > ?"
    " AND (m.folder = ? OR m.folder >= ? AND m.folder < ?) ORDER BY m.seq LIMIT ?"
)
_COUNT = (
    "SELECT COALESCE(SUM(n), 0) FROM status_counts WHERE status = ?"
    " AND (folder = ? OR folder >= ? AND folder < ?)"
)


def _folders(folder: str) -> list[object]:
    """The folder and everything below it (as core.index.queries.memory_filters)."""
    return [folder, folder + "/", folder + "/\U0010ffff"]


def page(
    conn: sqlite3.Connection, folder: str, statuses: tuple[str, ...], after_seq: int, limit: int
) -> list[MemoryRow]:
    """Active rows under `folder` with one of `statuses` and seq > after_seq, by seq
    ascending (the oldest write first). Several statuses: one keyset read each, merged."""
    where = _folders(folder)
    runs = [
        [mem_row(t) for t in conn.execute(_PAGE, [s, after_seq, *where, limit])]
        for s in dict.fromkeys(statuses)
    ]
    if len(runs) == 1:
        return runs[0]
    return list(heapq.merge(*runs, key=lambda r: r.seq))[:limit]


def count(conn: sqlite3.Connection, folder: str, statuses: tuple[str, ...]) -> int:
    """Active memories under `folder` with one of `statuses`: a sum of maintained counts."""
    where = _folders(folder)
    return sum(
        int(conn.execute(_COUNT, [s, *where]).fetchone()[0]) for s in dict.fromkeys(statuses)
    )


# The maintained counts against a recount of the memories, in one statement (one snapshot, so
# a writer applying rows meanwhile cannot make them seem to disagree).
_COUNTED = "SELECT folder, status, COUNT(*) AS n FROM memories"
_COUNTED += " WHERE state = 'active' AND status IS NOT NULL GROUP BY folder, status"
_DISAGREE = (
    "SELECT folder, status, SUM(kept), SUM(counted) FROM ("
    " SELECT folder, status, n AS kept, 0 AS counted FROM status_counts"
    f" UNION ALL SELECT folder, status, 0, n FROM ({_COUNTED}))"
    " GROUP BY folder, status HAVING SUM(kept) != SUM(counted) ORDER BY folder, status"
)


def count_disagreements(conn: sqlite3.Connection) -> list[tuple[str, str, int, int]]:
    """(folder, status, kept, recounted) wherever the triggers' counts differ from a recount
    of the active memories (core.doctor's derived.status_counts)."""
    return [(f, s, int(k), int(c)) for f, s, k, c in conn.execute(_DISAGREE)]


def recount(conn: sqlite3.Connection) -> int:
    """Rewrite the maintained counts from the memories (the doctor's repair), in one
    transaction on the index writer; returns how many (folder, status) pairs are counted."""
    from core.index.schema import transaction

    with transaction(conn):
        conn.execute("DELETE FROM status_counts")
        cur = conn.execute(f"INSERT INTO status_counts (folder, status, n) {_COUNTED}")
        return cur.rowcount
