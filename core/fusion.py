"""How hybrid search merges the lexical (bm25) and semantic (cosine) rankings.

Every method takes the same evidence: `lex`, the bm25 candidates best first as (id, bm25)
with higher bm25 better; `op`, which FTS query matched ("AND": every query word is in the
memory; "OR": only some are, so bm25 ranks memories that share a few words, often only "how"
or "the"); and `cos`, the cosine of the query with every candidate from either list (exact:
the vectors are in memory) with `sem` the semantic candidates best first.

tests/bench/bench_search_quality.py measures them on the labelled set in tests/data/eval/;
DEFAULT is the one that met the bar there (see docs/semantic-search.md for the figures).
"""

from __future__ import annotations

import math
from collections.abc import Callable

Lex = list[tuple[int, float]]
Fused = list[tuple[int, float]]


def rrf(
    lex: Lex,
    op: str,
    sem: list[int],
    cos: dict[int, float],
    *,
    k: int = 60,
    w_lex: float = 1.0,
    w_sem: float = 1.0,
) -> Fused:
    """Reciprocal rank fusion: sum of w / (k + rank) over the lists a memory appears in."""
    score: dict[int, float] = {}
    for r, (i, _s) in enumerate(lex):
        score[i] = score.get(i, 0.0) + w_lex / (k + r + 1)
    for r, i in enumerate(sem):
        score[i] = score.get(i, 0.0) + w_sem / (k + r + 1)
    return _ranked(score)


def gated_rrf(
    lex: Lex, op: str, sem: list[int], cos: dict[int, float], *, k: int = 60, w_or: float = 0.3
) -> Fused:
    """RRF whose lexical list counts fully only when every query word matched."""
    return rrf(lex, op, sem, cos, k=k, w_lex=1.0 if op == "AND" else w_or)


def minmax(
    lex: Lex, op: str, sem: list[int], cos: dict[int, float], *, alpha: float = 0.5
) -> Fused:
    """alpha·cosine + (1 − alpha)·bm25, each min-max scaled over the candidates."""
    return _convex(lex, cos, alpha, _minmax)


def zscore(
    lex: Lex, op: str, sem: list[int], cos: dict[int, float], *, alpha: float = 0.5
) -> Fused:
    """alpha·z(cosine) + (1 − alpha)·z(bm25) over the candidates (absent bm25 = the minimum)."""
    return _convex(lex, cos, alpha, _z)


def boost(
    lex: Lex,
    op: str,
    sem: list[int],
    cos: dict[int, float],
    *,
    w_and: float = 0.3,
    w_or: float = 0.05,
) -> Fused:
    """Semantic first, lexical as a gated boost: cosine + w · bm25 / max bm25, where w is
    w_and when every query word matched and w_or (small) when only some did. Cosine is the
    backbone (it ranks paraphrases and questions well); bm25 reorders near-ties when the
    query's exact words are there, and barely at all when they are not (the OR flood)."""
    top = max((s for _i, s in lex), default=0.0)
    w = w_and if op == "AND" else w_or
    score = dict(cos)
    if top > 0:
        for i, s in lex:
            score[i] = score.get(i, 0.0) + w * s / top
    return _ranked(score)


Method = Callable[..., Fused]
METHODS: dict[str, Method] = {
    "rrf": rrf,
    "gated_rrf": gated_rrf,
    "minmax": minmax,
    "zscore": zscore,
    "boost": boost,
}
DEFAULT = "boost"


def fuse(
    lex: Lex, op: str, sem: list[int], cos: dict[int, float], method: str = DEFAULT, **params: float
) -> Fused:
    return METHODS[method](lex, op, sem, cos, **params)


def _convex(lex: Lex, cos: dict[int, float], alpha: float, norm) -> Fused:
    ids = list(cos)
    bm = dict(lex)
    floor = min(bm.values(), default=0.0)
    c = norm([cos[i] for i in ids])
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
