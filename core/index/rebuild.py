"""Rebuilding the derived index from the files and the log (the files win)."""

from __future__ import annotations

import os

from core.index.db import AUDIT_INSERT, IndexWriter, Text, audit_args
from core.index.schema import TEXT_DEFERRED, transaction
from core.index.tier_replay import TierReplay
from core.layout import Layout
from core.log import frames
from core.log.binlog import Binlog
from core.log.tip import decode_row, start_tip
from core.models import Row
from core.write.file_view import read_sidecar


def rows_after(
    binlog: Binlog, offset: int, up_to: int, after: int | None = None
) -> tuple[list[Row], int]:
    """Rows of the log after seq `after` (read from byte offset of current.binlog) up to seq
    up_to, and the offset after them.

    The offset is a hint recorded with `after`: when it is stale (a consolidation sealed the
    log since) or wrong (it does not lead to row after + 1), the rows are found by seq.
    """
    if after is None:
        return _from_offset(binlog, offset, up_to)
    start = start_tip(binlog)
    stale = after < start.seq or (after == start.seq and offset != start.offset)
    if not stale and offset <= binlog.current_size():
        rows, end = _from_offset(binlog, offset, up_to)
        if (rows and rows[0].seq == after + 1) or (not rows and after >= up_to):
            return rows, end
    rows, end = [], start.offset
    for f in binlog.iter_frames(after + 1):
        if isinstance(f, frames.BadFrame) or f.seq > up_to:
            break
        rows.append(decode_row(f.payload))
        end = f.end if f.seq > start.seq else end
    return rows, end


def _from_offset(binlog: Binlog, offset: int, up_to: int) -> tuple[list[Row], int]:
    data = binlog.current_bytes(offset)
    rows, end = [], 0
    for f in frames.iter_frames(data):
        if isinstance(f, frames.BadFrame) or f.seq > up_to:
            break
        rows.append(decode_row(f.payload))
        end = f.end
    return rows, offset + end


def rebuild(index: IndexWriter, layout: Layout, binlog: Binlog) -> int:
    """Audit rows from the log, memories from a walk of the files."""
    c = index.conn
    index.defer_text = False  # a rebuild writes every memory's text: no bulk load is left
    with transaction(c):
        c.execute(f"DELETE FROM meta WHERE key = '{TEXT_DEFERRED}'")
        c.execute("DELETE FROM audit")
        c.execute("DELETE FROM memories")
        c.execute("DELETE FROM memories_fts")
        c.execute("DELETE FROM status_counts")  # the triggers emptied it; stale folders go too
        start = start_tip(binlog)
        last, end = 0, start.offset
        batch: list[tuple] = []
        tiers = TierReplay()  # tiers and pins follow moves and deletes, in seq order
        for f in binlog.iter_frames():
            if isinstance(f, frames.BadFrame):
                break
            r = decode_row(f.payload)
            batch.append(audit_args(r))
            tiers.feed(r)
            # Offsets count bytes of current.binlog: a row from a sealed segment has none.
            last, end = r.seq, (f.end if r.seq > start.seq else end)
            if len(batch) >= 5000:
                _flush(c, batch)
        _flush(c, batch)
        n = _index_files(index, layout)
        tiers.write(c)
        c.executemany(
            "UPDATE meta SET value = ? WHERE key = ?",
            [(str(last), "last_applied"), (str(end), "last_applied_offset")],
        )
    return n


def _index_files(index: IndexWriter, layout: Layout, *, text_only: bool = False) -> int:
    """Every memory from a walk of its files (sidecar and body): its row and its text, or
    (text_only) the text of each memory the index holds, its row and vector left as they are."""
    n = 0
    text: Text = {}  # written after the rows (IndexWriter._upsert_run says why)
    for rel in walk_memories(layout):
        side = read_sidecar(layout.root, rel)
        if side is None or side.state == "purged":
            continue
        body = b""
        if side.state == "active":
            body = (layout.root / rel).read_bytes()
        hit = None
        if text_only:
            hit = index.conn.execute("SELECT id FROM memories WHERE path = ?", (rel,)).fetchone()
        if hit is None:
            index.upsert(rel, side, body, text)
        else:
            index.set_text(hit[0], side, body)
        n += 1
    index.write_text(text)
    return n


def defer_text(index: IndexWriter) -> None:
    """Start a bulk load (the demo build, a store nobody reads while it is written): rows
    are applied as usual except memories_fts, which fill_text writes once at the end from
    the files, as a rebuild does, instead of deleting and inserting a memory's text at every
    version (two thirds of applying a put). The meta mark makes an index left mid-load (a
    crash) read as stale, so the next writable open rebuilds it."""
    index.set_meta(TEXT_DEFERRED, "1")
    index.defer_text = True


def fill_text(index: IndexWriter, layout: Layout) -> int:
    """End a bulk load: every memory's text from its files (rebuild's walk)."""
    c = index.conn
    index.defer_text = False
    with transaction(c):
        n = _index_files(index, layout, text_only=True)
        c.execute("DELETE FROM meta WHERE key = ?", (TEXT_DEFERRED,))
    return n


def walk_memories(layout: Layout):
    """Every memory body path (relative), sorted."""
    out = []
    base = layout.root
    for dirpath, _dirs, files in os.walk(layout.memories):
        rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
        for name in files:
            if name.endswith(".md") and not name.startswith("."):
                out.append(f"{rel_dir}/{name}")
    return sorted(out)


def _flush(c, batch: list[tuple]) -> None:
    c.executemany(AUDIT_INSERT, batch)
    batch.clear()
