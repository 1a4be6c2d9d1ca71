"""The writer that tests/core/test_crash.py kills with SIGKILL at random instants.

It opens a store and runs three producer threads doing puts (new paths and overwrites) with
occasional moves and tombstones, printing one line per acknowledged write, flushed:

    ACK <op> <seq> <path> <commit or -> [<from>]

The threads share one small pool of paths, so overwrites are frequent (versions pile up) and
requests on one path often meet in one commit group. Moves and deletes then fail for the
ordinary reasons (absent source, taken target, already tombstoned): expected, not printed.

Run directly (`python crash_writer.py ROOT SEED`) or as a zygote (`python crash_writer.py
--zygote`): the zygote imports the engine once, then forks a fresh writer process for every
`RUN <root> <seed>` line on stdin and prints `EXIT <pid> <status>` once that process died. A
forked writer is a real process (killed by SIGKILL, its flock dropped by the kernel) that skips
the ~0.25 s interpreter and import start-up, which is what lets the test afford hundreds of
kills. It imports only `core` (never textual).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.errors import BrainError, NotFound
from core.store import Store

THREADS = 3
POOL = 12
EXPECTED = ("already exists", "already tombstoned", "same path", "a tombstoned memory is there")
_out = threading.Lock()


def pool_path(i: int) -> str:
    return f"memories/facts/crash/p{i}.md"


def emit(line: str) -> None:
    with _out:
        os.write(1, (line + "\n").encode())  # one write(2) per line: atomic on a pipe


def producer(store: Store, seed: int, t: int) -> None:
    rng = random.Random(seed * 1000 + t)
    actor = f"agent:crash-{t}@test"
    n = 0
    while True:
        n += 1
        path = pool_path(rng.randrange(POOL))
        r = rng.random()
        try:
            if r < 0.9:
                body = f"seed {seed} thread {t} write {n} {rng.getrandbits(64):016x}\n"
                res = store.put(path, body, actor=actor)
                emit(f"ACK put {res.seq} {path} {res.commit}")
            elif r < 0.95:
                dst = pool_path(rng.randrange(POOL))
                res = store.move(path, dst, actor=actor)
                emit(f"ACK move {res.seq} {dst} {res.commit or '-'} {path}")
            else:
                res = store.delete(path, actor=actor)
                emit(f"ACK delete {res.seq} {path} -")
        except NotFound:
            pass
        except BrainError as e:
            if not any(s in str(e) for s in EXPECTED):
                emit(f"FAIL {type(e).__name__}: {e}")
                os._exit(3)
        except BaseException as e:  # noqa: BLE001 - the test must see it
            emit(f"FAIL {type(e).__name__}: {e}")
            os._exit(3)
        if rng.random() < 0.3:
            time.sleep(rng.random() * 0.002)  # vary the grouping


def run(root: str, seed: int) -> None:
    try:
        store = Store.open(root, allow_temp=True, program="crash-writer")
        st = store.state()
        if st.state != "READY":
            emit(f"FAIL store is {st.state}: {st.problem}")
            os._exit(3)
    except BaseException as e:  # noqa: BLE001
        emit(f"FAIL open: {type(e).__name__}: {e}")
        os._exit(3)
    for t in range(THREADS):
        threading.Thread(target=producer, args=(store, seed, t), daemon=True).start()
    emit(f"READY {os.getpid()}")
    while True:
        time.sleep(3600)  # until SIGKILL


def zygote() -> None:
    # Pay every import once, here: the engine imports some modules lazily (sqlite-utils).
    import sqlite_utils  # noqa: F401

    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] != "RUN":
            emit(f"FAIL unknown command {line!r}")
            continue
        pid = os.fork()
        if pid == 0:
            try:
                run(cmd[1], int(cmd[2]))
            finally:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        emit(f"EXIT {pid} {status}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--zygote"]:
        zygote()
    else:
        run(sys.argv[1], int(sys.argv[2]))
