"""Recovery at open (PROTOCOL.md "Durability"): torn journal tails, committed-but-unapplied
records, rebuilt log tails, corruption in the synced region, HEAD ahead of the log, and
derived state (index, node file) rebuilt when it is missing."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import Frozen
from core.log.binlog import Binlog
from core.log.hashing import commitment
from core.log.head import read_head
from core.log.tip import Tip, scan_current
from core.store import Store
from core.store_state import FROZEN_HUMAN, READY
from core.verify.mmr import MMR
from core.write.journal import BINARY_MAGIC, Journal

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checkpoint witnesses live outside the store: keep them out of the real home.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), XDG_STATE_HOME=str(tmp_path / "xdg-state"), **extra)
    return env


def crash_after_commit(tmp_path: Path, root: Path, code: str, commits: int = 1) -> None:
    """Run `code` (with `s` an open Store) in a subprocess that dies right after the journal
    fdatasync of its `commits`-th write: that record is committed but never applied."""
    script = (
        "from core.store import Store\n"
        f"s = Store.open({str(root)!r}, allow_temp=True)\n"
        f"{code}\n"
        "raise SystemExit('the crash hook did not fire')\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", script],
        env=_env(tmp_path, BRAIN_TEST_CRASH_AFTER_COMMIT=str(commits)),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 9, p.stderr


def _chain(root: Path) -> Tip:
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None, (scan.bad, scan.broken)
    return scan.tip


def _journal_records(root: Path):
    j = Journal(root / "audit" / "journal.wal")
    try:
        return j.read()[0]
    finally:
        j.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "store"
    with Store.init(r, allow_temp=True) as s:
        s.put("memories/facts/a.md", "alpha\n", actor=ANA)
        s.put("memories/facts/b.md", "beta\n", actor=ANA)
        s.put("memories/facts/a.md", "alpha two\n", actor=ANA)
    return r


def _size(root: Path) -> int:
    return (root / "audit" / "current.binlog").stat().st_size


# -- (a) torn journal tail ---------------------------------------------------------------------


def test_torn_journal_tail_is_cut_and_reported(root: Path) -> None:
    journal = root / "audit" / "journal.wal"
    assert journal.stat().st_size == 0  # a clean close flushes and empties it
    with open(journal, "ab") as f:
        f.write(b"\x00\x00\x10\x00garbage-that-was-never-acknowledged")
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        assert any("torn journal record" in n for n in st.notes), st.notes
        assert s.view("memories/facts/a.md").body == b"alpha two\n"
        s.put("memories/facts/c.md", "gamma\n", actor=ANA)
    assert journal.stat().st_size == 0
    assert _chain(root).seq == 4


# -- (b) committed but not applied -------------------------------------------------------------


def test_committed_record_is_replayed(tmp_path: Path, root: Path) -> None:
    before = _size(root)
    crash_after_commit(tmp_path, root, "s.put('memories/facts/new.md', 'durable\\n', actor='x:y')")
    # The commit point was passed, nothing was applied.
    assert _size(root) == before
    assert not (root / "memories/facts/new.md").exists()
    (rec,) = _journal_records(root)
    assert rec.first_seq == 4
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.head_seq == 4
        assert any("replayed 1 journal record" in n for n in st.notes), st.notes
        m = s.view("memories/facts/new.md")
        assert m.body == b"durable\n"
        assert commitment(bytes.fromhex(m.sidecar.salt), m.body) == m.sidecar.commit
        assert [r.op for r in s.history("memories/facts/new.md")] == ["put"]
        assert s.mmr.size == 4
    assert _chain(root).seq == 4
    assert read_head_of(root) == 4
    assert (root / "audit" / "journal.wal").stat().st_size == 0


def read_head_of(root: Path) -> int | None:
    from core.layout import Layout

    return read_head(Layout(root))


def test_replay_of_overwrite_and_move_keeps_versions(tmp_path: Path, root: Path) -> None:
    crash_after_commit(
        tmp_path,
        root,
        "from core.write.intents import Move, Put\n"
        "s.batch([Put('memories/facts/a.md', b'alpha three\\n'),"
        " Move('memories/facts/a.md', 'memories/facts/z.md')], 'x:y')",
    )
    with Store.open(root, allow_temp=True) as s:
        assert s.view("memories/facts/z.md").body == b"alpha three\n"
        assert s.version("memories/facts/z.md", 1).body == b"alpha\n"
        assert s.version("memories/facts/z.md", 3).body == b"alpha two\n"
        assert not (root / "memories/facts/a.md").exists()
    assert _chain(root).seq == 5


def test_replay_is_idempotent_when_partly_applied(tmp_path: Path, root: Path) -> None:
    """A crash halfway through applying: some files and frames are there, some not."""
    crash_after_commit(tmp_path, root, "s.put('memories/facts/b.md', 'beta two\\n', actor='x:y')")
    (rec,) = _journal_records(root)
    # Apply part of it by hand: the version move and the frame, not the new body.
    v = rec.versions[0]
    os.makedirs(root / os.path.dirname(v.dst), exist_ok=True)
    os.replace(root / v.src, root / v.dst)
    os.replace(root / (v.src[:-3] + ".meta.json"), root / (v.dst[:-3] + ".meta.json"))
    with open(root / "audit" / "current.binlog", "ab") as f:
        f.write(rec.frames[0])
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == READY
        assert s.view("memories/facts/b.md").body == b"beta two\n"
        assert s.version("memories/facts/b.md", 2).body == b"beta\n"
    assert _chain(root).seq == 4


# -- (c) a torn or bad binlog tail beyond the journal's first seq ------------------------------


@pytest.mark.parametrize("damage", ["torn", "crc"])
def test_log_tail_beyond_journal_is_rebuilt(tmp_path: Path, root: Path, damage: str) -> None:
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    (rec,) = _journal_records(root)
    frame = bytearray(rec.frames[0])
    if damage == "torn":
        frame = frame[: len(frame) // 2]
    else:
        frame[-5] ^= 0x40
    with open(root / "audit" / "current.binlog", "ab") as f:
        f.write(frame)
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        assert any("rebuilt the log after seq 3" in n for n in st.notes), st.notes
        assert s.view("memories/facts/c.md").body == b"gamma\n"
    tip = _chain(root)
    assert tip.seq == 4 and tip.offset == _size(root)


# -- (d) corruption in the synced region --------------------------------------------------------


def test_crc_bad_frame_in_the_middle_freezes(root: Path) -> None:
    log = root / "audit" / "current.binlog"
    data = bytearray(log.read_bytes())
    frames = Binlog(root / "audit")
    offsets = [f.offset for f in frames.iter_frames()]
    assert len(offsets) == 3
    second = offsets[1]
    data[second + 40] ^= 0x01  # inside the second frame's payload
    log.write_bytes(bytes(data))
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == FROZEN_HUMAN
        assert f"byte {second}" in (st.problem or "")
        with pytest.raises(Frozen, match=f"byte {second}"):
            s.put("memories/facts/c.md", "gamma\n", actor=ANA)
        # Reads keep working.
        assert s.view("memories/facts/b.md").body == b"beta\n"
    assert log.read_bytes() == bytes(data)  # never truncated


def test_torn_tail_with_empty_journal_is_corruption(root: Path) -> None:
    """The journal is empty, so every frame is in the synced region: even a torn last frame
    means synced data was lost, and it is refused rather than cut (PROTOCOL wins over issue 2)."""
    log = root / "audit" / "current.binlog"
    data = log.read_bytes()
    log.write_bytes(data[:-7])
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == FROZEN_HUMAN
        with pytest.raises(Frozen, match="bad frame at byte"):
            s.put("memories/facts/c.md", "gamma\n", actor=ANA)
    assert log.read_bytes() == data[:-7]


def test_broken_chain_freezes(root: Path) -> None:
    """A frame that is CRC-good and canonical but does not chain: re-encoded with a new CRC."""
    from core.log import canonical, frames

    binlog = Binlog(root / "audit")
    fr = list(binlog.iter_frames())
    row = canonical.decode(fr[1].payload)
    row["actor"] = "human:mallory@laptop"
    payload = canonical.encode(row)
    blob = b"".join(
        frames.encode(f.seq, f.ts_ns, payload if i == 1 else f.payload) for i, f in enumerate(fr)
    )
    (root / "audit" / "current.binlog").write_bytes(blob)
    shutil.rmtree(root / "index")  # no verified tip to start from: the whole log is walked
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == FROZEN_HUMAN and "chain" in (st.problem or "")
        with pytest.raises(Frozen):
            s.put("memories/facts/c.md", "gamma\n", actor=ANA)


# -- (e) HEAD ahead of the log ------------------------------------------------------------------


def test_head_ahead_of_log_freezes(root: Path) -> None:
    head = root / "HEAD"
    head.write_bytes((9).to_bytes(8, "little"))
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == FROZEN_HUMAN
        assert "HEAD" in (st.problem or "") and "9" in (st.problem or "")
        with pytest.raises(Frozen, match="HEAD"):
            s.put("memories/facts/c.md", "gamma\n", actor=ANA)
    assert read_head_of(root) == 9  # the evidence is kept


def test_head_ahead_after_replay_freezes(tmp_path: Path, root: Path) -> None:
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    (root / "HEAD").write_bytes((7).to_bytes(8, "little"))
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == FROZEN_HUMAN and "HEAD" in (st.problem or "")
    assert read_head_of(root) == 7


def test_head_behind_or_malformed_is_only_a_hint(root: Path) -> None:
    (root / "HEAD").write_bytes(b"\x01\x02")  # not 8 bytes: a missing hint
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == READY
        s.put("memories/facts/c.md", "gamma\n", actor=ANA)
    assert read_head_of(root) == 4
    (root / "HEAD").write_bytes((1).to_bytes(8, "little"))  # behind: the log wins
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == READY


# -- (f) derived state rebuilt ---------------------------------------------------------------


def test_deleted_index_is_rebuilt(root: Path) -> None:
    shutil.rmtree(root / "index")
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.memories == 2 and st.index_seq == 3
        assert any("rebuilt the index" in n for n in st.notes)
        assert [h.path for h in s.search("alpha")] == ["memories/facts/a.md"]
        assert len(s.history("memories/facts/a.md")) == 2


def test_deleted_index_with_pending_journal(tmp_path: Path, root: Path) -> None:
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    shutil.rmtree(root / "index")
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.memories == 3 and st.index_seq == 4
        assert [h.path for h in s.search("gamma")] == ["memories/facts/c.md"]


def test_deleted_node_file_is_rebuilt(root: Path) -> None:
    with MMR.open(root / "audit" / "mmr.nodes", readonly=True) as m:
        want = m.root(3)
    (root / "audit" / "mmr.nodes").unlink()
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == READY
        s.put("memories/facts/c.md", "gamma\n", actor=ANA)
        assert s.mmr.size == 4 and s.mmr.root(3) == want


def test_read_only_open_does_not_replay(tmp_path: Path, root: Path) -> None:
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    size = (root / "audit" / "journal.wal").stat().st_size
    with Store.open(root, allow_temp=True, read_only=True) as s:
        assert s.state().head_seq == 3
        assert not (root / "memories/facts/c.md").exists()
    assert (root / "audit" / "journal.wal").stat().st_size == size
    with Store.open(root, allow_temp=True) as s:
        assert s.view("memories/facts/c.md").body == b"gamma\n"


def test_journal_record_is_binary(tmp_path: Path, root: Path) -> None:
    """docs/durability.md: records are written in the binary layout (raw bodies, no base64)."""
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    raw = (root / "audit" / "journal.wal").read_bytes()
    assert raw[24:28] == BINARY_MAGIC
    assert b"gamma\n" in raw and base64.b64encode(b"gamma\n") not in raw


def test_an_older_writers_json_record_replays(tmp_path: Path, root: Path) -> None:
    """A journal left in PROTOCOL's canonical-JSON layout (an older writer crashed after its
    commit point) is still replayed."""
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    (rec,) = _journal_records(root)
    old = rec.encode_json()
    assert old[24:25] == b"{"
    (root / "audit" / "journal.wal").write_bytes(old)
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.head_seq == 4, st.problem
        assert any("replayed 1 journal record" in n for n in st.notes), st.notes
        assert s.view("memories/facts/c.md").body == b"gamma\n"
    assert (root / "audit" / "journal.wal").stat().st_size == 0


# -- filler reserved past the records (core/write/journal.py RESERVE) -------------------------


def _crash_after_third(tmp_path: Path, root: Path) -> None:
    """Three puts in one lock tenure; the process dies after the third one's commit point."""
    code = "for name in 'cde':\n    s.put(f'memories/facts/{name}.md', name + '\\n', actor='x:y')"
    crash_after_commit(tmp_path, root, code, commits=3)


