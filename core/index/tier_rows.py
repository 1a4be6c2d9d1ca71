"""The index reads and writes behind tiers (core.tiers) and session context (core.context):
per-memory access statistics, tier counts and tops, scores, and context's ranked groups."""

from __future__ import annotations

import sqlite3

from core.index.db import IndexWriter
from core.index.schema import transaction

# (path, kind, folder, updated_ns, pinned, tier, accesses, last access, accesses since, score)
StatRow = tuple[str, str, str, int, int, str, int, int, int, int]


def stat_rows(conn: sqlite3.Connection, since_ns: int) -> list[StatRow]:
    """Every active memory with its access counts (all time, and since since_ns)."""
    return conn.execute(
        "SELECT m.path, m.kind, m.folder, m.updated_ns, m.pinned, m.tier,"
        " COALESCE(a.count, 0), COALESCE(a.last_ns, 0), COALESCE(w.n, 0), m.score"
        " FROM memories m LEFT JOIN access a ON a.path = m.path"
        " LEFT JOIN (SELECT path, COUNT(*) AS n FROM access_events WHERE ts_ns >= ? GROUP BY path) w"
        " ON w.path = m.path WHERE m.state = 'active'",
        (since_ns,),
    ).fetchall()


def tier_of(conn: sqlite3.Connection, path: str) -> str | None:
    hit = conn.execute("SELECT tier FROM memories WHERE path = ?", (path,)).fetchone()
    return hit[0] if hit else None


def pinned_of(conn: sqlite3.Connection, path: str) -> bool:
    hit = conn.execute("SELECT pinned FROM memories WHERE path = ?", (path,)).fetchone()
    return bool(hit and hit[0])


def tier_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Active memories by tier."""
    sql = "SELECT tier, COUNT(*) FROM memories WHERE state = 'active' GROUP BY tier"
    return {t: n for t, n in conn.execute(sql)}


def tier_top(conn: sqlite3.Connection, tier: str, limit: int) -> list[tuple[str, str, int, int]]:
    """(path, title, score, pinned) of a tier's best-scored active memories."""
    return conn.execute(
        "SELECT path, title, score, pinned FROM memories WHERE state = 'active' AND tier = ?"
        " ORDER BY score DESC, path LIMIT ?",
        (tier, limit),
    ).fetchall()


def store_scores(ix: IndexWriter, scores: list[tuple[int, str]], now: int) -> None:
    """(score, path) pairs, and when the rebalance ran (on the index writer)."""
    c = ix.conn
    with transaction(c):
        c.executemany("UPDATE memories SET score = ? WHERE path = ?", scores)
        ix.set_meta("last_rebalance_ns", str(now))


# -- session context ------------------------------------------------------------------------

ContextRow = tuple[str, str, str, str, int]  # path, title, kind, tier, score
_BASE = (
    "SELECT m.path, m.title, m.kind, m.tier, m.score FROM memories m"
    " LEFT JOIN access a ON a.path = m.path WHERE m.state = 'active'"
)


def preferences(conn: sqlite3.Connection, limit: int) -> list[ContextRow]:
    sql = _BASE + " AND m.kind = 'preferences' ORDER BY m.score DESC, m.path LIMIT ?"
    return conn.execute(sql, (limit,)).fetchall()


def project_memories(conn: sqlite3.Connection, project: str, limit: int) -> list[ContextRow]:
    """The project's folder and those under it (core.tiers.in_project). A range, not LIKE,
    which reads `_` and `%` in a name as wildcards (and ignores ASCII case): every folder
    starting with "projects/<name>/" sorts from it up to "projects/<name>0" ('0' follows
    '/'), byte by byte."""
    sql = (
        _BASE + " AND (m.folder = ? OR (m.folder >= ? AND m.folder < ?))"
        " ORDER BY m.score DESC, m.updated_ns DESC LIMIT ?"
    )
    top = f"projects/{project}"
    return conn.execute(sql, (top, f"{top}/", f"{top}0", limit)).fetchall()


def often_used(conn: sqlite3.Connection, since_ns: int, limit: int) -> list[ContextRow]:
    sql = (
        _BASE + " AND a.count >= 3 AND a.last_ns >= ? ORDER BY a.last_ns DESC, a.count DESC LIMIT ?"
    )
    return conn.execute(sql, (since_ns, limit)).fetchall()


def recent(conn: sqlite3.Connection, limit: int) -> list[ContextRow]:
    sql = _BASE + " ORDER BY m.updated_ns DESC, m.path LIMIT ?"
    return conn.execute(sql, (limit,)).fetchall()
