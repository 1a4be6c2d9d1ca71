"""The read journal: one unsynced O_APPEND frame per access, folded into the index later."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence

from core import fsio
from core.layout import Layout
from core.log import canonical, frames

_counter = itertools.count(1)
_lock = threading.Lock()


def record(layout: Layout, path: str, actor: str, ts_ns: int) -> None:
    with _lock:
        n = next(_counter)
    payload = canonical.encode({"actor": actor, "path": path, "seq": n, "ts_ns": ts_ns})
    fsio.append(layout.access_log, frames.encode(n, ts_ns, payload))


def record_many(layout: Layout, entries: Sequence[tuple[str, str, int]]) -> None:
    """(path, actor, ts_ns) accesses in one O_APPEND write: the frames record() would append
    one by one, in order, for a caller with many at once (a simulated session's reads)."""
    if not entries:
        return
    with _lock:
        seqs = [next(_counter) for _ in entries]
    fsio.append(
        layout.access_log,
        b"".join(
            frames.encode(n, ts, canonical.encode({"actor": a, "path": p, "seq": n, "ts_ns": ts}))
            for n, (p, a, ts) in zip(seqs, entries, strict=True)
        ),
    )


def read_since(layout: Layout, offset: int) -> tuple[list[tuple[str, int]], int]:
    """(path, ts_ns) entries after offset, and the offset after the last whole entry."""
    try:
        with open(layout.access_log, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    out, end = [], 0
    for item in frames.iter_frames(data):
        if isinstance(item, frames.BadFrame):
            break  # a torn last entry from a concurrent append: picked up next time
        obj = canonical.decode(item.payload)
        out.append((obj["path"], obj["ts_ns"]))
        end = item.end
    return out, offset + end
