"""The doctor on real stores: registry, states, quick mode, progress, cancel, repairs, CLI."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import msgspec
import pytest

from core.doctor import REGISTRY, context
from core.errors import BrainError, Frozen, ReadOnly
from core.models import LockHolder
from core.store import Store
from core.verify import checkpoints
from core.write.intents import Note
from tests.core import test_tamper
from tests.core.test_tamper import ACTOR, PURGED, delete_middle_frame, flip

REPO = Path(__file__).resolve().parents[2]
template = test_tamper.template  # the same store: puts, a move, a tombstone, a purge, 2 checkpoints
root = test_tamper.root


def run_doctor(root: Path, **kw):
    with Store.open(root, allow_temp=True) as s:
        return s.doctor(**kw)


# -- the registry ---------------------------------------------------------------------------


def test_registry_is_declarative_one_family_per_module() -> None:
    ids = [inv.id for inv in REGISTRY]
    assert len(ids) == len(set(ids))
    for inv in REGISTRY:
        family = inv.id.split(".")[0]
        assert inv.fn.__module__ == f"core.doctor.{family}", inv.id
        assert inv.level in ("error", "warning", "info")
        assert inv.scope
    wanted = {
        "chain.continuity", "chain.hash", "chain.frame_crc", "chain.seq_monotonic",
        "chain.op_enum", "chain.head", "layout.canonical", "layout.no_traversal",
        "layout.no_sandbox_path", "layout.conflict_siblings", "layout.manifest",
        "memories.commitment", "memories.states", "memories.purged", "merkle.nodes",
        "merkle.checkpoint_signature", "merkle.checkpoint_consistency", "merkle.witness",
        "derived.index_coverage", "derived.lease", "exports.no_secrets",
    }  # fmt: skip
    assert wanted <= set(ids)


def test_clean_store_every_invariant_passes(root) -> None:
    report = run_doctor(root)
    assert report.state == "READY"
    assert [r.id for r in report.results] == [inv.id for inv in REGISTRY]
    assert all(r.status == "PASS" for r in report.results), report.failing()
    assert report.head_seq == 12 and report.full and not report.cancelled
    assert all(r.elapsed_ms >= 0 and "\n" not in r.detail for r in report.results)
    assert "proved consistent" in report.result("merkle.checkpoint_consistency").detail
    assert "signed by brain/" in report.result("merkle.checkpoint_signature").detail


def test_the_doctor_changes_no_file(root) -> None:
    def snapshot() -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*"))
            if p.is_file() and "index" not in p.parts
        }

    before = snapshot()
    run_doctor(root)
    assert snapshot() == before


# -- quick mode -----------------------------------------------------------------------------


def test_quick_checks_only_the_tail_since_the_newest_checkpoint(root) -> None:
    report = run_doctor(root, full=False)
    assert report.state == "READY" and not report.full
    assert "since checkpoint 10" in report.result("chain.hash").detail
    assert not any("walked the whole log" in n for n in report.notes)
    # Damage before the checkpoint is the full walk's business; damage in the tail is not.
    flip(root / "memories/facts/a.md", 0)
    assert run_doctor(root, full=False).state == "READY"
    assert run_doctor(root).state == "FROZEN_HUMAN"
    flip(root / "memories/facts/a.md", 0)
    flip(root / "memories/facts/d.md", 0)  # written by row 12, after checkpoint 10
    quick = run_doctor(root, full=False)
    assert quick.result("memories.commitment").path == "memories/facts/d.md"


def test_quick_catches_a_damaged_tail_frame(root) -> None:
    run_doctor(root)  # leaves the mark
    with Store.open(root, allow_temp=True) as s:
        for i in range(3):
            s.put(f"memories/facts/t{i}.md", f"tail {i}\n", actor=ACTOR)
    from tests.core.test_tamper import frame_of

    f = frame_of(root, 14)
    flip(root / "audit/current.binlog", f.offset + 40)
    report = run_doctor(root, full=False)
    assert report.result("chain.frame_crc").status == "FAIL"


def test_quick_after_a_consolidation_anchors_in_the_sealed_segment(root) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.consolidate()
        s.put("memories/facts/e.md", "after sealing\n", actor=ACTOR)
        full = s.doctor()
        quick = s.doctor(full=False)
    assert full.state == "READY", full.failing()
    assert quick.state == "READY", quick.failing()
    assert "since checkpoint" in quick.result("chain.hash").detail
    assert not any("walked the whole log" in n for n in quick.notes)


def test_quick_without_a_checkpoint_walks_everything(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put("memories/facts/a.md", "a\n", actor=ACTOR)
        report = s.doctor(full=False)
    assert report.state == "READY"
    assert any("no checkpoint yet" in n for n in report.notes)


# -- progress and cancel --------------------------------------------------------------------


def test_progress_streams_per_invariant(root) -> None:
    seen: list[tuple[int, int, str]] = []
    run_doctor(root, progress=lambda d, t, label: seen.append((d, t, label)))
    total = len(REGISTRY)
    assert seen[0] == (0, total, REGISTRY[0].id)
    assert seen[-1] == (total, total, "done")
    dones = [d for d, _t, _l in seen]
    assert dones == sorted(dones)
    assert {label.split(":")[0] for _d, _t, label in seen[:-1]} <= {i.id for i in REGISTRY}


def test_progress_within_long_walks_and_cancel_there(root, monkeypatch) -> None:
    monkeypatch.setattr(context, "TICK_EVERY", 2)
    cancel = threading.Event()
    labels: list[str] = []

    def progress(done: int, total: int, label: str) -> None:
        labels.append(label)
        if "rows" in label:
            cancel.set()

    report = run_doctor(root, progress=progress, cancel=cancel)
    assert any(label.startswith("chain.frame_crc: ") for label in labels)
    assert report.cancelled
    assert report.results == []  # stopped inside the first invariant's walk
    assert any("cancelled" in n for n in report.notes)


def test_cancel_between_invariants_reports_partial(root) -> None:
    cancel = threading.Event()

    def progress(done: int, _total: int, _label: str) -> None:
        if done == 3:
            cancel.set()

    report = run_doctor(root, progress=progress, cancel=cancel)
    assert report.cancelled and len(report.results) == 3
    assert any("cancelled after 3 of" in n for n in report.notes)


# -- recoverable states and their repairs ---------------------------------------------------


def test_stale_index_is_recoverable(root) -> None:
    db = sqlite3.connect(root / "index/brain.sqlite")
    db.execute("DELETE FROM memories WHERE path = 'memories/facts/b2.md'")
    db.execute("UPDATE memories SET seq = 1 WHERE path = 'memories/facts/a.md'")
    db.commit()
    db.close()
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        assert report.state == "FROZEN_RECOVERABLE"
        cov = report.result("derived.index_coverage")
        assert cov.status == "FAIL" and cov.recoverable
        assert set(cov.paths) == {"memories/facts/b2.md", "memories/facts/a.md"}
        fixed = s.doctor(repair=True)
        assert fixed.state == "READY", fixed.failing()
        assert any(r.startswith("reindexed") for r in fixed.repaired)
        s.put("memories/facts/e.md", "the writer still works after a reindex\n", actor=ACTOR)
        assert s.search("reindex")


def test_index_behind_the_log(root) -> None:
    db = sqlite3.connect(root / "index/brain.sqlite")
    db.execute("UPDATE meta SET value = '11' WHERE key = 'last_applied'")
    db.commit()
    db.close()
    with Store.open(root, allow_temp=True, read_only=True) as s:
        report = s.doctor()
        with pytest.raises(ReadOnly):
            s.doctor(repair=True)
    assert report.result("derived.index_head").status == "FAIL"
    assert report.state == "FROZEN_RECOVERABLE"


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_lease_note_is_harmless_and_the_next_writer_replaces_it(root) -> None:
    """A holder killed while holding the lock leaves a note; the kernel dropped the flock, so
    the doctor stays READY (exit 0) and the next writer's release leaves no note."""
    import socket

    holder = LockHolder(pid=_dead_pid(), host=socket.gethostname(), program="crashed", since_ns=1)
    (root / ".lock").write_bytes(msgspec.json.encode(holder))
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        lease = report.result("derived.lease")
        assert lease.status == "PASS" and "exited without clearing" in lease.detail
        assert report.state == "READY", report.failing()
        s.put("memories/facts/e.md", "e\n", actor=ACTOR)
    assert (root / ".lock").read_bytes() == b""  # a clean release leaves no note behind


