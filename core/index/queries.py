"""Read-side queries over the derived index. Paging is by key, never by OFFSET."""

from __future__ import annotations

import re
import sqlite3
import threading

import msgspec

from core.models import Row

# The index's JSON columns (tags, extra, a page of rows): msgspec, not the json module (an import
# every one-shot command would pay).
_json_decode = msgspec.json.decode


class SearchHit(msgspec.Struct):
    path: str
    title: str
    kind: str
    category: str
    tags: list[str]
    tier: str
    updated_ns: int
    score: float
    snippet: str


class MemoryRow(msgspec.Struct):
    path: str
    title: str
    kind: str
    folder: str
    category: str
    tags: list[str]
    sync_class: str
    classification: str
    state: str
    updated_ns: int
    seq: int
    tier: str
    pinned: bool
    accesses: int


_WORD = re.compile(r"\w+", re.UNICODE)
FTS_WEIGHTS = "bm25(memories_fts, 5.0, 1.0, 3.0)"


def fts_query(text: str, op: str = "AND") -> str | None:
    """Quote every word so user text can never be FTS5 syntax."""
    words = _WORD.findall(text)
    if not words:
        return None
    return f" {op} ".join(f'"{w}"' for w in words)


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    tier: str | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    ranked, _op = search_ranked(
        conn, text, kind=kind, category=category, tag=tag, tier=tier, limit=limit
    )
    return [hit for _id, hit in ranked]


def search_ranked(
    conn: sqlite3.Connection,
    text: str,
    *,
    kind: str | None = None,
    category: str | None = None,
    tag: str | None = None,
    tier: str | None = None,
    limit: int = 10,
) -> tuple[list[tuple[int, SearchHit]], str]:
    """(memory id, hit) by bm25, and which query matched: "AND" (every word), "OR" (some
    word; the fallback when no memory holds them all) or "" (nothing). Hybrid search weighs
    an OR-only match as weak evidence."""
    for op in ("AND", "OR"):
        q = fts_query(text, op)
        if q is None:
            return [], ""
        hits = search_filtered(conn, q, kind, category, tag, tier, limit)
        if hits:
            return hits, op
    return [], ""


def search_filtered(conn, q, kind, category, tag, tier, limit) -> list[tuple[int, SearchHit]]:
    where, args = ["memories_fts MATCH ?"], [q]
    for col, val in (("kind", kind), ("category", category), ("tier", tier)):
        if val:
            where.append(f"m.{col} = ?")
            args.append(val)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(m.tags) WHERE value = ?)")
        args.append(tag)
    if len(where) == 1:
        # Rank inside FTS5 alone and join only the top: joining every match just to break
        # ties by path costs 2-3x on common words at 100k memories.
        sql = (
            f"SELECT rowid, {FTS_WEIGHTS} AS rank_ FROM memories_fts WHERE memories_fts MATCH ?"
            " ORDER BY rank_, rowid LIMIT ?"
        )
        ranked = conn.execute(sql, (q, limit + _TIE_SLACK)).fetchall()
    else:
        sql = (
            f"SELECT m.id, {FTS_WEIGHTS} AS rank_"
            " FROM memories_fts JOIN memories m ON m.id = memories_fts.rowid"
            f" WHERE {' AND '.join(where)} ORDER BY rank_, m.id LIMIT ?"
        )
        ranked = conn.execute(sql, (*args, limit + _TIE_SLACK)).fetchall()
    if not ranked:
        return []
    rank = dict(ranked)
    marks = ",".join("?" * len(rank))
    rows = conn.execute(
        "SELECT id, path, title, kind, category, tags, tier, updated_ns FROM memories"
        f" WHERE id IN ({marks})",
        list(rank),
    ).fetchall()
    rows.sort(key=lambda t: (rank[t[0]], t[1]))  # path breaks ties: stable across reindex
    # Snippets only for the hits: inside the ranking query SQLite builds one for every match.
    return [
        (i, SearchHit(p, t, k, c, _json_decode(tg), tr, u, -float(rank[i]), snippet(conn, q, i)))
        for i, p, t, k, c, tg, tr, u in rows[:limit]
    ]


