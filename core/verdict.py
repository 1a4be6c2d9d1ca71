"""The store's recorded verdict: one FROZEN state that every process reads.

A freeze found by one process (open's checks, the doctor's walk) used to live in that process
only: the next `brain put` was accepted and a long-lived TUI kept writing. The verdict is
written to `local/verdict.json` (per-machine state, never exported); every writer reads it at
each lock acquisition and refuses to write while it is there, `brain state` and the TUI's
header report it, and only `brain doctor --repair` removes it.
"""

from __future__ import annotations

import os
import time

import msgspec

from core import fsio
from core.layout import Layout

FROZEN_RECOVERABLE = "FROZEN_RECOVERABLE"
FROZEN_HUMAN = "FROZEN_HUMAN"
_MAX_BYTES = 64 << 10


class Verdict(msgspec.Struct, frozen=True):
    state: str  # FROZEN_RECOVERABLE | FROZEN_HUMAN
    reason: str
    since_ns: int
    by: str  # the program and pid that recorded it


def path_of(layout: Layout):
    return layout.local / "verdict.json"


def read(layout: Layout) -> Verdict | None:
    """The recorded verdict, or None when the store is not frozen.

    An unreadable file still freezes (as recoverable): mangling it is not a way to unfreeze a
    store silently, and `--repair` rewrites it. Deleting it does lift the freeze until the next
    `brain doctor` finds the same problem (open's own checks find a changed log or checkpoint
    again; a body or sidecar edited by hand only the doctor sees).
    """
    try:
        with open(path_of(layout), "rb") as f:
            raw = f.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        return Verdict(
            FROZEN_RECOVERABLE, f"local/verdict.json is unreadable ({e.strerror})", 0, ""
        )
    try:
        v = msgspec.json.decode(raw, type=Verdict)
    except (msgspec.DecodeError, msgspec.ValidationError):
        v = None
    if v is None or v.state not in (FROZEN_RECOVERABLE, FROZEN_HUMAN) or len(raw) > _MAX_BYTES:
        return Verdict(
            FROZEN_RECOVERABLE,
            "local/verdict.json is damaged; `brain doctor --repair` checks the store again",
            0,
            "",
        )
    return v


# path -> (stat key, verdict): the last verdict file read there, for `read_cached`.
_CACHE: dict[str, tuple[tuple[int, int, int, int, int], Verdict]] = {}


def read_cached(layout: Layout) -> Verdict | None:
    """`read`, for the writer's check before every group: one stat when there is no verdict
    (the common case), and the file read again only when its (device, inode, size, mtime,
    ctime) changed.

    Never hides a verdict: None only when the stat finds no file, so a file another process
    records at any time is seen by the next call. What a hit may return stale is at most the
    text of a verdict that a new file (same inode, size and timestamps) replaced: it still
    refuses writes."""
    p = f"{layout.root}/local/verdict.json"
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return None
    except OSError:
        return read(layout)  # says why it is unreadable (and freezes)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    hit = _CACHE.get(p)
    if hit is not None and hit[0] == key:
        return hit[1]
    v = read(layout)
    if v is None:
        _CACHE.pop(p, None)
        return None
    try:
        st2 = os.stat(p)
    except OSError:
        return v
    if (st2.st_dev, st2.st_ino, st2.st_size, st2.st_mtime_ns, st2.st_ctime_ns) == key:
        _CACHE[p] = (key, v)  # unchanged while we read it: what we read is what the key names
    return v


def record(layout: Layout, state: str, reason: str, program: str) -> Verdict:
    """Write the verdict (atomically, durably). A FROZEN_HUMAN verdict is never downgraded."""
    old = read(layout)
    if old is not None and old.state == FROZEN_HUMAN and state != FROZEN_HUMAN:
        return old
    v = Verdict(state, " ".join(reason.split()), time.time_ns(), f"{program} (pid {os.getpid()})")
    fsio.mkdirs(layout.local)
    fsio.write_file(path_of(layout), msgspec.json.encode(v) + b"\n", durable=True)
    return v


def clear(layout: Layout) -> bool:
    """Remove the verdict (only `brain doctor --repair`, once the store checks clean)."""
    return fsio.remove_durable(path_of(layout))
