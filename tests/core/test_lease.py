"""The writer lock across real processes: a clear LeaseHeld naming the holder, the kernel
dropping the lock when the holder dies, and a busy writer letting a contender in."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import LeaseHeld
from core.log.binlog import Binlog
from core.log.tip import Tip, scan_current
from core.store import Store
from core.write.lock import is_locked

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"

HOLDER = """
import sys, time
from core.store import Store
from core.write.lock import WriterLock
root = sys.argv[1]
with Store.open(root, allow_temp=True, program="holder-test") as s:
    s.put("memories/facts/from-holder.md", "written by the holder\\n", actor="agent:holder@box")
lock = WriterLock(s.root, "holder-test", 5.0)
lock.acquire()
print("HOLDING", flush=True)
time.sleep(120)
"""

BUSY = """
import sys, time
from core.store import Store
root, seconds = sys.argv[1], float(sys.argv[2])
with Store.open(root, allow_temp=True, program="busy-test") as s:
    print("READY", flush=True)
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        s.put(f"memories/facts/busy/{i % 20}.md", f"busy {i}\\n", actor="agent:busy@box")
        i += 1
print("DONE", i, flush=True)
"""


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


def _spawn(tmp_path: Path, code: str, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_STATE_HOME=str(tmp_path / "xdg-state"))
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_line(p: subprocess.Popen[str], want: str) -> str:
    assert p.stdout is not None
    line = p.stdout.readline()
    if not line.startswith(want):
        p.kill()
        raise AssertionError(f"expected {want!r}, got {line!r}; stderr: {p.stderr.read()}")
    return line


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "store"
    Store.init(r, allow_temp=True).close()
    return r


def test_second_process_gets_lease_held_naming_holder(tmp_path: Path, root: Path) -> None:
    p = _spawn(tmp_path, HOLDER, str(root))
    try:
        _wait_line(p, "HOLDING")
        with Store.open(root, allow_temp=True, lock_timeout_s=0.3) as s:
            # Reads need no lock and see what the holder wrote.
            assert s.view("memories/facts/from-holder.md").body == b"written by the holder\n"
            assert f"pid {p.pid}" in (s.state().writer or "")
            t0 = time.monotonic()
            with pytest.raises(LeaseHeld) as exc:
                s.put("memories/facts/mine.md", "mine\n", actor=ANA)
            waited = time.monotonic() - t0
            msg = str(exc.value)
            assert f"pid {p.pid}" in msg and "holder-test" in msg, msg
            assert "0.3 s" in msg
            assert 0.25 <= waited < 3.0
            assert not (root / "memories/facts/mine.md").exists()

            # The kernel drops a dead holder's flock: no stale lease to take over.
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)
            assert not is_locked(root / ".lock")
            r = s.put("memories/facts/mine.md", "mine\n", actor=ANA)
            assert r.seq == 2
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None and scan.tip.seq == 2


def test_busy_writer_lets_a_contender_in(tmp_path: Path, root: Path) -> None:
    """The commit loop releases the lock at least every 100 ms while busy (flock is unfair)."""
    p = _spawn(tmp_path, BUSY, str(root), "3.0")
    try:
        _wait_line(p, "READY")
        time.sleep(0.2)  # let it get busy
        with Store.open(root, allow_temp=True, lock_timeout_s=5.0) as s:
            t0 = time.monotonic()
            for i in range(10):
                s.put(f"memories/facts/contender-{i}.md", f"c {i}\n", actor=ANA)
            took = time.monotonic() - t0
            assert p.poll() is None, "the busy writer finished before the contender got in"
        assert took < 3.0
        done = _wait_line(p, "DONE")
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    busy_puts = int(done.split()[1])
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None
    ops = [r.op for r, _p, _o in scan.rows]
    assert ops.count("put") == busy_puts + 10  # plus automatic checkpoint rows every 1000
    assert set(ops) <= {"put", "checkpoint"}
