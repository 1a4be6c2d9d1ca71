"""`./dev`, the newcomer's entry point: what it says before it installs anything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _dev_copy(tmp_path: Path) -> Path:
    """The dev script alone in a fresh folder: no .venv, and no ../shared beside it."""
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy2(REPO / "dev", repo / "dev")
    return repo


def test_dev_test_names_the_missing_shared_folder_before_installing(tmp_path: Path) -> None:
    repo = _dev_copy(tmp_path)
    for args in (["test"], ["test", "--fast"]):
        p = subprocess.run(
            ["bash", str(repo / "dev"), *args], capture_output=True, text=True, timeout=30
        )
        assert p.returncode == 1, p.stderr
        assert str(tmp_path / "shared") in p.stderr
        assert "../shared/vectors/rfc6962/inclusion" in p.stderr
        assert not (repo / ".venv").exists()  # it stopped before the set-up, not after


def test_dev_usage_lists_the_fast_lane(tmp_path: Path) -> None:
    p = subprocess.run(
        ["bash", str(_dev_copy(tmp_path) / "dev"), "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert p.returncode == 2
    assert "./dev test [--fast]" in p.stderr
