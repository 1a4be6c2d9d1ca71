"""The audit tail's page bookkeeping (no Textual) and the page query it reads through."""

from __future__ import annotations

import json

from core.index import queries
from core.models import Row
from tests.tui.store_fixture import build_small
from widgets.audit_pager import PageCache


def rows(first: int, last: int) -> list[Row]:
    return [Row(s, s, "put", f"memories/facts/{s}.md", "a", "c", "p", "h", {}) for s in range(first, last + 1)]  # fmt: skip


def test_a_page_only_grows_and_the_oldest_page_goes_first():
    cache = PageCache(page_size=4, capacity=2)
    assert cache.put(0, rows(1, 2), 2)
    assert not cache.put(0, rows(1, 1), 1)  # a slower, older fetch
    assert [r.seq for r in cache.get(0)[0]] == [1, 2]
    assert cache.put(0, rows(1, 4), 4) and cache.row(3).seq == 4
    cache.put(1, rows(5, 8), 8)
    cache.get(0)  # used: page 1 is now the oldest
    cache.put(2, rows(9, 12), 12)
    assert 0 in cache and 1 not in cache and cache.row(8) is not None


def test_seed_splits_the_newest_rows_into_pages_from_a_boundary():
    cache = PageCache(page_size=4)
    assert not cache.seed(10, rows(2, 10))  # does not start on a page boundary
    assert not cache.seed(11, rows(5, 10))  # does not end at the head
    assert cache.seed(10, rows(5, 10))
    assert cache.get(1)[0] == rows(5, 8) and cache.get(2)[0] == rows(9, 10)
    assert cache.row(9).seq == 10 and cache.row(10) is None


def _rows_one_by_one(conn, after, limit, *, descending=False, **filters) -> list[Row]:
    """The query as it was: a row per step, extra decoded per row."""
    where, args = ["seq < ?" if descending else "seq > ?"], [after]
    for col, val in (("op", filters.get("op")), ("actor", filters.get("actor"))):
        if val:
            where.append(f"{col} = ?")
            args.append(val)
    sql = (
        f"SELECT {queries._ROW_COLS} FROM audit WHERE {' AND '.join(where)}"
        f" ORDER BY seq {'DESC' if descending else 'ASC'} LIMIT ?"
    )
    out = conn.execute(sql, [*args, limit]).fetchall()
    return [Row(*t[:8], json.loads(t[8])) for t in out]


def test_a_page_read_in_one_step_equals_the_rows_read_one_by_one(tmp_path):
    store = build_small(tmp_path / "store")
    try:
        store.note("session.end", actor="agent:x", extra={"n": 2**64 - 1, "s": "é\u2028"})
        conn = store.reader.conn
        head = store.state().head_seq
        for after, limit, kw in [
            (0, 1000, {}),
            (3, 5, {}),
            (head, 10, {}),
            (1 << 62, 7, {"descending": True}),
            (0, 100, {"op": "put", "actor": "human:ana@laptop"}),
            (1 << 62, 3, {"op": "put", "descending": True}),
        ]:
            want = _rows_one_by_one(conn, after, limit, **kw)
            assert queries.audit_page(conn, after, limit, **kw) == want
        assert queries.audit_page(conn, 0, 1000)[-1].extra == {
            "n": 2**64 - 1,
            "s": "é\u2028",
        }
        assert queries.last_seq(conn) == head
    finally:
        store.close()
