"""The index reads behind semantic and hybrid search (core.search): bm25 over the FTS table
alone, term document counts, memories still lacking a vector, filters as id sets, and the
rows search hits are drawn from. SQL lives in core/index; the search modules rank."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from core.index.queries import FTS_WEIGHTS

# Active memories without a vector from a model, among those with seq > a watermark.
_MISSING = (
    "FROM memories m WHERE m.seq > ? AND m.state = 'active'"
    " AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.id = m.id AND e.model = ?)"
)
_HIT_SQL = (
    "SELECT m.id, m.path, m.title, m.kind, m.category, m.tags, m.tier, m.updated_ns,"
    " substr(f.body, 1, 400) FROM memories m JOIN memories_fts f ON f.rowid = m.id"
    " WHERE m.state = 'active' AND m.id IN ({})"
)
FILTERS = ("kind", "category", "tier", "tag")


# -- lexical side of hybrid search --------------------------------------------------------------


def bm25_only(conn: sqlite3.Connection, fts: str, limit: int) -> list[tuple[int, float]]:
    """(rowid, score) by bm25 from the FTS table alone: no join and no snippet per match."""
    return conn.execute(
        f"SELECT rowid, -{FTS_WEIGHTS} AS s FROM memories_fts"
        " WHERE memories_fts MATCH ? ORDER BY s DESC, rowid LIMIT ?",
        (fts, limit),
    ).fetchall()


def doc_count(conn: sqlite3.Connection, fts: str, cap: int) -> int:
    """Memories matching fts, counted up to cap + 1 (bounded cost)."""
    sql = "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)"
    return int(conn.execute(sql, (fts, cap + 1)).fetchone()[0])


def fts_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM memories_fts").fetchone()[0])


def texts(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, str]:
    """Title, tags and the start of the body of these memories, for rerankers."""
    if not ids:
        return {}
    sql = (
        "SELECT rowid, title || ' ' || tags || ' ' || substr(body, 1, 2000) FROM memories_fts"
        f" WHERE rowid IN ({','.join('?' * len(ids))})"
    )
    return dict(conn.execute(sql, list(ids)).fetchall())


# -- the embedder's work list -------------------------------------------------------------------


def embed_state(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """(the index's applied seq, its embedding epoch)."""
    rows = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN ('last_applied', 'embedding_epoch')"
        ).fetchall()
    )
    return int(rows.get("last_applied", 0)), rows.get("embedding_epoch")


def missing_count(conn: sqlite3.Connection, since: int, model: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) {_MISSING}", (since, model)).fetchone()[0])


def missing_batch(
    conn: sqlite3.Connection, since: int, after: int, model: str, limit: int
) -> list[tuple[int, int, str, str]]:
    """(id, seq, title, body) of the next memories by id that lack a vector."""
    return conn.execute(
        "SELECT m.id, m.seq, m.title, f.body FROM memories m"
        " JOIN memories_fts f ON f.rowid = m.id WHERE m.seq > ? AND m.state = 'active'"
        " AND m.id > ?"
        " AND NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.id = m.id AND e.model = ?)"
        " ORDER BY m.id LIMIT ?",
        (since, after, model, limit),
    ).fetchall()


# -- semantic results ---------------------------------------------------------------------------


def active_text(conn: sqlite3.Connection, path: str) -> tuple[int, str, str] | None:
    """(id, title, body) of the active memory at path."""
    return conn.execute(
        "SELECT m.id, m.title, f.body FROM memories m JOIN memories_fts f ON f.rowid = m.id"
        " WHERE m.path = ? AND m.state = 'active'",
        (path,),
    ).fetchone()


def allowed_ids(
    conn: sqlite3.Connection, filters: dict[str, Any], ids: Sequence[int] | None
) -> set[int]:
    """The active memories (among ids, when given) that the filters select."""
    where: list[str] = ["state = 'active'"]
    args: list[Any] = []
    for col in ("kind", "category", "tier"):
        if filters.get(col):
            where.append(f"{col} = ?")
            args.append(filters[col])
    if filters.get("tag"):
        where.append("EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?)")
        args.append(filters["tag"])
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown search filter(s): {', '.join(sorted(unknown))}")
    if ids is not None:
        if not ids:
            return set()
        where.append(f"id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    sql = f"SELECT id FROM memories WHERE {' AND '.join(where)}"
    return {r[0] for r in conn.execute(sql, args)}


def hit_rows(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """id -> (id, path, title, kind, category, tags, tier, updated_ns, body start)."""
    if not ids:
        return {}
    return {r[0]: r for r in conn.execute(_HIT_SQL.format(",".join("?" * len(ids))), list(ids))}
