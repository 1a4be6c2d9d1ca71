"""Minimal, deterministic reproductions of what the multi-process stress test found (issue 9).

Each is the smallest combination of a long-lived Store (as the TUI holds one) and one-shot
`brain` subprocesses that shows one bug; the randomized test (test_stress_multiprocess.py)
finds them by chance, these find them every time.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from core.store import Store
from core.verify.mmr import MMR, leaf_hash
from core.write import writer as writer_mod
from tests.core.stress_harness import brain

A = "agent:repro@test"
F = "memories/facts"


def doctor(root: Path) -> dict:
    p = brain(root, "--json", "doctor")
    return json.loads(p.stdout)


def fails(doc: dict) -> list[str]:
    return [f"{r['id']}: {r['detail']}" for r in doc["results"] if r["status"] == "FAIL"]


def released(store: Store) -> None:
    """Wait until the store's commit loop let the lock go (idle release), as a TUI does
    between keystrokes."""
    w = store.session.writer
    end = time.monotonic() + 5
    while w is not None and w.lock.held and time.monotonic() < end:
        time.sleep(0.01)
    assert w is None or not w.lock.held


@pytest.mark.parametrize("other", ["put", "checkpoint"])
def test_long_lived_writer_after_another_process_wrote(tmp_path: Path, other: str) -> None:
    root = tmp_path / "s"
    s = Store.init(root, allow_temp=True)
    try:
        s.put(f"{F}/a.md", "one\n", actor=A)
        released(s)
        args = ("put", f"{F}/b.md") if other == "put" else ("checkpoint",)
        p = brain(root, *args, input=b"two\n")
        assert p.returncode == 0, p.stderr.decode()
        s.put(f"{F}/c.md", "three\n", actor=A)  # re-acquires the lock after the other write
        note = s.checkpoint().split("\n")
        payloads = [p for _r, p in s.rows()]
    finally:
        s.close()
    want = MMR.root_of([leaf_hash(p) for p in payloads[: int(note[1])]])
    doc = doctor(root)
    assert (doc["state"], fails(doc)) == ("READY", [])
    import base64

    assert base64.b64decode(note[2]) == want, "the checkpoint signs a root that is not the log's"


def test_frozen_human_verdict_is_seen_by_other_processes(tmp_path: Path) -> None:
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        for i in range(3):
            s.put(f"{F}/m{i}.md", f"body {i}\n", actor=A)
        s.checkpoint()
    (root / f"{F}/m0.md").write_bytes(b"tampered\n")  # behind the verified checkpoint
    p = brain(root, "doctor")
    assert p.returncode == 4, (p.returncode, p.stdout.decode())  # FROZEN_HUMAN
    st = json.loads(brain(root, "--json", "state").stdout)
    assert st["state"] == "FROZEN_HUMAN", f"another process sees {st['state']}"
    p = brain(root, "put", f"{F}/m9.md", input=b"x\n")
    assert p.returncode != 0, "a write was accepted by a store doctor found FROZEN_HUMAN"


def test_purge_after_move_keeps_versions_of_a_later_memory_at_the_old_path(
    tmp_path: Path,
) -> None:
    """PROTOCOL: purge destroys the versions its own rows wrote (following its moves), never
    those of a later memory that reused a path."""
    root = tmp_path / "s"
    a, b = f"{F}/a.md", f"{F}/b.md"
    with Store.init(root, allow_temp=True) as s:
        s.put(a, "old one\n", actor=A)
        s.put(a, "old two\n", actor=A)
        s.move(a, b, actor=A)  # the old memory (and its versions) now lives at b
        new1 = s.put(a, "new one\n", actor=A)  # a later, unrelated memory reuses a
        s.put(a, "new two\n", actor=A)  # new one becomes a version of a
        kept = root / "versions" / "facts" / "a" / f"{new1.seq:020d}.md"
        assert kept.exists()
        s.delete(b, mode="purge", reason="user-request", actor=A)
        assert kept.exists(), "purging b destroyed a version of the later memory at a"


def test_release_timers_are_what_the_repros_assume() -> None:
    """The repros rely on the commit loop releasing the lock when idle."""
    assert writer_mod.IDLE_RELEASE_S < 1


def _lock_free(root: Path) -> bool:
    """Another process could take the writer lock now (flock conflicts across open files,
    in one process as across two)."""
    import fcntl
    import os

    fd = os.open(root / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops our flock too
    return True


def _released_within(root: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _lock_free(root):
            return True
        time.sleep(0.02)
    return False


def test_a_long_lived_writer_lets_the_lock_go_after_every_write(tmp_path: Path) -> None:
    """After its first write the commit loop sleeps until the next checkpoint is due (10 s by
    default); a later write must wake it for the idle release, or the writer holds the lock
    until then and every other process's write waits (a CLI put took 10 s beside `brain
    mcp`: its recovery's lock wait, 5 s, then its own)."""
    root = tmp_path / "s"
    Store.init(root, allow_temp=True).close()
    # service=True: a long-running host (TUI, `brain mcp`, the capture daemon) checkpoints on
    # a timer, which is what its commit loop sleeps towards between writes.
    with Store.open(root, allow_temp=True, service=True) as s:
        for i in range(3):
            s.put(f"{F}/w{i}.md", f"write {i}\n", actor=A)
            assert _released_within(root, 2.0), f"the lock was kept after write {i}"
