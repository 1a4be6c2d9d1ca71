"""Time the demo build alone (issue 12, item 7): wall and CPU seconds, as `brain demo` builds it.

    python tests/bench/demo_build.py [--runs N] [--size full|small] [--dir DIR]

Each run builds the demo, vectors included, in a fresh child process (as `brain demo`'s child
does) at DIR (default: tmp/demo-build in the repository; a tmpfs such as /dev/shm shows the
build without the disk) and prints its wall time, the child's user and system CPU seconds and
the load average, then the medians. CPU seconds vary less with the machine's load than wall
time does; on a disk other processes keep busy, system time grows with their traffic (every
memory version is two new files). Not a test: compare runs from the same minutes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

_CHILD = """
import sys
from pathlib import Path
from brain_tui.demo import build_demo
build_demo(Path(sys.argv[1]), size=sys.argv[2], vectors=True, allow_temp=True)
"""


def one(root: Path, size: str) -> tuple[float, float, float]:
    shutil.rmtree(root, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    # Run from root's folder: `-c` puts the working directory first on sys.path, so a run
    # from a checkout would build with that checkout's code, whatever PYTHONPATH says.
    subprocess.run([sys.executable, "-c", _CHILD, str(root), size], check=True, cwd=root.parent)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main() -> int:
    repo = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", choices=("full", "small"), default="full")
    ap.add_argument("--dir", type=Path, default=repo / "tmp" / "demo-build")
    args = ap.parse_args()
    root = args.dir / "demo"
    root.parent.mkdir(parents=True, exist_ok=True)
    os.environ["XDG_STATE_HOME"] = str(args.dir / "state")  # witnesses stay out of yours
    rows = []
    for i in range(args.runs):
        wall, user, sys_ = one(root, args.size)
        rows.append((wall, user, sys_))
        print(
            f"run {i + 1}: wall {wall:.1f} s · cpu {user + sys_:.1f} s (user {user:.1f},"
            f" sys {sys_:.1f}) · load {os.getloadavg()[0]:.2f}"
        )
    shutil.rmtree(root, ignore_errors=True)
    med = [statistics.median(r[i] for r in rows) for i in range(3)]
    print(
        f"median: wall {med[0]:.1f} s · cpu {med[1] + med[2]:.1f} s (user {med[1]:.1f},"
        f" sys {med[2]:.1f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
