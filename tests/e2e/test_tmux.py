"""The workstation in a real terminal: tmux runs `brain`, we press through every pane and
read the screen back. No traceback may ever appear, and each pane shows its title."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux_term import ROOT, Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

# pane key -> the title its pane bar (line 3) starts with
PANES = {
    "1": "Audit tail",
    "2": "Memories",
    "3": "Doctor",
    "4": "PII review",
    "5": "Proposals",
    "6": "Sync",
}


def _env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "TERM": "xterm-256color",
        "COLORTERM": "",
        "TEXTUAL_ANIMATIONS": "none",
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
    }


def _press_through_panes(tmux: Tmux) -> None:
    for key, title in PANES.items():
        tmux.press(key)
        tmux.wait_for(title, line=2)  # line 3 is the pane bar: the pane's own title
    tmux.press("1", "?")
    tmux.wait_for("Keys  (esc closes)")
    tmux.press("Escape")
    # "Audit tail" is in the help text too: wait for the help to close, or a loaded machine
    # reads the Escape and the q together as alt+q and the app never quits.
    tmux.wait_gone("Keys  (esc closes)")
    tmux.wait_for("Audit tail", line=2)
    tmux.press("q")
    screen = tmux.wait_for("BRAIN-EXIT=")
    assert "BRAIN-EXIT=0" in screen, screen


def test_brain_on_a_store_presses_through_every_pane(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = _env(home)
    build = (
        "import sys; from pathlib import Path; from tests.tui.store_fixture import build_small\n"
        "build_small(Path(sys.argv[1])).close()\n"
    )
    subprocess.run(
        [sys.executable, "-c", build, str(home / "store")],
        check=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )
    cmd = f"{shlex.quote(sys.executable)} -m brain_tui.cli.main --store {home / 'store'} --allow-temp-store"
    tmux = Tmux(cmd, env)
    try:
        # The pane bar is drawn before the store has opened; the header's verdict comes after.
        screen = tmux.wait_for("READY", timeout=60)
        assert "~/store" in screen and "Audit tail" in screen
        tmux.press("k", "Enter")
        tmux.wait_for("equals the chain of row")
        tmux.press("p")
        tmux.wait_for("✓ valid")
        tmux.press("Escape")
        tmux.wait_for("Audit tail")
        _press_through_panes(tmux)
    finally:
        tmux.kill()


@pytest.mark.skipif(
    not (ROOT / "brain_tui" / "cli" / "cmd_demo.py").exists(), reason="no `brain demo` yet"
)
def test_brain_demo_presses_through_every_pane(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    cmd = (
        f"{shlex.quote(sys.executable)} -m brain_tui.cli.main demo --size small --allow-temp-store"
    )
    tmux = Tmux(cmd, _env(home))
    try:
        tmux.wait_for("Audit tail", timeout=120)
        _press_through_panes(tmux)
    finally:
        tmux.kill()


def test_brain_with_no_store_offers_to_create_one(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    cmd = f"{shlex.quote(sys.executable)} -m brain_tui.cli.main --store {home / 'fresh'} --allow-temp-store"
    tmux = Tmux(cmd, _env(home))
    try:
        tmux.wait_for("Create a store here")
        tmux.press("c")
        tmux.wait_for("Audit tail")
        assert (home / "fresh" / "manifest.json").exists()
        tmux.press("q")
        assert "BRAIN-EXIT=0" in tmux.wait_for("BRAIN-EXIT=")
    finally:
        tmux.kill()
