"""Finishing purges listed in `audit/purge.pending` (redo-logged legal erasure).

Runs on the commit loop under the lock, at every acquisition and after a group that purged.
A seq leaves the pending list only when every artefact of the purged memory is gone. An entry
whose row is not a purge (a forged or damaged list) is ignored and reported, never acted on;
it stays in the list for `brain doctor` to name, and `brain doctor --repair` drops it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from core import fsio, paths
from core.index import queries
from core.layout import Layout, sidecar_path
from core.models import Row
from core.write import purge_list
from core.write.file_view import read_sidecar

if TYPE_CHECKING:
    from core.index.db import IndexWriter
    from core.index.follower import Follower
    from core.write.writer import Writer


def finish_purges(layout: Layout, follower: Follower, writer: Writer) -> list[str]:
    pending = purge_list.read(layout.purge_pending)
    notes = [f"audit/purge.pending: ignored {j!r}, which is not a seq" for j in pending.junk]
    for seq in pending.seqs:
        if seq > writer.tip.seq:
            notes.append(f"{_IGNORED} {seq}: the log has no such row")
            continue
        rows = follower.call(partial(_audit_row, seq=seq))
        if not rows or rows[0].seq != seq:
            notes.append(f"purge seq {seq}: row not found in the index; will retry")
            continue
        row = rows[0]
        if not is_purge(row):
            # A forged or damaged entry: acting on it would destroy a live memory's history.
            notes.append(f"{_IGNORED} {seq}: row {seq} is a {row.op}, not a purge")
            continue
        mine = follower.call(partial(_history_at, row=row))
        scope = Scope.of(mine)
        for p in sorted(scope.paths):
            for s in scope.version_seqs:
                for f in paths.version_paths(p, s):
                    fsio.unlink(layout.root / f)
            _prune_empty(layout, paths.versions_dir_of(p))
        for p in sorted(scope.conflict_paths | {row.path}):
            for origin in _children(layout.conflicts):
                fsio.unlink(layout.conflicts / origin / p)
                fsio.unlink(layout.conflicts / origin / sidecar_path(p))
        side = read_sidecar(layout.root, row.path)
        if side is not None and side.state == "purged" and side.seq == seq:
            fsio.unlink(layout.root / row.path)
        notes.extend(_purge_exports(layout))

        purged = tuple(sorted(scope.paths))
        warning = follower.call(partial(_scrub, purged_paths=purged))
        if warning:
            notes.append(f"purge seq {seq}: {warning}")
        writer.flush(durable=True)  # before the seq leaves purge.pending (Writer.flush)
        _drop_pending(layout, seq)
        notes.append(f"purge seq {seq}: every copy of {row.path} destroyed")
    return notes


_IGNORED = "audit/purge.pending: ignored seq"


def is_purge(row: Row) -> bool:
    return row.op == "delete" and row.extra.get("mode") == "purge"


@dataclass
class Scope:
    """What one memory's own rows wrote, and so what its purge destroys (PROTOCOL "Memory
    file, sidecar, versions"): the versions named by the seqs of its `put` and `move` rows (a
    version file carries the seq of the row that wrote it) at every path it lived at, and the
    conflict copies recorded while it lived there. Never a nested path's versions folder, nor
    anything of a later memory that reused one of its paths."""

    paths: set[str]
    version_seqs: list[int]
    conflict_paths: set[str]

    @classmethod
    def of(cls, rows: list[Row]) -> Scope:
        lived = {r.path for r in rows if r.op in _MEMORY_OPS}
        lived |= {r.extra["from"] for r in rows if r.op == "move" and "from" in r.extra}
        seqs = [r.seq for r in rows if r.op in ("put", "move")]
        conflicts = {r.path for r in rows if r.op == "sync.conflict"}
        return cls(lived, seqs, conflicts)


_MEMORY_OPS = frozenset({"put", "move", "delete"})


def _audit_row(ix: IndexWriter, seq: int) -> list[Row]:
    return queries.audit_page(ix.conn, seq - 1, 1)


def _history_at(ix: IndexWriter, row: Row) -> list[Row]:
    return queries.history(ix.conn, row.path, at_seq=row.seq)


def _scrub(ix: IndexWriter, purged_paths: tuple[str, ...]) -> str | None:
    for p in purged_paths:
        ix.refresh(p)
    return ix.scrub()


def _purge_exports(layout: Layout) -> list[str]:
    """Exports inside the store may hold the purged body: they are deleted whole. Exports
    written outside it (listed in local/exports.json) are named for the user to delete."""
    from core.portable.export import forget_exports, read_local

    out = []
    listed = forget_exports(layout)
    for rel in sorted(set(listed) | {f"exports/{n}" for n in _children(layout.exports)}):
        if os.path.isfile(layout.root / rel):
            fsio.unlink(layout.root / rel)
            out.append(f"deleted export {rel} (it may have held purged content)")
    for item in read_local(layout.root):
        if os.path.exists(item["path"]):
            out.append(
                f"an export outside the store may hold the purged content: {item['path']};"
                " delete it (and any copies) yourself"
            )
    return out


def _children(d) -> list[str]:
    try:
        return sorted(os.listdir(d))
    except FileNotFoundError:
        return []


def _prune_empty(layout: Layout, vdir: str) -> None:
    """Remove a versions folder the purge emptied, and parents it leaves empty (never
    versions/<kind>/ itself); a folder that still holds anything, such as a nested path's
    versions, stays."""
    parts = vdir.split("/")
    while len(parts) > 2:
        try:
            fsio.rmdir(layout.root / "/".join(parts))
        except OSError:  # not empty, absent or not a folder: nothing more to prune
            return
        parts.pop()


def _drop_pending(layout: Layout, seq: int) -> None:
    data = purge_list.updated(layout.purge_pending, drop=seq)
    if data:
        fsio.write_file(layout.purge_pending, data, durable=True)
    else:
        fsio.unlink(layout.purge_pending)
