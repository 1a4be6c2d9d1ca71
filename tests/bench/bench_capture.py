"""The capture daemon (issue 14 targets), a real `brain capture-daemon` process per repetition.

- save -> on the chain: a file written in a watched folder, until the store's HEAD names a new
  row (HEAD is written when the row is durable and applied), one save at a time; p50 and p95.
  Target: p95 ≤ 1 s.
- 1,000 files dropped at once: seconds until all are on the chain (the folder's rate limit,
  100 a second after a burst of 100, sets most of it), and how many paths were captured more
  or less than once (target: 0).
- idle CPU: the daemon's user+system CPU time over an idle spell, in % of one core (target
  ≤ 1 %).

`python -m tests.bench capture [--quick] [--reps N]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from core.store import Store
from tests.bench.common import REPO, Bench, Ctx, Metric, bench_dir, now, pct, scratch

DROP = 1000
TIMEOUT = 180.0


def _env() -> dict[str, str]:
    d = bench_dir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "BRAIN_ALLOW_TEMP_STORE": "1"}
    env["BRAIN_ACTOR"] = "agent:bench@localhost"
    env["XDG_STATE_HOME"] = str(d / "xdg-state")
    env["XDG_CONFIG_HOME"] = str(d / "xdg-config")
    for k in ("BRAIN_PASSPHRASE", "BRAIN_DEBUG", "CYBEROS_BRAIN_HOME"):
        env.pop(k, None)
    return env


def _brain(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "brain_tui.cli.main", "--store", str(root), *args]


def _head(root: Path) -> int:
    try:
        return int.from_bytes((root / "HEAD").read_bytes()[:8], "little")
    except (OSError, ValueError):
        return 0


def _wait_head(root: Path, above: int, timeout: float = TIMEOUT) -> float:
    deadline = now() + timeout
    while _head(root) <= above:
        if now() > deadline:
            raise TimeoutError(f"HEAD stayed at {above}")
        time.sleep(0.002)
    return now()


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _puts(root: Path) -> list:
    with Store.open(root, allow_temp=True, read_only=True) as s:
        return [r for r in s.tail(1, 100_000) if r.op == "put"]


def run(ctx: Ctx) -> dict[str, float]:
    saves = ctx.n(30, 10)
    idle_s = ctx.n(20.0, 8.0)
    with scratch("capture") as d:
        root, live, drop = d / "store", d / "live", d / "drop"
        live.mkdir(parents=True)
        drop.mkdir()
        env = _env()
        subprocess.run(_brain(root, "init"), env=env, check=True, capture_output=True)
        for folder in (live, drop):
            subprocess.run(
                _brain(root, "watch", str(folder)), env=env, check=True, capture_output=True
            )
        p = subprocess.Popen(
            _brain(root, "capture-daemon", "--quiet"), env=env, stderr=subprocess.DEVNULL
        )
        try:
            deadline = now() + 60
            while not (root / "local" / "capture" / "daemon.json").exists():
                if now() > deadline or p.poll() is not None:
                    raise RuntimeError("the capture daemon did not start")
                time.sleep(0.05)
            time.sleep(1.0)  # the notifier is watching
            lat = []
            for i in range(saves):
                head = _head(root)
                t0 = now()
                (live / f"note-{i % 5}.md").write_text(f"note {i % 5}, version {i}\n")
                lat.append(_wait_head(root, head) - t0)
                time.sleep(0.05)
            lat.sort()
            # Idle: everything captured, nothing changing.
            time.sleep(2.0)
            c0, t0 = _cpu_s(p.pid), now()
            time.sleep(idle_s)
            idle = (_cpu_s(p.pid) - c0) / (now() - t0) * 100
            # 1,000 files at once.
            base = len(_puts(root))
            t0 = now()
            for i in range(DROP):
                (drop / f"f{i:04}.txt").write_text(f"dropped file {i}\n")
            deadline = t0 + TIMEOUT
            while _head(root) < base + DROP:
                if now() > deadline:
                    break
                time.sleep(0.01)
            took = now() - t0
            time.sleep(2.0)  # anything captured twice would show up now
            rows = _puts(root)[base:]
            counts = Counter(r.path for r in rows)
            wrong = abs(DROP - len(counts)) + sum(n - 1 for n in counts.values())
        finally:
            p.terminate()
            p.wait(timeout=60)
    return {
        "p50": lat[len(lat) // 2] * 1000,
        "p95": pct(lat, 95) * 1000,
        "drop_s": took,
        "drop_wrong": float(wrong),
        "idle_cpu": idle,
    }


BENCHES = [
    Bench(
        "capture",
        run,
        [
            Metric("p50", "capture: save -> on the chain, p50", "ms"),
            Metric(
                "p95",
                "capture: save -> on the chain, p95",
                "ms",
                None,
                "≤ 1,000 ms",
                lambda m, _r: m <= 1000,
            ),
            Metric("drop_s", "capture: 1,000 files dropped at once, all on the chain", "s"),
            Metric(
                "drop_wrong",
                "capture: of 1,000 dropped, missed or captured twice",
                "files",
                None,
                "0",
                lambda m, _r: m == 0,
            ),
            Metric(
                "idle_cpu",
                "capture daemon idle CPU",
                "% core",
                None,
                "≤ 1 %",
                lambda m, _r: m <= 1.0,
            ),
        ],
    )
]
