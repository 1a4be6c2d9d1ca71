"""`core` stays usable without the UI: every module imports in a fresh interpreter without
pulling in Textual or Rich (DESIGN: the engine serves the CLI, MCP and other programs)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import core

REPO = Path(__file__).resolve().parents[2]


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, "core."))


def test_every_core_module_imports_without_the_ui() -> None:
    modules = _core_modules()
    assert len(modules) > 40, modules  # the walk found the engine, not an empty package
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = ('textual', 'rich', 'screens', 'widgets', 'brain_tui')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in bad)\n"
        "print('LOADED', loaded)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert p.returncode == 0, p.stderr
    assert "LOADED []" in p.stdout, p.stdout


def test_the_store_facade_loads_neither_keys_nor_the_writer() -> None:
    """Importing the Store (every CLI command does) loads no cryptography, no checkpointer
    and no commit loop: a read-only command never needs them (the write session makes its
    writer and checkpointer on first use)."""
    code = (
        "import sys\n"
        "import core.store\n"
        "bad = ('cryptography', 'core.verifiable', 'core.verify.keys', 'core.write.writer')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.startswith(bad)))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert p.returncode == 0, p.stderr
    assert "LOADED []" in p.stdout, p.stdout