def test_a_tenure_reserves_filler_that_recovery_reads_past(tmp_path: Path, root: Path) -> None:
    from core.log import frames
    from core.write.journal import FILL, RESERVE

    _crash_after_third(tmp_path, root)
    journal = root / "audit" / "journal.wal"
    records, end, torn = Journal.read_path(journal)
    assert [r.first_seq for r in records] == [4, 5, 6] and torn == 0
    # Filler was reserved at the second record; the third overwrote the start of it.
    data = journal.read_bytes()
    assert (
        len(data) >= RESERVE
        and len(data) > end
        and data[end:] == bytes((FILL,)) * (len(data) - end)
    )
    # An older reader sees a torn tail there (a length past the end), never a record.
    good, bad = frames.scan(data[end:], check_rows=False, limit=None)
    assert good == [] and bad is not None and bad.offset == 0 and "cut short" in bad.reason
    with Store.open(root, allow_temp=True, read_only=True) as s:
        finding = s.doctor().result("chain.journal")
    assert finding is not None and finding.status == "WARN", finding
    assert "3 record(s)" in finding.detail and "torn" not in finding.detail, finding.detail
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.head_seq == 6, st.problem
        assert not any("torn" in n for n in st.notes), st.notes
        assert any("replayed 3 journal record(s), 1 row(s)" in n for n in st.notes), st.notes
        assert s.view("memories/facts/e.md").body == b"e\n"
    assert journal.stat().st_size == 0


