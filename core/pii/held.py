"""Which memories the chain says are held for PII review (no store, no files: rows only).

The sidecar's `pii_status` is what the write path recorded, but it is not committed: an edited
sidecar could turn `held` into `clean`. Export, import and doctor therefore read the rows too.
Walking them in order: a `put` starts a version that is not held; a `pii.held` row (written in
the same request, right after its put) holds the path; a `pii.resolved` row (written before the
put or purge of its resolution, or alone for a release) releases it; a `move` carries the hold
to its destination; a `delete` ends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class _Row(Protocol):
    op: str
    path: str
    extra: dict[str, Any]


def held_paths(rows: Iterable[_Row]) -> set[str]:
    """Paths whose current version the rows leave held."""
    held: set[str] = set()
    for r in rows:
        op = r.op
        if op in ("put", "delete", "pii.resolved"):
            held.discard(r.path)
        elif op == "pii.held":
            held.add(r.path)
        elif op == "move":
            src = r.extra.get("from")
            if isinstance(src, str) and src in held:
                held.discard(src)
                held.add(r.path)
    return held
