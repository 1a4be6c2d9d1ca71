"""Search time does not grow with the square of a body's size (issue 10 item 10)."""

from __future__ import annotations

import time

from core.index import queries
from core.store import Store

ACTOR = "agent:t@x"


def test_snippet_of_a_huge_body_is_bounded(tmp_path) -> None:
    line = "the ledger keeps every row chained and signed by the merkle tree head\n"
    body = line * (3_000_000 // len(line))  # 3 MB: FTS5's snippet() alone took ~40 s
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put("memories/facts/small.md", "a ledger note\n", actor=ACTOR)
        s.put("memories/facts/huge.md", body, actor=ACTOR)
        t = time.perf_counter()
        hits = s.search("ledger")
        took = time.perf_counter() - t
    assert {h.path for h in hits} == {"memories/facts/huge.md", "memories/facts/small.md"}
    huge = next(h for h in hits if h.path.endswith("huge.md"))
    assert "[ledger]" in huge.snippet
    assert took < 2.0, took


def test_small_bodies_keep_fts5_snippets(tmp_path) -> None:
    """Below the window the snippet is FTS5's own, byte for byte as before."""
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put("memories/facts/a.md", "alpha beta gamma ledger delta\n", actor=ACTOR)
        (hit,) = s.search("ledger")
    assert hit.snippet.strip() == "alpha beta gamma [ledger] delta"
    assert queries.SNIPPET_WINDOW >= 4096
