"""How hybrid search merges the lexical (bm25) and semantic (cosine) rankings.

Every method sees the same `Evidence` for a query: the bm25 candidates, which FTS query
matched them ("AND": every query word is in the memory; "OR", the fallback: only some are, so
bm25 also ranks memories that share one word such as "phone" or "the"), the cosine candidates,
the exact cosine of every candidate from either list, and for each bm25 candidate the share of
the query's content words (stopwords dropped, light stemming) it contains.

tests/bench/bench_search_quality.py measures every method on the labelled set in
tests/data/eval/ (`--compare`); docs/semantic-search.md has the figures. Plain reciprocal
rank fusion loses paraphrases: their bm25 list is an OR flood of memories sharing a stopword or
a stray word, and RRF lets those displace the right cosine hits. DEFAULT, "coverage", keeps
cosine as the backbone and adds bm25 (scaled to the best candidate) only to memories holding
at least half of the query's content words, in proportion to that share: keyword queries and
questions get their exact-word boost, paraphrases keep their semantic ranking.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

import msgspec

Fused = list[tuple[int, float]]


class Evidence(msgspec.Struct):
    lex: list[tuple[int, float]]  # bm25 candidates (memory id, bm25; higher is better), best first
    op: str  # which FTS query matched: "AND", "OR" or "" (none)
    sem: list[int]  # cosine candidates, best first
    cos: dict[int, float]  # cosine of every candidate (either list) that has a vector
    cover: dict[int, float]  # bm25 candidate -> share of the query's content words it holds


def rrf(ev: Evidence, *, k: int = 60, w_lex: float = 1.0, w_sem: float = 1.0) -> Fused:
    """Reciprocal rank fusion: sum of w / (k + rank) over the lists a memory appears in."""
    score: dict[int, float] = {}
    for r, (i, _s) in enumerate(ev.lex):
        score[i] = score.get(i, 0.0) + w_lex / (k + r + 1)
    for r, i in enumerate(ev.sem):
        score[i] = score.get(i, 0.0) + w_sem / (k + r + 1)
    return _ranked(score)


def gated_rrf(ev: Evidence, *, k: int = 60, w_or: float = 0.3) -> Fused:
    """RRF whose lexical list counts fully only when every query word matched."""
    return rrf(ev, k=k, w_lex=1.0 if ev.op == "AND" else w_or)


def minmax(ev: Evidence, *, alpha: float = 0.5) -> Fused:
    """alpha·cosine + (1 − alpha)·bm25, each min-max scaled over the candidates."""
    return _convex(ev, alpha, _minmax)


def zscore(ev: Evidence, *, alpha: float = 0.5) -> Fused:
    """alpha·z(cosine) + (1 − alpha)·z(bm25) over the candidates (absent bm25 = the minimum)."""
    return _convex(ev, alpha, _z)


def boost(ev: Evidence, *, w_and: float = 0.3, w_or: float = 0.05) -> Fused:
    """cosine + w · bm25 / best bm25, with w by which query matched (w_or small)."""
    return _boost(ev, lambda _i: w_and if ev.op == "AND" else w_or)


def coverage(ev: Evidence, *, w: float = 0.3, min_share: float = 0.5) -> Fused:
    """cosine + w · share · bm25 / best bm25, for memories holding at least min_share of the
    query's content words (all of them when the AND query matched)."""
    return _boost(ev, lambda i: w * _gate(ev.cover.get(i, 0.0), min_share))


METHODS: dict[str, Callable[..., Fused]] = {
    "rrf": rrf,
    "gated_rrf": gated_rrf,
    "minmax": minmax,
    "zscore": zscore,
    "boost": boost,
    "coverage": coverage,
}
DEFAULT = "coverage"


def fuse(ev: Evidence, method: str = DEFAULT, **params: float) -> Fused:
    return METHODS[method](ev, **params)


# -- content words (for `cover`) ------------------------------------------------------------

_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each few for
    from further had has have having he her here hers him his how i if in into is it its just
    me more most my no nor not now of off on once one only or other our ours out over own same
    she should so some such than that the their theirs them then there these they this those
    through to too under until up us very was we were what when where which while who whom why
    will with would you your yours get got also""".split()
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ies", "ied", "ers", "er",
             "ed", "es", "ly", "s")  # fmt: skip


@functools.lru_cache(maxsize=1 << 16)  # vocabularies repeat: stem each word once
def _stem(w: str) -> str:
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    return w[:-1] if w.endswith("e") and len(w) > 3 else w


def content_query(text: str) -> str:
    """The query's words minus stopwords, for the bm25 side of hybrid search: "how", "the" and
    the like match most memories, cost the most to rank, and carry no evidence."""
    return " ".join(t for t in _TOKEN.findall(text) if t.lower() not in _STOP)


def content_words(text: str) -> set[str]:
    """Lower-cased, lightly stemmed words that are not stopwords."""
    return {_stem(t) for t in set(_TOKEN.findall(text.lower())) if t not in _STOP}


def share(query_words: set[str], text: str) -> float:
    if not query_words:
        return 0.0
    return len(query_words & content_words(text)) / len(query_words)


# -- helpers ------------------------------------------------------------------------------------


def _gate(share_: float, min_share: float) -> float:
    return share_ if share_ >= min_share else 0.0


def _boost(ev: Evidence, weight: Callable[[int], float]) -> Fused:
    top = max((s for _i, s in ev.lex), default=0.0)
    score = dict(ev.cos)
    if top > 0:
        for i, s in ev.lex:
            score[i] = score.get(i, 0.0) + weight(i) * s / top
    return _ranked(score)


def _convex(ev: Evidence, alpha: float, norm) -> Fused:
    ids = list(ev.cos)
    bm = dict(ev.lex)
    floor = min(bm.values(), default=0.0)
    c = norm([ev.cos[i] for i in ids])
    b = norm([bm.get(i, floor) for i in ids])
    return _ranked({i: alpha * ci + (1 - alpha) * bi for i, ci, bi in zip(ids, c, b, strict=True)})


def _minmax(xs: list[float]) -> list[float]:
    lo, hi = min(xs, default=0.0), max(xs, default=0.0)
    return [(x - lo) / (hi - lo) if hi > lo else 0.0 for x in xs]


def _z(xs: list[float]) -> list[float]:
    if not xs:
        return []
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / len(xs))
    return [(x - mean) / sd if sd > 0 else 0.0 for x in xs]


def _ranked(score: dict[int, float]) -> Fused:
    return sorted(score.items(), key=lambda t: (-t[1], t[0]))
