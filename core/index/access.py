"""The read journal: one unsynced O_APPEND frame per access, folded into the index later."""

from __future__ import annotations

import _thread
import itertools
import json

from core import fsio
from core.layout import ACCESS_LOG, Layout
from core.log import frame_header

_counter = itertools.count(1)
_lock = _thread.allocate_lock()  # threading's Lock, without importing threading (~1.5 ms)


def record(root: str, path: str, actor: str, ts_ns: int) -> None:
    """Append one entry to the journal of the store at root (a plain string: a one-shot
    `brain view` loads no pathlib). `path` and `actor` must be validated (core.view does it)."""
    record_many(root, [(path, actor, ts_ns)])


def entry_payload(path: str, actor: str, n: int, ts_ns: int) -> bytes:
    """The entry's canonical JSON (core.log.canonical), made by the stdlib: a one-shot
    `brain view` then never imports msgspec (~15 ms). For these values the two agree byte for
    byte: sorted keys, no whitespace, non-negative integers, and two strings that validation
    keeps NFC and free of control characters, the only characters (with `"` and `\\`, which
    both escape alike) that the two encoders could write differently. A test compares them."""
    entry = {"actor": actor, "path": path, "seq": n, "ts_ns": ts_ns}
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def record_many(root: str, entries: list[tuple[str, str, int]]) -> None:
    """(path, actor, ts_ns) accesses in one O_APPEND write, in order: one for a view, many for
    a caller that has them at once (the demo's simulated session reads)."""
    if not entries:
        return
    with _lock:
        seqs = [next(_counter) for _ in entries]
    fsio.append(
        f"{root}/{ACCESS_LOG}",
        b"".join(
            frame_header.encode(n, ts, entry_payload(p, a, n, ts))
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
    from core.log import canonical, frames  # the applier's side: msgspec is loaded there

    for item in frames.iter_frames(data):
        if isinstance(item, frames.BadFrame):
            break  # a torn last entry from a concurrent append: picked up next time
        obj = canonical.decode(item.payload)
        out.append((obj["path"], obj["ts_ns"]))
        end = item.end
    return out, offset + end
