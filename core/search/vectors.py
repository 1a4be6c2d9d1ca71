"""The in-memory copy of the index's `embeddings` table, and cosine top-k over it.

Vectors live in SQLite (derived state, rebuilt like the rest of the index); queries run on a
numpy matrix held in memory. To keep that matrix current without reloading 100k vectors after
every put, triggers append the id of every changed embedding to `embedding_log`; a cache that
has seen the log up to generation g re-reads only the ids logged after g. The log holds ids
only (no content), is pruned by the embedder, and carries an epoch in `meta` so a rebuilt
index (whose generations restart) is noticed.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from typing import Any

from core.index.schema import transaction
from core.search.embeddings import require_numpy

SCHEMA = 1  # of the objects below; a new one is added to the tuple with SCHEMA + 1
LOG_KEEP = 20_000  # generations kept in embedding_log; a cache further behind reloads whole

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS embedding_log ("
    " gen INTEGER PRIMARY KEY AUTOINCREMENT, id INTEGER NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS embeddings_ai AFTER INSERT ON embeddings"
    " BEGIN INSERT INTO embedding_log(id) VALUES (new.id); END",
    "CREATE TRIGGER IF NOT EXISTS embeddings_au AFTER UPDATE ON embeddings"
    " BEGIN INSERT INTO embedding_log(id) VALUES (old.id);"
    " INSERT INTO embedding_log(id) VALUES (new.id); END",
    "CREATE TRIGGER IF NOT EXISTS embeddings_ad AFTER DELETE ON embeddings"
    " BEGIN INSERT INTO embedding_log(id) VALUES (old.id); END",
    # The embedder looks for memories written since its last complete pass (core/semantic.py).
    "CREATE INDEX IF NOT EXISTS memories_seq ON memories(seq)",
)


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the change log, its triggers and the seq index (idempotent; on the index writer)."""
    hit = conn.execute("SELECT value FROM meta WHERE key = 'embedding_schema'").fetchone()
    if hit is not None and hit[0] == str(SCHEMA):
        return
    with transaction(conn):
        for stmt in _SCHEMA:
            conn.execute(stmt)
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('embedding_epoch', ?)",
            (secrets.token_hex(8),),
        )
        conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedding_schema', ?)", (str(SCHEMA),)
        )


def write(
    conn: sqlite3.Connection, model: str, items: list[tuple[int, int, bytes]], dim: int
) -> int:
    """Store vectors for (id, seq, blob); a memory rewritten or removed since it was read
    (its seq moved on, or it is gone) gets none. Runs on the index writer, so it is ordered
    with row application and purge: a purged memory can never get its vector back."""
    with transaction(conn):
        cur = conn.executemany(
            "INSERT OR REPLACE INTO embeddings (id, model, dim, vec) SELECT ?, ?, ?, ?"
            " WHERE EXISTS (SELECT 1 FROM memories WHERE id = ? AND seq = ? AND state = 'active')",
            [(i, model, dim, blob, i, seq) for i, seq, blob in items],
        )
        written = cur.rowcount  # rows this statement stored (the log's trigger rows excluded)
        conn.execute(
            "DELETE FROM embedding_log WHERE gen <= (SELECT MAX(gen) FROM embedding_log) - ?",
            (LOG_KEEP,),
        )
    return written


