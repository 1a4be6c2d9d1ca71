"""Backup (hard-linked immutable files, verified) and consolidation (sealed zstd segments, reads
transparent, crash-safe between every step)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from brain_tui.cli.main import main as brain
from core.errors import BrainError
from core.log import frames
from core.log.binlog import Binlog
from core.log.tip import Tip
from core.store import Store
from core.store_state import READY

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _fill(s: Store, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        s.put(f"memories/facts/n{i:03d}.md", f"fact {i} about kafka\n", actor=ANA)


@pytest.fixture
def store(tmp_path: Path):
    s = Store.init(tmp_path / "s", allow_temp=True)
    _fill(s, 6)
    s.put("memories/facts/n000.md", "fact zero, revised, about kafka\n", actor=ANA)
    s.move("memories/facts/n001.md", "memories/facts/moved.md", actor=ANA)
    yield s
    s.close()


def _seqs(s: Store) -> list[int]:
    return [r.seq for r, _p in s.rows()]


def _check_chain(s: Store) -> None:
    """Every row from genesis, across segments, chains onto the one before it."""
    from core.log.tip import verify_row

    tip = Tip()
    for row, payload in s.rows():
        assert verify_row(row, payload, tip) is None
        tip = Tip(row.seq, row.ts_ns, row.chain, 0)
    assert tip.seq == s.tip.seq and tip.chain == s.tip.chain


# -- backup -------------------------------------------------------------------------------------


def test_backup_links_immutable_files_and_verifies(store: Store, tmp_path: Path) -> None:
    store.consolidate()  # a sealed segment and notes to link
    _fill(store, 2, 100)
    (store.root / "local" / "watched.json").write_text("{}")
    dest = tmp_path / "bk"
    res = store.backup(dest)
    assert res.verified and res.head_seq == store.tip.seq
    linked = [p for p in (dest / "audit").rglob("*") if p.name.endswith((".zst", ".note"))]
    assert len(linked) == res.linked >= 2
    for p in linked:
        src = store.root / p.relative_to(dest)
        assert os.stat(p).st_ino == os.stat(src).st_ino and os.stat(p).st_nlink >= 2
    for rel in (
        "audit/current.binlog",
        "audit/mmr.nodes",
        "manifest.json",
        "memories/facts/moved.md",
    ):
        assert os.stat(dest / rel).st_ino != os.stat(store.root / rel).st_ino, rel
        assert (dest / rel).read_bytes() == (store.root / rel).read_bytes(), rel
    assert (dest / "local" / "watched.json").exists()
    private = next((dest / "keys").glob("*.key"))
    assert private.stat().st_mode & 0o777 == 0o600
    assert not (dest / ".lock").exists() and not (dest / "index").exists()
    assert not (dest / "audit" / "journal.wal").exists()
    with Store.open(dest, allow_temp=True) as restored:  # opens for writing, index rebuilt
        assert restored.state().state == READY
        assert restored.view("memories/facts/moved.md").body == b"fact 1 about kafka\n"
        assert len(restored.search("kafka", limit=100)) == 8


def test_backup_refuses_non_empty_or_inner_destinations(store: Store, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(BrainError, match="not an empty folder"):
        store.backup(tmp_path / "full")
    with pytest.raises(BrainError, match="inside the store"):
        store.backup(store.root / "local" / "bk")


def _leftovers(parent: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name not in keep)


def test_failed_backup_leaves_no_partial_copy(store: Store, tmp_path: Path, monkeypatch) -> None:
    """A backup that fails half-way (here a symlink the store must not hold, met after keys/
    was copied) leaves nothing at DIR and nothing beside it: no partial copy, no keys."""
    link = store.root / "memories" / "facts" / "zz-link"
    link.symlink_to(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BrainError, match="symlink"):
        store.backup(out / "bk")
    assert _leftovers(out, set()) == []
    link.unlink()
    # A copy that does not verify: DIR, given empty, stays empty and nothing sits beside it.
    (out / "empty").mkdir()

    def bad(_src, *_args):
        raise BrainError("simulated verification failure")

    monkeypatch.setattr("core.portable.backup.verify", bad)
    with pytest.raises(BrainError, match="simulated verification failure"):
        store.backup(out / "empty")
    assert _leftovers(out, {"empty"}) == [] and list((out / "empty").iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    res = store.backup(out / "empty")  # then it works, into the same empty folder
    assert res.verified and res.dest == str(out / "empty")
    assert _leftovers(out, {"empty"}) == [] and (out / "empty" / "keys").is_dir()


def test_dot_named_memories_are_refused_at_write_time(store: Store, tmp_path: Path) -> None:
    """PROTOCOL: a name the layout cannot carry everywhere is refused when written. A leading
    '.' marks temp files, which export, backup and import skip, so no memory may use one."""
    from core.errors import InvalidPath

    for bad in ("memories/facts/.hidden.md", "memories/facts/.d/x.md"):
        with pytest.raises(InvalidPath, match="starts with '.'"):
            store.put(bad, "x\n", actor=ANA)
        with pytest.raises(InvalidPath, match="starts with '.'"):
            store.move("memories/facts/n002.md", bad, actor=ANA)
    assert store.backup(tmp_path / "bk").verified


def test_backup_is_consistent_with_a_concurrent_writer(store: Store, tmp_path: Path) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                store.put(f"memories/facts/bg{i % 7}.md", f"background {i}\n", actor=ANA)
                i += 1
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = [store.backup(tmp_path / f"bk{i}") for i in range(3)]
    finally:
        stop.set()
        t.join()
    assert not errors and all(r.verified for r in results)


# -- consolidate ----------------------------------------------------------------------------------


def test_consolidate_keeps_reads_transparent(store: Store) -> None:
    before = [(r.seq, r.op, r.path) for r in store.tail()]
    history = [r.seq for r in store.history("memories/facts/moved.md")]
    res = store.consolidate()
    assert res.sealed == "00000000000000000001.binlog.zst" and res.rows == len(before)
    assert res.bytes_out < res.bytes_in and res.checkpoint == len(before)
    audit = store.root / "audit"
    assert (audit / res.sealed).exists() and (audit / "sealed.tip").exists()
    assert store.binlog.base_tip().seq == len(before)
    assert [(r.seq, r.op, r.path) for r in store.tail()][: len(before)] == before
    assert [r.seq for r in store.history("memories/facts/moved.md")] == history
    assert store.view("memories/facts/n000.md").body.startswith(b"fact zero")
    assert store.version("memories/facts/n000.md", 1).body == b"fact 0 about kafka\n"
    assert len(store.search("kafka", limit=100)) == 6
    bundle = store.prove(2)
    from core.verify.proofbundle import verify_bundle

    assert verify_bundle(bundle).valid
    _fill(store, 3, 50)  # new writes chain onto the sealed tip
    assert _seqs(store) == list(range(1, store.tip.seq + 1))
    _check_chain(store)


def test_consolidate_min_rows_and_repeat(store: Store) -> None:
    n = store.tip.seq
    assert store.consolidate(min_rows=n + 1).sealed is None
    assert store.consolidate(min_rows=n).sealed is not None
    assert store.consolidate(min_rows=2).sealed is None  # only the checkpoint row since
    _fill(store, 4, 60)
    res = store.consolidate(min_rows=2)
    assert res.sealed == f"{n + 1:020d}.binlog.zst"
    assert len(store.binlog.sealed()) == 2
    assert _seqs(store) == list(range(1, store.tip.seq + 1))
    _check_chain(store)


def test_reopen_reindex_and_readers_after_consolidation(store: Store) -> None:
    root = store.root
    reader = Store.open(root, allow_temp=True, read_only=True)
    try:
        old = reader.tip.seq
        store.consolidate()
        _fill(store, 2, 70)
        store.consolidate()  # the reader's rows-to-come are now in a sealed segment
        _fill(store, 1, 72)
        assert store.binlog.base_tip().seq > old
        assert reader.refresh() == store.tip.seq  # its offset went stale; it re-reads
        assert [r.seq for r, _p in reader.rows()] == _seqs(store)
    finally:
        reader.close()
    head = store.tip
    store.close()
    with Store.open(root, allow_temp=True) as s:
        assert (s.tip.seq, s.tip.chain) == (head.seq, head.chain) and s.problem is None
        assert s.state().state == READY
        assert s.reindex() == 9 and len(s.tail()) == head.seq
        _fill(s, 1, 80)
        _check_chain(s)
    shutil.rmtree(root / "index")
    with Store.open(root, allow_temp=True) as s:  # rebuilt from segments and current.binlog
        assert len(s.tail()) == s.tip.seq == head.seq + 1
        _fill(s, 1, 81)
    with Store.open(root, allow_temp=True, read_only=True) as s:
        assert s.tip.seq == head.seq + 2 and s.problem is None


def test_other_process_writer_fences_across_consolidation(store: Store, tmp_path: Path) -> None:
    other = Store.open(store.root, allow_temp=True)
    try:
        _fill(other, 1, 90)  # other's writer now has a tip offset into current.binlog
        store.consolidate()
        _fill(store, 2, 91)
        _fill(other, 1, 95)  # re-acquires: must read across the new segment and chain on
        assert _seqs(other) == list(range(1, other.tip.seq + 1))
        _check_chain(other)
    finally:
        other.close()


# -- crash safety ---------------------------------------------------------------------------------


def _crash_consolidate(tmp_path: Path, root: Path, step: str) -> None:
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(REPO),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        BRAIN_TEST_CRASH_CONSOLIDATE=step,
    )
    script = (
        "from core.store import Store\n"
        f"s = Store.open({str(root)!r}, allow_temp=True)\n"
        "s.consolidate()\n"
        "raise SystemExit('the crash hook did not fire')\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 9, p.stderr


@pytest.mark.parametrize("step", ["segment", "tip"])
def test_crash_between_consolidation_steps(store: Store, tmp_path: Path, step: str) -> None:
    root, head = store.root, store.tip
    before = [(r.seq, r.op, r.path) for r in store.tail()]
    store.close()
    _crash_consolidate(tmp_path, root, step)
    audit = root / "audit"
    assert (audit / "00000000000000000001.binlog.zst").exists()
    assert (audit / "sealed.tip").exists() == (step == "tip")
    assert Binlog(audit).current_size() > 0  # the overlap: rows in both places
    with Store.open(root, allow_temp=True, read_only=True) as ro:  # readers skip the overlap
        assert ro.problem is None and (ro.tip.seq, ro.tip.chain) == (head.seq, head.chain)
        assert [r.seq for r, _p in ro.rows()] == list(range(1, head.seq + 1))
    with Store.open(root, allow_temp=True) as s:  # a writable open finishes the cut
        assert s.problem is None and s.state().state == READY
        assert any("interrupted consolidation" in n for n in s.notes), s.notes
        assert Binlog(audit).current_size() == 0 and (audit / "sealed.tip").exists()
        assert [(r.seq, r.op, r.path) for r in s.tail()] == before
        _fill(s, 2, 40)
        _check_chain(s)
        assert s.consolidate().sealed == f"{head.seq + 1:020d}.binlog.zst"
        _check_chain(s)


def test_overlap_left_by_hand_is_tolerated(store: Store) -> None:
    """The same intermediate state made directly: a segment copy of current.binlog, no record."""
    import zstandard

    root, head = store.root, store.tip.seq
    store.close()
    audit = root / "audit"
    data = (audit / "current.binlog").read_bytes()
    (audit / "00000000000000000001.binlog.zst").write_bytes(zstandard.compress(data))
    with Store.open(root, allow_temp=True) as s:  # finishes the seal at open
        assert (audit / "current.binlog").read_bytes() == b""
        assert s.binlog.base_tip().seq == head == s.tip.seq
        _fill(s, 1, 30)
        first = frames.scan((audit / "current.binlog").read_bytes())[0]
        assert [f.seq for f in first] == [head + 1]
        _check_chain(s)


def test_cli_backup_and_consolidate(store: Store, tmp_path: Path, capsys) -> None:
    store.close()
    base = ["--store", str(store.root), "--allow-temp-store"]
    assert brain([*base, "consolidate", "--min-rows", "1000"]) == 0
    assert "nothing sealed" in capsys.readouterr().out
    assert brain([*base, "consolidate"]) == 0
    assert "sealed rows 1.." in capsys.readouterr().out
    assert brain([*base, "backup", str(tmp_path / "bk")]) == 0
    assert "verified" in capsys.readouterr().out
