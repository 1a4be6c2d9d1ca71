"""A terminal for the workstation: tmux runs a command in a detached session; the tests read
the screen back and press keys. The pane is kept after the command exits, so its exit status
can be read (`BRAIN-EXIT=<code>`)."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Tmux:
    def __init__(
        self, command: str, env: dict[str, str], width: int = 120, height: int = 40
    ) -> None:
        self.name = f"brain-e2e-{uuid.uuid4().hex[:8]}"
        # A server of its own (tmux -L): a test that ends its last session stops the server
        # it talks to, and a session another test is creating on a shared one fails with it.
        self.tmux = ["tmux", "-L", self.name]
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # Keep the pane after the app exits, so its exit status can be read back.
        script = (
            f"cd {shlex.quote(str(ROOT))} && env {exports} {command}; echo BRAIN-EXIT=$?; sleep 30"
        )
        subprocess.run(
            [
                *self.tmux,
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                "sh",
                "-c",
                script,
            ],
            check=True,
        )

    def screen(self) -> str:
        out = subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        )
        return out.stdout

    def press(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.25)  # a lone Escape must not merge with the next key into alt+key

    def wait_for(self, text: str, timeout: float = 30.0, line: int | None = None) -> str:
        """Until text is on the screen (or starts the given line); never a traceback."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            assert "Traceback" not in screen, screen
            lines = screen.splitlines()
            if line is None and text in screen:
                return screen
            if line is not None and len(lines) > line and lines[line].strip().startswith(text):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 30.0) -> str:
        """Until text has left the screen."""
        deadline = time.monotonic() + timeout
        screen = self.screen()
        while text in screen and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = self.screen()
        assert text not in screen, f"{text!r} stayed on the screen:\n{screen}"
        return screen

    def kill(self) -> None:
        """End the session and its server (and the socket file tmux leaves behind)."""
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)
        folder = os.environ.get("TMUX_TMPDIR") or "/tmp"
        with contextlib.suppress(OSError):
            os.unlink(f"{folder}/tmux-{os.getuid()}/{self.name}")

    def app_pid(self) -> int | None:
        """The pid of the command the pane's shell runs (None once it has exited)."""
        out = subprocess.run(
            [*self.tmux, "list-panes", "-t", self.name, "-F", "#{pane_pid}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if not out:
            return None
        try:
            with open(f"/proc/{out[0]}/task/{out[0]}/children") as f:
                children = f.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None
