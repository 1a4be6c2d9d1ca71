"""`brain capture-daemon`: the capture loop in the foreground, for systemd or launchd.

SIGTERM and SIGINT stop it cleanly (the state file and the heartbeat are saved, the capture
lock released); a SIGKILL loses nothing either: the kernel drops the lock, and the next run
catches up from the state file and the folders themselves.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.capture.loop import CaptureLoop, Event

if TYPE_CHECKING:
    from core.store import Store


def log_line(ev: Event) -> str | None:
    """One line per event for the daemon's log (memory paths only, never file names: a
    journal kept by systemd outlives a purge)."""
    if ev.kind == "captured":
        return f"captured  seq {ev.seq}  {ev.path}"
    if ev.kind in ("error", "retry"):
        where = f"  {ev.path}" if ev.path else ""
        return f"{ev.kind}  {ev.folder or '-'}{where}  {ev.detail}"
    if ev.kind == "skipped":
        return f"skipped  {ev.folder}  ({ev.detail})"
    return None


def run(
    store: Store,
    *,
    actor: str,
    debounce_ms: int,
    out: Callable[[str], None] | None = None,
    ready: Callable[[CaptureLoop], None] | None = None,
) -> int:
    def emit(ev: Event) -> None:
        line = log_line(ev)
        if line is not None and out is not None:
            out(line)

    loop = CaptureLoop(store, actor=actor, debounce_ms=debounce_ms, on_event=emit)
    loop.lock.acquire()  # CaptureBusy here, before any handler is installed

    def stop(_sig, _frame) -> None:
        loop.stop_event.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if ready is not None:
        ready(loop)
    try:
        loop.serve()
    except KeyboardInterrupt:
        pass
    return 0


def stderr_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
