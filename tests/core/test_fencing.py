"""Two writers on one store (issue 9): a long-lived Store beside CLI processes, one verdict that
every process reads, open verifying from the newest checkpoint, and derived state that is
rebuilt rather than locking anyone out."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import verdict
from core.errors import Frozen
from core.index.db import IndexGap, IndexWriter
from core.log import frames
from core.log.binlog import Binlog
from core.store import Store
from core.verify.mmr import MMR, leaf_hash

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"
F = "memories/facts"


def brain(root: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(
        os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1", BRAIN_ACTOR="human:cli@box"
    )
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", "--store", str(root), *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


def nodes_match_log(root: Path) -> None:
    leaves = [
        leaf_hash(f.payload)
        for f in Binlog(root / "audit").iter_frames()
        if isinstance(f, frames.Frame)
    ]
    with MMR.open(root / "audit" / "mmr.nodes", readonly=True) as mmr:
        assert mmr.size == len(leaves)
        assert mmr.root() == MMR.root_of(leaves)
        for i, h in enumerate(leaves):
            assert mmr.leaf(i) == h


def wait_released(s: Store) -> None:
    deadline = time.monotonic() + 5
    while s.session.held and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "store"
    Store.init(r, allow_temp=True).close()
    return r


def test_long_lived_writer_and_cli_writes_keep_the_node_file_right(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "one\n", actor=ANA)
        for i in range(3):
            wait_released(s)
            assert brain(root, "put", f"{F}/cli-{i}.md", "-", stdin=b"cli\n").returncode == 0
            assert brain(root, "checkpoint").returncode == 0
            s.put(f"{F}/tui-{i}.md", f"tui {i}\n", actor=ANA)  # re-reads the node file first
            s.checkpoint()
        head = s.state().head_seq
    nodes_match_log(root)
    p = brain(root, "doctor", "--json")
    assert p.returncode == 0, p.stdout.decode()[-2000:]
    with Store.open(root, allow_temp=True) as s:
        for seq in (1, head // 2, head):
            bundle = s.prove(seq)
            assert bundle["seq"] == seq


def test_a_verdict_found_in_one_process_is_kept_by_every_process(root: Path) -> None:
    with Store.open(root, allow_temp=True) as tui:
        tui.put(f"{F}/a.md", "one\n", actor=ANA)
        wait_released(tui)
        verdict.record(tui.layout, verdict.FROZEN_HUMAN, "a test found tampering", "doctor")
        # Another process (the CLI) refuses and reports the same state.
        p = brain(root, "put", f"{F}/b.md", "-", stdin=b"two\n")
        assert p.returncode == 1 and b"FROZEN_HUMAN" in p.stderr
        p = brain(root, "state", "--json")
        assert b'"FROZEN_HUMAN"' in p.stdout
        # The long-lived process refuses too, though it opened READY.
        with pytest.raises(Frozen, match="a test found tampering"):
            tui.put(f"{F}/c.md", "three\n", actor=ANA)
        assert tui.state().state == "FROZEN_HUMAN"
    p = brain(root, "doctor", "--repair")
    assert p.returncode != 0 and b"--reason" in p.stderr  # a person's verdict needs a reason
    p = brain(root, "doctor", "--repair", "--reason", "checked by hand: a test's verdict")
    assert p.returncode == 0, p.stdout.decode()[-2000:] + p.stderr.decode()
    assert not verdict.path_of(Store.open(root, allow_temp=True, read_only=True).layout).exists()
    assert brain(root, "put", f"{F}/b.md", "-", stdin=b"two\n").returncode == 0


def test_doctor_records_what_it_finds_for_the_next_process(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        for i in range(4):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
        s.checkpoint()
    data = bytearray((root / "audit/mmr.nodes").read_bytes())
    data[-5] ^= 0xFF  # the node file is derived: doctor finds it, writes wait for --repair
    (root / "audit/mmr.nodes").write_bytes(bytes(data))
    p = brain(root, "doctor")
    assert p.returncode != 0
    assert verdict.read(Store.open(root, allow_temp=True, read_only=True).layout) is not None
    p = brain(root, "put", f"{F}/x.md", "-", stdin=b"x\n")
    assert p.returncode == 1 and b"FROZEN_RECOVERABLE" in p.stderr
    p = brain(root, "doctor", "--repair")
    assert p.returncode == 0, p.stdout.decode()[-2000:]
    assert brain(root, "put", f"{F}/x.md", "-", stdin=b"x\n").returncode == 0
    nodes_match_log(root)


def test_open_verifies_from_the_newest_checkpoint_not_the_last_open(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        for i in range(3):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
        s.checkpoint()  # seq 4
        for i in range(3, 6):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
    Store.open(root, allow_temp=True).close()  # an open READY at seq 7
    # Flip a payload byte of seq 5: after the checkpoint, before the last open's position.
    data = bytearray((root / "audit/current.binlog").read_bytes())
    f5 = next(f for f in frames.iter_frames(bytes(data)) if f.seq == 5)
    data[f5.offset + frames.HEADER_SIZE + 10] ^= 0x01
    (root / "audit/current.binlog").write_bytes(bytes(data))
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN"
        with pytest.raises(Frozen):
            s.put(f"{F}/late.md", "late\n", actor=ANA)
    with pytest.raises(Frozen):  # and stays frozen for the next process too
        with Store.open(root, allow_temp=True) as s:
            s.put(f"{F}/late.md", "late\n", actor=ANA)


def test_open_walks_only_the_rows_past_what_an_earlier_open_verified(
    root: Path, monkeypatch
) -> None:
    from core.index.follower import TAIL_RECORD_ROWS

    with Store.open(root, allow_temp=True) as s:
        for i in range(TAIL_RECORD_ROWS + 5):  # no checkpoint: every row is past the newest one
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
    Store.open(root, allow_temp=True).close()  # verifies them and records their digest
    walked = _count_walked(monkeypatch)
    Store.open(root, allow_temp=True).close()
    assert walked == []  # the bytes are unchanged: nothing to walk again
    recorded = _meta(root, "verified_tail")
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/late.md", "late\n", actor=ANA)
    walked.clear()
    with Store.open(root, allow_temp=True) as s:
        assert walked == [s.state().head_seq]  # only the row written since
    # A walk that short is not worth an index write at every open: the digest stays.
    assert _meta(root, "verified_tail") == recorded is not None


def _count_walked(monkeypatch) -> list[int]:
    """The seqs of the rows opens verify one by one from now on."""
    from core.log import tip as tip_mod

    walked: list[int] = []
    real = tip_mod.verify_row

    def counting(row, payload, prev):
        walked.append(row.seq)
        return real(row, payload, prev)

    monkeypatch.setattr(tip_mod, "verify_row", counting)
    return walked


def _meta(root: Path, key: str) -> str | None:
    import sqlite3

    conn = sqlite3.connect(root / "index" / "brain.sqlite")
    try:
        hit = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    finally:
        conn.close()
    return hit[0] if hit else None


def test_the_digest_is_a_hint_that_never_waits_for_the_index(root: Path) -> None:
    import sqlite3

    from core.index.follower import TAIL_RECORD_ROWS

    with Store.open(root, allow_temp=True) as s:
        for i in range(TAIL_RECORD_ROWS + 5):  # enough for the next open to record a digest
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
    other = sqlite3.connect(root / "index" / "brain.sqlite", isolation_level=None)
    hint = "SELECT value FROM meta WHERE key = 'verified_tail'"
    before = other.execute(hint).fetchall()
    other.execute("BEGIN IMMEDIATE")  # another process writes the index meanwhile
    try:
        t0 = time.monotonic()
        with Store.open(root, allow_temp=True) as s:
            assert s.cannot_write is None and s.state().state == "READY"
            opened_s = time.monotonic() - t0
    finally:
        other.execute("ROLLBACK")
    assert opened_s < 2.0  # not the index's 5 s busy timeout
    assert other.execute(hint).fetchall() == before  # the hint was left out, nothing else
    other.close()


@pytest.mark.parametrize("checkpoint", [True, False])
def test_a_row_changed_after_an_open_verified_it_is_still_caught(
    root: Path, checkpoint: bool
) -> None:
    with Store.open(root, allow_temp=True) as s:
        for i in range(3):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
        if checkpoint:
            s.checkpoint()
        for i in range(3, 6):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
    Store.open(root, allow_temp=True).close()  # records the digest of the rows it verified
    data = bytearray((root / "audit/current.binlog").read_bytes())
    f5 = next(f for f in frames.iter_frames(bytes(data)) if f.seq == 5)
    data[f5.offset + frames.HEADER_SIZE + 10] ^= 0x01  # the digest no longer matches
    (root / "audit/current.binlog").write_bytes(bytes(data))
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN"


def test_index_refuses_a_gap_and_the_applier_fills_it_from_the_log(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        for i in range(5):
            s.put(f"{F}/{i}.md", f"{i}\n", actor=ANA)
        rows = [r for r, _p in s.rows()]
    ix = IndexWriter(root / "index" / "brain.sqlite", root)
    try:
        ix.conn.execute("UPDATE meta SET value = '2' WHERE key = 'last_applied'")
        with pytest.raises(IndexGap):
            ix.apply(rows[3:], 0)
        assert ix.last_applied()[0] == 2
    finally:
        ix.close()
    # A process that hands the index rows past the gap (as a writer replaying a crashed
    # holder's journal does) gets every row indexed, in order.
    with Store.open(root, allow_temp=True) as s:
        s.session.start()
        s.follower.hand_off(rows[4:], 0)
        s.follower.wait_for(5)
        seqs = [r.seq for r in s.tail(1)]
        assert seqs == list(range(1, len(seqs) + 1)) and seqs[-1] >= 5


def test_garbage_index_is_rebuilt_and_read_only_opens_do_not_create_one(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "findable ledger words\n", actor=ANA)
    for suffix in ("-wal", "-shm"):
        Path(f"{root}/index/brain.sqlite{suffix}").unlink(missing_ok=True)
    (root / "index/brain.sqlite").write_bytes(b"this is not a database" * 100)
    p = brain(root, "search", "ledger")
    assert p.returncode == 0 and b"a.md" in p.stdout, p.stderr
    assert brain(root, "reindex").returncode == 0
    # Read-only: no index file appears.
    import shutil

    shutil.rmtree(root / "index")
    with Store.open(root, allow_temp=True, read_only=True) as s:
        assert s.state().head_seq == 1
        assert s.view(f"{F}/a.md").body == b"findable ledger words\n"
    assert not (root / "index").exists() or not any((root / "index").iterdir())


def test_a_failed_apply_is_replayed_by_the_next_request(root: Path, monkeypatch) -> None:
    from core.write import writer as writer_mod

    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "one\n", actor=ANA)
        real = writer_mod.apply_files
        calls = {"n": 0}

        def failing(*a, **kw):
            calls["n"] += 1
            if calls["n"] == 1:
                raise OSError(28, "No space left on device")
            return real(*a, **kw)

        monkeypatch.setattr(writer_mod, "apply_files", failing)
        with pytest.raises(Frozen, match="safe in the journal"):
            s.put(f"{F}/b.md", "two\n", actor=ANA)
        assert s.state().state == "FROZEN_RECOVERABLE"
        # The record was committed: the next request replays it, then writes its own.
        s.put(f"{F}/c.md", "three\n", actor=ANA)
        assert s.view(f"{F}/b.md").body == b"two\n"
        assert s.state().state == "READY"
    nodes_match_log(root)
    p = brain(root, "doctor")
    assert p.returncode == 0, p.stdout.decode()[-2000:]


def test_a_wrong_leaf_for_another_process_row_is_rebuilt_at_the_fence(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "one\n", actor=ANA)
        wait_released(s)
        assert brain(root, "put", f"{F}/b.md", "-", stdin=b"two\n").returncode == 0
        data = bytearray((root / "audit/mmr.nodes").read_bytes())
        data[16 + 32 * 1] ^= 0xFF  # leaf 1 (seq 2, the CLI's row): node 1 in post-order
        (root / "audit/mmr.nodes").write_bytes(bytes(data))
        s.put(f"{F}/c.md", "three\n", actor=ANA)
        s.checkpoint()
    nodes_match_log(root)
    p = brain(root, "doctor")
    assert p.returncode == 0, p.stdout.decode()[-2000:]


def test_prove_works_when_the_writer_has_not_taken_the_lock_yet(root: Path) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put(f"{F}/a.md", "one\n", actor=ANA)
        s.checkpoint()
    with Store.open(root, allow_temp=True) as s:
        w = s.session.start()  # as open's recovery leaves it when another process held the lock
        assert w.mmr is None
        assert s.prove(1)["seq"] == 1


def test_the_per_put_verdict_check_sees_every_new_verdict_file(root: Path) -> None:
    """The writer's check before each group (every acquisition reads the verdict; a group
    while the lock is held reads it cached by stat, core/verdict.read_cached): a file
    recorded, cleared and recorded again between puts is seen every time."""
    with Store.open(root, allow_temp=True) as s:
        for n in range(3):
            s.put(f"{F}/ok{n}.md", "fine\n", actor=ANA)
            verdict.record(s.layout, verdict.FROZEN_RECOVERABLE, f"reason {n}", "test")
            with pytest.raises(Frozen, match=f"reason {n}"):
                s.put(f"{F}/no{n}.md", "refused\n", actor=ANA)
            with pytest.raises(Frozen, match=f"reason {n}"):
                s.put(f"{F}/no{n}.md", "refused again (cached)\n", actor=ANA)
            assert verdict.clear(s.layout)
        path = verdict.path_of(s.layout)
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"not json")  # written in place, not by record(): still refuses
        with pytest.raises(Frozen, match="damaged"):
            s.put(f"{F}/no.md", "refused\n", actor=ANA)
        path.unlink()
        s.put(f"{F}/ok.md", "fine again\n", actor=ANA)


def test_the_tail_digest_reads_the_log_a_piece_at_a_time(tmp_path: Path) -> None:
    import hashlib

    audit = tmp_path / "audit"
    audit.mkdir()
    log = Binlog(audit)
    assert log.hash_current(hashlib.sha256(), 0, 10).digest() == hashlib.sha256().digest()
    data = os.urandom((5 << 20) // 2)  # 2.5 MiB: more than one read
    log.current.write_bytes(data)
    for start, end in ((0, len(data)), (7, len(data) - 3), (1 << 20, (1 << 20) + 1)):
        got = log.hash_current(hashlib.sha256(), start, end).hexdigest()
        assert got == hashlib.sha256(data[start:end]).hexdigest()


def _consolidated(root: Path) -> tuple[str | None, int]:
    """A store whose rows were sealed after an open recorded its starting points; returns
    the meta the open recorded before the seal, and the last sealed seq."""
    from core.index.follower import TAIL_RECORD_ROWS

    with Store.open(root, allow_temp=True) as s:
        for i in range(TAIL_RECORD_ROWS + 40):
            s.put(f"{F}/old-{i}.md", f"old {i}\n", actor=ANA)
        s.checkpoint()
        for i in range(20):
            s.put(f"{F}/past-{i}.md", f"past {i}\n", actor=ANA)
    Store.open(root, allow_temp=True).close()  # records the checkpoint's row and a digest
    before = _meta(root, "verified_checkpoint")
    with Store.open(root, allow_temp=True) as s:
        res = s.consolidate()
        assert res.sealed is not None and res.checkpoint == res.last_seq
        return before, res.last_seq


def _new_rows_then_tamper(root: Path, sealed_end: int) -> None:
    from core.index.follower import TAIL_RECORD_ROWS

    with Store.open(root, allow_temp=True) as s:
        for i in range(3 * TAIL_RECORD_ROWS):  # the new file outgrows the old offsets
            s.put(f"{F}/new-{i}.md", f"new {i}\n", actor=ANA)
    Store.open(root, allow_temp=True).close()  # walks, and may record what it walked
    data = bytearray((root / "audit/current.binlog").read_bytes())
    victim = next(f for f in frames.iter_frames(bytes(data)) if f.seq == sealed_end + 3)
    data[victim.offset + frames.HEADER_SIZE + 10] ^= 0x01  # early in the new file
    (root / "audit/current.binlog").write_bytes(bytes(data))


def test_a_consolidation_moves_where_opens_start_to_the_seal(root: Path, monkeypatch) -> None:
    _before, sealed_end = _consolidated(root)
    assert _meta(root, "verified_tail") is None  # it counted bytes of the old file
    assert _meta(root, "verified_checkpoint").startswith(f"{sealed_end}:")
    walked = _count_walked(monkeypatch)
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == "READY"
    assert walked and min(walked) > sealed_end  # the sealed rows are the doctor's to walk
    _new_rows_then_tamper(root, sealed_end)
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN", s.state().problem


def test_a_starting_point_the_log_no_longer_has_vouches_for_nothing(root: Path) -> None:
    """As if the consolidation had left the old starting point (a crash, an older build): its
    offset counts bytes of the old file, and no digest may be anchored on it."""
    import sqlite3

    before, sealed_end = _consolidated(root)
    conn = sqlite3.connect(root / "index" / "brain.sqlite")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'verified_checkpoint'", (before,))
    conn.commit()
    conn.close()
    _new_rows_then_tamper(root, sealed_end)
    with Store.open(root, allow_temp=True) as s:
        assert s.state().state == "FROZEN_HUMAN", s.state().problem


def test_a_long_tail_is_checked_without_openssl(root: Path, monkeypatch) -> None:
    """The digest of the rows past the newest checkpoint (up to a MiB) is BLAKE2b, CPython's
    own: SHA-256 over that much loaded OpenSSL (~3 ms of every put) or took ~5x longer."""
    from core.write.intents import Put

    with Store.open(root, allow_temp=True) as s:
        for k in range(4):
            s.batch([Put(f"{F}/t{k}-{i}.md", f"tail {k} {i}\n".encode()) for i in range(200)], ANA)
    Store.open(root, allow_temp=True).close()  # verifies the tail and records its digest
    assert (root / "audit" / "current.binlog").stat().st_size > 256 * 1024
    walked = _count_walked(monkeypatch)
    Store.open(root, allow_temp=True).close()
    assert walked == []  # the digest matched: nothing walked again
    code = (
        "import sys\n"
        "from core.store import Store\n"
        f"with Store.open({str(root)!r}, allow_temp=True) as s:\n"
        f"    s.put('{F}/one-more.md', b'one more', actor={ANA!r})\n"
        "print('hashlib' in sys.modules, '_hashlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
