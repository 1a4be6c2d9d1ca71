"""The state one doctor run shares between invariants: the store, the mode, and the walks
(log, files) that several invariants read, each done once and cached."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.doctor.model import InvariantResult

if TYPE_CHECKING:
    from core.doctor.filewalk import FileFacts
    from core.doctor.logwalk import LogFacts
    from core.store import Store

Progress = Callable[[int, int, str], None]
TICK_EVERY = 4096  # rows or files between progress reports inside a long walk


class Cancelled(Exception):
    """Raised inside a walk when the caller's cancel event is set."""


@dataclass
class Ctx:
    store: Store
    full: bool
    progress: Progress | None = None
    cancel: threading.Event | None = None
    total: int = 0
    done: int = 0
    current: str = ""
    results: list[InvariantResult] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self):
        return self.store.root

    @property
    def layout(self):
        return self.store.layout

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled

    def tick(self, k: int, n: int | None = None, what: str = "rows") -> None:
        """Called inside long walks: honour cancel, and stream progress now and then."""
        if k % TICK_EVERY:
            return
        self.check_cancel()
        if self.progress is not None:
            of = f"/{n:,}" if n else ""
            self.progress(self.done, self.total, f"{self.current}: {k:,}{of} {what}")

    # -- shared walks (each done once per run) -------------------------------------------

    @property
    def log(self) -> LogFacts:
        if "log" not in self.cache:
            from core.doctor.logwalk import walk_log

            self.cache["log"] = walk_log(self)
        return self.cache["log"]

    @property
    def files(self) -> FileFacts:
        if "files" not in self.cache:
            from core.doctor.filewalk import walk_files

            self.cache["files"] = walk_files(self)
        return self.cache["files"]

    @property
    def replay_pending(self) -> frozenset[str]:
        """Files that the journal's complete records write, move or remove and whose rows are
        not in the log yet: a writer that died after its commit point (or ran out of disk)
        left them half applied, and the next writer replays them. (Files are applied before
        a record's rows reach the log, so a record whose rows are there was applied whole.)"""
        if "replay" not in self.cache:
            from core.layout import sidecar_path
            from core.write.journal import Journal

            out: set[str] = set()
            try:
                records, _end, _torn = Journal.read_path(self.layout.journal)
            except Exception:  # noqa: BLE001 - a damaged journal is chain.journal's finding
                records = []
            head = self.log.head
            for rec in records:
                if rec.last_seq <= head:
                    continue  # its rows are in the log: its files were applied before them
                for w in rec.writes:
                    out.update((w.path, sidecar_path(w.path)))
                for v in rec.versions:
                    out.update((v.src, v.dst, sidecar_path(v.src), sidecar_path(v.dst)))
                for rel in rec.removes:
                    out.update((rel, sidecar_path(rel)))
            self.cache["replay"] = frozenset(out)
        return self.cache["replay"]

    @property
    def live(self) -> bool:
        """A writer (ours or another process's) holds the lock: files may move under us."""
        if "live" not in self.cache:
            from core.write import lock

            held = self.store.session.held
            self.cache["live"] = held or lock.is_locked(self.layout.lock)
        return self.cache["live"]

    def result(self, inv_id: str) -> InvariantResult | None:
        return next((r for r in self.results if r.id == inv_id), None)

    def rel(self, path) -> str:
        """A path relative to the store root (POSIX), or as given when outside it."""
        from pathlib import Path

        p = Path(path)
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)
