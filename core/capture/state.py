"""The capture loop's memory between runs, in `local/capture/`.

`state.json`: per watched folder, each file's (mtime, size, keyed digest, memory path, seq) as
last captured, and counters. A restarted loop compares every file with it, so files changed
while it was down are captured and unchanged ones are not read twice; the store's idempotent
put is the last guard (the same body at the same path writes no row), so a state file lost or
older than the ledger costs re-reads, never duplicates. Digests are HMACs (naming.py), never a
plain hash of a body (PROTOCOL).

`daemon.json`: the heartbeat (pid, host, program, start, last beat), rewritten every few
seconds by the loop that holds `lock`; the doctor calls a held lock with an old beat stuck.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core import fsio
from core.errors import BrainError
from core.layout import Layout
from core.write import lock

HEARTBEAT_S = 5.0


class FileState(msgspec.Struct, omit_defaults=True):
    mtime_ns: int
    size: int
    digest: str = ""  # "" = skipped (see skip)
    path: str = ""
    seq: int = 0
    skip: str = ""  # why it was not captured (binary, over 1 MiB, refused: ...)


class FolderState(msgspec.Struct):
    files: dict[str, FileState] = {}
    captured: int = 0  # puts that wrote a row
    unchanged: int = 0  # reads that found the content already captured
    skipped: int = 0
    errors: int = 0
    last_capture_ns: int = 0
    last_error: str = ""


class CaptureState(msgspec.Struct):
    version: int = 1
    folders: dict[str, FolderState] = {}

    def of(self, folder_id: str) -> FolderState:
        fs = self.folders.get(folder_id)
        if fs is None:
            fs = self.folders[folder_id] = FolderState()
        return fs


class Heartbeat(msgspec.Struct):
    pid: int
    host: str
    program: str
    started_ns: int
    beat_ns: int
    stopped_ns: int = 0
    pending: int = 0
    captured: int = 0


def state_path(layout: Layout) -> Path:
    return layout.local / "capture" / "state.json"


def heartbeat_path(layout: Layout) -> Path:
    return layout.local / "capture" / "daemon.json"


def lock_path(layout: Layout) -> Path:
    return layout.local / "capture" / "lock"


def load_state(layout: Layout) -> CaptureState:
    try:
        return msgspec.json.decode(state_path(layout).read_bytes(), type=CaptureState)
    except FileNotFoundError:
        return CaptureState()
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        # Derived and local: start over (every file is re-read; the put is idempotent).
        return CaptureState()


def save_state(layout: Layout, st: CaptureState) -> None:
    fsio.write_file(state_path(layout), msgspec.json.encode(st))


def load_heartbeat(layout: Layout) -> Heartbeat | None:
    try:
        return msgspec.json.decode(heartbeat_path(layout).read_bytes(), type=Heartbeat)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def save_heartbeat(layout: Layout, hb: Heartbeat) -> None:
    fsio.write_file(heartbeat_path(layout), msgspec.json.encode(hb))


class CaptureBusy(BrainError):
    """Another capture loop (daemon or TUI worker) holds this store's capture lock."""


class CaptureLock(lock.ProgramLock):
    """One capture loop per store, whichever program runs it (local/capture/lock)."""

    def __init__(self, layout: Layout, program: str) -> None:
        self.layout = layout
        super().__init__(
            lock_path(layout),
            program,
            lambda who: CaptureBusy(
                f"a capture loop already runs for the store at {layout.root}"
                f" ({who}); one capture loop per store: stop it first"
            ),
        )


def holder(layout: Layout) -> str:
    return lock.program_holder(lock_path(layout))


def is_running(layout: Layout) -> bool:
    """Does some process hold the capture lock right now?"""
    return lock.is_locked(lock_path(layout))
