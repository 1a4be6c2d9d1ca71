"""The bare append+fdatasync loop every figure is read against, and a naive durable put."""

from __future__ import annotations

import os

from tests.bench.common import Bench, Ctx, Metric, now, pct, scratch

RECORD = b"x" * 199 + b"\n"  # a 200-byte record


def baseline(ctx: Ctx) -> dict[str, float]:
    n = ctx.n(2000, 500)
    with scratch("baseline") as d:
        d.mkdir(parents=True)
        fd = os.open(d / "loop.dat", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for _ in range(20):  # allocate the first blocks outside the timing
                os.write(fd, RECORD)
                os.fdatasync(fd)
            lat = []
            t0 = now()
            for _ in range(n):
                a = now()
                os.write(fd, RECORD)
                os.fdatasync(fd)
                lat.append(now() - a)
            total = now() - t0
        finally:
            os.close(fd)
    lat.sort()
    return {"ops": n / total, "p50": pct(lat, 50) * 1e6}


def reference(ctx: Ctx) -> dict[str, float]:
    """What a put costs without group commit or a journal: temp file + fsync + rename for the
    body and the sidecar, a folder fsync and an appended, fdatasync'd log line."""
    n = ctx.n(1000, 300)
    body = b"# a memory\n\n" + b"lorem ipsum dolor " * 30
    with scratch("reference") as d:
        mem = d / "memories" / "facts"
        mem.mkdir(parents=True)
        log_fd = os.open(d / "audit.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        dir_fd = os.open(mem, os.O_RDONLY | os.O_DIRECTORY)
        try:
            t0 = now()
            for i in range(n):
                for name, data in ((f"m{i}.md", body), (f"m{i}.meta.json", b"{}" * 150)):
                    tmp = mem / f".{name}.tmp"
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.write(fd, data)
                    os.fsync(fd)
                    os.close(fd)
                    os.replace(tmp, mem / name)
                os.fsync(dir_fd)
                os.write(log_fd, RECORD)
                os.fdatasync(log_fd)
            total = now() - t0
        finally:
            os.close(log_fd)
            os.close(dir_fd)
    return {"ops": n / total}


def fs_create(ctx: Ctx) -> dict[str, float]:
    """Creating a small file by temp + rename, as the write path does for bodies and sidecars.
    Not a goal: shown because it varies more between machines than fdatasync does."""
    n = ctx.n(300, 100)
    lat = []
    with scratch("fs") as d:
        d.mkdir(parents=True)
        for i in range(n):
            a = now()
            tmp = d / f".f{i}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, RECORD * 3)
            os.close(fd)
            os.replace(tmp, d / f"f{i}.md")
            lat.append(now() - a)
    lat.sort()
    return {"p50": pct(lat, 50) * 1e6}


def floor(ctx: Ctx) -> dict[str, float]:
    """The file operations of one durable put, without the engine (no Python planning, no
    index): the body and sidecar created under temp names while the journal's ~1.3 KB record
    is appended and fdatasynced (on a second thread, as the writer stages them), both renamed,
    then a frame, MMR nodes and HEAD written. What one producer could reach on this disk if
    the engine cost nothing: the 1-producer goal (0.4x the bare loop) is out of reach where
    this is near it. Not a goal; a ceiling to read put1 against."""
    import queue
    import threading

    from core import fsio

    n = ctx.n(1000, 300)
    body, side, rec = b"b" * 600, b"s" * 450, b"r" * 1300
    with scratch("floor") as d:
        audit = d / "audit"
        audit.mkdir(parents=True)
        folders = [d / "memories" / "facts" / f"f{i}" for i in range(20)]
        for f in folders:
            f.mkdir(parents=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        jfd = os.open(audit / "journal.wal", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        fsio.RealIO().preallocate(jfd, 8 << 20)
        log_fd = os.open(audit / "current.binlog", flags, 0o644)
        mmr_fd = os.open(audit / "mmr.nodes", flags, 0o644)
        head_fd = os.open(d / "HEAD", os.O_WRONLY | os.O_CREAT, 0o644)

        todo: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        done: queue.SimpleQueue[bool] = queue.SimpleQueue()

        def stager() -> None:  # one long-lived thread, as the writer's staging helper
            while (base := todo.get()) is not None:
                for suffix, data in ((".md", body), (".meta.json", side)):
                    tmp = f"{base}{suffix}.tmp"
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                    os.write(fd, data)
                    os.close(fd)
                done.put(True)

        helper = threading.Thread(target=stager, daemon=True)
        helper.start()
        try:
            t0 = now()
            for i in range(n):
                base = f"{folders[i % 20]}/m{i}"
                todo.put(base)
                os.write(jfd, rec)
                os.fdatasync(jfd)
                done.get()
                for suffix in (".md", ".meta.json"):
                    os.replace(f"{base}{suffix}.tmp", f"{base}{suffix}")
                os.write(log_fd, RECORD)
                os.write(mmr_fd, b"n" * 64)
                os.pwrite(head_fd, i.to_bytes(8, "little"), 0)
            total = now() - t0
        finally:
            todo.put(None)
            helper.join()
            for fd in (jfd, log_fd, mmr_fd, head_fd):
                os.close(fd)
    return {"ops": n / total}


BENCHES = [
    Bench(
        "floor",
        floor,
        [Metric("ops", "floor: a put's file operations, no engine", "puts/s", base="ops")],
    ),
    Bench(
        "fs",
        fs_create,
        [Metric("p50", "fs: create 600 B file (temp + rename) p50", "µs", base="p50")],
    ),
    Bench(
        "reference",
        reference,
        [Metric("ops", "reference put (fsync per file + folder)", "puts/s", base="ops")],
    ),
]
