"""May a sidecar be trusted? Its governing fields against the `extra.meta` of its row.

A `put` row commits the sidecar's category, classification, kind, sync_class, tags and title
(salted, `extra.meta`, see core.log.hashing) and a `move` repeats it, so an edited `sync_class`
cannot carry a private memory out through export or sync. One judgement, shared by the doctor
and export (and meant for import and sync): `judge(sidecar, row)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from core.errors import BrainError
from core.log.hashing import sidecar_meta
from core.models import Sidecar

TRUSTED = "trusted"  # the row commits these fields and they match
UNPROTECTED = "unprotected"  # written before the rule: the row has no extra.meta
NOT_COMMITTED = "not-committed"  # tombstones and purge stubs: nothing to commit by design
TAMPERED = "tampered"


@dataclass(frozen=True, slots=True)
class MemoryRowMeta:
    """What of a put, move or delete row the judgement needs."""

    op: str
    path: str
    meta: str | None  # extra.meta, None when absent


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # TRUSTED | UNPROTECTED | NOT_COMMITTED | TAMPERED
    why: str = ""  # for TAMPERED: one line


def judge(side: Sidecar, row: MemoryRowMeta | None) -> Verdict:
    """`row` is the row with seq `side.seq` (None: the log holds no such memory row)."""
    if side.state == "purged":
        return Verdict(NOT_COMMITTED)
    if row is None:
        return Verdict(TAMPERED, f"no put, move or delete row has seq {side.seq}")
    if row.op == "delete":
        if side.state == "tombstoned":
            return Verdict(NOT_COMMITTED)
        return Verdict(TAMPERED, f"row seq {side.seq} is a delete, yet the sidecar is active")
    if row.meta is None:
        return Verdict(UNPROTECTED)
    try:
        got = sidecar_meta(side, side.salt)
    except (ValueError, TypeError, BrainError):
        got = ""  # a salt that is not hex, or fields that are not canonical JSON
    if got != row.meta:
        return Verdict(
            TAMPERED,
            f"the title, tags, category, classification, sync_class or kind differ from what"
            f" row seq {side.seq} committed (extra.meta)",
        )
    return Verdict(TRUSTED)


def row_meta(op: str, path: str, extra: dict[str, Any]) -> MemoryRowMeta:
    meta = extra.get("meta")
    return MemoryRowMeta(op, path, meta if isinstance(meta, str) else None)


class _RowHead(msgspec.Struct):
    seq: int
    op: str
    path: str
    extra: dict[str, Any] = {}


_MEMORY_OPS = frozenset({"put", "move", "delete"})
_head = msgspec.json.Decoder(_RowHead)


def log_rows(binlog) -> dict[int, MemoryRowMeta]:
    """seq -> MemoryRowMeta of every put, move and delete row in the log (one pass)."""
    from core.log import frames

    out: dict[int, MemoryRowMeta] = {}
    for item in binlog.iter_frames():
        if isinstance(item, frames.BadFrame):
            raise BrainError(f"the audit log cannot be read ({item.reason}); run `brain doctor`")
        r = _head.decode(item.payload)
        if r.op in _MEMORY_OPS:
            out[r.seq] = row_meta(r.op, r.path, r.extra)
    return out