def test_repair_deletes_a_dead_writers_temps_and_keeps_a_live_ones(root) -> None:
    """A writer killed while staging leaves `.NAME.tmpPID` files; the doctor names them and
    --repair deletes them, but never a temp whose writer is still running."""
    dead = root / "memories/facts" / f".orphan.md.tmp{_dead_pid()}"
    live = root / "memories/facts" / f".busy.md.tmp{os.getpid()}"
    for p in (dead, live):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"half a body")
    with Store.open(root, allow_temp=True) as s:
        layout = s.doctor().result("layout.canonical")
        assert layout.status == "WARN" and layout.paths == [str(dead.relative_to(root))]
        fixed = s.doctor(repair=True)
        assert "deleted 1 temp file a dead writer left" in fixed.repaired
        assert fixed.result("layout.canonical").status == "PASS"
    assert not dead.exists() and live.read_bytes() == b"half a body"


def test_torn_journal_tail(root) -> None:
    (root / "audit/journal.wal").write_bytes(b"\x00\x00\x01\x00torn record")
    with Store.open(root, allow_temp=True, read_only=True) as s:
        report = s.doctor()
    journal = report.result("chain.journal")
    assert journal.status == "WARN" and journal.recoverable
    assert report.state == "FROZEN_RECOVERABLE"
    with Store.open(root, allow_temp=True) as s:  # a writer's open replays and cuts it
        assert s.doctor().state == "READY"
    assert (root / "audit/journal.wal").stat().st_size == 0


