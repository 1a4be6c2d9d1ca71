"""`audit/journal.wal`: one record per commit group; its fdatasync is the commit point."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import fsio
from core.log import canonical, frames


@dataclass(slots=True)
class Write:
    path: str
    body: bytes | None  # None: only the sidecar is written (a purge stub)
    sidecar: dict[str, Any]


@dataclass(slots=True)
class VersionMove:
    src: str
    dst: str
    seq: int


@dataclass(slots=True)
class Record:
    frames: list[bytes] = field(default_factory=list)  # encoded binlog frames, in seq order
    writes: list[Write] = field(default_factory=list)
    versions: list[VersionMove] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    first_seq: int = 0
    first_ts: int = 0
    last_seq: int = 0

    def encode(self) -> bytes:
        obj = {
            "frames": [_b64(f) for f in self.frames],
            "writes": [
                {
                    "path": w.path,
                    "body_b64": None if w.body is None else _b64(w.body),
                    "sidecar": w.sidecar,
                }
                for w in self.writes
            ],
            "versions": [{"from": v.src, "to": v.dst, "seq": v.seq} for v in self.versions],
            "removes": self.removes,
        }
        return frames.encode(
            self.first_seq, self.first_ts, canonical.encode(obj, check=False), limit=None
        )


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _decode(frame: frames.Frame) -> Record:
    obj = canonical.decode(frame.payload)
    rec = Record(first_seq=frame.seq, first_ts=frame.ts_ns)
    rec.frames = [base64.b64decode(f) for f in obj["frames"]]
    rec.writes = [
        Write(
            w["path"],
            None if w["body_b64"] is None else base64.b64decode(w["body_b64"]),
            w["sidecar"],
        )
        for w in obj["writes"]
    ]
    rec.versions = [VersionMove(v["from"], v["to"], v["seq"]) for v in obj["versions"]]
    rec.removes = list(obj["removes"])
    if rec.frames:
        last = frames.HEADER.unpack_from(rec.frames[-1], 0)
        rec.last_seq = last[2]
    return rec


# Blocks reserved past the end (the file's size is unchanged): an append that needs a new block
# makes fdatasync also write allocation metadata, which more than doubled its cost on ext4 here.
PREALLOCATE = 8 << 20


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        created = not path.exists()
        self._fd = fsio.open_fd(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        if created:
            # fdatasync makes the contents durable, not the name: without this a power loss
            # before the first flush loses the journal file and every write it acknowledged.
            fsio.fsync_dir(path.parent)
        self.size = os.fstat(self._fd).st_size
        fsio.preallocate(self._fd, PREALLOCATE)
        self._syncer: _Syncer | None = None

    def commit(self, record: Record, during: Callable[[], None] | None = None) -> None:
        """Append and fdatasync: once this returns, the group survives a power loss.

        `during` runs while the device syncs (on the real backend the fdatasync runs on a
        helper thread meanwhile; under a test backend it runs first, then the sync, so the
        call order stays deterministic). If either fails, the error is raised after both
        ended: the caller decides whether the record stands (the size counts it either way
        once written)."""
        data = record.encode()
        fsio.write(self._fd, data)
        self.size += len(data)
        if during is None:
            fsio.fdatasync(self._fd)
        elif type(fsio.backend) is fsio.RealIO:
            if self._syncer is None:
                self._syncer = _Syncer()
            self._syncer.start(self._fd)
            try:
                during()
            finally:
                self._syncer.wait()
        else:
            during()
            fsio.fdatasync(self._fd)

    def read(self) -> tuple[list[Record], int]:
        """Complete records and the byte length they span; a torn tail is left out."""
        return self.read_path(self.path)

    @staticmethod
    def read_path(path: Path) -> tuple[list[Record], int]:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return [], 0
        records, good_end = [], 0
        for item in frames.iter_frames(data, check_rows=False, limit=None):
            if isinstance(item, frames.BadFrame):
                break
            records.append(_decode(item))
            good_end = item.end
        return records, good_end

    def reload(self) -> None:
        """Another holder of the lock may have left records (it died after a commit point)."""
        self.size = os.fstat(self._fd).st_size

    def cut(self, size: int, *, durable: bool = False) -> None:
        # The flush's cut is not synced (PROTOCOL): replay is idempotent and skips records the
        # binlog already holds, so a truncation lost to a power cut only costs a replay.
        fsio.ftruncate(self._fd, size)
        if durable:
            fsio.fdatasync(self._fd)
        self.size = size
        fsio.preallocate(self._fd, PREALLOCATE)  # truncation gave the blocks back

    def close(self) -> None:
        if self._syncer is not None:
            self._syncer.stop()
            self._syncer = None
        fsio.close(self._fd)


class _Syncer:
    """One helper thread that runs a journal fdatasync while the committing thread stages the
    group's files (the sync releases the GIL; creating files costs as much as the sync)."""

    def __init__(self) -> None:
        self._go = threading.Event()
        self._done = threading.Event()
        self._fd = -1
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="brain-journal-sync", daemon=True)
        self._thread.start()

    def start(self, fd: int) -> None:
        self._fd, self._error = fd, None
        self._done.clear()
        self._go.set()

    def wait(self) -> None:
        self._done.wait()
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        self._fd = -1
        self._go.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._go.wait()
            self._go.clear()
            if self._fd < 0:
                return
            try:
                fsio.fdatasync(self._fd)
            except BaseException as e:  # noqa: BLE001 - raised in the committing thread
                self._error = e
            self._done.set()