_TIE_SLACK = 16  # extra candidates so equal scores at the cut are ordered by path, not id


_SNIPPET = (
    "SELECT snippet(memories_fts, 1, '[', ']', '…', 12) FROM memories_fts"
    " WHERE memories_fts MATCH ? AND rowid = ?"
)
# FTS5's snippet() scores every phrase hit of the column against every other: its cost grows
# with the square of a body's size (a 4 MB memory took 77 s). A snippet therefore reads at
# most this many bytes of a body: bigger ones are cut to their first SNIPPET_WINDOW bytes,
# which are highlighted in a scratch FTS5 table with the same tokenizer.
SNIPPET_WINDOW = 8 * 1024
_TOKENIZER = "porter unicode61 remove_diacritics 2"  # as memories_fts (core/index_schema.py)
_scratch = threading.local()


def snippet(conn: sqlite3.Connection, q: str, rowid: int) -> str:
    """The highlighted snippet of one hit's body, bounded in time by SNIPPET_WINDOW."""
    try:
        # The blob handle gives the size without reading the value (length() would read it).
        with conn.blobopen("memories_fts_content", "c1", rowid, readonly=True) as blob:
            if len(blob) > SNIPPET_WINDOW:
                head = blob.read(SNIPPET_WINDOW)
            else:
                head = None
    except sqlite3.Error:
        head = None  # no such row (removed since ranked), or NULL: FTS5 answers as before
    if head is None:
        hit = conn.execute(_SNIPPET, (q, rowid)).fetchone()
        return hit[0] if hit else ""
    return _window_snippet(head.decode("utf-8", "ignore"), q)


def _window_snippet(text: str, q: str) -> str:
    db = getattr(_scratch, "conn", None)
    if db is None:
        db = _scratch.conn = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute(f"CREATE VIRTUAL TABLE w USING fts5(body, tokenize = '{_TOKENIZER}')")
    db.execute("INSERT INTO w(rowid, body) VALUES (1, ?)", (text,))
    try:
        # Any word will do here: the AND of the ranking query may need the title or tags.
        any_word = q.replace('" AND "', '" OR "')
        hit = db.execute(
            "SELECT snippet(w, 0, '[', ']', '…', 12) FROM w WHERE w MATCH ?", (any_word,)
        ).fetchone()
    finally:
        db.execute("DELETE FROM w")
    if hit:
        return hit[0]
    words = text.split(maxsplit=12)[:12]
    return " ".join(words) + "…"


_ROW_COLS = "seq, ts_ns, op, path, actor, commit_, prev_chain, chain, extra"


def _row(t: tuple) -> Row:
    seq, ts, op, path, actor, commit, prev, chain, extra = t
    return Row(seq, ts, op, path, actor, commit, prev, chain, _json_decode(extra))


def audit_page(
    conn: sqlite3.Connection,
    after_seq: int = 0,
    limit: int = 100,
    *,
    op: str | None = None,
    actor: str | None = None,
    path_prefix: str | None = None,
    descending: bool = False,
) -> list[Row]:
    where = ["seq < ?" if descending else "seq > ?"]
    args: list[int | str] = [after_seq]
    if op:
        where.append("op = ?")
        args.append(op)
    if actor:
        # A prefix, as path is: `human:ana` finds `human:ana@laptop` (the index on
        # (actor, seq) still serves the range).
        where.append("actor >= ? AND actor < ?")
        args += [actor, actor + "\U0010ffff"]
    if path_prefix:
        where.append("path >= ? AND path < ?")
        args += [path_prefix, path_prefix + "\U0010ffff"]
    order = "DESC" if descending else "ASC"
    page = f"SELECT {_ROW_COLS} FROM audit WHERE {' AND '.join(where)} ORDER BY seq {order} LIMIT ?"
    args.append(limit)
    # The page comes back as one JSON value, one step: sqlite3 lets go of the GIL at every
    # step, and a thread stepping row by row while the TUI's event loop is busy waits a switch
    # interval (5 ms) for each row; a page read in a worker took 100-300 ms that way.
    (blob,) = conn.execute(
        f"SELECT json_group_array(json_array({_PAGE_COLS})) FROM ({page})", args
    ).fetchone()
    rows = [Row(*t) for t in _json_decode(blob)]
    rows.sort(key=_seq, reverse=descending)  # the aggregate's order is SQLite's, not SQL's
    return rows


