"""The UI reads through the engine: no SQL outside core, a typed shell, the import contract."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.tui.conftest import make_app, settle
from widgets.shell import Shell

ROOT = Path(__file__).resolve().parents[2]
UI = ("screens", "widgets", "brain_tui")


def _ui_sources():
    for pkg in UI:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def test_the_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([str(lint)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "the UI reads through the Store, never the index or its queries KEPT" in out.stdout


def test_no_sql_and_no_index_connection_outside_core():
    bad = re.compile(r"reader\.conn|\.execute\(|core\.index\b|from core import queries")
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in _ui_sources()
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if bad.search(line)
    ]
    assert found == []


def test_panes_and_widgets_do_not_probe_the_app_or_the_store():
    probe = re.compile(r"\b(getattr|hasattr)\(\s*(self\.app|self\.store|screen|type\(self)")
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in _ui_sources()
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if probe.search(line)
    ]
    assert found == []


async def test_the_app_implements_the_shell_contract(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app, Shell)
        assert app.store is small_store and app.actor == "human:tester@ci"
