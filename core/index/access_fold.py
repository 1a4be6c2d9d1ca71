"""Folding the read journal into the index's access statistics."""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from core.index import access
from core.index.db import IndexWriter
from core.index.schema import transaction
from core.layout import Layout

Entry = tuple[str, int]  # (path, ts_ns)


def fold(index: IndexWriter, layout: Layout) -> int:
    offset = int(index.get_meta("access_offset") or 0)
    entries, end = access.read_since(layout, offset)
    if not entries:
        return 0
    c = index.conn
    with transaction(c):
        # Another process may have folded the same entries meanwhile: re-read inside the lock.
        if int(index.get_meta("access_offset") or 0) != offset:
            return 0  # the transaction commits nothing
        kept = follow(c, entries)
        agg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for path, ts in kept:
            a = agg[path]
            a[0] += 1
            a[1] = max(a[1], ts)
        c.executemany(
            "INSERT INTO access(path, count, last_ns) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE"
            " SET count = count + excluded.count, last_ns = MAX(last_ns, excluded.last_ns)",
            [(p, n, ts) for p, (n, ts) in agg.items()],
        )
        c.executemany("INSERT INTO access_events(path, ts_ns) VALUES (?, ?)", kept)
        index.set_meta("access_offset", str(end))
    return len(entries)


def follow(conn: sqlite3.Connection, entries: list[Entry]) -> list[Entry]:
    """The entries at the paths their memories have now. Statistics belong to the memory,
    not the path: IndexWriter moves them with a move and drops them at a delete, but only
    those folded by then. Entries journaled before a move or delete the index applied first
    (a `brain view`, then a `brain move`, then a read that folds; or a rebuild, which folds
    the whole journal) follow the rows written at or after their time here the same way.
    Journal and log share no counter, so time orders them (a row's ts_ns never goes back);
    an entry as old as a row counts as read before it."""
    first = min(ts for _p, ts in entries)
    rows = _rows_since(conn, first)
    if not rows:
        return entries  # the usual case: reads after the last move or delete
    order = sorted(range(len(entries)), key=lambda i: entries[i][1])
    at: dict[str, list[int]] = defaultdict(list)  # current path -> entries read before now
    out_path: list[str | None] = [p for p, _ts in entries]
    k = 0
    for ts, op, path, src in rows:
        while k < len(order) and entries[order[k]][1] <= ts:
            i = order[k]
            at[entries[i][0]].append(i)
            k += 1
        # A delete drops the memory's reads; a move's replace any left at its destination.
        for i in at.pop(path, []):
            out_path[i] = None
        if op == "move" and src in at:
            at[path] = at.pop(src)
    for path, idx in at.items():
        for i in idx:
            out_path[i] = path
    return [(p, ts) for p, (_old, ts) in zip(out_path, entries, strict=True) if p is not None]


def _rows_since(conn: sqlite3.Connection, ts_ns: int) -> list[tuple[int, str, str, str | None]]:
    """(ts_ns, op, path, move's source) of the move and delete rows at or after ts_ns, in
    seq order. Read newest first by the (op, seq) index, stopping at the first older row, so
    a fold of recent reads costs one lookup per op however long the log is."""
    found: list[tuple[int, int, str, str, str | None]] = []
    for op, sql in (
        ("move", "SELECT seq, ts_ns, path, json_extract(extra, '$.from') FROM audit"),
        ("delete", "SELECT seq, ts_ns, path, NULL FROM audit"),
    ):
        for seq, ts, path, src in conn.execute(f"{sql} WHERE op = ? ORDER BY seq DESC", (op,)):
            if ts < ts_ns:
                break
            found.append((seq, ts, op, path, src))
    found.sort()
    return [(ts, op, path, src) for _seq, ts, op, path, src in found]
