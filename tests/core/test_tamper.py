"""Tampering with a real store: the doctor names the exact invariant and path, the state is
right, and nothing crashes (opening included). A purged memory is reported as purged."""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from core.doctor import REGISTRY, DoctorReport
from core.log import frames
from core.log.crc import crc32c
from core.store import Store
from core.verify.mmr import HEADER_SIZE

ACTOR = "human:ana@laptop"
LOG = "audit/current.binlog"
PURGED = "memories/people/p.md"
LATEST_NOTE = "audit/checkpoints/00000000000000000010.note"
OLDER_NOTE = "audit/checkpoints/00000000000000000003.note"


def build_store(root: Path) -> None:
    """Puts, an update, a move, a tombstone, a purge and 2 checkpoints (seqs in comments)."""
    with Store.init(root, allow_temp=True) as s:
        s.put("memories/facts/a.md", "alpha\n", actor=ACTOR)  # 1
        s.put("memories/facts/b.md", "beta\n", actor=ACTOR)  # 2
        s.put("memories/facts/a.md", "alpha, revised\n", actor=ACTOR)  # 3 (version 1 kept)
        s.checkpoint()  # row 4 signs size 3
        s.put("memories/decisions/x/c.md", "gamma\n", actor=ACTOR)  # 5
        s.move("memories/facts/b.md", "memories/facts/b2.md", actor=ACTOR)  # 6
        s.delete("memories/decisions/x/c.md", actor=ACTOR)  # 7 tombstone
        s.put(PURGED, "a person's details\n", actor=ACTOR)  # 8
        s.put(PURGED, "a person's details, again\n", actor=ACTOR)  # 9
        s.delete(PURGED, actor=ACTOR, mode="purge", reason="legal-erasure")  # 10
        s.checkpoint()  # row 11 signs size 10
        s.put("memories/facts/d.md", "delta\n", actor=ACTOR)  # 12


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("doctor-template")
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_STATE_HOME", str(base / "state"))
    try:
        build_store(base / "store")
    finally:
        mp.undo()
    return base


@pytest.fixture
def root(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template store, with its witness, for each test."""
    shutil.copytree(template / "store", tmp_path / "store")
    shutil.copytree(template / "state", tmp_path / "state")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "store"


def doctor(root: Path, **kw) -> tuple[DoctorReport, str | None]:
    """Open (which must not raise) and run the doctor; returns the report and open's problem."""
    store = Store.open(root, allow_temp=True)
    try:
        problem = store.problem
        return store.doctor(**kw), problem
    finally:
        store.close()


def frame_of(root: Path, seq: int) -> frames.Frame:
    found, _bad = frames.scan((root / LOG).read_bytes())
    return next(f for f in found if f.seq == seq)


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def failing(report: DoctorReport) -> dict[str, list[str]]:
    return {r.id: r.paths for r in report.results if r.status == "FAIL"}


# -- corruptions ----------------------------------------------------------------------------


def flip_frame_payload(root: Path) -> None:
    f = frame_of(root, 6)
    flip(root / LOG, f.offset + frames.HEADER_SIZE + 10)


def flip_frame_length(root: Path) -> None:
    flip(root / LOG, frame_of(root, 6).offset)  # the length's top byte: 16 MiB and more


def flip_body(root: Path) -> None:
    flip(root / "memories/facts/a.md", 1)


def flip_version_body(root: Path) -> None:
    flip(root / "versions/facts/a/00000000000000000001.md", 0)


def flip_sidecar_commit(root: Path) -> None:
    p = root / "memories/facts/b2.meta.json"
    text = p.read_text()
    i = text.index('"commit":"') + len('"commit":"') + 5
    p.write_text(text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :])


def break_sidecar_json(root: Path) -> None:
    p = root / "memories/facts/b2.meta.json"
    p.write_bytes(p.read_bytes()[:-7])


def flip_node(root: Path) -> None:
    leaf = 5  # position 2i - popcount(i) in the node file
    flip(root / "audit/mmr.nodes", HEADER_SIZE + 32 * (2 * leaf - leaf.bit_count()) + 7)


def flip_node_header(root: Path) -> None:
    flip(root / "audit/mmr.nodes", 0)


