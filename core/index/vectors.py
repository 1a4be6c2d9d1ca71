"""The index's `embeddings` table and its change log: the SQL behind semantic search.

Triggers append the id of every changed embedding to `embedding_log`, so an in-memory cache
(core.search.vectors.VectorCache) that has seen the log up to generation g re-reads only the
ids logged after g. The log holds ids only (no content), is pruned by the embedder, and carries
an epoch in `meta` so a rebuilt index (whose generations restart) is noticed.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator, Sequence

from core.index.schema import transaction

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


def epoch(conn: sqlite3.Connection) -> str | None:
    """The log's epoch, or None when nothing was ever embedded in this index."""
    hit = conn.execute("SELECT value FROM meta WHERE key = 'embedding_epoch'").fetchone()
    return hit[0] if hit else None


def log_range(conn: sqlite3.Connection) -> tuple[int | None, int]:
    """(oldest, newest) generation in the change log (oldest None when it is empty)."""
    lo, hi = conn.execute("SELECT MIN(gen), MAX(gen) FROM embedding_log").fetchone()
    return lo, hi or 0


def changed_since(conn: sqlite3.Connection, gen: int) -> list[int]:
    """Memory ids whose embedding changed after generation gen."""
    sql = "SELECT DISTINCT id FROM embedding_log WHERE gen > ?"
    return [r[0] for r in conn.execute(sql, (gen,))]


def all_vectors(conn: sqlite3.Connection, model: str) -> list[tuple[int, int, bytes]]:
    """(id, dim, vec) of every vector of model, by id."""
    sql = "SELECT id, dim, vec FROM embeddings WHERE model = ? ORDER BY id"
    return conn.execute(sql, (model,)).fetchall()


def vectors_of(
    conn: sqlite3.Connection, model: str, ids: Sequence[int]
) -> Iterator[tuple[int, int, bytes]]:
    """(id, dim, vec) of these ids' vectors of model (at most 500 ids a query)."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT id, dim, vec FROM embeddings WHERE model = ? AND id IN ({marks})"
        yield from conn.execute(sql, [model, *chunk])


def has_vectors(conn: sqlite3.Connection, model: str) -> bool:
    """Whether the index holds any vector from this model."""
    sql = "SELECT 1 FROM embeddings WHERE model = ? LIMIT 1"
    return conn.execute(sql, (model,)).fetchone() is not None
