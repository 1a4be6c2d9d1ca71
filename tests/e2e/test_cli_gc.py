"""The console script runs with a raised collection threshold (a command's start-up is imports
that free nothing); the workstation puts the default back once it starts."""

from __future__ import annotations

import gc
import os
from types import SimpleNamespace

import pytest

import brain_tui.cli
from brain_tui.cli import cmd_tui
from brain_tui.cli import main as cli_main


@pytest.fixture(autouse=True)
def _restore_gc(monkeypatch):
    before = gc.get_threshold()
    monkeypatch.setattr(brain_tui.cli, "_lean", False)
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_the_console_script_runs_its_command_with_the_start_up_threshold(monkeypatch) -> None:
    seen = []

    def fake_main(argv):
        seen.append(gc.get_threshold())
        return 0

    def fake_exit(code):
        raise SystemExit(code)

    monkeypatch.setattr(cli_main, "main", fake_main)
    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr("sys.argv", ["brain", "view", "memories/facts/a.md"])
    with pytest.raises(SystemExit):
        cli_main.entry()
    assert seen[0][0] == brain_tui.cli.START_GC_THRESHOLD
    assert seen[0][1:] == brain_tui.cli._GC_DEFAULT[1:]


def test_settle_puts_the_default_back_and_freezes_what_start_up_made() -> None:
    brain_tui.cli.settle_gc()  # lean_gc never ran: nothing to do
    assert gc.get_freeze_count() == 0
    brain_tui.cli.lean_gc()
    assert gc.get_threshold()[0] == brain_tui.cli.START_GC_THRESHOLD
    brain_tui.cli.settle_gc()
    assert gc.get_threshold() == brain_tui.cli._GC_DEFAULT
    assert gc.get_freeze_count() > 0


def test_the_workstation_settles_before_it_runs(monkeypatch, tmp_path) -> None:
    thresholds = []

    class FakeApp:
        def __init__(self, *a, **kw) -> None:
            self.follow = SimpleNamespace(stop_watcher=lambda: None)
            self.background = SimpleNamespace(stop=lambda: None)
            self.owns_store, self.store, self.return_code = False, None, 0

        def run(self) -> int:
            thresholds.append(gc.get_threshold())
            return 0

    monkeypatch.setattr("brain_tui.app.BrainApp", FakeApp)
    brain_tui.cli.lean_gc()
    assert cmd_tui.launch(tmp_path, allow_temp=True, actor="human:t@h") == 0
    assert thresholds == [brain_tui.cli._GC_DEFAULT]


def test_a_command_works_with_the_default_once_its_store_is_open(tmp_path) -> None:
    """Start-up ends when the store is open: an export or a long `brain mcp` session collects
    as usual from there on."""
    from argparse import Namespace

    from brain_tui.cli import common
    from core.store import Store

    Store.init(tmp_path / "s", allow_temp=True).close()
    brain_tui.cli.lean_gc()
    args = Namespace(store=str(tmp_path / "s"), allow_temp_store=True)
    with common.open_store(args):
        assert gc.get_threshold() == brain_tui.cli._GC_DEFAULT


def test_the_mcp_server_settles_once_its_store_is_open(monkeypatch, tmp_path) -> None:
    from argparse import Namespace

    import core.mcp.server as server
    from brain_tui.cli import cmd_mcp
    from core.store import Store

    Store.init(tmp_path / "s", allow_temp=True).close()
    seen = []

    class FakeServer:
        def __init__(self, store, **kw) -> None:
            self.store = store

        async def run_stdio(self) -> None:
            seen.append(gc.get_threshold())

        def close(self, why: str) -> None:
            self.store.close()

    monkeypatch.setattr(server, "BrainServer", FakeServer)
    brain_tui.cli.lean_gc()
    args = Namespace(store=str(tmp_path / "s"), allow_temp_store=True, actor=None, http=None)
    cmd_mcp.run(args)
    assert seen == [brain_tui.cli._GC_DEFAULT]