def test_head_hint_behind_is_a_warning(root) -> None:
    (root / "HEAD").write_bytes((3).to_bytes(8, "little"))
    report = run_doctor(root)
    assert report.result("chain.head").status == "WARN"
    assert report.state == "READY"


def test_a_fresh_store_has_no_warning(tmp_path) -> None:
    """A store just made (no row, so no HEAD yet) reads all green; a HEAD lost later still
    warns."""
    fresh = tmp_path / "fresh"
    Store.init(fresh, allow_temp=True).close()
    report = run_doctor(fresh)
    assert [r.name for r in report.results if r.status != "PASS"] == []
    with Store.open(fresh, allow_temp=True) as s:
        s.put("memories/facts/a.md", "a\n", actor="human:ana@laptop")
    (fresh / "HEAD").unlink()
    assert run_doctor(fresh).result("chain.head").status == "WARN"


def test_export_holding_a_private_key_is_deleted_by_repair(root) -> None:
    with zipfile.ZipFile(root / "exports/leak.zip", "w") as z:
        z.writestr("manifest.json", "{}")
        z.writestr("keys/brain_x.0a0b0c0d.key", "secret")
    with zipfile.ZipFile(root / "exports/local.zip", "w") as z:
        z.writestr("local/hub-token", "secret")
    with zipfile.ZipFile(root / "exports/fine.zip", "w") as z:
        z.writestr("keys/brain_x.0a0b0c0d.vkey", "public")
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        ex = report.result("exports.no_secrets")
        assert ex.status == "FAIL" and set(ex.paths) == {"exports/leak.zip", "exports/local.zip"}
        assert report.state == "FROZEN_RECOVERABLE"
        assert s.doctor(repair=True).state == "READY"
    assert not (root / "exports/leak.zip").exists() and (root / "exports/fine.zip").exists()


# -- layout ---------------------------------------------------------------------------------


def test_sync_conflict_copies_are_named_not_called_orphans(root) -> None:
    for name in ("a (conflicted copy).md", "a (1).md", "a.sync-conflict-20260101-120000-ABC.md"):
        (root / "memories/facts" / name).write_text("a copy\n")
    report = run_doctor(root)
    sib = report.result("layout.conflict_siblings")
    assert sib.status == "WARN" and len(sib.paths) == 3
    assert "memories/facts/a (1).md" in sib.paths
    assert report.result("memories.sidecar_valid").status == "PASS"
    assert report.state == "READY"


def test_machine_paths_recorded_are_named(root) -> None:
    with Store.open(root, allow_temp=True) as s:
        s.put("memories/facts/src.md", "x\n", actor=ACTOR, extra={"source": "/home/ana/x.md"})
        s.batch([Note("session.start", "", "", {"cwd": "/tmp/work"})], ACTOR)
        report = s.doctor()
    sand = report.result("layout.no_sandbox_path")
    assert sand.status == "WARN" and "memories/facts/src.meta.json" in sand.paths
    assert "row seq" in sand.detail
    assert report.state == "READY"


# -- a person's repairs ---------------------------------------------------------------------


