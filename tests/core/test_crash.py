"""SIGKILL a busy writer process at random instants, hundreds of times, and prove after every
kill that each write it had acknowledged is durable with its exact commitment, that the files
match the log, and that the whole chain and the Merkle node file verify.

Four independent stores of 50 kills each (200 in all) so pytest-xdist spreads them; each store
restarts its writer after every kill, and the test process's open runs recovery every time.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.log.binlog import Binlog
from core.log.hashing import commitment
from core.log.head import read_head
from core.log.tip import Tip, scan_current
from core.models import TOMBSTONE_STUB, Row
from core.store import Store
from core.store_state import READY
from tests.core.crash_writer import POOL, pool_path

REPO = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("crash_writer.py")
KILLS_PER_STORE = 50
STORES = 4
SEED = 20251125

# About 20 s a store on a laptop: the full lane (`./dev test`) runs them, `--fast` does not.
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Ack:
    op: str
    seq: int
    path: str
    commit: str
    src: str | None


class Zygote:
    """One pre-imported writer parent; each `run` forks a fresh writer process."""

    def __init__(self, tmp_path: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO), XDG_STATE_HOME=str(tmp_path / "xdg"))
        self.p = subprocess.Popen(
            [sys.executable, str(WRITER), "--zygote"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:  # drained continuously, so the writer never blocks on it
            self.lines.put(line)
        self.lines.put("")

    def next_line(self, timeout: float = 30.0) -> str:
        line = self.lines.get(timeout=timeout)
        if not line:
            raise AssertionError("the zygote exited")
        return line

    def run_and_kill(self, root: Path, seed: int, delay: float) -> list[str]:
        """Start a writer, SIGKILL it `delay` s after READY; return every line it printed."""
        assert self.p.stdin is not None
        self.p.stdin.write(f"RUN {root} {seed}\n")
        self.p.stdin.flush()
        out: list[str] = []
        while True:
            line = self.next_line()
            out.append(line)
            if line.startswith("FAIL"):
                raise AssertionError(line)
            if line.startswith("READY"):
                pid = int(line.split()[1])
                break
        time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it died by itself: the EXIT status and its output below say why
        while True:
            line = self.next_line()
            if line.startswith("EXIT"):
                _, dead, status = line.split()
                assert int(dead) == pid
                assert os.WIFSIGNALED(int(status)), f"writer ended by itself: {out[-5:]}"
                return out
            out.append(line)

    def close(self) -> None:
        if self.p.stdin is not None:
            self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def parse_acks(lines: list[str]) -> list[Ack]:
    acks = []
    for line in lines:
        if not line.endswith("\n") or not line.startswith("ACK "):
            continue  # a line cut by the kill was never fully acknowledged to anyone
        f = line.split()
        acks.append(
            Ack(f[1], int(f[2]), f[3], "" if f[4] == "-" else f[4], f[5] if len(f) > 5 else None)
        )
    return acks


def expected_files(rows: list[Row]) -> dict[str, tuple[str, int, str]]:
    """path -> (state, sidecar seq, commit) by replaying the log's rows."""
    state: dict[str, tuple[str, int, str]] = {}
    for r in rows:
        if r.op == "put":
            state[r.path] = ("active", r.seq, r.commit)
        elif r.op == "move":
            old = state.pop(r.extra["from"])
            state[r.path] = (old[0], r.seq, r.commit)
        elif r.op == "delete":
            assert r.extra["mode"] == "tombstone"
            state[r.path] = ("tombstoned", r.seq, "")
    return state


