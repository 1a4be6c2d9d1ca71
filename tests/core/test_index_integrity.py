"""derived.index_integrity: a damaged index page (a b-tree, or the full-text index) is found by
the doctor's full run before a search meets it, and `--repair` rebuilds the index."""

from __future__ import annotations

import sqlite3

import pytest

from core.index import integrity
from core.store import Store

ACTOR = "agent:test@localhost"
ID = "derived.index_integrity"


def _store(tmp_path, n: int = 40):
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        for i in range(n):
            s.put(f"memories/facts/f{i}.md", f"harbour lantern number {i}\n", actor=ACTOR)
        assert s.doctor().result(ID).status == "PASS"
        db = s.layout.index_db
    return root, db


def _repaired(root) -> None:
    with Store.open(root, allow_temp=True) as s:
        fixed = s.doctor(repair=True)
        assert fixed.state == "READY", fixed.failing()
        assert any(x.startswith("reindexed") for x in fixed.repaired)
        assert s.doctor().result(ID).status == "PASS"
        assert len(s.search("lantern", limit=100)) == 40


def test_a_sound_index_passes_and_a_quick_run_does_not_read_it(tmp_path) -> None:
    root, _db = _store(tmp_path)
    with Store.open(root, allow_temp=True) as s:
        r = s.doctor().result(ID)
        assert r.status == "PASS" and "full-text index sound" in r.detail
        quick = s.doctor(full=False).result(ID)
        assert quick.status == "PASS" and "not checked in a quick run" in quick.detail


def test_a_damaged_full_text_index_fails_and_repair_rebuilds_it(tmp_path) -> None:
    root, db = _store(tmp_path)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM memories_fts_data WHERE id > 10")  # the terms' pages
    conn.commit()
    conn.close()
    with Store.open(root, allow_temp=True) as s:
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            s.search("lantern")  # what a person would meet first, without the doctor
        report = s.doctor()
        r = report.result(ID)
        assert r.status == "FAIL" and r.recoverable, r
        assert "full-text index" in r.detail and "`--repair` rebuilds it" in r.detail
        assert report.state == "FROZEN_RECOVERABLE"
        assert report.result("derived.index_coverage").status == "PASS"  # nothing else sees it
    _repaired(root)


def test_a_damaged_table_page_fails_and_repair_rebuilds_it(tmp_path) -> None:
    root, db = _store(tmp_path, n=40)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the file itself
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root_page = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'audit'").fetchone()[
        0
    ]
    conn.close()
    with open(db, "r+b") as f:  # a b-tree page's header overwritten: not a valid page type
        f.seek((root_page - 1) * page_size)
        f.write(b"\x55" * 64)
    with Store.open(root, allow_temp=True, read_only=True) as s:
        found = integrity.damage(s.reader.conn)
        assert found and not found[0].startswith("full-text"), found
    with Store.open(root, allow_temp=True) as s:
        r = s.doctor().result(ID)
        assert r.status == "FAIL" and r.recoverable, r
    _repaired(root)


def test_the_check_waits_for_no_writer_it_cannot_run_beside(tmp_path) -> None:
    """The full-text check takes the index's write lock: held by another process, the check
    is skipped (the doctor says so), never reported as damage."""
    _root, db = _store(tmp_path, n=3)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        conn = sqlite3.connect(db, timeout=0)
        with pytest.raises(integrity.Unchecked, match="locked"):
            integrity.damage(conn)
        assert not conn.in_transaction
        conn.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