_PAGE_COLS = "seq, ts_ns, op, path, actor, commit_, prev_chain, chain, json(extra)"


def _seq(row: Row) -> int:
    return row.seq


def history(conn: sqlite3.Connection, path: str, *, at_seq: int | None = None) -> list[Row]:
    """The rows of one memory, oldest first, following its moves back to earlier paths.

    A memory is an identity, not a path: it begins with the `put` that created it (or the
    `move` that brought it to a path) and keeps its rows across moves and tombstones. A path
    reused after its memory moved away or was purged holds a different memory, whose rows are
    never merged in. Without `at_seq` the memory is the one most recently at `path` (when it
    has moved away, its rows up to and including that move); with it, the memory that row
    `at_seq` (at `path`) belongs to.
    """
    out: list[Row] = []
    below = _U63 if at_seq is None else min(at_seq + 1, _U63)
    at: str | None = path
    while at is not None:
        here, at = at, None
        for r in _touching(conn, here, below):
            if r.path != here:  # a move away from `here`
                if out:
                    return _oldest_first(out)  # an earlier memory left `here`
                out.append(r)  # the memory asked about has since moved on
                continue
            if out and r.op == "delete" and r.extra.get("mode") == "purge":
                return _oldest_first(out)  # an earlier memory was purged here
            out.append(r)
            src = r.extra.get("from") if r.op == "move" else None
            if isinstance(src, str) and src:
                at, below = src, r.seq  # it came from there: go on before the move
                break
    return _oldest_first(out)


_U63 = 2**63 - 1  # SQLite's largest integer


def _touching(conn: sqlite3.Connection, path: str, below: int) -> list[Row]:
    """Rows at `path` and moves away from it, before `below`, newest first."""
    rows = conn.execute(
        f"SELECT {_ROW_COLS} FROM audit WHERE path = ? AND seq < ?"
        f" UNION ALL SELECT {_ROW_COLS} FROM audit WHERE op = 'move'"
        " AND json_extract(extra, '$.from') = ? AND path != ? AND seq < ?"
        " ORDER BY seq DESC",
        (path, below, path, path, below),
    ).fetchall()
    return [_row(t) for t in rows]


def _oldest_first(rows: list[Row]) -> list[Row]:
    rows.sort(key=_seq)
    return rows


MEM_COLS = (
    "m.path, m.title, m.kind, m.folder, m.category, m.tags, m.sync_class, m.classification,"
    " m.state, m.updated_ns, m.seq, m.tier, m.pinned, COALESCE(a.count, 0)"
)


def memory_filters(
    kind: str | None,
    folder_prefix: str | None,
    tier: str | None,
    state: str | None,
    *,
    alias: str = "",
) -> tuple[list[str], list[object]]:
    """WHERE terms and arguments of a memory listing's filters (one definition, so every page
    and count of a listing agrees). A folder prefix matches the folder and everything below."""
    where: list[str] = []
    args: list[object] = []
    if kind:
        where.append(f"{alias}kind = ?")
        args.append(kind)
    if folder_prefix:
        where.append(f"({alias}folder = ? OR {alias}folder >= ? AND {alias}folder < ?)")
        args += [folder_prefix, folder_prefix + "/", folder_prefix + "/\U0010ffff"]
    if tier:
        where.append(f"{alias}tier = ?")
        args.append(tier)
    if state:
        where.append(f"{alias}state = ?")
        args.append(state)
    return where, args


