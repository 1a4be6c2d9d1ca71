"""fsio.deferred_syncs: a store built in a private folder is synced once, at the end."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core import fsio


class Counting(fsio.RealIO):
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.names: dict[int, str] = {}

    def open(self, path: str, flags: int, mode: int = 0o644) -> int:
        fd = super().open(path, flags, mode)
        self.names[fd] = path
        return fd

    def fdatasync(self, fd: int) -> None:
        self.calls.append(("fdatasync", self.names[fd]))

    def fsync(self, fd: int) -> None:
        self.calls.append(("fsync", self.names[fd]))

    def syncfs(self, root: str) -> None:
        self.calls.append(("syncfs", root))

    def fsync_dir(self, path: str) -> None:
        self.calls.append(("fsync_dir", path))


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    io = Counting()
    monkeypatch.setattr(fsio, "backend", io)
    return io


def test_syncs_under_the_root_wait_for_one_syncfs_at_the_end(
    tmp_path: Path, counting: Counting
) -> None:
    root, other = tmp_path / ".demo.partial", tmp_path / "mine"
    root.mkdir()
    other.mkdir()
    with fsio.deferred_syncs(root):
        fsio.write_file(root / "a", b"x", durable=True)
        fsio.syncfs(root / "sub")
        fd = fsio.open_fd(root / "journal", os.O_WRONLY | os.O_CREAT)
        fsio.write(fd, b"y")
        fsio.fdatasync(fd)
        fsio.close(fd)
        assert counting.calls == []
        fsio.write_file(other / "b", b"z", durable=True)  # another store: synced as ever
        assert [c for c, _ in counting.calls] == ["fsync", "fsync_dir"]
    assert counting.calls[-1] == ("syncfs", str(root))
    assert fsio.backend is counting
    assert (root / "a").read_bytes() == b"x" and (root / "journal").read_bytes() == b"y"


def test_a_failed_build_is_not_synced(tmp_path: Path, counting: Counting) -> None:
    with pytest.raises(RuntimeError), fsio.deferred_syncs(tmp_path):
        raise RuntimeError("the build stopped")
    assert counting.calls == []
    assert fsio.backend is counting


def test_a_sibling_with_the_same_prefix_is_not_under_the_root(
    tmp_path: Path, counting: Counting
) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo2").mkdir()
    with fsio.deferred_syncs(tmp_path / "demo"):
        fsio.write_file(tmp_path / "demo2" / "c", b"w", durable=True)
    assert ("fsync_dir", str(tmp_path / "demo2")) in counting.calls
