"""The in-memory copy of the index's `embeddings` table, and cosine top-k over it.

Vectors live in SQLite (derived state, rebuilt like the rest of the index; its SQL is in
core.index.vectors); queries run on a numpy matrix held in memory. To keep that matrix current
without reloading 100k vectors after every put, the cache re-reads only the ids the table's
change log names after the generation it has seen.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from core.index import vectors as table
from core.index.schema import transaction
from core.search.embeddings import require_numpy


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
        epoch = table.epoch(conn)
        if epoch is None:  # nothing was ever embedded in this index
            if self.n or self.epoch is not None:
                self._clear()
            return
        lo, hi = table.log_range(conn)
        if epoch != self.epoch or (lo is not None and lo > self.gen + 1) or hi < self.gen:
            self._reload(conn, epoch, hi)
        elif hi > self.gen:
            self._patch(conn, table.changed_since(conn, self.gen))
            self.gen = hi

    def _reload(self, conn: sqlite3.Connection, epoch: str, gen: int) -> None:
        np = require_numpy()
        self._clear()
        rows = table.all_vectors(conn, self.model)
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
        for i, dim, vec in table.vectors_of(conn, self.model, changed):
            if self.dim == 0:
                self.dim = dim
                self.mat = np.zeros((max(16, len(changed)), dim), dtype=np.float32)
                self.ids = np.zeros(len(self.mat), dtype=np.int64)
            if dim == self.dim and len(vec) == 4 * dim:
                fresh[i] = vec
        for i in changed:
            got = fresh.get(i)
            if got is None:
                self._remove(i)
            else:
                self._set(i, np.frombuffer(got, dtype="<f4"))

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
