"""The read journal: one unsynced O_APPEND frame per access, folded into the index later."""

from __future__ import annotations

import itertools
import threading

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
