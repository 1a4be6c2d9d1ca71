"""The Store's reads for the workstation: pages by key from either end, rows, counts."""

from __future__ import annotations

import pytest

from tests.tui.store_fixture import build_small


@pytest.fixture
def store(tmp_path):
    s = build_small(tmp_path / "store")
    yield s
    s.close()


def test_audit_pages_by_key_both_ways_and_single_rows(store):
    head = store.indexed_seq()
    assert head == store.state().index_seq > 20
    up = store.audit_page(0, 5)
    assert [r.seq for r in up] == [1, 2, 3, 4, 5]
    down = store.audit_page(1 << 62, 3, descending=True)
    assert [r.seq for r in down] == [head, head - 1, head - 2]
    assert [r.seq for r in store.audit_page(head - 2, 10, descending=True)] == [head - 3, head - 4, head - 5, head - 6, head - 7, head - 8, head - 9, head - 10, head - 11, head - 12]  # fmt: skip
    puts = store.audit_page(0, 1000, op="put", actor="human:ana")
    assert puts and all(r.op == "put" and r.actor.startswith("human:ana") for r in puts)
    assert store.audit_row(3) == up[2]
    assert store.audit_row(head + 1) is None and store.audit_row(0) is None


def test_memory_pages_from_either_end_meet_in_the_middle(store):
    everything = store.memory_page("", 1000)
    paths = [m.path for m in everything]
    assert paths == sorted(paths) and store.memory_count() == len(paths)
    last = store.memory_page("", 3, descending=True)
    assert [m.path for m in last] == paths[::-1][:3]
    before = store.memory_page(paths[-3], 2, descending=True)
    assert [m.path for m in before] == [paths[-4], paths[-5]]
    assert store.memory_page(paths[0], 5, descending=True) == []
    facts = store.memory_page("", 1000, kind="facts")
    assert facts and store.memory_count(kind="facts") == len(facts)
    assert store.memory_page("", 1000, kind="facts", descending=True) == facts[::-1]
    active = store.memory_count(state="active")
    assert active == store.counts()["active"] < len(paths)  # one tombstone


def test_rows_for_paths_and_folder_counts(store):
    paths = [m.path for m in store.memory_page("", 4)]
    rows = store.memory_rows([paths[2], "memories/facts/gone.md", paths[0]])
    assert [r.path for r in rows] == [paths[2], paths[0]]
    counts = store.folder_counts()
    assert sum(n for _k, _f, n in counts) == store.counts()["active"]
    assert counts == sorted(counts)