def flip_latest_note(root: Path) -> None:
    p = root / LATEST_NOTE
    flip(p, p.read_bytes().index(b"\n\n") + 40)  # inside the signature line


def flip_older_note_root(root: Path) -> None:
    p = root / OLDER_NOTE
    lines = p.read_bytes().split(b"\n")
    flip(p, len(lines[0]) + 1 + len(lines[1]) + 1 + 3)  # inside the base64 root


def delete_middle_frame(root: Path) -> None:
    f = frame_of(root, 6)
    data = (root / LOG).read_bytes()
    (root / LOG).write_bytes(data[: f.offset] + data[f.end :])


def reorder_frames(root: Path) -> None:
    a, b = frame_of(root, 5), frame_of(root, 6)
    data = (root / LOG).read_bytes()
    swapped = data[b.offset : b.end] + data[a.offset : a.end]
    (root / LOG).write_bytes(data[: a.offset] + swapped + data[b.end :])


def truncate_below_checkpoint(root: Path) -> None:
    f = frame_of(root, 5)
    (root / LOG).write_bytes((root / LOG).read_bytes()[: f.end])


def swap_bodies(root: Path) -> None:
    a, d = root / "memories/facts/a.md", root / "memories/facts/d.md"
    x, y = a.read_bytes(), d.read_bytes()
    a.write_bytes(y)
    d.write_bytes(x)


def rewrite_row_fixing_crc(root: Path) -> None:
    """Someone without the key edits a row's actor and fixes the frame's CRC and length."""
    f = frame_of(root, 2)
    payload = f.payload.replace(ACTOR.encode(), b"human:mallory@evil")
    fixed = struct.pack(">IIQQ", len(payload), crc32c(payload), f.seq, f.ts_ns) + payload
    data = (root / LOG).read_bytes()
    (root / LOG).write_bytes(data[: f.offset] + fixed + data[f.end :])


def _rechain_last_row(root: Path, mutate: Callable[[dict], None]) -> None:
    """Rewrite row 12 (the last) with a valid chain hash and CRC: only its content is wrong."""
    import hashlib

    f = frame_of(root, 12)
    row = json.loads(f.payload)
    mutate(row)
    row["chain"] = ""
    enc = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    row["chain"] = hashlib.sha256(enc + bytes.fromhex(row["prev_chain"])).hexdigest()
    payload = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    fixed = struct.pack(">IIQQ", len(payload), crc32c(payload), f.seq, f.ts_ns) + payload
    data = (root / LOG).read_bytes()
    (root / LOG).write_bytes(data[: f.offset] + fixed + data[f.end :])


def float_in_a_row(root: Path) -> None:
    _rechain_last_row(root, lambda r: r["extra"].update(x=1.5))


def unknown_op(root: Path) -> None:
    _rechain_last_row(root, lambda r: r.update(op="teleport"))


CASES: list[tuple[str, Callable[[Path], None], str, str, str]] = [
    # name, corruption, invariant that must FAIL, its path, state
    ("frame byte", flip_frame_payload, "chain.frame_crc", LOG, "FROZEN_HUMAN"),
    ("frame length", flip_frame_length, "chain.frame_crc", LOG, "FROZEN_HUMAN"),
    ("row edited, CRC fixed", rewrite_row_fixing_crc, "chain.hash", LOG, "FROZEN_HUMAN"),
    ("float in a row", float_in_a_row, "chain.frame_crc", LOG, "FROZEN_HUMAN"),
    ("unknown op", unknown_op, "chain.op_enum", LOG, "FROZEN_HUMAN"),
    ("body byte", flip_body, "memories.commitment", "memories/facts/a.md", "FROZEN_HUMAN"),
    (
        "version body byte",
        flip_version_body,
        "memories.commitment",
        "versions/facts/a/00000000000000000001.md",
        "FROZEN_HUMAN",
    ),
    (
        "sidecar byte",
        flip_sidecar_commit,
        "memories.commitment",
        "memories/facts/b2.meta.json",
        "FROZEN_HUMAN",
    ),
    (
        "sidecar json",
        break_sidecar_json,
        "memories.sidecar_valid",
        "memories/facts/b2.meta.json",
        "FROZEN_HUMAN",
    ),
    ("node byte", flip_node, "merkle.nodes", "audit/mmr.nodes", "FROZEN_RECOVERABLE"),
    ("node header", flip_node_header, "merkle.nodes", "audit/mmr.nodes", "FROZEN_RECOVERABLE"),
    (
        "checkpoint byte",
        flip_latest_note,
        "merkle.checkpoint_signature",
        LATEST_NOTE,
        "FROZEN_HUMAN",
    ),
    (
        "older checkpoint root",
        flip_older_note_root,
        "merkle.checkpoint_signature",
        OLDER_NOTE,
        "FROZEN_HUMAN",
    ),
    ("delete middle frame", delete_middle_frame, "chain.seq_monotonic", LOG, "FROZEN_HUMAN"),
    ("reorder frames", reorder_frames, "chain.continuity", LOG, "FROZEN_HUMAN"),
    ("truncate", truncate_below_checkpoint, "merkle.rollback", LOG, "FROZEN_HUMAN"),
    ("swap bodies", swap_bodies, "memories.commitment", "memories/facts/a.md", "FROZEN_HUMAN"),
]