def check_store(root: Path, acks: list[Ack], pool: set[str]) -> int:
    """Open (running recovery), verify everything; returns the head seq."""
    with Store.open(root, allow_temp=True) as s:
        st = s.state()
        assert st.state == READY, st.problem
        head = st.head_seq
        assert s.mmr.size == head
        scan = scan_current(Binlog(root / "audit"), Tip())
        assert scan.bad is None and scan.broken is None, (scan.bad, scan.broken)
        assert scan.tip.seq == head and scan.tip.offset == s.binlog.current_size()
        rows = [r for r, _p, _o in scan.rows]
        assert [r.seq for r in rows] == list(range(1, head + 1))
        # Every acknowledged write is in the chain, exactly as acknowledged.
        for a in acks:
            r = rows[a.seq - 1]
            assert (r.op, r.path, r.commit) == (a.op, a.path, a.commit), (a, r)
            if a.op == "move":
                assert r.extra["from"] == a.src
        # The files match the log (which may hold committed writes never acknowledged).
        want = expected_files(rows)
        for path in pool:
            side_path = root / (path[:-3] + ".meta.json")
            if path not in want:
                assert not side_path.exists() and not (root / path).exists(), path
                continue
            state, seq, commit = want[path]
            side = json.loads(side_path.read_bytes())
            assert (side["state"], side["seq"], side["commit"]) == (state, seq, commit), path
            body = (root / path).read_bytes()
            if state == "active":
                assert commitment(bytes.fromhex(side["salt"]), body) == commit, path
            else:
                assert body == TOMBSTONE_STUB
        # The latest acknowledged write per path, where nothing later touched the path.
        last_touch: dict[str, int] = {}
        for r in rows:
            last_touch[r.path] = r.seq
            if r.op == "move":
                last_touch[r.extra["from"]] = r.seq
        latest: dict[str, Ack] = {}
        for a in sorted(acks, key=lambda a: a.seq):
            latest[a.path] = a
        for path, a in latest.items():
            if last_touch[path] == a.seq and a.op == "put":
                assert s.view(path).sidecar.commit == a.commit
    assert read_head(s.layout) == head
    assert (root / "audit" / "journal.wal").stat().st_size == 0
    return head


def check_versions(root: Path, rows: list[Row]) -> None:
    """Every put row's commitment is still checkable from a kept version or the current file."""
    found: set[str] = set()
    for side_path in list((root / "versions").rglob("*.meta.json")) + list(
        (root / "memories").rglob("*.meta.json")
    ):
        side = json.loads(side_path.read_bytes())
        if side["state"] != "active":
            continue
        body = side_path.with_name(side_path.name[: -len(".meta.json")] + ".md").read_bytes()
        assert commitment(bytes.fromhex(side["salt"]), body) == side["commit"], side_path
        found.add(side["commit"])
    puts = {r.commit for r in rows if r.op == "put"}
    assert puts <= found, f"{len(puts - found)} put commitments have no kept version"


@pytest.mark.parametrize("store_no", range(STORES))
def test_sigkill_writer_loses_no_acknowledged_write(tmp_path: Path, store_no: int) -> None:
    rnd = random.Random(SEED + store_no)
    root = tmp_path / "store"
    Store.init(root, allow_temp=True).close()
    pool = {pool_path(i) for i in range(POOL)}
    zygote = Zygote(tmp_path)
    acks: list[Ack] = []
    kills = 0
    t0 = time.monotonic()
    try:
        for i in range(KILLS_PER_STORE):
            lines = zygote.run_and_kill(
                root, SEED * 100 + store_no * 1000 + i, rnd.uniform(0.02, 0.25)
            )
            kills += 1
            acks.extend(parse_acks(lines))
            check_store(root, acks, pool)
    finally:
        zygote.close()
    scan = scan_current(Binlog(root / "audit"), Tip())
    check_versions(root, [r for r, _p, _o in scan.rows])
    took = time.monotonic() - t0
    print(
        f"store {store_no}: {kills} SIGKILLs, {len(acks)} acknowledged writes, "
        f"{scan.tip.seq} rows, {took:.1f} s ({took / kills * 1000:.0f} ms per kill)"
    )
    assert kills == KILLS_PER_STORE
    assert len(acks) > KILLS_PER_STORE  # the writer really was busy when it died
