"""The derived SQLite index's schema, created with sqlite-utils."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

# 3: memories.status (the `status:` tag's value), its partial index and the maintained
# per-folder status counts (pane 5's queue: keyset pages and a count that cost the same at
# 10k pending as at 10). An index of another version is dropped and rebuilt from the files.
SCHEMA_VERSION = 3
TEXT_DEFERRED = "text_deferred"  # meta key present while a bulk load defers memories_fts


BUSY_TIMEOUT_MS = 5000  # how long a statement waits for another connection's lock


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = _connect_readonly(path)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    # Freed pages are zeroed, so a purged body leaves nothing in the file's free list.
    conn.execute("PRAGMA secure_delete = ON")
    # Temporary tables, sorts and statement journals stay in memory: none lands in /var/tmp,
    # where a copy of a purged body could outlive the purge in freed blocks.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """BEGIN … COMMIT, or ROLLBACK on any error. SQLite rolls back by itself when a statement
    or the COMMIT fails with a full disk or an I/O error: a second ROLLBACK would then hide the
    real error behind "cannot rollback - no transaction is active"."""
    conn.execute(f"BEGIN {mode}")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _connect_readonly(path: str) -> sqlite3.Connection:
    """A connection that never writes. A missing index is an error (a read-only open must not
    create one); on read-only media, where SQLite cannot make the WAL's shared-memory file,
    the file is opened as immutable (it cannot change under us there)."""
    if not os.path.exists(path):
        raise sqlite3.OperationalError(f"{path} does not exist (open the store for writing once)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        conn.close()
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)


def meta(conn: sqlite3.Connection, key: str) -> str | None:
    """A value of the index's meta table (raises when the index cannot be read)."""
    hit = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return hit[0] if hit else None


def last_applied(conn: sqlite3.Connection) -> int:
    """The newest row the index has applied, as its meta table says."""
    (cur,) = conn.execute(
        "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_applied'"
    ).fetchone()
    return int(cur)


def current(conn: sqlite3.Connection) -> bool:
    """True when the file holds our schema version (else it is dropped and rebuilt)."""
    try:
        hit = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return False
        raise  # a full disk, an I/O error: the index may be fine; never drop it for that
    if hit is None or hit[0] != str(SCHEMA_VERSION):
        return False
    # A bulk load that never finished (core.index.rebuild.defer_text) left memories without
    # their text: rebuilt like an index of another version.
    return conn.execute(f"SELECT 1 FROM meta WHERE key = '{TEXT_DEFERRED}'").fetchone() is None


def create(conn: sqlite3.Connection) -> None:
    # Checked in plain SQL first: sqlite_utils costs ~0.1 s to import (more with numpy, which
    # it imports when installed, as the semantic extra does), and only a new index needs it.
    if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone():
        return
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    if "meta" in db.table_names():
        return
    with transaction(conn):
        if "meta" in db.table_names():
            return
        db.table("memories").create(
            {
                "id": int,
                "path": str,
                "ckey": str,
                "kind": str,
                "folder": str,
                "title": str,
                "category": str,
                "tags": str,
                "sync_class": str,
                "classification": str,
                "state": str,
                "created_ns": int,
                "updated_ns": int,
                "actor": str,
                "seq": int,
                "pii_status": str,
                "tier": str,
                "score": int,
                "pinned": int,
                "status": str,
            },
            pk="id",
            not_null=["path", "kind", "state"],
            defaults={"tier": "cold", "score": 0, "pinned": 0},
        )
        db.table("memories").create_index(["path"], unique=True)
        db.table("memories").create_index(["kind", "folder"])
        db.table("memories").create_index(["updated_ns"])
        db.table("memories").create_index(["ckey"])
        _status_queue(conn)
        db.table("audit").create(
            {
                "seq": int,
                "ts_ns": int,
                "op": str,
                "path": str,
                "actor": str,
                "commit_": str,
                "prev_chain": str,
                "chain": str,
                "extra": str,
            },
            pk="seq",
        )
        db.table("audit").create_index(["path", "seq"])
        db.table("audit").create_index(["op", "seq"])
        db.table("audit").create_index(["actor", "seq"])
        db.table("access").create({"path": str, "count": int, "last_ns": int}, pk="path")
        # Single accesses too: tiering counts accesses inside time windows (24 h, 7 days).
        db.table("access_events").create({"path": str, "ts_ns": int})
        db.table("access_events").create_index(["path", "ts_ns"])
        db.table("access_events").create_index(["ts_ns"])
        # One vector per active memory (float32, normalised), keyed like memories.id.
        db.table("embeddings").create({"id": int, "model": str, "dim": int, "vec": bytes}, pk="id")
        db.table("meta").create({"key": str, "value": str}, pk="key")
        conn.execute(
            "CREATE VIRTUAL TABLE memories_fts USING fts5("
            "title, body, tags, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?)",
            [("schema", str(SCHEMA_VERSION)), ("last_applied", "0"), ("last_applied_offset", "0")],
        )


# A memory counts under (folder, status) while it is active and carries a status. The
# triggers keep the counts with every row change the index makes (upsert, move, removal,
# rebuild), in the same transaction, so no caller can forget one.
_COUNTED = "{r}.state = 'active' AND {r}.status IS NOT NULL"
_COLS = "state, status, folder"  # tier, pin and score updates (tiering) fire no trigger
_CHANGED = (
    "(OLD.state IS NOT NEW.state OR OLD.status IS NOT NEW.status OR OLD.folder IS NOT NEW.folder)"
)
_ADD = (
    "INSERT INTO status_counts (folder, status, n) VALUES (NEW.folder, NEW.status, 1)"
    " ON CONFLICT (folder, status) DO UPDATE SET n = n + 1;"
)
_SUB = "UPDATE status_counts SET n = n - 1 WHERE folder = OLD.folder AND status = OLD.status;"


def _status_queue(conn: sqlite3.Connection) -> None:
    """The status column's partial index (keyset pages by seq within one status) and the
    maintained counts (a header's count is one lookup, not a scan of the queue)."""
    conn.execute(
        "CREATE INDEX memories_status_seq ON memories (status, seq)"
        " WHERE state = 'active' AND status IS NOT NULL"
    )
    conn.execute(
        "CREATE TABLE status_counts (folder TEXT NOT NULL, status TEXT NOT NULL,"
        " n INTEGER NOT NULL, PRIMARY KEY (folder, status)) WITHOUT ROWID"
    )
    new, old = _COUNTED.format(r="NEW"), _COUNTED.format(r="OLD")
    for sql in (
        f"CREATE TRIGGER status_ins AFTER INSERT ON memories WHEN {new} BEGIN {_ADD} END",
        f"CREATE TRIGGER status_del AFTER DELETE ON memories WHEN {old} BEGIN {_SUB} END",
        f"CREATE TRIGGER status_upd_old AFTER UPDATE OF {_COLS} ON memories"
        f" WHEN {old} AND {_CHANGED}"
        f" BEGIN {_SUB} END",
        f"CREATE TRIGGER status_upd_new AFTER UPDATE OF {_COLS} ON memories"
        f" WHEN {new} AND {_CHANGED}"
        f" BEGIN {_ADD} END",
    ):
        conn.execute(sql)
