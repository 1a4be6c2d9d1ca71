"""Processes for the multi-process stress test (tests/core/test_stress_multiprocess.py).

A zygote imports the engine and the CLI once, then forks real processes on request, so the test
can afford hundreds of them (and SIGKILL them) without paying the interpreter start-up each time:

    WRITER <id> <root> <seed> <ackfile> <threads>   a long-lived writer (as the TUI or an MCP
                                                    server): one Store held open for its whole
                                                    life, producer threads doing random writes,
                                                    its door open to CLI puts (core/door.py)
    CLI <id> <dir> <argv as JSON>                    one `brain ...` call: main(argv) with stdin
                                                    from <dir>/in, stdout/stderr to <dir>/out|err

The zygote prints `PID <id> <pid>` when it forked and `EXIT <pid> <status>` when a child died;
writers print `READY <id> <pid>` once their store is open, or `FAIL <id> <why>`.

A writer appends one line per *acknowledged* write (after the call returned) to its ack file,
one O_APPEND write(2) each, so a SIGKILL can cut at most the last line (which the checker drops):

    ACK <op> <seq> <path> <commit or -> <from or -> <sha256 of body or ->
    CKPT <size> <root hex>

SIGTERM asks a writer to stop its producers and close its store (as quitting the TUI does).
Imports only `core` and `brain_tui.cli` (never textual).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import select
import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.errors import BrainError, NotFound, PreconditionFailed
from core.store import Store

POOL = 16
# Failures that are the ordinary outcome of racing on a small pool of paths.
EXPECTED = (
    "already exists",
    "a tombstoned memory is there",
    "already tombstoned",
    "already purged",
    "same path",
    "no such memory",
    "nothing to tombstone",
    "nothing to checkpoint yet",
    # PROTOCOL: a contender waits 5 s, then gets LeaseHeld naming the holder (an export or a
    # consolidation of a 50k-row store can hold the lock that long on a loaded machine).
    "is being written by",
)
_out = threading.Lock()


def pool_path(i: int) -> str:
    return f"memories/facts/stress/p{i:02d}.md"


def emit(line: str) -> None:
    with _out:
        os.write(1, (line + "\n").encode())  # one write(2) per line: atomic on a pipe


def body_for(tag: str, n: int, rng: random.Random) -> bytes:
    return f"{tag} write {n} {rng.getrandbits(64):016x}\n".encode() * rng.randint(1, 4)


class AckLog:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.lock = threading.Lock()

    def write(self, line: str) -> None:
        with self.lock:
            os.write(self.fd, (line + "\n").encode())

    def result(self, op: str, res, body: bytes | None = None, src: str | None = None) -> None:
        if res.row is None:
            return  # an idempotent put: no row
        digest = hashlib.sha256(body).hexdigest() if body is not None else "-"
        self.write(f"ACK {op} {res.seq} {res.row.path} {res.commit or '-'} {src or '-'} {digest}")


def producer(
    store: Store,
    acks: AckLog,
    seed: int,
    t: int,
    stop: threading.Event,
    paused: threading.Event,
) -> None:
    rng = random.Random(seed * 1000 + t)
    actor = f"agent:stress-{seed}-{t}@test"
    n = 0
    while not stop.is_set():
        if paused.is_set():  # the driver's quiet step: this writer is idle, store open
            stop.wait(0.01)
            continue
        n += 1
        path = pool_path(rng.randrange(POOL))
        r = rng.random()
        try:
            if r < 0.70:
                body = body_for(f"w{seed}.{t}", n, rng)
                acks.result("put", store.put(path, body, actor=actor), body)
            elif r < 0.76:
                body = body_for(f"w{seed}.{t}if", n, rng)
                try:
                    cur = store.view(path).sidecar.commit
                except NotFound:
                    cur = ""
                try:
                    acks.result("put", store.put(path, body, actor=actor, expect=cur), body)
                except PreconditionFailed:
                    pass  # another process wrote the path in between: a rejected row
            elif r < 0.82:
                dst = pool_path(rng.randrange(POOL))
                acks.result("move", store.move(path, dst, actor=actor), src=path)
            elif r < 0.87:
                acks.result("delete", store.delete(path, actor=actor))
            elif r < 0.90:
                paths = rng.sample(range(POOL), 3)
                bodies = [body_for(f"w{seed}.{t}b", n, rng) for _ in paths]
                intents = [
                    Store.put_intent(pool_path(i), b) for i, b in zip(paths, bodies, strict=True)
                ]
                for res, b in zip(store.batch(intents, actor=actor), bodies, strict=True):
                    acks.result("put", res, b)
            elif r < 0.93:
                note = store.checkpoint().split("\n")
                acks.write(f"CKPT {note[1]} {base64.b64decode(note[2]).hex()}")
            else:
                # Idle long enough for the commit loop to release the lock (200 ms): the next
                # write re-acquires it after whatever other processes wrote meanwhile.
                stop.wait(rng.uniform(0.22, 0.4))
                continue
        except NotFound:
            pass
        except BrainError as e:
            if not any(s in str(e) for s in EXPECTED):
                emit(f"FAIL {seed} {type(e).__name__}: {e}")
                os._exit(3)
        except BaseException as e:  # noqa: BLE001 - the test must see it
            emit(f"FAIL {seed} {type(e).__name__}: {e}")
            os._exit(3)
        if rng.random() < 0.5:
            stop.wait(rng.random() * 0.02)


def run_writer(wid: str, root: str, seed: int, ackfile: str, threads: int) -> None:
    stop = threading.Event()
    paused = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: paused.set())
    signal.signal(signal.SIGUSR2, lambda *_: paused.clear())
    try:
        # As the TUI, `brain mcp` and the capture daemon open theirs: a service store (timed
        # checkpoints, the commit loop sleeping towards the next one) with a door.
        store = Store.open(root, allow_temp=True, program=f"stress-writer-{wid}", service=True)
        store.open_door()  # CLI puts may come through it
        st = store.state()
        if st.state != "READY":
            emit(f"FAIL {wid} store is {st.state}: {st.problem}")
            os._exit(3)
    except BaseException as e:  # noqa: BLE001
        emit(f"FAIL {wid} open: {type(e).__name__}: {e}")
        os._exit(3)
    acks = AckLog(ackfile)
    ts = [
        threading.Thread(target=producer, args=(store, acks, seed, t, stop, paused), daemon=True)
        for t in range(threads)
    ]
    for t in ts:
        t.start()
    emit(f"READY {wid} {os.getpid()}")
    while not stop.is_set():
        stop.wait(0.05)
    for t in ts:
        t.join()
    store.close()
    os._exit(0)


def run_cli(d: str, spec: list[str] | dict) -> None:
    """spec: the argv, or {"argv": [...], "env": {...}} to set variables for this call."""
    from brain_tui.cli.main import main

    if isinstance(spec, dict):
        os.environ.update(spec["env"])
        spec = spec["argv"]
    argv = spec

    inp = os.path.join(d, "in")
    fd = os.open(inp if os.path.exists(inp) else os.devnull, os.O_RDONLY)
    os.dup2(fd, 0)
    for n, name in ((1, "out"), (2, "err")):
        fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, n)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    try:
        rc = main(argv)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        rc = 70
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc or 0)


def zygote() -> None:
    # Pay every import once, here (the engine and the CLI import some modules lazily).
    import sqlite_utils  # noqa: F401

    import brain_tui.cli.main as cli_main

    for name in ("put", "move", "delete", "checkpoint", "export", "consolidate", "state"):
        cli_main.load(name)
    stdin = sys.stdin.buffer.raw  # type: ignore[attr-defined]
    buf = b""
    while True:
        while True:  # report every child that died
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            emit(f"EXIT {pid} {status}")
        ready, _, _ = select.select([stdin], [], [], 0.005)
        if not ready:
            continue
        chunk = os.read(stdin.fileno(), 65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            cmd = line.decode().split(" ", 3)
            if not cmd or not cmd[0]:
                continue
            pid = os.fork()
            if pid == 0:
                try:
                    if cmd[0] == "WRITER":
                        seed, ackfile, threads = cmd[3].split()
                        run_writer(cmd[1], cmd[2], int(seed), ackfile, int(threads))
                    elif cmd[0] == "CLI":
                        run_cli(cmd[2], json.loads(cmd[3]))
                finally:
                    os._exit(4)
            emit(f"PID {cmd[1]} {pid}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        zygote()
    else:
        run_writer(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
