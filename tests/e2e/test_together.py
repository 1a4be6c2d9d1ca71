"""What users run together on one store, randomized, with kills.

The workstation (`brain --store S` in tmux; where tmux is missing, the capture daemon takes its
place as the capture loop's host), `brain mcp` over stdio, one-shot `brain put`s (through the
long-lived host's door, and a third with BRAIN_DOOR=0), checkpoints, and files dropped into a
watched folder. Run once with each host. At random steps the host is SIGKILLed and started again;
some MCP calls have their server SIGKILLed while the call is in flight.

At the end, with everything stopped: every acknowledged put (CLI exit 0, MCP result without
isError) is in the store with its body, every dropped file was captured exactly once, no
traceback reached the screen, and `brain doctor` finds the store READY.

BRAIN_TOGETHER_SEED=<seed> repeats the same choices (the interleaving still depends on timing);
BRAIN_TOGETHER_STEPS=<n> runs longer (40 by default).
"""

from __future__ import annotations

import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.store import Store
from tests.e2e.tmux_term import ROOT, Tmux

STEPS = int(os.environ.get("BRAIN_TOGETHER_STEPS") or 40)
WAIT = 90.0


def _env(tmp: Path) -> dict[str, str]:
    home, run = tmp / "home", tmp / "run"
    for d in (home, run):
        d.mkdir(exist_ok=True)
    run.chmod(0o700)  # the doors' folder must be private
    env = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_DOOR")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_RUNTIME_DIR=str(run),
        BRAIN_ALLOW_TEMP_STORE="1",
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        TERM="xterm-256color",
        TEXTUAL_ANIMATIONS="none",
    )
    return env


