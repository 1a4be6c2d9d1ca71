"""The memory list's two-ended page bookkeeping (no Textual)."""

from __future__ import annotations

from core.read_types import MemoryRow
from widgets.memory_pages import TwoEnds, Want


def rows(*ids: int) -> list[MemoryRow]:
    return [MemoryRow(f"m/{i:03d}", "", "facts", "facts", "", [], "", "", "active", 0, i, "warm", False, 0) for i in ids]  # fmt: skip


def test_the_last_page_comes_by_key_from_the_end_and_the_ends_join():
    m = TwoEnds(total=10)
    assert m.want(0, 2) == Want("", False)
    m.add(Want("", False), rows(0, 1, 2), 3)
    assert m.row(2).path == "m/002" and m.row(3) is None
    assert m.want(9, 9) == Want("", True)  # G: the last page, descending, not a walk
    first, last = m.add(Want("", True), rows(9, 8, 7)[:], 3)
    assert (first, last) == (7, 9) and m.row(9).path == "m/009" and m.row(6) is None
    assert m.want(6, 6) == Want("m/007", True)
    m.add(Want("m/007", True), rows(6, 5, 4), 3)
    m.add(Want("m/002", False), rows(3, 4, 5), 3)  # overlaps the tail: joined
    assert m.complete and not m.tail
    assert [r.path for r in m.rows()] == [f"m/{i:03d}" for i in range(10)]


def test_a_stale_page_is_ignored_and_a_short_page_ends_the_listing():
    m = TwoEnds(total=10)
    m.add(Want("", False), rows(0, 1), 2)
    assert m.add(Want("m/000", False), rows(5), 2) == (0, -1)  # asked before the head moved
    m.add(Want("m/001", False), rows(2), 2)  # short: rows went away since the count
    assert m.complete and m.total == 3


def test_a_listing_read_again_finds_a_path_or_the_row_now_in_its_place():
    m = TwoEnds.of(20, rows(0, 1, 2, 4), rows(17, 18, 19))
    assert m.index_of("m/004") == 3 and m.index_of("m/018") == 18
    assert m.index_of("m/003") is None and m.place_of("m/003") == 3  # gone: the next row
    assert m.place_of("m/010") is None  # in the gap: the cursor stays where it is
    assert m.place_of("m/018x") == 19  # gone from the tail: the next row there
    joined = TwoEnds.of(9, rows(0, 1, 2, 3), rows(3, 4))  # the ends met: one listing
    assert joined.complete and [r.seq for r in joined.rows()] == [0, 1, 2, 3, 4]
