"""Purge's scope is exactly PROTOCOL's: the memory's own file, sidecar and the versions its own
rows wrote (following its moves), never a nested path's versions nor those of a later memory
that reused a path; history follows a memory's identity, not its path; a forged or garbled
`audit/purge.pending` is ignored, reported and named by the doctor, never acted on."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import NotFound
from core.store import Store

ANA = "human:ana@laptop"
A, AB = "memories/facts/a.md", "memories/facts/a/b.md"
OLD, NEW = "memories/projects/old.md", "memories/projects/new.md"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _purge(s: Store, path: str) -> None:
    s.delete(path, actor=ANA, mode="purge", reason="user-request")


def test_purge_spares_a_nested_paths_versions(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        s.put(A, "a one\n", actor=ANA)
        s.put(A, "a two\n", actor=ANA)
        b1 = s.put(AB, "b one\n", actor=ANA)
        s.put(AB, "b two\n", actor=ANA)
        _purge(s, A)
        # b.md's versions folder (versions/facts/a/b/) nests inside a.md's (versions/facts/a/).
        assert s.version(AB, b1.seq).body == b"b one\n"
        assert not list((root / "versions/facts/a").glob("*.md"))
        report = s.doctor()
        assert report.state == "READY", report.failing()


def test_purge_after_a_move_spares_the_memory_that_reused_the_path(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        x1 = s.put(OLD, "x one\n", actor=ANA)
        s.put(OLD, "x two\n", actor=ANA)
        s.move(OLD, NEW, actor=ANA)
        y1 = s.put(OLD, "y one\n", actor=ANA)  # an unrelated memory at the old path
        y2 = s.put(OLD, "y two\n", actor=ANA)
        # history follows identity: the new memory at OLD is not merged with the one that left.
        assert [r.seq for r in s.history(OLD)] == [y1.seq, y2.seq]
        hist_new = s.history(NEW)
        assert x1.seq in [r.seq for r in hist_new] and y1.seq not in [r.seq for r in hist_new]
        with pytest.raises(NotFound):
            s.version(NEW, y1.seq)  # another memory's version is not this one's
        _purge(s, NEW)
        assert s.version(OLD, y1.seq).body == b"y one\n"
        assert s.view(OLD).body == b"y two\n"
        assert not (root / "versions/projects/new").exists()
        # The purge row belongs to the memory it destroyed, which began at OLD.
        assert [r.op for r in s.history(NEW)] == ["put", "put", "move", "delete"]
        report = s.doctor()
        assert report.state == "READY", report.failing()


def test_history_after_a_purge_and_reuse_is_the_new_memory_only(tmp_path: Path) -> None:
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put(A, "first life\n", actor=ANA)
        _purge(s, A)
        again = s.put(A, "second life\n", actor=ANA)
        assert [r.seq for r in s.history(A)] == [again.seq]


def test_moving_back_and_forth_keeps_one_identity(tmp_path: Path) -> None:
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put(OLD, "one\n", actor=ANA)
        m1 = s.move(OLD, NEW, actor=ANA)  # "one" is kept as the version the move wrote
        s.put(NEW, "two\n", actor=ANA)
        s.move(NEW, OLD, actor=ANA)
        s.put(OLD, "three\n", actor=ANA)
        ops = [r.op for r in s.history(OLD)]
        assert ops == ["put", "move", "put", "move", "put"]
        assert s.version(OLD, m1.seq).body == b"one\n"
        _purge(s, OLD)
        assert not (tmp_path / "s/versions/projects").exists() or not list(
            (tmp_path / "s/versions/projects").rglob("*.md")
        )


def _forge(root: Path, text: bytes) -> None:
    (root / "audit/purge.pending").write_bytes(text)


def test_forged_purge_pending_is_ignored_reported_and_repaired(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        v1 = s.put(A, "keep me\n", actor=ANA)
        s.put(A, "keep me too\n", actor=ANA)
    _forge(root, f"{v1.seq}\n".encode())  # a put's seq, not a purge's
    with Store.open(root, allow_temp=True) as s:
        s.put("memories/facts/other.md", "a write takes the lock\n", actor=ANA)
        assert s.version(A, v1.seq).body == b"keep me\n"
        assert s.view(A).body == b"keep me too\n"
        assert any(f"ignored seq {v1.seq}" in n and "not a purge" in n for n in s.notes)
        report = s.doctor()
        r = report.result("purges.pending")
        assert r.status == "FAIL" and f"seq {v1.seq} is a put" in r.detail
        assert r.path == "audit/purge.pending"
        fixed = s.doctor(repair=True)
        assert fixed.state == "READY", fixed.failing()
        assert not (root / "audit/purge.pending").exists()
        assert s.version(A, v1.seq).body == b"keep me\n"


@pytest.mark.parametrize(
    "junk",
    [
        b"abc\n",
        b"9" * 40 + b"\n",  # once an OverflowError
        b"99999999999999999999\n",  # 20 digits, past u64
        "\u00b2\n".encode(),  # a digit to str.isdigit, not to int()
        b"-3\n0\n\xff\xfe\n",
        b"123456\n",  # past the head
    ],
)
def test_garbage_in_purge_pending_never_crashes(tmp_path: Path, junk: bytes) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        s.put(A, "one\n", actor=ANA)
        s.put(A, "two\n", actor=ANA)
    _forge(root, junk)
    with Store.open(root, allow_temp=True) as s:
        s.put("memories/facts/other.md", "a write takes the lock\n", actor=ANA)
        assert s.view(A).body == b"two\n"
        assert s.state().pending_purges == (1 if junk == b"123456\n" else 0)
        r = s.doctor().result("purges.pending")
        assert r.status == "FAIL" and "never acted on" in r.detail, r.detail
        assert s.doctor(repair=True).state == "READY"


def test_a_real_purge_still_works_beside_a_forged_entry(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        keep = s.put(A, "keep\n", actor=ANA)
        s.put(A, "keep two\n", actor=ANA)
        s.put(OLD, "gone one\n", actor=ANA)
        s.put(OLD, "gone two\n", actor=ANA)
    _forge(root, f"{keep.seq}\nbogus\n".encode())
    with Store.open(root, allow_temp=True) as s:
        _purge(s, OLD)
        assert not (root / "versions/projects/old").exists()
        assert s.version(A, keep.seq).body == b"keep\n"
        # The real purge left the list; the forged entries stay for the doctor to name.
        assert (root / "audit/purge.pending").read_bytes() == f"{keep.seq}\nbogus\n".encode()
