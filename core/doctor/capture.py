"""Invariants of capture (issue 14): every watched folder can be read, and the capture loop
(the daemon or the workstation's worker), when one holds the capture lock, is not stuck.

Both are warnings that never freeze the store (no ledger data is at stake) and that no
`--repair` fixes: a person re-creates the folder or unwatches it, restarts the daemon.
"""

from __future__ import annotations

import os

from core.capture import config
from core.capture import status as cstatus
from core.doctor.model import Finding, Invariant, ok, some, warn

SCOPE = "local/capture/"
CONFIG = "local/capture/watched.json"
HEARTBEAT = "local/capture/daemon.json"


def _problem(path: str) -> str | None:
    if not os.path.exists(path):
        return "missing"
    if not os.path.isdir(path):
        return "not a folder"
    if not os.access(path, os.R_OK | os.X_OK):
        return "not readable"
    try:
        with os.scandir(path) as it:
            next(it, None)
    except OSError as e:
        return f"unreadable ({e.strerror or e})"
    return None


def watched_folders(ctx) -> Finding:
    try:
        cfg = config.load(ctx.layout)
    except Exception as e:  # noqa: BLE001 - an unreadable list is the finding
        return warn(f"the watched-folder list is unreadable: {e}", [CONFIG])
    if not cfg.folders:
        return ok("no folder is watched")
    bad = []
    for w in cfg.folders:
        why = _problem(w.path)
        if why is not None:
            bad.append(f"{w.path} ({why})")
    if bad:
        return warn(
            f"{len(bad)} of {len(cfg.folders)} watched folder(s) cannot be read: {some(bad)};"
            " restore them or `brain unwatch` them",
            [CONFIG],
        )
    return ok(f"{len(cfg.folders)} watched folder(s), all readable")


def daemon_alive(ctx) -> Finding:
    d = cstatus.daemon_status(ctx.store)
    if not d.running:
        return ok("no capture loop is running")
    if d.beat_ns == 0:
        return warn(
            f"a capture loop ({d.holder}) holds the capture lock but has never written its"
            " heartbeat",
            [HEARTBEAT],
        )
    if d.stuck:
        return warn(
            f"the capture loop ({d.holder}) holds its lock but its last heartbeat is"
            f" {d.beat_age_s} s old (over {cstatus.STUCK_AFTER_S} s): it is stuck; restart it",
            [HEARTBEAT],
        )
    return ok(f"the capture loop runs ({d.holder}); heartbeat {d.beat_age_s} s ago")


INVARIANTS = [
    Invariant("capture.watched_folders", "warning", SCOPE, watched_folders, False, "watched"),
    Invariant("capture.daemon", "warning", SCOPE, daemon_alive, False, "capture loop alive"),
]