def test_a_torn_record_in_the_reserved_filler_is_cut(tmp_path: Path, root: Path) -> None:
    _crash_after_third(tmp_path, root)
    journal = root / "audit" / "journal.wal"
    _records, end, _torn = Journal.read_path(journal)
    with open(journal, "r+b") as f:  # a fourth record, torn: its header and a little payload
        f.seek(end)
        f.write(b"\x00\x00\x10\x00garbage-that-was-never-acknowledged")
    records, end2, torn = Journal.read_path(journal)
    assert len(records) == 3 and end2 == end and torn == journal.stat().st_size - end
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and st.head_seq == 6, st.problem
        assert any("torn journal record" in n for n in st.notes), st.notes
    assert journal.stat().st_size == 0


def test_a_one_shot_put_reserves_nothing(tmp_path: Path, root: Path) -> None:
    crash_after_commit(tmp_path, root, "s.put('memories/facts/c.md', 'gamma\\n', actor='x:y')")
    journal = root / "audit" / "journal.wal"
    _records, end, _torn = Journal.read_path(journal)
    assert journal.stat().st_size == end  # no filler: a single record pays for none


@pytest.mark.parametrize("fill", [0xFF, 0x00])
def test_a_journal_of_filler_holds_no_record(root: Path, fill: int) -> None:
    journal = root / "audit" / "journal.wal"
    # Filler a writer reserved, then it died before a record (zeros: a file system's leftovers).
    journal.write_bytes(bytes((fill,)) * 4096)
    assert Journal.read_path(journal) == ([], 0, 0)
    with Store.open(root, allow_temp=True, read_only=True) as s:
        report = s.doctor()
    assert report.state == READY, report.failing()
    assert "holds no record" in report.result("chain.journal").detail
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY and not st.notes, st.notes
        s.put("memories/facts/c.md", "gamma\n", actor=ANA)
    assert journal.stat().st_size == 0


