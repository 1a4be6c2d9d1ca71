"""Users' combinations, randomized: long-lived writers beside one-shot CLI calls, random SIGKILLs.

2-4 long-lived writer processes each hold one `Store` open for many operations (as the TUI and
an MCP server do) and write from producer threads: puts, put_if, moves, tombstones, batches,
checkpoints, and idle pauses that let their commit loop release the lock. Between them the test
runs one-shot `brain` calls (put, move, delete, delete --mode purge, checkpoint, export,
consolidate, state): most forked from a pre-imported zygote (the same `main(argv)`, minus
interpreter start-up), some as real `python -m brain_tui.cli.main` subprocesses. Both kinds are
SIGKILLed at random instants; writers are also stopped cleanly (SIGTERM: close the store).

Every process logs what it had acknowledged (writers: their own append-only file, written after
the call returned; CLI: its JSON output at exit 0). At the end every writer is closed or killed
and `stress_harness.check_final` checks: open READY; `brain doctor --json` READY with no FAIL;
every acknowledged row in the log as acknowledged; every acknowledged put's body present (or a
later purge explains it); every checkpoint (notes, rows, acknowledged) signs the log's root at
its size; `mmr.nodes` equal to a rebuild from the log; inclusion proofs verify (`brain prove`,
`brain verify-proof`); the index holds every seq 1..head.

The seed is printed (and named in every failure): BRAIN_STRESS_SEED=<seed> reruns the same
choices (the interleaving still depends on timing). BRAIN_STRESS_STEPS sets the slow variant's
length.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from core.store import Store
from tests.core.stress_harness import (
    Ack,
    Procs,
    ack,
    check_final,
    cli_env,
    kill,
    parse_ack_file,
)
from tests.core.stress_procs import EXPECTED, POOL, pool_path

REPO = Path(__file__).resolve().parents[2]
FAST_STEPS = 300
SLOW_STEPS = int(os.environ.get("BRAIN_STRESS_STEPS", "3000"))
# Ordinary outcomes of racing on a small pool, plus a lock wait that ran out under load.
CLI_EXPECTED = (*EXPECTED, "is being written by")
# The quiet step: with every writer idle, a CLI put that writes itself gets the lock within
# this (an idle commit loop lets it go after ~200 ms; one that kept it would make the put wait
# out its 5 s lock timeout).
QUIET_LOCK_S = 3.0


class Stop(Exception):
    """The store refuses a new writer: the run cannot go on; check what it left."""


@dataclass
class Stats:
    steps: int = 0
    cli: int = 0
    cli_real: int = 0
    cli_killed: int = 0
    cli_failed_expected: int = 0
    lease_timeouts: int = 0
    cli_door: int = 0  # CLI puts a live writer took through its door
    quiet: int = 0  # quiet steps: every writer idle, a CLI put took the lock itself
    writer_kills: int = 0
    writer_stops: int = 0
    writer_starts: int = 0
    not_ready: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


class Driver:
    def __init__(self, tmp: Path, seed: int, sequential: bool = False) -> None:
        self.tmp = tmp
        self.sequential = sequential
        self.seed = seed
        self.rng = random.Random(seed)
        self.root = tmp / "store"
        Store.init(self.root, allow_temp=True).close()
        (tmp / "acks").mkdir()
        # Doors in a folder of the run's own (short: Unix socket paths are ~107 bytes at most);
        # BRAIN_DEBUG makes a CLI put say when a writer's door took it.
        self.runtime = tempfile.mkdtemp(prefix="bs", dir="/tmp")
        self.env_extra = {"XDG_RUNTIME_DIR": self.runtime, "BRAIN_DEBUG": "1"}
        self.procs = Procs(tmp, self.env_extra)
        self.stats = Stats()
        self.writers: dict[int, int | None] = {}  # slot -> live pid
        self.ackfiles: list[tuple[Path, str]] = []
        self.cli_acks: list[Ack] = []
        self.ckpts: list[tuple[int, str]] = []
        self._gen = 0
        self.n = 0

    # -- writers --------------------------------------------------------------------------

    def start_writer(self, slot: int) -> None:
        self._gen += 1
        wid = f"w{slot}g{self._gen}"
        ackfile = self.tmp / "acks" / f"{wid}.log"
        self.ackfiles.append((ackfile, wid))
        threads = self.rng.choice((1, 1, 2))
        seed = self.seed * 10_000 + self._gen
        try:
            self.writers[slot] = self.procs.start_writer(wid, self.root, seed, ackfile, threads)
        except AssertionError as e:
            raise Stop(f"step {self.stats.steps}: {e}") from None
        self.stats.writer_starts += 1

    def stop_writer(self, slot: int, sig: int) -> None:
        pid = self.writers[slot]
        if pid is None:
            return
        kill(pid, sig)
        status = self.procs.wait_exit(pid, 60)
        self.writers[slot] = None
        if sig == signal.SIGKILL:
            self.stats.writer_kills += 1
        else:
            self.stats.writer_stops += 1
            if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
                self.stats.unexpected.append(f"writer pid {pid} closed with status {status}")

    def check_writers_alive(self) -> None:
        for slot, pid in self.writers.items():
            if pid is not None and pid in self.procs.exits:
                self.stats.unexpected.append(
                    f"step {self.stats.steps}: writer slot {slot} died by itself"
                    f" (status {self.procs.exits[pid]}): {self.procs.fails[-3:]}"
                )
                self.writers[slot] = None

    # -- CLI calls ------------------------------------------------------------------------

    def cli_args(self) -> tuple[list[str], bytes, str]:
        rng = self.rng
        path = pool_path(rng.randrange(POOL))
        r = rng.random()
        self.n += 1
        if r < 0.40:
            body = f"cli write {self.n} {rng.getrandbits(64):016x}\n".encode()
            # Printed as text or JSON; either may go through a live writer's door (core/door.py).
            return ["put", path, "-"], body, "put" if r < 0.2 else "put-text"
        if r < 0.52:
            return ["move", path, pool_path(rng.randrange(POOL))], b"", "move"
        if r < 0.62:
            return ["delete", path], b"", "delete"
        if r < 0.68:
            return (
                ["delete", "--mode", "purge", "--reason", "user-request", "-y", path],
                b"",
                "delete",
            )
        if r < 0.80:
            return ["checkpoint"], b"", "checkpoint"
        if r < 0.86:
            return ["export", str(self.tmp / f"export-{self.n % 3}.zip")], b"", "export"
        if r < 0.92:
            return ["consolidate", "--min-rows", "50"], b"", "consolidate"
        return ["state"], b"", "state"

    def cli_step(self) -> None:
        argv, body, what = self.cli_args()
        argv = ["--store", str(self.root), *([] if what == "put-text" else ["--json"]), *argv]
        rng = self.rng
        killer = rng.uniform(0.0, 0.15) if rng.random() < 0.15 else None
        self.stats.cli += 1
        if rng.random() < 0.1:
            self.stats.cli_real += 1
            rc, out, err = self._real(argv, body, killer)
        else:
            pid, d = self.procs.start_cli(argv, body)
            if killer is not None:
                time.sleep(killer)
                kill(pid)
            status = self.procs.wait_exit(pid, 90)
            rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            # A child killed before it opened its output files leaves none.
            out, err = (_read(d / n) for n in ("out", "err"))
        if rc < 0:
            self.stats.cli_killed += 1
            return
        if rc != 0:
            if "is being written by" in err:
                self.stats.lease_timeouts += 1
            if any(s in err for s in CLI_EXPECTED):
                self.stats.cli_failed_expected += 1
                return
            self.stats.unexpected.append(
                f"step {self.stats.steps}: brain {' '.join(argv[3:])}: rc {rc}: {err.strip()}"
            )
            return
        self.stats.cli_door += what.startswith("put") and "through its door" in err
        self._record(what, out, body, f"killer {killer}, stderr {err.strip()[-300:]!r}")

    def quiet_step(self) -> None:
        """Every live writer goes idle (store open, service loop running); a CLI put that
        writes itself must then get the lock within QUIET_LOCK_S."""
        live = [pid for pid in self.writers.values() if pid is not None]
        if not live:
            return
        for pid in live:
            kill(pid, signal.SIGUSR1)
        try:
            time.sleep(0.05)  # operations in flight end
            self.n += 1
            body = f"quiet write {self.n}\n".encode()
            argv = ["--store", str(self.root), "--json", "put", pool_path(0), "-"]
            t0 = time.monotonic()
            pid, d = self.procs.start_cli(argv, body, env={"BRAIN_DOOR": "0"})
            status = self.procs.wait_exit(pid, 90)
            waited = time.monotonic() - t0
            rc = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            out, err = (_read(d / n) for n in ("out", "err"))
            if rc != 0 or waited > QUIET_LOCK_S:
                self.stats.unexpected.append(
                    f"step {self.stats.steps}: with {len(live)} writer(s) idle, a put that writes"
                    f" itself took {waited:.1f} s (rc {rc}): {err.strip()}"
                )
                return
            self.stats.quiet += 1
            self._record("put", out, body, f"quiet step, stderr {err.strip()[-300:]!r}")
        finally:
            for pid in live:
                kill(pid, signal.SIGUSR2)

    def _record(self, what: str, out: str, body: bytes, how: str = "") -> None:
        """What a CLI call that exited 0 acknowledged (its output)."""
        if what == "put-text":  # "put  seq N  PATH  commit HEX" (or "unchanged  ...")
            status, _seq, seq, path, _commit, commit = out.split()[:6]
            if status == "put":
                sha = hashlib.sha256(body).hexdigest()
                self.cli_acks.append(ack("put", int(seq), path, commit, None, sha, "cli"))
            return
        try:
            doc = json.loads(out) if what != "export" or out.strip() else {}
        except ValueError:
            # A command that succeeded must say what it did: name it instead of a bare
            # JSONDecodeError from the harness.
            self.stats.unexpected.append(
                f"step {self.stats.steps}: brain {what} exited 0 without its JSON:"
                f" {out[:200]!r} ({how})"
            )
            return
        if what in ("put", "move", "delete") and doc.get("row"):
            row = doc["row"]
            sha = hashlib.sha256(body).hexdigest() if what == "put" else None
            src = row["extra"].get("from")
            self.cli_acks.append(ack(what, row["seq"], row["path"], row["commit"], src, sha, "cli"))
        elif what == "checkpoint":
            self.ckpts.append((doc["size"], doc["root"]))
        elif what == "state" and doc.get("state") != "READY":
            self.stats.not_ready.append(f"step {self.stats.steps}: {doc.get('state')}")

    def _real(self, argv: list[str], body: bytes, killer: float | None):
        p = subprocess.Popen(
            [sys.executable, "-m", "brain_tui.cli.main", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**cli_env(), **self.env_extra},
            cwd=REPO,
        )
        if killer is not None:
            time.sleep(killer + 0.2)  # past the interpreter's start-up
            p.kill()
        out, err = p.communicate(body, timeout=90)
        return p.returncode, out.decode(), err.decode()

    # -- the run --------------------------------------------------------------------------

    def run(self, steps: int) -> None:
        try:
            self._run(steps)
        except Stop as e:
            self.stats.unexpected.append(f"run stopped early: {e}")

    def _run(self, steps: int) -> None:
        n_writers = 1 if self.sequential else self.rng.randint(2, 4)
        self.writers = dict.fromkeys(range(n_writers))
        for slot in range(n_writers):
            self.start_writer(slot)
        for _ in range(steps):
            self.stats.steps += 1
            self.check_writers_alive()
            r = self.rng.random()
            if self.sequential and r < 0.67 and self.writers[0] is not None:
                # One process at a time: every process starts from a fresh open.
                time.sleep(self.rng.uniform(0, 0.05))
                self.stop_writer(0, self.rng.choice((signal.SIGKILL, signal.SIGTERM)))
                if r >= 0.55:
                    continue
            if r < 0.55:
                self.cli_step()
            elif self.sequential and self.writers[0] is None:
                self.start_writer(0)
            elif r < 0.67:
                slot = self.rng.randrange(n_writers)
                if self.writers[slot] is not None:
                    time.sleep(self.rng.uniform(0, 0.05))
                    self.stop_writer(slot, signal.SIGKILL)
                self.start_writer(slot)
            elif r < 0.70:
                slot = self.rng.randrange(n_writers)
                self.stop_writer(slot, signal.SIGTERM)
                self.start_writer(slot)
            elif r < 0.72 and not self.sequential:
                self.quiet_step()
            else:
                time.sleep(self.rng.uniform(0.005, 0.06))  # let the writers run
        for slot in range(n_writers):
            self.stop_writer(slot, self.rng.choice((signal.SIGKILL, signal.SIGTERM)))

    def acks(self) -> tuple[list[Ack], list[tuple[int, str]]]:
        acks, ckpts = list(self.cli_acks), list(self.ckpts)
        for path, wid in self.ackfiles:
            a, c = parse_ack_file(path, wid)
            acks += a
            ckpts += c
        return acks, ckpts


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def run_stress(tmp_path: Path, steps: int, sequential: bool = False) -> None:
    seed = int(os.environ.get("BRAIN_STRESS_SEED") or random.SystemRandom().randrange(10**6))
    print(f"\nBRAIN_STRESS_SEED={seed} steps={steps} sequential={sequential}")
    t0 = time.monotonic()
    d = Driver(tmp_path, seed, sequential)
    try:
        d.run(steps)
    finally:
        for slot, pid in d.writers.items():
            if pid is not None:
                kill(pid)
                d.writers[slot] = None
        # A run stopped early may leave a child the driver lost track of (a writer whose start
        # it gave up on): one still writing would make the checks read a moving store.
        for pid in d.procs.running():
            kill(pid)
        d.procs.close()
        shutil.rmtree(d.runtime, ignore_errors=True)
    ran = time.monotonic() - t0
    acks, ckpts = d.acks()
    problems, info = check_final(d.root, acks, ckpts, random.Random(seed))
    s = d.stats
    summary = (
        f"seed {seed}{' sequential' if sequential else ''}: {s.steps} steps, {s.cli} CLI calls ({s.cli_real} real subprocesses,"
        f" {s.cli_killed} SIGKILLed, {s.cli_failed_expected} refused as expected,"
        f" {s.lease_timeouts} lock timeouts, {s.cli_door} puts through a writer's door,"
        f" {s.quiet} taking the lock from idle writers), writers: {s.writer_starts} started,"
        f" {s.writer_kills} SIGKILLed, {s.writer_stops} closed; {info}; run {ran:.1f} s,"
        f" check {time.monotonic() - t0 - ran:.1f} s"
    )
    print(summary)
    problems = s.unexpected + [f"state not READY at {x}" for x in s.not_ready[:5]] + problems
    if not sequential and steps >= 100 and not s.cli_door:
        problems.append("no CLI put went through a live writer's door")
    if not sequential and steps >= 100 and not s.quiet:
        problems.append("no quiet step ran (a CLI put beside idle writers)")
    assert not problems, (
        f"BRAIN_STRESS_SEED={seed}: {len(problems)} problem(s):\n  "
        + "\n  ".join(problems[:40])
        + f"\n{summary}"
    )


@pytest.mark.slow  # 100-180 s on a laptop
def test_stress_writers_and_cli(tmp_path: Path) -> None:
    run_stress(tmp_path, int(os.environ.get("BRAIN_STRESS_FAST_STEPS", FAST_STEPS)))


@pytest.mark.slow  # 20-30 s on a laptop
def test_stress_one_process_at_a_time(tmp_path: Path) -> None:
    """The same mix with never two processes alive at once: every writer starts from a fresh
    open, so what this finds is about kills and recovery, not about fencing."""
    run_stress(tmp_path, int(os.environ.get("BRAIN_STRESS_FAST_STEPS", FAST_STEPS)), True)


@pytest.mark.slow
@pytest.mark.skipif(
    "BRAIN_STRESS_STEPS" not in os.environ, reason="long variant: set BRAIN_STRESS_STEPS=N"
)
def test_stress_writers_and_cli_long(tmp_path: Path) -> None:
    run_stress(tmp_path, SLOW_STEPS)