@pytest.mark.parametrize(
    ("corrupt", "inv", "path", "state"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_doctor_names_the_invariant_and_path(root, corrupt, inv, path, state) -> None:
    corrupt(root)
    report, _problem = doctor(root)
    bad = failing(report)
    assert inv in bad, f"{inv} did not fail: {bad}"
    assert path in bad[inv], bad[inv]
    assert report.result(inv).path == path or path in report.result(inv).paths
    assert report.state == state, [(r.id, r.detail) for r in report.failing()]
    # Never a crash: every invariant reported, none whose check itself blew up.
    assert len(report.results) == len(REGISTRY)
    assert not any("could not run" in r.detail for r in report.results), report.results
    if corrupt is not truncate_below_checkpoint:  # a truncated log lost the purge row too
        assert not any(PURGED in r.paths for r in report.failing()), "purged shown as tampered"


@pytest.mark.parametrize("corrupt", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_read_only_open_and_doctor_do_not_crash(root, corrupt) -> None:
    corrupt(root)
    with Store.open(root, allow_temp=True, read_only=True) as s:
        report = s.doctor()
    assert report.state in ("FROZEN_HUMAN", "FROZEN_RECOVERABLE")
    assert not any("could not run" in r.detail for r in report.results)


def test_untouched_store_is_ready_and_reports_the_purge_as_purged(root) -> None:
    report, problem = doctor(root)
    assert problem is None
    assert report.state == "READY", report.failing()
    purged = report.result("memories.purged")
    assert purged.level == "info" and purged.status == "PASS"
    assert "purged" in purged.detail and "not tampering" in purged.detail
    assert purged.paths == [PURGED]


def test_swap_names_both_memories(root) -> None:
    swap_bodies(root)
    report, _ = doctor(root)
    assert set(report.result("memories.commitment").paths) == {
        "memories/facts/a.md",
        "memories/facts/d.md",
    }


def test_deleted_and_reordered_frames_break_seq_and_chain(root) -> None:
    delete_middle_frame(root)
    report, problem = doctor(root)
    assert {"chain.seq_monotonic", "chain.continuity"} <= failing(report).keys()
    assert "seq 7 follows seq 5" in report.result("chain.seq_monotonic").detail
    assert problem is not None  # open itself noticed: the break is in the log's tail


def test_truncation_also_shows_head_ahead(root) -> None:
    truncate_below_checkpoint(root)
    report, problem = doctor(root)
    assert failing(report)["chain.head"] == ["HEAD"]
    assert "rows were removed" in report.result("merkle.rollback").detail
    assert problem is not None


def test_node_file_repairs_without_a_reason(root) -> None:
    flip_node(root)
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor(repair=True)
        assert report.state == "READY", report.failing()
        assert any("rebuilt audit/mmr.nodes" in r for r in report.repaired)
        s.put("memories/facts/e.md", "after the repair\n", actor=ACTOR)
    assert doctor(root)[0].state == "READY"


def test_damaged_node_header_is_rebuilt_by_the_next_writer(root) -> None:
    """The node file is derived: a writer rebuilds it under the lock, nothing freezes."""
    flip_node_header(root)
    with Store.open(root, allow_temp=True) as s:
        assert s.problem is None
        s.put("memories/facts/e.md", "writes work\n", actor=ACTOR)
        assert any("rebuilt audit/mmr.nodes" in n for n in s.state().notes + s.notes)
    report = doctor(root)[0]
    assert report.state == "READY", report.failing()


def test_bad_checkpoint_accepted_with_a_reason(root) -> None:
    flip_latest_note(root)
    with Store.open(root, allow_temp=True) as s:
        with pytest.raises(Exception, match="--reason"):
            s.doctor(repair=True)
        report = s.doctor(repair=True, reason="a disk error damaged a note", actor=ACTOR)
        assert report.state == "READY", report.failing()
        assert s.problem is None
        last = s.rows()[-1][0]
        assert last.op == "repair"
        assert last.extra["reason"] == "a disk error damaged a note"
        assert "merkle.checkpoint_signature" in last.extra["invariants"]
        assert last.extra["accepted_head"] == last.seq - 1
    assert (root / "local/rejected-checkpoints" / Path(LATEST_NOTE).name).exists()
    assert not (root / LATEST_NOTE).exists()


def test_an_accept_that_fails_lifts_no_freeze(root, monkeypatch) -> None:
    """When accepting the store fails (a fault injected into the accept itself), the repair
    stops there: it used to go on, find open's own checks passing (HEAD is not one of them)
    and report the freeze lifted though nothing was accepted."""
    from core.doctor import repair
    from core.errors import BrainError

    def failing_accept(*_a, **_k):
        raise BrainError("injected: the repair row could not be written")

    with Store.open(root, allow_temp=True) as s:
        tip = s.tip.seq
    (root / "HEAD").write_bytes((tip + 5).to_bytes(8, "little"))  # a person's problem
    monkeypatch.setattr(repair, "_accept", failing_accept)
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor(repair=True, reason="restored an older log", actor=ACTOR)
        assert any("could not repair the accept" in n for n in report.notes), report.notes
        assert not any("lifted the freeze" in r for r in report.repaired), report.repaired
        assert report.state == "FROZEN_HUMAN"


def test_broken_chain_repair_accepts_nothing(root) -> None:
    delete_middle_frame(root)
    size = (root / LOG).stat().st_size
    with Store.open(root, allow_temp=True) as s:
        report = s.doctor(repair=True, reason="trying anyway")
        assert report.state == "FROZEN_HUMAN"
        assert report.repaired == []
        assert any("nothing repaired" in n and "backup" in n for n in report.notes)
        assert "restore the store from a backup" in report.result("chain.seq_monotonic").detail
        assert s.problem is not None
    assert (root / LOG).stat().st_size == size  # the log was not touched


def test_report_is_json(root) -> None:
    flip_body(root)
    report, _ = doctor(root)
    import msgspec

    doc = json.loads(msgspec.json.encode(report))
    assert doc["state"] == "FROZEN_HUMAN"
    hit = next(r for r in doc["results"] if r["id"] == "memories.commitment")
    assert hit["status"] == "FAIL" and hit["path"] == "memories/facts/a.md"


# -- layout tampering ------------------------------------------------------------


def test_symlink_below_the_root_fails(root) -> None:
    os.symlink("/etc/hostname", root / "memories/facts/link.md")
    report, _ = doctor(root)
    trav = report.result("layout.no_traversal")
    assert trav.status == "FAIL" and trav.path == "memories/facts/link.md"
    assert report.state == "FROZEN_HUMAN"


def test_unknown_entries_warn(root) -> None:
    (root / "stray.txt").write_text("?")
    (root / "memories/facts/notes.txt").write_text("?")
    report, _ = doctor(root)
    lay = report.result("layout.canonical")
    assert lay.status == "WARN" and {"stray.txt", "memories/facts/notes.txt"} <= set(lay.paths)
    assert report.state == "READY"


def test_invalid_manifest_fails(root) -> None:
    doc = json.loads((root / "manifest.json").read_text())
    doc["protocol"] = 99
    (root / "manifest.json").write_text(json.dumps(doc, sort_keys=True, separators=(",", ":")))
    report, _ = doctor(root)
    man = report.result("layout.manifest")
    assert man.status == "FAIL" and "protocol 99" in man.detail and man.path == "manifest.json"