class Together:
    def __init__(self, tmp: Path, seed: int, host: str) -> None:
        self.env = _env(tmp)
        self.rng = random.Random(seed)
        self.store = tmp / "store"
        self.watched = tmp / "watched"
        self.watched.mkdir()
        self.acked: dict[str, str] = {}
        self.dropped: list[str] = []
        self.tui: Tmux | None = None
        self.daemon: subprocess.Popen | None = None
        self.mcp: subprocess.Popen | None = None
        self.mcp_id = 0
        self.kills = {"host": 0, "mcp": 0}
        self.use_tmux = host == "workstation"

    def brain(self, *args: str, body: str | None = None, door: bool = True):
        env = self.env if door else {**self.env, "BRAIN_DOOR": "0"}
        return subprocess.run(
            [*self._cli(), *args],
            input=body.encode() if body is not None else b"",
            capture_output=True,
            env=env,
            timeout=120,
        )

    # -- the capture loop's host: the workstation, or the daemon without tmux -------------

    def start_host(self) -> None:
        if self.use_tmux:
            self.tui = Tmux(shlex.join(self._cli()), self.env, 100, 30)
            self.tui.wait_for("Audit tail", timeout=WAIT)
        else:
            self.daemon = subprocess.Popen(
                [*self._cli(), "capture-daemon", "--debounce-ms", "100"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=self.env,
            )

    def kill_host(self) -> None:
        self.kills["host"] += 1
        if self.tui is not None:
            self.check_screen()
            pid = self.tui.app_pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            self.tui.wait_for("BRAIN-EXIT=")
            self.tui.kill()
            self.tui = None
        elif self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait(timeout=60)
            self.daemon = None

    def stop_host(self) -> None:
        if self.tui is not None:
            self.check_screen()
            self.tui.press("q")
            assert "BRAIN-EXIT=0" in self.tui.wait_for("BRAIN-EXIT=", timeout=WAIT)
            self.tui.kill()
            self.tui = None
        elif self.daemon is not None:
            self.daemon.terminate()
            assert self.daemon.wait(timeout=60) == 0
            self.daemon = None

    def check_screen(self) -> None:
        if self.tui is not None:
            screen = self.tui.screen()
            assert "Traceback" not in screen, screen

    # -- brain mcp over stdio, line by line ----------------------------------------------

    def _cli(self) -> list[str]:
        return [sys.executable, "-m", "brain_tui.cli.main", "--store", str(self.store)]

    def _send(self, msg: dict) -> None:
        assert self.mcp is not None and self.mcp.stdin is not None
        self.mcp.stdin.write((json.dumps(msg) + "\n").encode())
        self.mcp.stdin.flush()

    def _reply(self) -> bytes:
        """The server's next line; one that never comes within WAIT fails the test (the
        server is killed so the read ends) instead of hanging the run."""
        assert self.mcp is not None and self.mcp.stdout is not None
        hung = threading.Event()

        def give_up(proc: subprocess.Popen = self.mcp) -> None:
            hung.set()
            proc.kill()

        watchdog = threading.Timer(WAIT, give_up)
        watchdog.start()
        try:
            line = self.mcp.stdout.readline()
        finally:
            watchdog.cancel()
        assert not hung.is_set(), f"brain mcp gave no reply within {WAIT:.0f} s"
        return line

    def start_mcp(self) -> None:
        self.mcp = subprocess.Popen(
            [*self._cli(), "mcp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        hello = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "together", "version": "1"},
        }
        self._send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        assert b'"result"' in self._reply()
        self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def mcp_put(self, path: str, body: str, kill_after: float | None) -> bool:
        """True when the server acknowledged the put; a server killed mid-call is started
        again for the next one."""
        assert self.mcp is not None and self.mcp.stdout is not None
        self.mcp_id += 1
        args = {"path": path, "body": body}
        call = {"name": "brain_put", "arguments": args}
        timer = None
        if kill_after is not None:
            self.kills["mcp"] += 1
            timer = threading.Timer(kill_after, self.mcp.kill)
            timer.start()
        try:
            self._send(
                {"jsonrpc": "2.0", "id": self.mcp_id, "method": "tools/call", "params": call}
            )
            line = self._reply()
        except BrokenPipeError:
            line = b""
        if timer is not None:
            timer.join()
        if not line:  # killed: whatever it had not answered is not acknowledged
            self.mcp.wait(timeout=60)
            self.start_mcp()
            return False
        reply = json.loads(line)
        assert reply["id"] == self.mcp_id, reply
        ok = reply["result"]["isError"] is False
        if timer is not None and self.mcp.poll() is None:
            self.mcp.wait(timeout=60)  # answered just before the kill landed
        if self.mcp.poll() is not None:
            self.start_mcp()
        return ok

    def stop_mcp(self) -> None:
        assert self.mcp is not None and self.mcp.stdin is not None
        self.mcp.stdin.close()  # end of input: the server closes its session and exits
        assert self.mcp.wait(timeout=60) == 0
        self.mcp = None

    # -- the run ---------------------------------------------------------------------------

    def run(self, steps: int) -> None:
        rng = self.rng
        for i in range(steps):
            path, body = f"memories/facts/cli/c{i}.md", f"cli {i} {rng.random()}\n"
            p = self.brain("put", path, body=body, door=i % 3 > 0)
            if p.returncode == 0:
                self.acked[path] = body
            else:
                assert b"Traceback" not in p.stderr, p.stderr.decode()
            path, body = f"memories/facts/mcp/m{i}.md", f"mcp {i} {rng.random()}\n"
            kill = rng.uniform(0.0, 0.08) if rng.random() < 0.15 else None
            if self.mcp_put(path, body, kill):
                self.acked[path] = body
            marker = f"dropped {i} {rng.random()}"
            (self.watched / f"f{i}.md").write_text(f"# note {i}\n\n{marker}\n")
            self.dropped.append(marker)
            if i % 15 == 14:
                p = self.brain("checkpoint")
                assert p.returncode == 0, p.stderr.decode()
            if rng.random() < 0.1 or i == steps // 2:
                time.sleep(rng.uniform(0.0, 0.3))  # mid-capture, mid-checkpoint, idle
                self.kill_host()
                self.start_host()
            self.check_screen()

    def captured(self) -> dict[str, int]:
        """How many captured memories hold each dropped marker (the files are the truth)."""
        counts = dict.fromkeys(self.dropped, 0)
        folder = self.store / "memories" / "facts" / "captured"
        for f in folder.rglob("*.md") if folder.exists() else []:
            text = f.read_text()
            for m in counts:
                if m in text:
                    counts[m] += 1
        return counts


@pytest.mark.slow
@pytest.mark.parametrize(
    "host",
    [
        pytest.param(
            "workstation",
            marks=pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
        ),
        "daemon",
    ],
)
def test_what_users_run_together_with_kills(tmp_path: Path, host: str) -> None:
    seed = int(os.environ.get("BRAIN_TOGETHER_SEED") or random.randrange(1 << 30))
    t = Together(tmp_path, seed, host)
    p = t.brain("init")
    assert p.returncode == 0, p.stderr.decode()
    p = t.brain("watch", str(t.watched))
    assert p.returncode == 0, p.stderr.decode()
    t.start_host()
    t.start_mcp()
    try:
        t.run(STEPS)
        deadline = time.monotonic() + WAIT
        while 0 in t.captured().values() and time.monotonic() < deadline:
            time.sleep(0.5)
        t.check_screen()
    finally:
        if t.mcp is not None:
            t.stop_mcp()
        t.stop_host()
    where = f"BRAIN_TOGETHER_SEED={seed}, {host}, kills {t.kills}"
    print(f"{where}: {len(t.acked)} puts acknowledged, {len(t.dropped)} files captured")
    counts = t.captured()
    assert all(n == 1 for n in counts.values()), (where, counts)
    assert len(t.acked) >= STEPS, (where, len(t.acked))  # most puts were acknowledged
    with Store.open(t.store, allow_temp=True, read_only=True) as s:
        for path, body in t.acked.items():
            assert s.view(path).body == body.encode(), (where, path)
    p = t.brain("doctor", "--json")
    assert p.returncode == 0, p.stderr.decode()
    report = json.loads(p.stdout)
    assert report["state"] == "READY", (where, report)
