"""Folding the read journal into the index's access statistics."""

from __future__ import annotations

from collections import defaultdict

from core.index import access
from core.index.db import IndexWriter
from core.index.schema import transaction
from core.layout import Layout


def fold(index: IndexWriter, layout: Layout) -> int:
    offset = int(index.get_meta("access_offset") or 0)
    entries, end = access.read_since(layout, offset)
    if not entries:
        return 0
    agg: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, ts in entries:
        a = agg[path]
        a[0] += 1
        a[1] = max(a[1], ts)
    c = index.conn
    with transaction(c):
        # Another process may have folded the same entries meanwhile: re-read inside the lock.
        if int(index.get_meta("access_offset") or 0) != offset:
            return 0  # the transaction commits nothing
        c.executemany(
            "INSERT INTO access(path, count, last_ns) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE"
            " SET count = count + excluded.count, last_ns = MAX(last_ns, excluded.last_ns)",
            [(p, n, ts) for p, (n, ts) in agg.items()],
        )
        c.executemany("INSERT INTO access_events(path, ts_ns) VALUES (?, ?)", entries)
        index.set_meta("access_offset", str(end))
    return len(entries)
