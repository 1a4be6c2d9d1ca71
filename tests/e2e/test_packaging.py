"""A plain (non-editable) install carries the styles and the demo assets as package data."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_ships_styles_assets_and_console_script(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("brain_tui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    tcss = {p.name for p in (REPO / "styles").glob("*.tcss")}
    assert tcss and {f"styles/{n}" for n in tcss} <= names
    demo = [p.relative_to(REPO).as_posix() for p in (REPO / "assets").rglob("*") if p.is_file()]
    demo = [p for p in demo if "__pycache__" not in p]
    assert demo and set(demo) <= names
    assert "brain_tui/help.md" in names
    for pkg in ("core", "brain_tui", "screens", "widgets"):
        assert f"{pkg}/__init__.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "brain = brain_tui.cli.main:entry" in zipfile.ZipFile(wheel).read(entry).decode()
