"""The derived index: applies audit rows (reading the files, which win) and answers queries."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from core import paths
from core.errors import BrainError
from core.index.schema import BUSY_TIMEOUT_MS, connect, create, current, transaction
from core.models import Row, Sidecar
from core.tags import status_of
from core.write.file_view import decode_sidecar, read_sidecar

_MEM_COLS = (
    "path, ckey, kind, folder, title, category, tags, sync_class, classification, state,"
    " created_ns, updated_ns, actor, seq, pii_status, status"
)
_UPSERT = (
    f"INSERT INTO memories ({_MEM_COLS}) VALUES ({', '.join('?' * 16)})"
    " ON CONFLICT(path) DO UPDATE SET "
    + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _MEM_COLS.split(",")[1:])
    + " RETURNING id"
)


_UPSERT_MANY = _UPSERT.removesuffix(" RETURNING id")
# Rows upserted together: few enough that the Python between two SQLite calls (which release
# the GIL) stays short, so the committing thread gets the GIL back soon after its sync.
_RUN_ROWS = 8
_REFRESH_OPS = frozenset(("put", "delete", "pii.resolved"))


def _memory_args(path: str, side: Sidecar) -> tuple[Any, ...]:
    return (
        path,
        paths.casefold_key(path),
        side.kind,
        folder_of(path),
        side.title,
        side.category,
        _json(side.tags),
        side.sync_class,
        side.classification,
        side.state,
        side.created_ns,
        side.updated_ns,
        side.actor,
        side.seq,
        side.pii_status,
        status_of(side.tags),
    )


def audit_args(row: Row) -> tuple[Any, ...]:
    # The audit table is only written by apply, and read by no step of applying a row.
    return (
        row.seq,
        row.ts_ns,
        row.op,
        row.path,
        row.actor,
        row.commit,
        row.prev_chain,
        row.chain,
        _json(row.extra),
    )


AUDIT_INSERT = (
    "INSERT OR REPLACE INTO audit (seq, ts_ns, op, path, actor, commit_, prev_chain, chain,"
    " extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# The index's JSON columns (tags, extra): read back with SQLite's JSON functions or json.loads.
_encode_json = msgspec.json.Encoder(order="sorted").encode


def _json(value: object) -> str:
    return _encode_json(value).decode("utf-8")  # text: SQLite reads a BLOB as JSONB


_DAMAGED = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


class IndexGap(BrainError):
    def __init__(self, last: int, next_seq: int) -> None:
        super().__init__(
            f"the index holds rows up to seq {last} but was handed seq {next_seq};"
            " `brain reindex` rebuilds it"
        )
        self.last, self.next_seq = last, next_seq


# What the writer wrote, handed over with its rows so the index need not read the files
# again: (path, seq of the row that wrote it) -> (the sidecar's JSON as written, the body or
# None); core.index.follower.known_of makes it.
Known = Mapping[tuple[str, int], tuple[bytes, bytes | None]]
Mine = tuple[bytes, bytes | None]


# Full-text rows to write (write_text): memory id -> (title, body, tags), None for no text.
Text = dict[int, tuple[str, str, str] | None]


def _text_of(side: Sidecar, body: bytes) -> tuple[str, str, str] | None:
    if side.state != "active":
        return None
    return side.title, body.decode("utf-8", "replace"), " ".join(side.tags)


def folder_of(path: str) -> str:
    return path[len("memories/") :].rsplit("/", 1)[0]


class IndexWriter:
    """One connection that applies rows. Safe across processes: each batch re-reads
    `last_applied` inside BEGIN IMMEDIATE and skips what another process already applied."""

    def __init__(self, db_path: Path, root: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        existed = db_path.exists()
        self.damaged: str | None = None
        try:
            self.conn = connect(str(db_path))
            usable = not existed or current(self.conn)
        except sqlite3.DatabaseError as e:
            if getattr(e, "sqlite_errorcode", None) not in _DAMAGED:
                raise  # disk full, read-only media, I/O: the file may be fine; never drop it
            # Not a database at all (garbage, a foreign file): derived state, so rebuild it.
            self.conn, usable, self.damaged = None, False, str(e)  # type: ignore[assignment]
        if not usable:
            # An index from another schema version, or damaged: drop it and rebuild.
            if self.conn is not None:
                self.conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            self.conn = connect(str(db_path))
            existed = False
        create(self.conn)
        self.fresh = not existed  # the caller rebuilds a fresh index from files and log
        # A bulk load (the demo build) leaves memories_fts to the end: core.index.rebuild's
        # defer_text / fill_text. Until then searches miss; nothing searches a store being built.
        self.defer_text = False
        self.root = root
        self.db_path = str(db_path)
        self.wal_path = f"{db_path}-wal"
        self._fold_guard: sqlite3.Connection | None = None  # see fold_unsynced

    def last_applied(self) -> tuple[int, int]:
        rows = dict(
            self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('last_applied', 'last_applied_offset')"
            ).fetchall()
        )
        return int(rows.get("last_applied", 0)), int(rows.get("last_applied_offset", 0))

    def apply(self, rows: Iterable[Row], end_offset: int, known: Known | None = None) -> int:
        """Apply rows beyond last_applied; returns the new last_applied. `known`: what the
        writer wrote for these rows (else the files are read: the files win)."""
        c = self.conn
        with transaction(c):
            done, _ = self.last_applied()
            last = done
            audit: list[tuple[Any, ...]] = []  # one executemany for the batch's audit rows
            # Consecutive rows that write a memory are upserted together (a few executemany
            # calls for the run instead of four statements a row), from what the writer
            # handed over or else from the files; any other row ends the run, so order is
            # kept.
            run: dict[str, tuple[Sidecar, bytes]] = {}
            text: Text = {}  # see _upsert_run
            for row in rows:
                if row.seq <= last:
                    continue
                if row.seq != last + 1:
                    # Rows the index never saw (another process died before indexing them):
                    # applying past them would leave a hole that nothing fills later.
                    raise IndexGap(last, row.seq)
                last = row.seq
                audit.append(audit_args(row))
                if row.op == "delete":
                    self.forget(row.path)  # at the row's place: a later move may reuse it
                mine = known.get((row.path, row.seq)) if known else None
                if row.op in _REFRESH_OPS:
                    got = self._memory_of(row.path, mine)
                    if got is not None and got[0].state != "purged":
                        # A path written again within the run: its last version is what the
                        # upsert leaves either way, so it replaces the earlier one (keeping
                        # its place, so new memories get the same ids in the same order).
                        run[row.path] = got
                        if len(run) >= _RUN_ROWS:
                            self._upsert_run(run, text)
                        continue
                if run:
                    self._upsert_run(run, text)
                self.write_text(text)  # before a row whose apply may touch the text
                self._apply_row(row, mine)
            if run:
                self._upsert_run(run, text)
            self.write_text(text)
            if audit:
                c.executemany(AUDIT_INSERT, audit)
            if last != done:
                c.executemany(
                    "UPDATE meta SET value = ? WHERE key = ?",
                    [(str(last), "last_applied"), (str(end_offset), "last_applied_offset")],
                )
        return last

    def _upsert_run(self, run: dict[str, tuple[Sidecar, bytes]], text: Text) -> None:
        """upsert() for many distinct paths at once; empties run. Their full-text rows are
        left in text (id -> title, body, tags; None: no text) for write_text: once FTS5 was
        written in a transaction, every later write statement with a statement journal (this
        upsert) makes it flush its pending terms to a new segment first, which tripled the
        upsert's cost (26 instead of 7.5 µs a row) when the two took turns every 8 rows."""
        c = self.conn
        c.executemany(_UPSERT_MANY, [_memory_args(p, side) for p, (side, _b) in run.items()])
        names = list(run)
        ids: dict[str, int] = {}
        for i in range(0, len(names), 500):
            part = names[i : i + 500]
            ids.update(
                c.execute(
                    f"SELECT path, id FROM memories WHERE path IN ({', '.join('?' * len(part))})",
                    part,
                ).fetchall()
            )
        gone = [(ids[p],) for p in names]
        # A new version needs a new vector; the embedder picks up memories that lack one.
        c.executemany("DELETE FROM embeddings WHERE id = ?", gone)
        if not self.defer_text:
            for p, (side, body) in run.items():
                # A path met again in a later run replaces its text (a dict keeps one per id).
                text[ids[p]] = _text_of(side, body)
        run.clear()

    def write_text(self, text: Text) -> None:
        """The full-text rows left by _upsert_run or upsert, in runs of _RUN_ROWS; empties
        text."""
        if not text:
            return  # before every row applied alone: mostly nothing to write
        c = self.conn
        items = list(text.items())
        text.clear()
        for i in range(0, len(items), _RUN_ROWS):
            part = items[i : i + _RUN_ROWS]
            c.executemany("DELETE FROM memories_fts WHERE rowid = ?", [(k,) for k, _v in part])
            c.executemany(
                "INSERT INTO memories_fts (rowid, title, body, tags) VALUES (?, ?, ?, ?)",
                [(k, *v) for k, v in part if v is not None],
            )

    def _apply_row(self, row: Row, mine: Mine | None) -> None:
        if row.op == "move":
            self._move(row.extra.get("from", ""), row.path, mine)
        elif row.op in _REFRESH_OPS:  # a release rewrites the sidecar
            self.refresh(row.path, mine)
        elif row.op == "tier.changed":
            self.apply_tier_row(row.extra)

    def apply_tier_row(self, extra: dict) -> None:
        """tier.changed rows carry rebalance moves and pins; the index mirrors them."""
        moves = extra.get("moves") or []
        self.conn.executemany(
            "UPDATE memories SET tier = ? WHERE path = ?", [(m[2], m[0]) for m in moves]
        )
        for key, value in (("pin", 1), ("unpin", 0)):
            for path in extra.get(key) or []:
                self.conn.execute("UPDATE memories SET pinned = ? WHERE path = ?", (value, path))

    def forget(self, path: str) -> None:
        """A delete (tombstone or purge) ends the memory at path: a memory written there later
        starts fresh, without its accesses, tier or pin (core.index.tier_replay does the same for
        a rebuild)."""
        c = self.conn
        c.execute("DELETE FROM access WHERE path = ?", (path,))
        c.execute("DELETE FROM access_events WHERE path = ?", (path,))
        c.execute(
            "UPDATE memories SET tier = 'cold', pinned = 0, score = 0 WHERE path = ?", (path,)
        )

    def _move(self, src: str, dst: str, mine: Mine | None) -> None:
        """A move keeps the memory's tier, pin, score, embedding and access statistics."""
        c = self.conn
        # The statistics are keyed by path: they go with the memory, replacing any left at
        # dst (a tombstone there dropped its own already).
        for table in ("access", "access_events"):
            c.execute(f"DELETE FROM {table} WHERE path = ?", (dst,))
            c.execute(f"UPDATE {table} SET path = ? WHERE path = ?", (dst, src))
        kept = c.execute(
            "SELECT id, tier, pinned, score FROM memories WHERE path = ?", (src,)
        ).fetchone()
        vec = None
        if kept is not None:
            vec = c.execute(
                "SELECT model, dim, vec FROM embeddings WHERE id = ?", (kept[0],)
            ).fetchone()
        self.remove(src)
        self.refresh(dst, mine)
        new = c.execute("SELECT id FROM memories WHERE path = ?", (dst,)).fetchone()
        if kept is None or new is None:
            return
        c.execute(
            "UPDATE memories SET tier = ?, pinned = ?, score = ? WHERE id = ?", (*kept[1:], new[0])
        )
        if vec is not None:
            c.execute(
                "INSERT OR REPLACE INTO embeddings (id, model, dim, vec) VALUES (?, ?, ?, ?)",
                (new[0], *vec),
            )

    def refresh(self, path: str, mine: Mine | None = None) -> None:
        """Make the index mirror the files at path (the files win), or what the writer wrote
        there (`mine`: the sidecar and body of the row being applied, still in memory)."""
        got = self._memory_of(path, mine)
        if got is None:
            # Mid-replacement: the writer has moved this version aside and not yet renamed the
            # next into place. The row that writes it refreshes the path again; a memory that
            # really left (move) is removed by the move itself.
            return
        if got[0].state == "purged":
            self.remove(path)
        else:
            self.upsert(path, *got)

    def _memory_of(self, path: str, mine: Mine | None) -> tuple[Sidecar, bytes] | None:
        """The sidecar at path and the body to index (empty unless active): what the writer
        handed over, else the files; None when there is no sidecar."""
        if mine is not None:
            written = decode_sidecar(path, mine[0])
            return written, (mine[1] or b"") if written.state == "active" else b""
        side = read_sidecar(self.root, path)
        if side is None:
            return None
        if side.state != "active":
            return side, b""
        try:
            with open(f"{self.root}/{path}", "rb", buffering=0) as f:  # no pathlib, no buffer
                return side, f.readall()
        except FileNotFoundError:
            return side, b""

    def upsert(self, path: str, side: Sidecar, body: bytes, text: Text | None = None) -> None:
        """The memory's row, and its text: now, or left in text for write_text."""
        (mem_id,) = self.conn.execute(_UPSERT, _memory_args(path, side)).fetchone()
        # A new version needs a new vector; the embedder picks up memories that lack one.
        self.conn.execute("DELETE FROM embeddings WHERE id = ?", (mem_id,))
        if self.defer_text:
            return
        if text is None:
            self.set_text(mem_id, side, body)
        else:
            text[mem_id] = _text_of(side, body)

    def set_text(self, mem_id: int, side: Sidecar, body: bytes) -> None:
        """The memory's searchable text (title, body, tags); none unless it is active."""
        self.write_text({mem_id: _text_of(side, body)})

    def remove(self, path: str) -> None:
        hit = self.conn.execute("SELECT id FROM memories WHERE path = ?", (path,)).fetchone()
        if hit is None:
            return
        self.conn.execute("DELETE FROM memories_fts WHERE rowid = ?", hit)
        self.conn.execute("DELETE FROM embeddings WHERE id = ?", hit)
        self.conn.execute("DELETE FROM memories WHERE id = ?", hit)

    def scrub(self) -> str | None:
        """After a purge: merge FTS segments (dropping deleted terms) and empty the WAL."""
        self.conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        for _ in range(50):
            busy, _log, _ckpt = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return None
            threading.Event().wait(0.02)
        return "the index WAL could not be truncated (a reader holds it); purged text may remain in index/brain.sqlite-wal until the next checkpoint"

    def wal_bytes(self) -> int:
        try:
            return os.stat(self.wal_path).st_size
        except OSError:
            return 0

    def auto_checkpoint(self, on: bool) -> None:
        """SQLite's own checkpoint (every 1,000 pages, on the committing connection) syncs the
        WAL and the database: while the applier thread runs it checkpoints instead, when the
        writes pause (core.index.applier)."""
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {1000 if on else 0}")

    def checkpoint_passive(self) -> None:
        """Fold the WAL into the database without waiting for readers (best effort)."""
        try:
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            pass

    def checkpoint_wal(self, *, wait: bool = True) -> None:
        """Fold the WAL into the database file now and cut it (best effort). wait=False: give
        up at once, not after the busy timeout, when another process reads or writes."""
        try:
            with _waiting(self.conn, BUSY_TIMEOUT_MS if wait else 0):
                self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            pass  # busy (another process reads): a later command tries again

    def fold_unsynced(self) -> bool:
        """Fold the WAL into the database file without SQLite's two syncs: a one-shot put's
        close does this just before its flush, whose `syncfs` makes the folded pages durable
        (PROTOCOL: no checkpoint syncs on that path). Until `release_fold`, a second
        connection holds the write lock, so no writer of any process can restart the WAL over
        frames whose pages might not be on the disk yet; the caller releases it only after
        the syncfs. False (nothing folded) when another writer holds the lock."""
        guard = sqlite3.connect(
            self.db_path, timeout=0, isolation_level=None, check_same_thread=False
        )
        try:
            guard.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            guard.close()
            return False
        self._fold_guard = guard
        try:
            self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            pass  # a reader kept part of the WAL: what was folded is folded, the rest waits
        finally:
            self.conn.execute("PRAGMA synchronous = NORMAL")
        return True

    def release_fold(self) -> None:
        """After the flush's syncfs: writers may restart the WAL again, and the WAL is cut to
        nothing. Every frame is in the database by then, so the cut costs SQLite no sync, and
        the next process starts a fresh WAL (a WAL left whole would be read back into the
        wal-index by the next process, which forgets what was folded). A reader of another
        process (the TUI) may keep the WAL: then it is left as it is, folded. The guard
        connection stays open (rolled back): its close could be the one that checkpoints."""
        if self._fold_guard is None or not self._fold_guard.in_transaction:
            return
        self._fold_guard.execute("ROLLBACK")
        self.checkpoint_wal(wait=False)

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def offer_meta(self, key: str, value: str) -> bool:
        """set_meta for a hint (it only saves work later): False at once, writing nothing, when
        another connection holds the write lock, rather than waiting out the busy timeout."""
        try:
            with _waiting(self.conn, 0):
                self.set_meta(key, value)
        except sqlite3.OperationalError:
            return False
        return True

    def delete_meta(self, key: str) -> None:
        self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def get_meta(self, key: str) -> str | None:
        hit = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return hit[0] if hit else None

    def close(self) -> None:
        if self._fold_guard is not None:
            self._fold_guard.close()
            self._fold_guard = None
        self.conn.close()


@contextmanager
def _waiting(conn: sqlite3.Connection, ms: int) -> Iterator[None]:
    """conn waits at most ms for another connection's lock inside the block (the busy timeout
    it has otherwise, BUSY_TIMEOUT_MS, after it)."""
    if ms == BUSY_TIMEOUT_MS:
        yield
        return
    conn.execute(f"PRAGMA busy_timeout = {ms}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


class IndexReader:
    """Thread-local read connections for queries (the TUI reads from worker threads)."""

    def __init__(self, db_path: Path, *, readonly: bool = False) -> None:
        self.db_path = db_path
        self.readonly = readonly
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = connect(str(self.db_path), readonly=self.readonly)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
        self._local = threading.local()
