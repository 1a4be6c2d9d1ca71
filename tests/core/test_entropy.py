"""core/write/entropy.py: salts from the kernel, read ahead."""

from __future__ import annotations

import os
from pathlib import Path

from core.store import Store
from core.write import entropy


def test_reads_ahead_and_never_repeats_bytes() -> None:
    r = entropy.ReadAhead()
    salts = [r(32) for _ in range(200)]  # crosses several blocks
    assert all(len(s) == 32 for s in salts)
    assert len(set(salts)) == len(salts)
    assert len(r(entropy.BLOCK)) == entropy.BLOCK  # a big request bypasses the buffer


def test_a_forked_child_drops_what_its_parent_read_ahead() -> None:
    r = entropy.ReadAhead()
    r(32)  # the buffer now holds the parent's next bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, r(32))
        os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != r(32)  # the parent's next salt is not the child's


def test_the_writer_reads_ahead_only_for_os_urandom(tmp_path: Path) -> None:
    with Store.init(tmp_path / "a", allow_temp=True) as s:
        s.put("memories/facts/a.md", "a\n", actor="human:ana@laptop")
        assert s.session.writer is not None and s.session.writer.rng is entropy.urandom
    calls: list[int] = []

    def rng(n: int) -> bytes:
        calls.append(n)
        return bytes(n)

    with Store.init(tmp_path / "b", allow_temp=True, rng=rng) as s:
        s.put("memories/facts/a.md", "a\n", actor="human:ana@laptop")
    assert 32 in calls  # a deterministic rng (tests, vectors) is called as given
