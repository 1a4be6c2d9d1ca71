"""The sync client's persisted state machines: `local/sync.sqlite` (docs/sync.md, "Client
state"). Per machine, never exported (it lives under `local/`).

- outbox, one row per local row to send (key: its seq): `pending-push` → `pushed` (the request
  is about to go out; marked durably first) → `confirmed` (accepted or duplicate) | `refused`
  (the hub's reason). `superseded`: a newer local row of the same path was queued before this
  one was sent, so only the path's current version travels. kind `put` (an envelope of a put or
  move row) or `purge` (a purge notice).
- inbox, one row per hub cursor: `pending-pull` (the item's JSON kept here, stored in the same
  transaction that moves the pull cursor) → `imported` | `conflict` | `skipped` (with why).
- meta: cursors (`push_scan`: local seqs scanned; `pull`: the hub cursor), last push/pull time
  and outcome, the last error and the next retry time, the orchestrator's heartbeat.

WAL with synchronous=FULL: a commit is durable when it returns, so "pushed" is on disk before
the request leaves and a kill at any point resumes from what the file says.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core import fsio
from core.errors import BrainError

FILE = "sync.sqlite"  # under local/
OUT_STATES = ("pending-push", "pushed", "confirmed", "refused", "superseded")
IN_STATES = ("pending-pull", "imported", "conflict", "skipped")
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('put', 'purge')),
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_ns INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, seq);
CREATE INDEX IF NOT EXISTS outbox_path ON outbox (path, seq);
CREATE TABLE IF NOT EXISTS inbox (
    cursor INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('envelope', 'purge')),
    origin TEXT NOT NULL,
    seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    state TEXT NOT NULL,
    item BLOB,
    reason TEXT NOT NULL DEFAULT '',
    copy TEXT NOT NULL DEFAULT '',
    updated_ns INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS inbox_state ON inbox (state, cursor);
CREATE INDEX IF NOT EXISTS inbox_path ON inbox (path, cursor);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
"""


@dataclass(frozen=True)
class OutItem:
    seq: int
    path: str
    kind: str
    state: str
    attempts: int


@dataclass(frozen=True)
class InItem:
    cursor: int
    kind: str
    origin: str
    seq: int
    path: str
    state: str
    item: bytes
    reason: str = ""
    copy: str = ""