def memory_page(
    conn: sqlite3.Connection,
    after_path: str = "",
    limit: int = 100,
    *,
    kind: str | None = None,
    folder_prefix: str | None = None,
    tier: str | None = None,
    state: str | None = None,
) -> list[MemoryRow]:
    where, args = memory_filters(kind, folder_prefix, tier, state, alias="m.")
    where.insert(0, "m.path > ?")
    args.insert(0, after_path)
    sql = (
        f"SELECT {MEM_COLS} FROM memories m LEFT JOIN access a ON a.path = m.path"
        f" WHERE {' AND '.join(where)} ORDER BY m.path LIMIT ?"
    )
    args.append(limit)
    return [mem_row(t) for t in conn.execute(sql, args)]


def memory_rows(conn: sqlite3.Connection, paths: list[str]) -> list[MemoryRow]:
    """The rows of these paths in the order given (search results shown as list rows);
    paths no longer in the index are left out."""
    if not paths:
        return []
    sql = (
        f"SELECT {MEM_COLS} FROM memories m LEFT JOIN access a ON a.path = m.path"
        f" WHERE m.path IN ({','.join('?' * len(paths))})"
    )
    found = {r.path: r for r in map(mem_row, conn.execute(sql, paths))}
    return [found[p] for p in paths if p in found]


_TAGS = msgspec.json.Decoder(list[str])  # a tenth of json.loads' time on a row's tag list


def mem_row(t: tuple) -> MemoryRow:
    p, ti, k, f, c, tg, sc, cl, st, u, s, tr, pin, acc = t
    return MemoryRow(p, ti, k, f, c, _TAGS.decode(tg), sc, cl, st, u, s, tr, bool(pin), acc)


def folder_counts(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(kind, folder, active count) for the browser's tree."""
    return list(
        conn.execute(
            "SELECT kind, folder, COUNT(*) FROM memories WHERE state = 'active'"
            " GROUP BY kind, folder ORDER BY kind, folder"
        )
    )


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    out = {"memories": 0, "active": 0, "tombstoned": 0}
    for state, n in conn.execute("SELECT state, COUNT(*) FROM memories GROUP BY state"):
        out[state] = n
        out["memories"] += n
    out["rows"] = last_seq(conn)
    return out


def last_seq(conn: sqlite3.Connection) -> int:
    """The newest row the index holds (one lookup at the end of the primary key)."""
    return conn.execute("SELECT COALESCE(MAX(seq), 0) FROM audit").fetchone()[0]


def rows_beyond(conn: sqlite3.Connection, seq: int, but_op: str) -> bool:
    """Does the index hold a row after seq whose op is not but_op?"""
    hit = conn.execute(
        "SELECT 1 FROM audit WHERE seq > ? AND op != ? LIMIT 1", (seq, but_op)
    ).fetchone()
    return hit is not None


def purges_after(conn: sqlite3.Connection, seq: int) -> list[int]:
    """The seqs of purge rows after seq, in order."""
    found = conn.execute(
        "SELECT seq, extra FROM audit WHERE seq > ? AND op = 'delete' ORDER BY seq", (seq,)
    ).fetchall()
    return [s for s, x in found if _json_decode(x).get("mode") == "purge"]


def audit_count(conn: sqlite3.Connection) -> int:
    """Rows in the audit table (a full scan: the doctor's full run only)."""
    return int(conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0])


def memory_states(conn: sqlite3.Connection, scope: list[str] | None) -> list[tuple[str, int, str]]:
    """(path, seq, state) of every memory, or of the paths in scope."""
    if scope is None:
        return conn.execute("SELECT path, seq, state FROM memories").fetchall()
    rows: list[tuple[str, int, str]] = []
    for i in range(0, len(scope), 500):
        part = scope[i : i + 500]
        marks = ",".join("?" * len(part))
        sql = f"SELECT path, seq, state FROM memories WHERE path IN ({marks})"
        rows += conn.execute(sql, part).fetchall()
    return rows