def test_the_doctor_counts_a_live_writers_records_not_its_filler(root: Path) -> None:
    from core.write.journal import RESERVE

    with Store.open(root, allow_temp=True) as s:
        for name in ("a", "b", "c"):  # one lock tenure: filler is reserved from the second on
            s.put(f"memories/facts/live-{name}.md", f"{name}\n", actor="x:y")
        assert s.session.held
        journal = root / "audit" / "journal.wal"
        records, end, _torn = Journal.read_path(journal)
        assert len(records) == 3 and journal.stat().st_size >= RESERVE > end
        with Store.open(root, allow_temp=True, read_only=True) as other:
            finding = other.doctor().result("chain.journal")
    assert finding is not None and finding.status == "PASS", finding
    assert f"holds 3 record(s) in flight ({end:,} bytes)" in finding.detail, finding.detail


def test_a_writer_that_lets_go_while_the_doctor_reads_left_no_crash(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.write import journal as journal_mod

    s = Store.open(root, allow_temp=True)
    for name in ("a", "b"):
        s.put(f"memories/facts/going-{name}.md", f"{name}\n", actor="x:y")
    real = journal_mod.Journal.read_path

    def read_then_release(path):
        found = real(path)
        s.close()  # the writer flushes, empties its journal and lets the lock go right after
        return found

    monkeypatch.setattr(journal_mod.Journal, "read_path", staticmethod(read_then_release))
    with Store.open(root, allow_temp=True, read_only=True) as other:
        finding = other.doctor().result("chain.journal")
    assert finding is not None and finding.status == "PASS", finding


def test_a_crashed_journal_a_writer_replays_while_the_doctor_reads_is_in_flight(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.write import journal as journal_mod
    from core.write import writer as writer_mod

    _crash_after_third(tmp_path, root)
    monkeypatch.setattr(writer_mod, "IDLE_RELEASE_S", 60.0)  # the writer keeps the lock
    real = journal_mod.Journal.read_path
    writers: list[Store] = []
    came = False

    def read_then_a_writer_comes(path):
        nonlocal came
        found = real(path)
        if not came:  # the doctor's read: then a writer takes the lock and replays the records
            came = True
            writers.append(Store.open(root, allow_temp=True))
        return found

    monkeypatch.setattr(journal_mod.Journal, "read_path", staticmethod(read_then_a_writer_comes))
    try:
        with Store.open(root, allow_temp=True, read_only=True) as other:
            finding = other.doctor().result("chain.journal")
        assert writers  # the writer came while the doctor read
    finally:
        for w in writers:
            w.close()
    assert finding is not None and finding.status == "PASS", finding
    assert "took the lock while the journal was read (3 record(s))" in finding.detail
