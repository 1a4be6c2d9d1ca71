"""Hostile imports (issue 10 item 9): a 1 MB zip holding a 1 GiB body and a few-KB zip holding
a 2 GiB zstd segment must each be refused within 1 s and 100 MB of RSS.

Each import runs in a fresh child process (`measure`), so its peak RSS (`ru_maxrss`) is its
own; the child reports the peak before the import too (interpreter, engine and an open store),
and the wall time of the import alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.bench.bombs import body_bomb, segment_bomb
from tests.bench.common import REPO, Bench, Ctx, Metric, bench_dir, log

BODY = "memories/facts/victim.md"
BOMBS_VERSION = "1"

_CHILD = r"""
import json, resource, sys, time
from core.store import Store
from core.portable.foreign import ImportRefused
from core.portable.importer import import_store

def rss_mb():
    # ru_maxrss survives exec on Linux (a child of a big parent would report the parent's
    # peak); VmHWM is this process image's own peak. Report the first where it exists.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

store = Store.open(sys.argv[1], allow_temp=True)
before = rss_mb()
t0 = time.perf_counter()
try:
    import_store(store, __import__("pathlib").Path(sys.argv[2]), filter="all", actor="human:t@x")
    refused, why = False, ""
except ImportRefused as e:
    refused, why = True, str(e)
took = time.perf_counter() - t0
print(json.dumps({"s": took, "rss_mb": rss_mb(), "base_rss_mb": before, "refused": refused,
                  "why": why, "head": store.tip.seq}))
store.close()
"""


def measure(store_root: Path, src: Path, timeout: float = 120) -> dict:
    """Import `src` into the store at `store_root` in a child process; its figures."""
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, str(store_root), str(src)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    if p.returncode != 0:
        raise RuntimeError(f"import child failed (rc {p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def make_bombs(folder: Path) -> dict[str, Path]:
    """An origin store exported, the two bombs built from that export, and an empty target."""
    from core.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "origin.zip"
    out = {
        "target": folder / "target",
        "body": folder / "body-bomb.zip",
        "segment": folder / "segment-bomb.zip",
    }
    with Store.init(folder / "origin", allow_temp=True) as origin:
        origin.put(BODY, "the victim's fact\n", actor="human:t@x", sync_class="shareable")
        origin.export(export)
    Store.init(out["target"], allow_temp=True).close()
    body_bomb(export, out["body"], BODY)
    segment_bomb(export, out["segment"])
    return out


def setup(ctx: Ctx) -> None:
    import shutil

    folder = bench_dir() / "zipbomb"
    stamp = folder / "ok"
    if ctx.rebuild or not stamp.exists() or stamp.read_text() != BOMBS_VERSION:
        shutil.rmtree(folder, ignore_errors=True)
        log("building the zip bombs (cached) ...")
        make_bombs(folder)
        stamp.write_text(BOMBS_VERSION)
    ctx.shared["bombs"] = {
        "target": folder / "target",
        "body": folder / "body-bomb.zip",
        "segment": folder / "segment-bomb.zip",
    }
    for k in ("body", "segment"):
        log(f"zipbomb: {k} bomb is {ctx.shared['bombs'][k].stat().st_size:,} bytes")


def run(ctx: Ctx) -> dict[str, float]:
    b = ctx.shared["bombs"]
    res: dict[str, float] = {}
    for k in ("body", "segment"):
        m = measure(b["target"], b[k])
        if not m["refused"] or m["head"] != 0:
            raise RuntimeError(f"the {k} bomb was not refused cleanly: {m}")
        res[f"{k}_ms"] = m["s"] * 1000
        res[f"{k}_rss"] = m["rss_mb"]
        res["base_rss"] = m["base_rss_mb"]
    return res


def _under(limit: float):
    return lambda med, _r: med <= limit


BENCHES = [
    Bench(
        "zipbomb",
        run,
        [
            Metric(
                "body_ms",
                "import of a 1 MB zip holding a 1 GiB body: refused in",
                "ms",
                None,
                "≤ 1000 ms",
                _under(1000),
            ),
            Metric(
                "body_rss", "  its peak RSS (child process)", "MB", None, "≤ 100 MB", _under(100)
            ),
            Metric(
                "segment_ms",
                "import of a zip holding a 2 GiB zstd segment: refused in",
                "ms",
                None,
                "≤ 1000 ms",
                _under(1000),
            ),
            Metric(
                "segment_rss", "  its peak RSS (child process)", "MB", None, "≤ 100 MB", _under(100)
            ),
            Metric("base_rss", "  peak RSS before the import (engine + open store)", "MB"),
        ],
        setup=setup,
    ),
]