class VectorCache:
    """The vectors of one model as a dense float32 matrix plus their memory ids."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.lock = threading.Lock()  # held while syncing and while scoring
        self._clear()

    def _clear(self) -> None:
        np = require_numpy()
        self.epoch: str | None = None
        self.gen = 0
        self.n = 0
        self.dim = 0
        self.ids = np.zeros(0, dtype=np.int64)
        self.mat = np.zeros((0, 0), dtype=np.float32)
        self.pos: dict[int, int] = {}

    def forget(self) -> None:
        """Drop every vector held in memory (after a purge)."""
        with self.lock:
            self._clear()

    def sync(self, conn: sqlite3.Connection) -> None:
        """Catch up with the table (call with self.lock held); one read snapshot."""
        with transaction(conn, "DEFERRED"):
            self._sync(conn)

    def _sync(self, conn: sqlite3.Connection) -> None:
        hit = conn.execute("SELECT value FROM meta WHERE key = 'embedding_epoch'").fetchone()
        if hit is None:  # nothing was ever embedded in this index
            if self.n or self.epoch is not None:
                self._clear()
            return
        lo, hi = conn.execute("SELECT MIN(gen), MAX(gen) FROM embedding_log").fetchone()
        hi = hi or 0
        if hit[0] != self.epoch or (lo is not None and lo > self.gen + 1) or hi < self.gen:
            self._reload(conn, hit[0], hi)
        elif hi > self.gen:
            changed = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT id FROM embedding_log WHERE gen > ?", (self.gen,)
                )
            ]
            self._patch(conn, changed)
            self.gen = hi

    def _reload(self, conn: sqlite3.Connection, epoch: str, gen: int) -> None:
        np = require_numpy()
        self._clear()
        rows = conn.execute(
            "SELECT id, dim, vec FROM embeddings WHERE model = ? ORDER BY id", (self.model,)
        ).fetchall()
        dim = rows[0][1] if rows else 0
        rows = [r for r in rows if r[1] == dim and len(r[2]) == 4 * dim]
        self.dim = dim
        self.n = len(rows)
        cap = max(16, self.n + self.n // 8)
        self.ids = np.zeros(cap, dtype=np.int64)
        self.mat = np.zeros((cap, dim), dtype=np.float32)
        if rows:
            self.ids[: self.n] = [r[0] for r in rows]
            self.mat[: self.n] = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(
                self.n, dim
            )
        self.pos = {int(i): k for k, i in enumerate(self.ids[: self.n])}
        self.epoch, self.gen = epoch, gen

    def _patch(self, conn: sqlite3.Connection, changed: list[int]) -> None:
        np = require_numpy()
        fresh: dict[int, bytes] = {}
        for start in range(0, len(changed), 500):
            chunk = changed[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for i, dim, vec in conn.execute(
                f"SELECT id, dim, vec FROM embeddings WHERE model = ? AND id IN ({marks})",
                [self.model, *chunk],
            ):
                if self.dim == 0:
                    self.dim = dim
                    self.mat = np.zeros((max(16, len(changed)), dim), dtype=np.float32)
                    self.ids = np.zeros(len(self.mat), dtype=np.int64)
                if dim == self.dim and len(vec) == 4 * dim:
                    fresh[i] = vec
        for i in changed:
            vec = fresh.get(i)
            if vec is None:
                self._remove(i)
            else:
                self._set(i, np.frombuffer(vec, dtype="<f4"))

    def _set(self, mem_id: int, vec: Any) -> None:
        np = require_numpy()
        k = self.pos.get(mem_id)
        if k is None:
            if self.n == len(self.ids):  # grow by half: appends stay amortised O(1)
                cap = max(16, self.n + self.n // 2)
                ids, mat = np.zeros(cap, dtype=np.int64), np.zeros((cap, self.dim), np.float32)
                ids[: self.n], mat[: self.n] = self.ids[: self.n], self.mat[: self.n]
                self.ids, self.mat = ids, mat
            k = self.n
            self.n += 1
            self.pos[mem_id] = k
            self.ids[k] = mem_id
        self.mat[k] = vec

    def _remove(self, mem_id: int) -> None:
        k = self.pos.pop(mem_id, None)
        if k is None:
            return
        last = self.n - 1
        if k != last:  # move the last row into the hole: the matrix stays dense
            moved = int(self.ids[last])
            self.ids[k], self.mat[k] = moved, self.mat[last]
            self.pos[moved] = k
        self.mat[last] = 0  # no copy of a removed (perhaps purged) vector stays in memory
        self.n = last

    def top(self, qvec: Any, k: int, allowed: Any = None) -> list[tuple[int, float]]:
        """The k best (id, cosine) by descending score; allowed: optional bool mask over rows."""
        np = require_numpy()
        if self.n == 0 or k <= 0 or qvec.shape[0] != self.dim:
            return []
        scores = self.mat[: self.n] @ qvec
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        k = min(k, self.n)
        idx = np.argpartition(-scores, k - 1)[:k] if k < self.n else np.arange(self.n)
        idx = idx[np.lexsort((self.ids[idx], -scores[idx]))]  # ties: lower id first, stable
        return [(int(self.ids[i]), float(scores[i])) for i in idx if scores[i] > -np.inf]

    def mask(self, ids: Any) -> Any:
        np = require_numpy()
        return np.isin(self.ids[: self.n], np.asarray(list(ids), dtype=np.int64))
