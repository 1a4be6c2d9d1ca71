"""SQLite connections for the embedded hub storage: one per thread per file, WAL, a busy
timeout, and write transactions taken up front (`BEGIN IMMEDIATE`), so several threads and
several uvicorn worker processes can share the files safely."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 30_000


class Files:
    def __init__(self) -> None:
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def connect(self, path: Path, schema: str) -> sqlite3.Connection:
        """This thread's connection to `path` (made, with `schema` applied, on first use)."""
        conns: dict[Path, sqlite3.Connection] = getattr(self._local, "conns", None) or {}
        self._local.conns = conns
        db = conns.get(path)
        if db is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")  # an accepted push survives a power cut
            db.execute("PRAGMA secure_delete=ON")  # a purged payload is zeroed, not freed
            db.executescript(schema)
            conns[path] = db
            with self._all_lock:
                self._all.append(db)
        return db

    @staticmethod
    @contextmanager
    def tx(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so two writers never both read-then-write."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @staticmethod
    @contextmanager
    def snapshot(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same state."""
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for db in conns:
            db.close()
        self._local = threading.local()


__all__ = ["BUSY_TIMEOUT_MS", "Files"]
