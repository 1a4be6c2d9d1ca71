"""Walking a watched folder: the files a capture loop should look at, ignores applied."""

from __future__ import annotations

import os
from collections.abc import Iterator

from core.capture import filters
from core.capture.config import Watched
from core.capture.state import FileState


def files(w: Watched, top: str | None = None, skip: str = "") -> Iterator[tuple[str, str]]:
    """(relative path, absolute path) of every file under `top` (default: the folder) that
    no ignore rule drops; the folder `skip` (the store, when it lives inside) is not entered.
    Links to folders are not followed."""
    base = w.path.rstrip("/") + "/"
    if os.path.islink((top or w.path).rstrip("/")):
        return  # os.walk follows a top that is a link
    for dirpath, dirnames, filenames in os.walk(top or w.path):
        rel_dir = "" if dirpath == w.path else dirpath[len(base) :] + "/"
        dirnames[:] = [
            d
            for d in dirnames
            if not filters.ignored_dir(d, rel_dir + d, w.ignore)
            and os.path.join(dirpath, d) != skip
        ]
        for name in filenames:
            rel = rel_dir + name
            if not filters.ignored_rel(rel, w.ignore):
                yield rel, os.path.join(dirpath, name)


def changed(w: Watched, known: dict[str, FileState], skip: str = "") -> Iterator[str]:
    """Relative paths of the files whose size or mtime differ from what `known` recorded
    (new files included): what changed while no loop was watching."""
    for rel, path in files(w, skip=skip):
        try:
            s = os.stat(path, follow_symlinks=False)
        except OSError:
            continue
        f = known.get(rel)
        if f is None or f.mtime_ns != s.st_mtime_ns or f.size != s.st_size:
            yield rel
