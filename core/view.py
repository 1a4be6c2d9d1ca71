"""Reading one memory straight from its files: what `Store.view` does, and what a one-shot
`brain view` does without opening a Store.

A view reads the memory's sidecar and body file (the index is not consulted) and, when an actor
is named, journals the read as an access (core.index.access: one unsynced append). Opening a
Store adds what a view does not use (the SQLite index, the log scan, the Merkle nodes) and
costs a one-shot process more than the view itself, so the CLI reads directly when no writer
has work to do first (brain_tui.cli.common.view_memory), the body without msgspec
(core.view_body, whose steps this module shares).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from core import paths, validate
from core.errors import NotFound
from core.index import access
from core.layout import Layout
from core.models import Memory, Sidecar
from core.view_body import checked, read_body, record, refuse_purged, sidecar_stat
from core.write.file_view import read_sidecar

# path -> (sidecar mtime_ns, inode, Sidecar): a long-lived Store's cache of decoded sidecars.
ViewCache = dict[str, tuple[int, int, Any]]


def view(
    layout: Layout,
    path: str,
    *,
    actor: str | None,
    clock: Callable[[], int],
    cache: ViewCache | None = None,
    notes: list[str] | None = None,
) -> Memory:
    """Read the memory at path; naming an actor journals the read as an access. A note goes
    to notes when the access could not be recorded (the read still succeeds)."""
    path = checked(path, actor)
    root = str(layout.root)  # plain strings on this hot path: a pathlib join costs ~3 µs
    st = sidecar_stat(root, path)
    hit = cache.get(path) if cache is not None else None
    if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_ino:
        side: Sidecar = hit[2]
    else:
        paths.check_no_symlink(layout.root, path)
        found = read_sidecar(layout.root, path)
        if found is None:
            raise NotFound(f"{path}: no such memory")
        side = found
        if cache is not None:
            cache[path] = (st.st_mtime_ns, st.st_ino, side)
    refuse_purged(path, side.state, side.seq)
    body = read_body(root, path)
    record(root, path, actor, clock, notes)
    return Memory(path, body, side)


def record_views(
    layout: Layout, paths_: Sequence[str], *, actor: str, clock: Callable[[], int]
) -> None:
    """Journal views of memories whose content the caller already holds, as view() would
    journal each (one clock reading per view, in order), in one append and without touching
    the files: the caller vouches that they are live memories (it wrote or read them). The
    demo builder simulates its actors' reads with it: ~20,000 of them."""
    validate.actor(actor)
    entries = [(paths.validate(p), actor, clock()) for p in paths_]
    access.record_many(str(layout.root), entries)
