"""The index follower: every path that brings the index up to the log, and the writer's
hand-off of what it wrote (a process's own writes are indexed without reading the files)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.index import db
from core.store import Store
from core.write.intents import Delete, Move, Put

ANA = "human:ana@laptop"
F = "memories/facts"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    Store.init(tmp_path / "store", allow_temp=True).close()
    return tmp_path / "store"


def _no_file_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []

    def refuse(root: Path, path: str):  # the index must not read what the writer handed over
        read.append(path)
        raise AssertionError(f"the index read {path} from the files")

    monkeypatch.setattr(db, "read_sidecar", refuse)
    return read


def test_own_writes_are_indexed_from_the_hand_off(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/warm.md", "a first body\n", actor=ANA)  # the writer and applier start
        read = _no_file_reads(monkeypatch)
        s.put(f"{F}/a.md", "apples grow on trees\n", actor=ANA, tags=["fruit"])
        s.batch(
            [
                Put(f"{F}/b.md", b"bananas are yellow\n", title="Bananas"),
                Put(f"{F}/b.md", b"bananas are yellow and curved\n", title="Bananas"),
                Move(f"{F}/warm.md", f"{F}/moved.md"),
                Put(f"{F}/c.md", b"cherries are red\n"),
                Delete(f"{F}/c.md"),
            ],
            ANA,
        )
        assert [h.path for h in s.search("apples")] == [f"{F}/a.md"]
        assert [h.path for h in s.search("curved")] == [f"{F}/b.md"]
        assert [h.path for h in s.search("first")] == [f"{F}/moved.md"]
        assert s.search("cherries") == []
        rows = {m.path: m for m in s.memories()}
        assert rows[f"{F}/c.md"].state == "tombstoned"
        assert rows[f"{F}/b.md"].title == "Bananas"
        assert f"{F}/warm.md" not in rows
        assert read == []
        monkeypatch.undo()
    # What the hand-off indexed is what a rebuild from the files makes.
    with Store.open(root, allow_temp=True) as s:
        before = [(m.path, m.state, m.title, m.seq) for m in s.memories()]
        hits = [h.path for h in s.search("bananas")]
        s.reindex()
        assert [(m.path, m.state, m.title, m.seq) for m in s.memories()] == before
        assert [h.path for h in s.search("bananas")] == hits


def test_another_process_rows_come_through_refresh(root: Path) -> None:
    with Store.open(root, allow_temp=True) as reader, Store.open(root, allow_temp=True) as w:
        w.put(f"{F}/x.md", "xylophones\n", actor=ANA)
        assert reader.search("xylophones") == []  # not yet followed
        assert reader.refresh() == w.tip.seq
        assert [h.path for h in reader.search("xylophones")] == [f"{F}/x.md"]


def test_one_object_answers_is_row_n_applied(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        res = s.put(f"{F}/a.md", "one\n", actor=ANA)
        s.follower.wait_for(res.seq)
        assert s.follower.applied_seq() >= res.seq
        assert s.follower.acked >= res.seq
        assert s.wait_for_change(res.seq - 1, 1.0) >= res.seq
        text = s.checkpoint()  # a task's rows are the caller's too
        assert text
        assert s.follower.acked == s.tip.seq
        assert s.tail(1)[-1].op == "checkpoint"


def test_rows_wait_for_a_pause_in_the_writes(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index yields to the commit path: while our writer writes, handed-over rows wait;
    a pause, a reader that waits, or the lag limit lets them in."""
    from core.index import applier

    monkeypatch.setattr(applier, "HOLD_S", 0.01)
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/warm.md", "warm\n", actor=ANA)
        s.follower.wait_for(s.tip.seq)
        busy = [True]
        s.follower.watch(lambda: busy[0])
        res = s.put(f"{F}/a.md", "apples\n", actor=ANA)
        time.sleep(0.3)  # 30 holds: without the rule the row is in
        assert s.follower.applied_seq() < res.seq
        busy[0] = False  # the writes pause
        assert s.wait_for_change(res.seq - 1, 5.0) >= res.seq

        busy[0] = True
        res = s.put(f"{F}/b.md", "bananas\n", actor=ANA)
        time.sleep(0.1)
        assert s.follower.applied_seq() < res.seq
        assert [h.path for h in s.search("bananas")] == [f"{F}/b.md"]  # search waits: no lag

        monkeypatch.setattr(applier, "MAX_LAG_S", 0.2)
        res = s.put(f"{F}/c.md", "cherries\n", actor=ANA)
        assert s.wait_for_change(res.seq - 1, 5.0) >= res.seq  # busy throughout: the lag limit


