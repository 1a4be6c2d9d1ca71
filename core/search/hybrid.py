"""Hybrid search: bm25 and cosine candidates, fused by core/fusion.py.

The bm25 side searches the query's content words only (no stopwords): "how" and "the" match
most memories, cost the most to rank and carry no evidence. Without filters it ranks in the
FTS table alone (no join, no snippet per match: at 100k memories an OR query can match half
of them); highlighted snippets are made afterwards for the few hits that are shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.index import queries, search_rows
from core.search import fusion
from core.search.semantic import cosines, hits, prepare, top_k

if TYPE_CHECKING:
    from core.store import Store

CANDIDATES = 100  # taken from each ranking before fusion
COMMON = 0.05  # an OR query leaves out words held by more than this share of memories ...
COMMON_MIN = 1000  # ... and more than this many (small stores keep every word)


def search(
    store: Store, query: str, *, limit: int, method: str | None = None, **filters: Any
) -> list[queries.SearchHit]:
    conn, qv = prepare(store, query)
    ev, fts = _evidence(store, conn, qv, query, filters)
    fused = fusion.fuse(ev, method or fusion.DEFAULT)[:limit]
    lexical = {i for i, _s in ev.lex}
    return hits(conn, fused, _snippets(conn, fts, [i for i, _s in fused if i in lexical]))


def evidence(store: Store, query: str, **filters: Any) -> fusion.Evidence:
    """What fusion sees for one query (the quality benchmark replays every fusion on it)."""
    conn, qv = prepare(store, query)
    return _evidence(store, conn, qv, query, filters)[0]


def _evidence(
    store: Store, conn, qv, query: str, filters: dict
) -> tuple[fusion.Evidence, str | None]:
    sem = store.semantic
    lex, op, fts = _lexical(conn, fusion.content_query(query), filters)
    sem_ranked = top_k(sem, conn, qv, CANDIDATES, filters)
    cos = dict(sem_ranked)
    cos.update(cosines(sem, [i for i, _s in lex if i not in cos], qv))
    ids = [i for i, _s in lex]
    if op == "AND":  # every content word is in every candidate
        cover = dict.fromkeys(ids, 1.0)
    else:
        words = fusion.content_words(query)
        cover = {i: fusion.share(words, text) for i, text in _texts(conn, ids).items()}
    return fusion.Evidence(lex, op, [i for i, _s in sem_ranked], cos, cover), fts


def _lexical(conn, words: str, filters: dict) -> tuple[list[tuple[int, float]], str, str | None]:
    """bm25 candidates (id, score; higher is better), which query matched, and its FTS text.

    Every content word first (AND: cheap, an intersection). Failing that, any of them (OR),
    leaving out words found in more than COMMON of the memories: at 100k memories one such
    word matches tens of thousands, and ranking them cost ~100 ms for a bm25 share near zero
    (measured: OR p95 135 ms with them, 8.5 ms without). Coverage (core/fusion.py) is still
    computed over every content word.
    """
    tokens = list(dict.fromkeys(words.split()))
    if not tokens:
        return [], "", None
    hits = _bm25(conn, queries.fts_query(" ".join(tokens), "AND"), filters)
    if hits:
        return hits, "AND", queries.fts_query(" ".join(tokens), "AND")
    cap = max(COMMON_MIN, int(_size(conn) * COMMON))
    rare = [t for t in tokens if _df(conn, t, cap) <= cap]
    fts = queries.fts_query(" ".join(rare), "OR") if rare else None
    hits = _bm25(conn, fts, filters) if fts else []
    return (hits, "OR", fts) if hits else ([], "", None)


def _bm25(conn, fts: str | None, filters: dict) -> list[tuple[int, float]]:
    if fts is None:
        return []
    if any(filters.values()):
        f = filters
        ranked = queries.search_filtered(
            conn, fts, f.get("kind"), f.get("category"), f.get("tag"), f.get("tier"), CANDIDATES
        )
        return [(i, h.score) for i, h in ranked]
    return search_rows.bm25_only(conn, fts, CANDIDATES)


def _df(conn, token: str, cap: int) -> int:
    """Memories holding token, counted up to cap + 1 (bounded cost)."""
    fts = queries.fts_query(token)
    if fts is None:
        return 0
    return search_rows.doc_count(conn, fts, cap)


def _size(conn) -> int:
    return search_rows.fts_size(conn)


def _snippets(conn, fts: str | None, ids: list[int]) -> dict[int, str]:
    if fts is None or not ids:
        return {}
    # One at a time through the bounded snippet (a huge body must not cost its square).
    return {i: queries.snippet(conn, fts, i) for i in ids}


def _texts(conn, ids: list[int]) -> dict[int, str]:
    return search_rows.texts(conn, ids)