def test_rollback_to_an_older_copy_is_accepted_with_a_reason(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        for i in range(4):
            s.put(f"memories/facts/m{i}.md", f"m{i}\n", actor=ACTOR)
        s.checkpoint()
    shutil.copytree(root, tmp_path / "old")
    with Store.open(root, allow_temp=True) as s:
        s.put("memories/facts/later.md", "later\n", actor=ACTOR)
        s.checkpoint()
    shutil.rmtree(root)
    shutil.copytree(tmp_path / "old", root)  # a backup older than the witness comes back
    with Store.open(root, allow_temp=True) as s:
        assert s.problem and "rollback" in s.problem
        report = s.doctor()
        assert report.state == "FROZEN_HUMAN"
        assert report.result("merkle.witness").status == "FAIL"
        with pytest.raises(Frozen):
            s.put("memories/facts/x.md", "x\n", actor=ACTOR)
        with pytest.raises(BrainError, match="--reason"):
            s.doctor(repair=True)
        fixed = s.doctor(repair=True, reason="restored last week's backup", actor=ACTOR)
        assert fixed.state == "READY", fixed.failing()
        assert s.problem is None
        row = s.rows()[-1][0]
        assert row.op == "repair" and row.actor == ACTOR
        assert row.extra == {
            "accepted_head": 5,
            "invariants": ["engine.frozen", "merkle.witness"],
            "reason": "restored last week's backup",
        }
        s.put("memories/facts/x.md", "writes work again\n", actor=ACTOR)
    witness = checkpoints.read_witness(
        Store.open(root, allow_temp=True, read_only=True).manifest.store_id
    )
    assert witness is not None and witness.size == 4
    with Store.open(root, allow_temp=True) as s:
        assert s.problem is None and s.doctor().state == "READY"


def test_a_person_problem_found_by_the_walk_freezes_writes(root) -> None:
    flip(root / "memories/facts/a.md", 0)
    with Store.open(root, allow_temp=True) as s:
        assert s.doctor().state == "FROZEN_HUMAN"
        with pytest.raises(Frozen, match="memories.commitment"):
            s.put("memories/facts/e.md", "e\n", actor=ACTOR)


def test_purge_is_info_not_tampering(root) -> None:
    report = run_doctor(root)
    r = report.result("memories.purged")
    assert (r.level, r.status) == ("info", "PASS") and PURGED in r.detail


# -- the CLI ----------------------------------------------------------------------------------


def brain(*args: str, env_home: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        XDG_STATE_HOME=str(env_home),
        BRAIN_ALLOW_TEMP_STORE="1",
    )
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_exit_codes_table_and_json(root) -> None:
    home = root.parent / "state"
    ok = brain("doctor", "--store", str(root), env_home=home)
    assert ok.returncode == 0, ok.stderr
    assert "state: READY" in ok.stdout and "chain.continuity" in ok.stdout
    assert "PASS" in ok.stdout.splitlines()[1]

    quick = brain("doctor", "--quick", "--json", "--store", str(root), env_home=home)
    doc = json.loads(quick.stdout)
    assert quick.returncode == 0 and doc["state"] == "READY" and doc["full"] is False

    db = sqlite3.connect(root / "index/brain.sqlite")
    db.execute("DELETE FROM memories")
    db.commit()
    db.close()
    stale = brain("doctor", "--store", str(root), env_home=home)
    assert stale.returncode == 3 and "FROZEN_RECOVERABLE" in stale.stdout
    fixed = brain("doctor", "--repair", "--store", str(root), env_home=home)
    assert fixed.returncode == 0 and "repaired: reindexed" in fixed.stdout

    delete_middle_frame(root)
    human = brain("--json", "doctor", "--store", str(root), env_home=home)
    assert human.returncode == 4 and json.loads(human.stdout)["state"] == "FROZEN_HUMAN"
    refused = brain("doctor", "--repair", "--store", str(root), env_home=home)
    assert refused.returncode == 1 and "--reason" in refused.stderr
    usage = brain("doctor", "--reason", "why", "--store", str(root), env_home=home)
    assert usage.returncode == 2
    assert "doctor" in [n for n, _ in importlib.import_module("brain_tui.cli.main").COMMANDS]


def test_head_ahead_of_the_log_is_accepted_with_a_reason(root) -> None:
    """HEAD ahead of the log (an older current.binlog restored over the store, a copy taken
    while a writer ran) freezes the store; `--repair --reason` accepts the log as it is and
    rewrites HEAD. Before, the repair's own writer refused the short log and the store stayed
    frozen until someone deleted HEAD by hand."""
    with Store.open(root, allow_temp=True) as s:
        tip = s.tip.seq
    (root / "HEAD").write_bytes((tip + 5).to_bytes(8, "little"))
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        assert report.state == "FROZEN_HUMAN"
        assert report.result("chain.head").status == "FAIL"
        with pytest.raises(Frozen):
            s.put("memories/facts/x.md", "x\n", actor=ACTOR)
        fixed = s.doctor(repair=True, reason="restored an older log", actor=ACTOR)
        assert fixed.state == "READY", fixed.failing()
        assert int.from_bytes((root / "HEAD").read_bytes(), "little") == tip + 1  # the repair row
        s.put("memories/facts/x.md", "writes work again\n", actor=ACTOR)


def test_a_stray_file_blocks_with_advice_that_works(root) -> None:
    """A body written by hand (no sidecar, no row) freezes the store; the repair names the
    file and says to move it out (a backup would lose every write since), which works."""
    stray = root / "memories/facts/handmade.md"
    stray.write_text("written by hand\n")
    with Store.open(root, allow_temp=True) as s:
        assert s.doctor().state == "FROZEN_HUMAN"
        out = s.doctor(repair=True, reason="a file written by hand", actor=ACTOR)
        note = " ".join(out.notes)
        assert "memories/facts/handmade.md" in note and "moved out of the store" in note
    stray.rename(root.parent / "handmade.md")
    with Store.open(root, allow_temp=True) as s:
        fixed = s.doctor(repair=True, reason="moved the hand-written file out", actor=ACTOR)
        assert fixed.state == "READY", fixed.failing()


def test_a_forged_purge_stub_is_caught(root) -> None:
    """A memory's body deleted and its sidecar replaced by a purge stub, with no purge row:
    a hidden memory, not a purge (the reviewer's repair reindexed it away as READY)."""
    import json as _json

    with Store.open(root, allow_temp=True) as s:
        s.put("memories/facts/hidden.md", "still here\n", actor=ACTOR)
        seq = s.tip.seq
    (root / "memories/facts/hidden.md").unlink()
    (root / "memories/facts/hidden.meta.json").write_text(
        _json.dumps({"kind": "facts", "state": "purged", "seq": seq})
    )
    report = run_doctor(root)
    states = report.result("memories.states")
    assert states.status == "FAIL" and "no purge of this path" in states.detail
    assert report.state == "FROZEN_HUMAN"


def test_a_lost_vkey_is_written_again_from_the_private_key(root) -> None:
    """Deleting keys/*.vkey froze the store for good: every checkpoint failed as unsigned,
    a repair set the good notes aside, and the next checkpoint froze it again. The private
    key is still there: the repair writes its public half again, no reason needed."""
    [vkey] = sorted((root / "keys").glob("*.vkey"))
    original = vkey.read_bytes()
    vkey.unlink()
    with Store.open(root, allow_temp=True) as s:
        assert s.problem and "no signature by a trusted key" in s.problem
        report = s.doctor()
        sig = report.result("merkle.checkpoint_signature")
        assert sig.status == "FAIL" and sig.recoverable and vkey.name in sig.detail
        assert report.state == "FROZEN_RECOVERABLE"
        fixed = s.doctor(repair=True)
        assert fixed.state == "READY", fixed.failing()
        assert any("again from the private key" in r for r in fixed.repaired)
        assert vkey.read_bytes() == original
        assert not (root / "local/rejected-checkpoints").exists()  # no note set aside
        assert all(r.op != "repair" for r, _p in s.rows())  # nothing a person accepted
        s.put("memories/facts/after.md", "after\n", actor=ACTOR)
        s.checkpoint()
    with Store.open(root, allow_temp=True) as s:
        assert s.problem is None and s.doctor().state == "READY"


def test_a_lost_vkey_beside_another_key_still_needs_a_person(root) -> None:
    """The key in keys/ did not sign these notes (replaced): restoring its vkey would prove
    nothing about them, so it stays a person's call."""
    from core.verify import keys

    for p in (root / "keys").glob("*"):
        if p.is_file():
            p.unlink()
    name = f"brain/{Store.open(root, allow_temp=True, read_only=True).manifest.store_id}"
    keys.generate(root / "keys", name, passphrase=None, clock_ns=1)
    for p in (root / "keys").glob("*.vkey"):
        p.unlink()
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor()
        sig = report.result("merkle.checkpoint_signature")
        assert sig.status == "FAIL" and not sig.recoverable
        assert report.state == "FROZEN_HUMAN"
