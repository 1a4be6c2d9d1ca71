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


BENCHES = [
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