def test_a_restarted_applier_still_yields_to_the_writer(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """reindex with a writer running starts a new applier: it must watch the same writer."""
    from core.index import applier

    monkeypatch.setattr(applier, "HOLD_S", 0.01)
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/warm.md", "warm\n", actor=ANA)
        s.follower.watch(lambda: True)  # the writes never pause
        s.follower.reindex(s.tip.seq)
        res = s.put(f"{F}/a.md", "apples\n", actor=ANA)
        time.sleep(0.3)
        assert s.follower.applied_seq() < res.seq
        assert [h.path for h in s.search("apples")] == [f"{F}/a.md"]


def test_an_unsynced_fold_keeps_writers_from_restarting_the_wal_until_released(
    tmp_path: Path,
) -> None:
    """The one-shot put's fold (Store.close): the WAL's pages go into the database without
    SQLite's syncs, so until the flush's syncfs has run no writer may restart the WAL over
    them; once released, the WAL is cut and writers go on."""
    import sqlite3

    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        for i in range(20):
            s.put(f"memories/facts/f{i}.md", f"# f{i}\n\nbody {i}\n".encode(), actor="agent:t")
    ix = db.IndexWriter(root / "index" / "brain.sqlite", root)
    try:
        ix.set_meta("probe", "1")  # frames in the WAL
        assert ix.fold_unsynced()
        other = sqlite3.connect(root / "index" / "brain.sqlite", timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        ix.release_fold()
        assert Path(f"{ix.db_path}-wal").stat().st_size == 0
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE meta SET value = '2' WHERE key = 'probe'")
        other.execute("COMMIT")
        other.close()
        assert ix.get_meta("probe") == "2"
    finally:
        ix.close()


def test_a_fold_no_flush_covered_gets_a_syncfs_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store.close folds a big WAL only ahead of a flush; when no flush began after the fold
    (the journal was emptied meanwhile), the close runs one syncfs itself before writers may
    restart the WAL, and then lets them."""
    import sqlite3

    from core import fsio
    from core.index.follower import WAL_CHECKPOINT_BYTES
    from core.write.writer import Writer

    root = tmp_path / "s"
    Store.init(root, allow_temp=True).close()
    dbf = root / "index" / "brain.sqlite"
    other = sqlite3.connect(dbf, timeout=0, isolation_level=None)
    other.execute("SELECT count(*) FROM meta").fetchone()  # keeps the WAL from being deleted
    try:
        s = Store.open(root, allow_temp=True)
        n = 0
        while Path(f"{dbf}-wal").stat().st_size <= WAL_CHECKPOINT_BYTES:
            s.put(f"{F}/w{n}.md", f"# w{n}\n\nfiller {n}\n".encode(), actor=ANA)
            s.wait_index()
            n += 1
        s.exit_without_checkpoint = True
        synced: list[str] = []
        real_syncfs = fsio.syncfs
        monkeypatch.setattr(fsio, "syncfs", lambda r: (synced.append(str(r)), real_syncfs(r)))
        # The close's flush finds nothing to flush (as after an idle release).
        monkeypatch.setattr(Writer, "flush", lambda self: None)
        s.close()
        assert synced == [str(s.root)]
        other.execute("BEGIN IMMEDIATE")  # the guard was let go
        other.execute("ROLLBACK")
        assert Path(f"{dbf}-wal").stat().st_size == 0
    finally:
        other.close()


def _text_rows(s: Store) -> dict[int, str]:
    """The full-text table, rowid -> body (and the active memories' ids must be its keys)."""
    return s.follower.call(
        lambda ix: dict(ix.conn.execute("SELECT rowid, body FROM memories_fts").fetchall())
    )


def _active_ids(s: Store) -> set[int]:
    return s.follower.call(
        lambda ix: {r[0] for r in ix.conn.execute("SELECT id FROM memories WHERE state = 'active'")}
    )


def test_text_goes_in_after_the_runs_and_stays_in_order(root: Path) -> None:
    """One index transaction holding more than one run of rows (db._RUN_ROWS): the full-text
    rows, written after the runs, keep the last version of a path met in two runs, and a move,
    tombstone or purge in the same transaction leaves no stale text behind (a purged body's
    text written after its removal would outlive the purge)."""
    n = db._RUN_ROWS  # runs of this length
    intents = [Put(f"{F}/again.md", b"zeppelin first version\n", title="Airship")]
    intents += [Put(f"{F}/p{i}.md", f"filler number {i}\n".encode()) for i in range(n + 2)]
    intents += [
        Put(f"{F}/again.md", b"zeppelin second version\n", title="Airship"),
        Put(f"{F}/gone.md", b"quokka lives here\n"),
        Put(f"{F}/secret.md", b"wombat secret\n"),
        Move(f"{F}/p0.md", f"{F}/moved.md"),
        Delete(f"{F}/gone.md"),
        Delete(f"{F}/secret.md", "purge", "user-request"),
    ]
    with Store.open(root, allow_temp=True) as w, Store.open(root, allow_temp=True) as other:
        w.batch(intents, ANA)  # the writer's own hand-off: one transaction
        assert other.refresh() == w.tip.seq  # another process: the files, one transaction
        for s in (w, other):
            assert [h.path for h in s.search("zeppelin")] == [f"{F}/again.md"]
            assert [h.path for h in s.search("second")] == [f"{F}/again.md"]
            assert s.search("first") == []
            assert s.search("quokka") == []
            assert s.search("wombat") == []
            assert [h.path for h in s.search("filler number 0")][:1] == [f"{F}/moved.md"]
            text = _text_rows(s)
            assert set(text) == _active_ids(s)  # no text without an active memory, and back
            assert sum("zeppelin" in b for b in text.values()) == 1
            assert not any("wombat" in b for b in text.values())  # purged: no text left


def test_a_one_shot_close_fills_the_index_while_the_flush_syncs(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import fsio

    s = Store.open(root, allow_temp=True)
    s.exit_without_checkpoint = True  # a one-shot CLI command: os._exit follows the close
    s.follower.hold(60.0)  # rows would wait a minute for company
    res = s.put(f"{F}/one-shot.md", "the only write\n", actor=ANA)
    real = fsio.syncfs
    applied_at_sync: list[int] = []

    def syncfs(path) -> None:
        deadline = time.monotonic() + 10
        while s.follower.applied_seq() < res.seq and time.monotonic() < deadline:
            time.sleep(0.005)
        applied_at_sync.append(s.follower.applied_seq())
        real(path)

    monkeypatch.setattr(fsio, "syncfs", syncfs)
    s.close()
    assert applied_at_sync and applied_at_sync[0] >= res.seq  # not held until after the flush
