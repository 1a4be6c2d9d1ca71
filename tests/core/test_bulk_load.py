"""What the demo build uses to go faster, checked against the ordinary paths: journaled
views without reading the files, the index's memories text written once at the end of a bulk
load, and versions folders listed only when a request asks for them."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest

from core.errors import InvalidPath
from core.index import access
from core.index.schema import current
from core.store import Store
from core.write.intents import Delete, Move

ANA = "human:ana@laptop"
F = "memories/facts"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _clock(start: int = 1_700_000_000 * 10**9):
    t = [start]

    def tick() -> int:
        t[0] += 1_000
        return t[0]

    return tick


def _writes(store: Store) -> None:
    """Puts, edits, a move, a tombstone and a purge: every way the text of a memory changes."""
    for i in range(6):
        store.put(f"{F}/m{i}.md", f"# fact {i}\n\nzebra {i}\n", actor=ANA, tags=["t"])
    for rnd in range(3):
        store.batch(
            [Store.put_intent(f"{F}/m{i}.md", f"# fact {i}\n\nokapi {rnd}\n") for i in range(4)],
            ANA,
        )
    store.batch([Move(f"{F}/m1.md", f"{F}/moved/m1.md")], ANA)
    store.batch([Delete(f"{F}/m2.md", "tombstone")], ANA)
    store.delete(f"{F}/m3.md", actor=ANA, mode="purge", reason="user-request")


def _index(root: Path) -> dict:
    c = sqlite3.connect(root / "index" / "brain.sqlite")
    out = {
        t: c.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
        for t in ("memories", "audit", "status_counts", "meta")
    }
    out["fts"] = c.execute("SELECT rowid, title, body, tags FROM memories_fts ORDER BY rowid")
    out["fts"] = out["fts"].fetchall()
    out["hits"] = c.execute(
        "SELECT rowid FROM memories_fts WHERE memories_fts MATCH 'okapi OR zebra' ORDER BY rowid"
    ).fetchall()
    c.close()
    return out


def _build(root: Path, *, bulk: bool) -> dict:
    # Both stores get the same id (same rng): each keeps its own witness.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(root.parent / f"state-{root.name}"))
        return _build_in(root, bulk=bulk)


def _build_in(root: Path, *, bulk: bool) -> dict:
    store = Store.init(root, allow_temp=True, clock=_clock(), rng=lambda n: b"\x07" * n)
    try:
        if bulk:
            store.follower.hold(0.5)
            store.follower.defer_text()
        _writes(store)
        if bulk:
            assert store.follower.fill_text() == 5  # m0..m5 less the purged m3
        store.wait_index()
    finally:
        store.close()
    return _index(root)


def test_a_bulk_load_leaves_the_index_a_row_by_row_load_leaves(tmp_path: Path) -> None:
    plain = _build(tmp_path / "plain", bulk=False)
    bulk = _build(tmp_path / "bulk", bulk=True)
    assert bulk == plain
    assert len(plain["hits"]) == 4  # m0, m1 (moved), m4, m5: not the tombstone or the purge


def test_an_index_left_mid_bulk_load_is_rebuilt(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = Store.init(root, allow_temp=True)
    store.put(f"{F}/a.md", "# a\n\nokapi\n", actor=ANA)
    store.follower.defer_text()
    store.put(f"{F}/b.md", "# b\n\nokapi\n", actor=ANA)
    store.wait_index()
    conn = sqlite3.connect(root / "index" / "brain.sqlite")
    assert not current(conn)  # what a crash here leaves: rebuilt on the next open
    conn.close()
    store.close()  # a close fills what the load deferred
    with Store.open(root, allow_temp=True) as store:
        assert {h.path for h in store.search("okapi", mode="lexical")} == {
            f"{F}/a.md",
            f"{F}/b.md",
        }


def test_recorded_views_journal_what_views_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries: dict[str, list[bytes]] = {}
    for how in ("view", "record"):
        root = tmp_path / how
        store = Store.init(root, allow_temp=True, clock=_clock())
        try:
            for i in range(3):
                store.put(f"{F}/m{i}.md", f"# m{i}\n", actor=ANA)
            picks = [f"{F}/m2.md", f"{F}/m0.md", f"{F}/m2.md"]
            monkeypatch.setattr(access, "_counter", itertools.count(1))  # same numbers in both
            if how == "view":
                for p in picks:
                    store.view(p, actor=ANA)
            else:
                store.record_views(picks, actor=ANA)
            with pytest.raises(InvalidPath):
                store.record_views([f"{F}/../x.md"], actor=ANA)
        finally:
            store.close()
        entries[how] = [(root / "audit" / "access.binlog").read_bytes()]
    assert entries["record"] == entries["view"]
    assert entries["view"][0]


def test_a_move_after_a_put_in_one_request_takes_every_version_along(tmp_path: Path) -> None:
    """The put keeps the old version without listing its folder; the move in the same
    request must still find both the versions on disk and the one the put kept."""
    with Store.init(tmp_path / "store", allow_temp=True) as store:
        store.put(f"{F}/a.md", "# a\n\none\n", actor=ANA)
        store.put(f"{F}/a.md", "# a\n\ntwo\n", actor=ANA)
        store.batch(
            [Store.put_intent(f"{F}/a.md", "# a\n\nthree\n"), Move(f"{F}/a.md", f"{F}/b.md")],
            ANA,
        )
        vdir = tmp_path / "store/versions/facts/b"
        bodies = sorted(p for p in vdir.iterdir() if p.name.endswith(".md"))
        assert [p.read_bytes() for p in bodies] == [b"# a\n\none\n", b"# a\n\ntwo\n"]
        assert not (tmp_path / "store/versions/facts/a").exists()
        assert store.view(f"{F}/b.md").body == b"# a\n\nthree\n"
        assert store.doctor().state == "READY"
