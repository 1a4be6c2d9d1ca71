"""Finishing purges listed in `audit/purge.pending` (redo-logged legal erasure).

Runs on the commit loop under the lock, at every acquisition and after a group that purged.
A seq leaves the pending list only when every artefact of the purged memory is gone.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from core import fsio, paths, queries
from core.layout import Layout, sidecar_path
from core.state_view import read_sidecar

if TYPE_CHECKING:
    from core.applier import Applier
    from core.writer import Writer


def finish_purges(layout: Layout, applier: Applier, writer: Writer) -> list[str]:
    from core.writer import read_pending_purges

    pending = read_pending_purges(layout)
    if not pending:
        return []
    notes: list[str] = []
    for seq in pending:
        rows = applier.call(lambda ix, s=seq: queries.audit_page(ix.conn, s - 1, 1))
        if not rows or rows[0].seq != seq:
            notes.append(f"purge seq {seq}: row not found in the index; will retry")
            continue
        path = rows[0].path
        earlier = applier.call(lambda ix, p=path: queries.history(ix.conn, p))
        all_paths = {path} | {
            r.extra["from"] for r in earlier if r.op == "move" and "from" in r.extra
        }
        for p in sorted(all_paths):
            _remove_tree(layout.root / paths.versions_dir_of(p))
            for origin in _children(layout.conflicts):
                fsio.unlink(layout.conflicts / origin / p)
                fsio.unlink(layout.conflicts / origin / sidecar_path(p))
        side = read_sidecar(layout.root, path)
        if side is not None and side.state == "purged" and side.seq == seq:
            fsio.unlink(layout.root / path)
        notes.extend(_purge_exports(layout))

        purged = tuple(sorted(all_paths))
        warning = applier.call(lambda ix, ps=purged: _scrub(ix, ps))
        if warning:
            notes.append(f"purge seq {seq}: {warning}")
        writer.flush()
        _drop_pending(layout, seq)
        notes.append(f"purge seq {seq}: every copy of {path} destroyed")
    return notes


def _scrub(ix, purged_paths: tuple[str, ...]) -> str | None:
    for p in purged_paths:
        ix.refresh(p)
    return ix.scrub()


def _purge_exports(layout: Layout) -> list[str]:
    """Exports inside the store may hold the purged body: they are deleted whole. Exports
    written outside it (listed in local/exports.json) are named for the user to delete."""
    from core.export import forget_exports, read_local

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


def _remove_tree(d) -> None:
    if not os.path.isdir(d):
        return
    for dirpath, dirs, files in os.walk(d, topdown=False):
        for name in files:
            fsio.unlink(os.path.join(dirpath, name))
        for name in dirs:
            fsio.rmdir(os.path.join(dirpath, name))
    fsio.rmdir(d)


def _drop_pending(layout: Layout, seq: int) -> None:
    from core.writer import read_pending_purges

    rest = [s for s in read_pending_purges(layout) if s != seq]
    if rest:
        fsio.write_file(
            layout.purge_pending, "".join(f"{s}\n" for s in rest).encode(), durable=True
        )
    else:
        fsio.unlink(layout.purge_pending)
