"""Driving and checking the multi-process stress test (tests/core/test_stress_multiprocess.py).

`Procs` talks to the zygote in tests/core/stress_procs.py (long-lived writers and forked CLI
calls) and runs real `python -m brain_tui.cli.main` subprocesses. `Ack`/`parse_*` read what each
process acknowledged. `check_final` opens the finished store and checks every claim the
protocol makes about it, returning a list of problems (empty: all good) so that one run reports
everything it found, not only the first thing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core.models import Row
from core.store import Store
from core.verify.mmr import MMR, leaf_hash

REPO = Path(__file__).resolve().parents[2]
PROCS = Path(__file__).with_name("stress_procs.py")
ACTOR = "agent:stress-cli@test"


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_DEBUG")}
    env.update(
        PYTHONPATH=str(REPO),
        BRAIN_ALLOW_TEMP_STORE="1",
        BRAIN_ACTOR=ACTOR,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def brain(
    root: Path, *args: str, input: bytes = b"", timeout: float = 60, env_extra=None
) -> subprocess.CompletedProcess[bytes]:
    """A real `brain` subprocess (interpreter start-up included)."""
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", "--store", str(root), *args],
        input=input,
        capture_output=True,
        env={**cli_env(), **(env_extra or {})},
        cwd=REPO,
        timeout=timeout,
    )


class Procs:
    """The zygote: forks writers and CLI calls, reports their pids and exits."""

    def __init__(self, tmp: Path, env_extra: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.p = subprocess.Popen(
            [sys.executable, str(PROCS), "--zygote"],
            cwd=REPO,
            env={**cli_env(), **(env_extra or {})},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._cond = threading.Condition()
        self.pids: dict[str, int] = {}
        self.ready: set[str] = set()
        self.exits: dict[int, int] = {}
        self.fails: list[str] = []
        self.lines: queue.Queue[str] = queue.Queue()
        self._n = 0
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            f = line.split()
            with self._cond:
                if f and f[0] == "PID":
                    pid = int(f[2])
                    self.pids[f[1]] = pid
                    # The kernel reuses pids (pid_max is 32768 here and a long run forks
                    # thousands): an exit already seen for this pid was an earlier process's,
                    # and would read as this one having ended at once (a writer "dead at open",
                    # a CLI call "exited 0" with no output). The zygote reports every exit after
                    # the fork that reused its pid, so what is here now is stale.
                    self.exits.pop(pid, None)
                elif f and f[0] == "EXIT":
                    self.exits[int(f[1])] = int(f[2])
                elif f and f[0] == "READY":
                    self.ready.add(f[1])
                elif f and f[0] == "FAIL":
                    self.fails.append(line.strip())
                self._cond.notify_all()

    def _send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def _wait(self, pred, timeout: float, what: str):
        with self._cond:
            if not self._cond.wait_for(pred, timeout):
                raise AssertionError(f"timed out ({timeout:g} s) waiting for {what}")

    def start_writer(self, wid: str, root: Path, seed: int, ackfile: Path, threads: int) -> int:
        self._send(f"WRITER {wid} {root} {seed} {ackfile} {threads}")
        self._wait(lambda: wid in self.pids, 30, f"writer {wid} to fork")
        pid = self.pids[wid]
        self._wait(
            lambda: wid in self.ready or pid in self.exits, 60, f"writer {wid} to open the store"
        )
        if wid not in self.ready:
            raise AssertionError(f"writer {wid} died at open: {self.fails[-3:]}")
        return pid

    def start_cli(
        self, argv: list[str], stdin: bytes = b"", env: dict[str, str] | None = None
    ) -> tuple[int, Path]:
        self._n += 1
        cid = f"c{self._n}"
        d = self.tmp / "cli" / cid
        d.mkdir(parents=True)
        if stdin:
            (d / "in").write_bytes(stdin)
        spec = {"argv": argv, "env": env} if env else argv
        self._send(f"CLI {cid} {d} {json.dumps(spec)}")
        self._wait(lambda: cid in self.pids, 30, f"CLI {cid} to fork")
        return self.pids[cid], d

    def wait_exit(self, pid: int, timeout: float = 60) -> int:
        self._wait(lambda: pid in self.exits, timeout, f"pid {pid} to exit")
        return self.exits[pid]

    def running(self) -> list[int]:
        """Every child the zygote forked that has not exited, tracked by the driver or not."""
        with self._cond:
            return [pid for pid in self.pids.values() if pid not in self.exits]

    def close(self) -> None:
        if self.p.stdin is not None:
            self.p.stdin.close()
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


@dataclass(frozen=True)
class Ack:
    op: str
    seq: int
    path: str
    commit: str
    src: str | None
    body_sha: str | None
    who: str


def parse_ack_file(path: Path, who: str) -> tuple[list[Ack], list[tuple[int, str]]]:
    acks, ckpts = [], []
    data = path.read_bytes().decode() if path.exists() else ""
    for line in data.splitlines(keepends=True):
        if not line.endswith("\n"):
            continue  # cut by the kill: never fully acknowledged to anyone
        f = line.split()
        if f[0] == "ACK":
            acks.append(ack(f[1], int(f[2]), f[3], f[4], f[5], f[6], who))
        elif f[0] == "CKPT":
            ckpts.append((int(f[1]), f[2]))
    return acks, ckpts


def ack(op, seq, path, commit, src, body_sha, who) -> Ack:
    return Ack(
        op,
        seq,
        path,
        "" if commit in ("-", "") else commit,
        None if src in ("-", None) else src,
        None if body_sha in ("-", None) else body_sha,
        who,
    )


# -- the final check ------------------------------------------------------------------------


def _lineages(rows: list[Row]) -> tuple[dict[int, int], set[int], dict[str, int]]:
    """Follow memories through moves: put seq -> lineage id; the purged lineages; and which
    lineage each path holds at the end (a put on a live path continues its lineage)."""
    at: dict[str, int] = {}
    of_put: dict[int, int] = {}
    purged: set[int] = set()
    for r in rows:
        if r.op == "put":
            lin = at.get(r.path)
            if lin is None or lin in purged:
                lin = r.seq
            at[r.path] = lin
            of_put[r.seq] = lin
        elif r.op == "move":
            at[r.path] = at.pop(r.extra["from"])
        elif r.op == "delete" and r.extra.get("mode") == "purge":
            purged.add(at[r.path])
    return of_put, purged, at


def _bodies_by_commit(root: Path) -> dict[str, bytes]:
    """commit -> body bytes of every active memory and kept version on disk."""
    out: dict[str, bytes] = {}
    for top in ("memories", "versions"):
        for side_path in (root / top).rglob("*.meta.json"):
            try:
                side = json.loads(side_path.read_bytes())
            except (OSError, ValueError):
                continue
            if side.get("state") != "active" or not side.get("commit"):
                continue
            body = side_path.with_name(side_path.name[: -len(".meta.json")] + ".md")
            try:
                out[side["commit"]] = body.read_bytes()
            except OSError:
                pass
    return out


def check_final(
    root: Path, acks: list[Ack], ckpts: list[tuple[int, str]], rng, n_proofs: int = 6
) -> tuple[list[str], dict]:
    problems: list[str] = []
    info: dict = {}
    with Store.open(root, allow_temp=True, program="stress-check") as s:  # recovery runs here
        st = s.state()
        info["open_state"] = st.state
        if st.state != "READY":
            problems.append(f"open: store is {st.state}: {st.problem}")
        pairs = s.rows()
        head = st.head_seq
    rows = [r for r, _p in pairs]
    payloads = [p for _r, p in pairs]
    info.update(head=head, rows=len(rows), acks=len(acks), checkpoints_acked=len(ckpts))
    if [r.seq for r in rows] != list(range(1, head + 1)):
        problems.append(f"log: seqs are not 1..{head}")

    # The index, as the first open after the run left it: every row, no gaps.
    problems += check_index(root, head)

    p = brain(root, "--json", "doctor")
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = {"state": f"unreadable (rc {p.returncode}): {p.stderr.decode()[-500:]}"}
    info["doctor"] = doc.get("state")
    if doc.get("state") != "READY":
        problems.append(f"doctor: state {doc.get('state')}")
    for r in doc.get("results", []):
        if r["status"] == "FAIL":
            problems.append(f"doctor: {r['id']} FAIL: {r['detail']}")

    # Every acknowledged write is in the log exactly as acknowledged.
    for a in acks:
        if a.seq > len(rows):
            problems.append(f"lost: {a} (log ends at {len(rows)})")
            continue
        r = rows[a.seq - 1]
        if (r.op, r.path, r.commit) != (a.op, a.path, a.commit) or (
            a.op == "move" and r.extra.get("from") != a.src
        ):
            problems.append(f"differs: acknowledged {a}, the log has {r}")
    # ... and its body is still there, unless a later row (a purge) explains its absence.
    of_put, purged, _ = _lineages(rows)
    bodies = _bodies_by_commit(root)
    for a in acks:
        if a.op != "put" or a.seq > len(rows) or a.body_sha is None:
            continue
        lin = of_put.get(a.seq)
        if lin in purged:
            if a.commit in bodies:
                problems.append(f"purged body still on disk: {a}")
            continue
        body = bodies.get(a.commit)
        if body is None:
            problems.append(f"body missing (no later purge explains it): {a}")
        elif hashlib.sha256(body).hexdigest() != a.body_sha:
            problems.append(f"body differs from what was acknowledged: {a}")

    # mmr.nodes equals a rebuild from the log; every checkpoint signs the log's root.
    with tempfile.TemporaryDirectory() as d:
        rebuilt = MMR.open(Path(d) / "mmr.nodes")
        rebuilt.append([leaf_hash(p) for p in payloads])
        notes = sorted((root / "audit" / "checkpoints").glob("*.note"))
        bad_notes = []
        for note in notes:
            lines = note.read_text().split("\n")
            size, sroot = int(lines[1]), base64.b64decode(lines[2])
            if size > len(payloads) or rebuilt.root(size) != sroot:
                bad_notes.append(size)
        for size, hexroot in ckpts:
            if size > len(payloads) or rebuilt.root(size).hex() != hexroot:
                bad_notes.append(size)
        for r in rows:
            if r.op == "checkpoint":
                size = r.extra["size"]
                if size > len(payloads) or rebuilt.root(size).hex() != r.extra["root"]:
                    bad_notes.append(size)
        rebuilt.close()
        info["checkpoint_notes"] = len(notes)
        if bad_notes:
            problems.append(
                f"checkpoints: {len(set(bad_notes))} sign a root that is not the log's at their"
                f" size (sizes {sorted(set(bad_notes))[:8]}...)"
            )
        want = (Path(d) / "mmr.nodes").read_bytes()
    got = (root / "audit" / "mmr.nodes").read_bytes()
    if got != want:
        at = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), None)
        problems.append(
            f"mmr.nodes: differs from a rebuild from the log ({len(got)} vs {len(want)} bytes,"
            f" first difference at byte {at})"
        )

    # Inclusion proofs verify for a sample of rows (first, last, random).
    sample = sorted({1, head, *(rng.randint(1, head) for _ in range(max(0, n_proofs - 2)))})
    for seq in sample:
        out = root.parent / f"proof-{seq}.json"
        p = brain(root, "prove", "--seq", str(seq), "--out", str(out))
        if p.returncode != 0:
            problems.append(f"prove {seq}: rc {p.returncode}: {p.stderr.decode().strip()}")
            continue
        v = brain(root, "verify-proof", str(out))
        if v.returncode != 0:
            problems.append(f"verify-proof {seq}: {(v.stdout + v.stderr).decode().strip()}")
    info["proofs"] = len(sample)
    return problems, info


def check_index(root: Path, head: int) -> list[str]:
    db = root / "index" / "brain.sqlite"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM audit ORDER BY seq")]
        last = int(conn.execute("SELECT value FROM meta WHERE key='last_applied'").fetchone()[0])
    finally:
        conn.close()
    out = []
    missing = sorted(set(range(1, head + 1)) - set(seqs))
    if missing:
        out.append(
            f"index: {len(missing)} of {head} rows missing from the audit table"
            f" (first {missing[:10]}), last_applied {last}"
        )
    if last != head:
        out.append(f"index: last_applied {last}, head {head}")
    return out


def wait_until(pred, timeout: float, step: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()
