"""`brain status`: what capture, the PII gate and sync look like on this machine, at a glance.

Cheap on purpose (no doctor walk): the doctor's state is the verdict the last walk recorded
(local/verdict.json) or the engine's own freeze, and `doctor_verdict` says which.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import msgspec

from core.capture import config
from core.capture import state as st

if TYPE_CHECKING:
    from core.store import Store

STUCK_AFTER_S = 60  # a loop that holds its lock and has not beaten for this long is stuck


class FolderStatus(msgspec.Struct):
    path: str
    id: str
    exists: bool
    sync_class: str
    classification: str
    ignore: list[str]
    rate_per_s: int
    burst: int
    captured: int
    unchanged: int
    skipped: int
    errors: int
    tracked_files: int
    last_capture_ns: int
    last_error: str


class DaemonStatus(msgspec.Struct):
    running: bool
    stuck: bool
    holder: str
    pid: int = 0
    started_ns: int = 0
    beat_ns: int = 0
    beat_age_s: int = -1
    pending: int = 0


class Status(msgspec.Struct):
    store: str
    head_seq: int
    state: str
    doctor_verdict: str  # the verdict recorded by the last `brain doctor`, or "none recorded"
    watched: list[FolderStatus]
    captured_total: int
    daemon: DaemonStatus
    pending_pii: int
    pending_pii_note: str
    last_sync: str
    # The process whose door takes this store's CLI puts ("pid N (program)"), or "".
    door: str = ""


def daemon_status(store: Store, now_ns: int | None = None) -> DaemonStatus:
    layout = store.layout
    running = st.is_running(layout)
    hb = st.load_heartbeat(layout)
    now_ns = time.time_ns() if now_ns is None else now_ns
    if hb is None:
        return DaemonStatus(running, False, st.holder(layout) if running else "")
    age = max(0, (now_ns - hb.beat_ns) // 1_000_000_000)
    return DaemonStatus(
        running=running,
        stuck=running and age > STUCK_AFTER_S,
        holder=st.holder(layout) if running else "",
        pid=hb.pid,
        started_ns=hb.started_ns,
        beat_ns=hb.beat_ns,
        beat_age_s=age,
        pending=hb.pending if running else 0,
    )


def status(store: Store) -> Status:
    from core import verdict

    cfg = config.load(store.layout)
    cs = st.load_state(store.layout)
    folders = []
    for w in cfg.folders:
        fs = cs.folders.get(w.id) or st.FolderState()
        folders.append(
            FolderStatus(
                path=w.path,
                id=w.id,
                exists=os.path.isdir(w.path),
                sync_class=w.sync_class,
                classification=w.classification or "internal",
                ignore=list(w.ignore),
                rate_per_s=w.rate_per_s,
                burst=w.burst,
                captured=fs.captured,
                unchanged=fs.unchanged,
                skipped=fs.skipped,
                errors=fs.errors,
                tracked_files=len(fs.files),
                last_capture_ns=fs.last_capture_ns,
                last_error=fs.last_error,
            )
        )
    frozen = store.frozen()
    rec = verdict.read(store.layout)
    try:
        captured_total = store.memory_count(
            kind="facts", folder_prefix="facts/captured", state="active"
        )
    except Exception:  # noqa: BLE001 - a damaged index: the per-folder counts still show
        captured_total = sum(f.captured for f in folders)
    return Status(
        store=str(store.root),
        head_seq=store.tip.seq,
        state=frozen[0] if frozen else "READY",
        doctor_verdict=f"{rec.state}: {rec.reason}" if rec is not None else "none recorded",
        watched=folders,
        captured_total=captured_total,
        daemon=daemon_status(store),
        pending_pii=store.pii_pending_count(),
        pending_pii_note="held for PII review: `brain pending`",
        last_sync=_last_sync(store),
        door=_door(store),
    )


def _door(store: Store) -> str:
    from core import door

    w = door.who(str(store.root))
    return f"pid {w.pid} ({w.program})" if w is not None else ""


def _last_sync(store: Store) -> str:
    """ "never" until this store has joined a hub and a pass ran; then when and how."""
    from core.sync import config as sync_config

    try:
        if sync_config.load(store.root) is None:
            return "never"
        st = store.sync.status()
    except Exception as e:  # noqa: BLE001 - a damaged sync file is shown, not raised
        return f"unknown ({e})"
    last = max(st.last_push_ns, st.last_pull_ns)
    if not last:
        return f"never (joined {st.hub}, mode {st.mode})"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last / 1e9))
    outcome = st.last_error or "ok"
    return f"{when} with {st.hub} ({outcome}; mode {st.mode})"
