"""Time `./dev demo` as a newcomer sees it, in tmux (issue 12, "first ten minutes").

    python tests/bench/demo_open.py [--cold] [--home DIR] [--repo DIR]

Runs `./dev demo` in a private tmux server at 120x40 with its own XDG folders under --home
(default: tmp/demo-open in the repository, outside /tmp so the demo is not refused as a
temporary store), polls the pane every 0.1 s and prints seconds from the start to: the first
output, the workstation drawn (header and pane tabs), "semantic ready" in the status line and,
if an embedding pass shows ("embedding N/M"), its end. Then the RSS of the `brain` process
after it settled (VmRSS, VmHWM from /proc). --cold deletes the demo store first. Not a test:
figures depend on the machine and its load; run it a few times.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path

SOCKET = "brain-demo-open"
EMBEDDING = re.compile(r"embedding [0-9,]+/")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True).stdout


def rss(pane_pid: str) -> dict[str, str]:
    """VmRSS and VmHWM of the pane's process and its children (`./dev` execs into brain)."""
    out: dict[str, str] = {}
    ps = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", pane_pid], capture_output=True, text=True
    ).stdout
    for line in [f"{pane_pid} self", *ps.splitlines()]:
        pid, _, args = line.strip().partition(" ")
        if "python" not in args and args != "self":
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = dict(x.split(":", 1) for x in status.splitlines() if ":" in x)
        if "python" in fields.get("Name", "") or "python" in args:
            out = {k: fields[k].strip() for k in ("VmRSS", "VmHWM") if k in fields}
    return out


def main() -> int:
    repo_default = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cold", action="store_true", help="delete the demo store first")
    ap.add_argument("--repo", type=Path, default=repo_default)
    ap.add_argument("--home", type=Path, default=repo_default / "tmp" / "demo-open")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    xdg = {k: str(args.home / k.lower()) for k in ("DATA", "STATE", "CONFIG", "CACHE")}
    if args.cold:
        shutil.rmtree(Path(xdg["DATA"]) / "brain-tui", ignore_errors=True)
    env = " ".join(f"XDG_{k}_HOME={v}" for k, v in xdg.items())
    tmux("kill-server")
    t0 = time.monotonic()
    tmux("new-session", "-d", "-s", "m", "-x", "120", "-y", "40", "-c", str(args.repo),
         f"env -u PYTHONPATH {env} ./dev demo; sleep 600")  # fmt: skip
    first = drawn = ready = embed_start = done = None
    while time.monotonic() - t0 < args.timeout:
        screen = tmux("capture-pane", "-p", "-t", "m")
        t = time.monotonic() - t0
        if first is None and screen.strip():
            first = t
        if drawn is None and "1 Audit" in screen and ("READY" in screen or "FROZEN" in screen):
            drawn = t
        if ready is None and "semantic ready" in screen:
            ready = t
        if embed_start is None and EMBEDDING.search(screen):
            embed_start = t
        if ready is not None and embed_start is None and t - ready > 3:
            done = ready
            break
        if embed_start is not None and not EMBEDDING.search(screen):
            done = t
            break
        time.sleep(0.1)
    time.sleep(5)
    memory = rss(tmux("display", "-p", "-t", "m", "#{pane_pid}").strip())
    tmux("send-keys", "-t", "m", "q")
    time.sleep(1)
    tmux("kill-server")

    def fmt(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f} s"

    print(f"first output {fmt(first)} · workstation drawn {fmt(drawn)} · semantic ready "
          f"{fmt(ready)} · every memory embedded {fmt(done)} · {memory}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