class Queue:
    """One connection, serialised by a lock: the orchestrator's thread and a "sync now" from
    the UI may share it."""

    def __init__(self, root: Path) -> None:
        local = Path(root) / "local"
        fsio.mkdirs(local)
        self.path = local / FILE
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            # Pulled bodies pass through here: freed pages are zeroed, so a purge leaves none.
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.execute("PRAGMA busy_timeout=10000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise BrainError(
                f"{self.path}: the sync queue cannot be opened ({e}); move it aside and run"
                " `brain sync` again (the hub answers duplicate for what was already sent)"
            ) from None
        self._lock = threading.RLock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT under the queue's lock; ROLLBACK on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------------

    def get(self, key: str, default=None):
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set(self, **values) -> None:
        with self._tx() as db:
            db.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(values.items()),
            )

    def bind(self, hub_key: str) -> bool:
        """Cursors and queues belong to one hub and org: joining another starts them over
        (everything shareable is pushed there, everything readable pulled). True if reset."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'hub'").fetchone()
            if row is not None and row[0] == hub_key:
                return False
            if row is not None:
                db.execute("DELETE FROM outbox")
                db.execute("DELETE FROM inbox")
                db.execute("DELETE FROM meta")
            _set(db, "hub", hub_key)
        return row is not None

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, items: Iterable[tuple[int, str, str]], scanned_to: int, now_ns: int) -> int:
        """Queue (seq, path, kind) items and move the scan cursor, in one transaction. A new
        put of a path supersedes its older unsent puts. Returns how many were queued."""
        items = list(items)
        with self._tx() as db:
            before = db.total_changes
            db.executemany(
                "INSERT INTO outbox (seq, path, kind, state, updated_ns)"
                " VALUES (?, ?, ?, 'pending-push', ?) ON CONFLICT (seq) DO NOTHING",
                [(seq, path, kind, now_ns) for seq, path, kind in items],
            )
            n = db.total_changes - before
            db.executemany(  # after the inserts: it also supersedes within this batch
                "UPDATE outbox SET state = 'superseded', updated_ns = ?"
                " WHERE path = ? AND kind = 'put' AND state = 'pending-push' AND seq < ?",
                [(now_ns, path, seq) for seq, path, kind in items if kind == "put"],
            )
            _set(db, "push_scan", scanned_to)
        return n

    def to_send(self, limit: int) -> list[OutItem]:
        """`pushed` first (a restart re-sends them; the hub says duplicate), then pending."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, path, kind, state, attempts FROM outbox"
                " WHERE state IN ('pushed', 'pending-push')"
                " ORDER BY state = 'pending-push', seq LIMIT ?",
                (limit,),
            ).fetchall()
        return [OutItem(*r) for r in rows]

    def mark(self, seqs: Iterable[int], state: str, now_ns: int, error: str = "") -> None:
        if state not in OUT_STATES:
            raise BrainError(f"unknown outbox state {state!r}")
        bump = 1 if state == "pushed" else 0
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state = ?, attempts = attempts + ?, last_error = ?,"
                " updated_ns = ? WHERE seq = ?",
                [(state, bump, error, now_ns, s) for s in seqs],
            )

    def settle(self, outcomes: dict[int, tuple[str, str]], now_ns: int) -> None:
        """{seq: (state, reason)} from one reply, in one transaction."""
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET state = ?, last_error = ?, updated_ns = ? WHERE seq = ?",
                [(st, why, now_ns, seq) for seq, (st, why) in outcomes.items()],
            )

    def note_error(self, seqs: Iterable[int], error: str, now_ns: int) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE outbox SET last_error = ?, updated_ns = ? WHERE seq = ?",
                [(error, now_ns, s) for s in seqs],
            )

    def was_sent(self, path: str) -> bool:
        """Did any version of `path` leave (or may have left) this machine?"""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM outbox WHERE path = ? AND kind = 'put'"
                " AND state IN ('pushed', 'confirmed') LIMIT 1",
                (path,),
            ).fetchone()
        return row is not None

    def latest_out(self, path: str) -> OutItem | None:
        with self._lock:
            row = self._db.execute(
                "SELECT seq, path, kind, state, attempts FROM outbox WHERE path = ?"
                " AND state != 'superseded' ORDER BY seq DESC LIMIT 1",
                (path,),
            ).fetchone()
        return OutItem(*row) if row else None

    def refusals(self, limit: int = 100) -> list[tuple[str, int, str]]:
        """(path, seq, the hub's reason) of refused items, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, seq, last_error FROM outbox WHERE state = 'refused'"
                " ORDER BY seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(p, s, r) for p, s, r in rows]

    # -- inbox ------------------------------------------------------------------------------

    def stash(self, items: Iterable[InItem], cursor: int, now_ns: int) -> None:
        """One pulled page and the new pull cursor, together or not at all."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO inbox (cursor, kind, origin, seq, path, state, item, updated_ns)"
                " VALUES (?, ?, ?, ?, ?, 'pending-pull', ?, ?) ON CONFLICT (cursor) DO NOTHING",
                [(i.cursor, i.kind, i.origin, i.seq, i.path, i.item, now_ns) for i in items],
            )
            _set(db, "pull", cursor)

    def to_import(self, limit: int) -> list[InItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT cursor, kind, origin, seq, path, state, item FROM inbox"
                " WHERE state = 'pending-pull' ORDER BY cursor LIMIT ?",
                (limit,),
            ).fetchall()
        return [InItem(*r) for r in rows]

    def resolve(self, outcomes: dict[int, tuple[str, str, str]], now_ns: int) -> None:
        """{cursor: (state, reason, copy)}; the envelope bytes are dropped once imported (the
        store holds the memory now; a purge must not find a copy here)."""
        for st, _, _ in outcomes.values():
            if st not in IN_STATES:
                raise BrainError(f"unknown inbox state {st!r}")
        with self._tx() as db:
            db.executemany(
                "UPDATE inbox SET state = ?, reason = ?, copy = ?, item = NULL, updated_ns = ?"
                " WHERE cursor = ?",
                [(st, why, copy, now_ns, c) for c, (st, why, copy) in outcomes.items()],
            )

    def forget_path(self, origin: str, path: str) -> int:
        """A purge notice arrived: drop any copy of that path's bodies still waiting here, and
        its conflicts (their copies are erased with it)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE inbox SET state = 'skipped', reason = 'purged at its origin', item = NULL,"
                " copy = '' WHERE origin = ? AND path = ? AND kind = 'envelope'"
                " AND state IN ('pending-pull', 'conflict')",
                (origin, path),
            )
        return cur.rowcount

    def settle_conflict(self, origin: str, path: str, state: str, take: str) -> int:
        """A person resolved the conflict of `path` from `origin` (core.sync.conflicts)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE inbox SET state = ?, reason = ?, copy = '' WHERE origin = ? AND path = ?"
                " AND state = 'conflict'",
                (state, f"conflict resolved: took {take}", origin, path),
            )
        return cur.rowcount

    def scrub(self) -> None:
        """After a purge: fold the WAL into the file and truncate it, so no old frame still
        holds a pulled body (secure_delete zeroed the freed pages)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def conflicts(self, limit: int = 1000) -> list[InItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT cursor, kind, origin, seq, path, state, x'', reason, copy FROM inbox"
                " WHERE state = 'conflict' ORDER BY cursor DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [InItem(*r) for r in rows]

    def latest_in(self, path: str) -> InItem | None:
        with self._lock:
            row = self._db.execute(
                "SELECT cursor, kind, origin, seq, path, state, x'', reason, copy FROM inbox"
                " WHERE path = ? ORDER BY cursor DESC LIMIT 1",
                (path,),
            ).fetchone()
        return InItem(*row) if row else None

    # -- counts -----------------------------------------------------------------------------

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        with self._lock:
            out = dict(self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state"))
            inn = dict(self._db.execute("SELECT state, count(*) FROM inbox GROUP BY state"))
        return (
            {s: out.get(s, 0) for s in OUT_STATES},
            {s: inn.get(s, 0) for s in IN_STATES},
        )


def _set(db: sqlite3.Connection, key: str, value) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


__all__ = ["IN_STATES", "OUT_STATES", "InItem", "OutItem", "Queue"]
