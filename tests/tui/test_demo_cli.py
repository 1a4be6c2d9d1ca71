"""`brain demo` builds in a child process while it loads the model (issue 12, cold demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from brain_tui.cli import cmd_demo
from core.errors import BrainError
from core.store import Store


@pytest.fixture
def no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cmd_demo, "warm_model", lambda: None)


def test_the_child_builds_a_store_that_opens_ready(tmp_path: Path, no_model: None) -> None:
    root = tmp_path / "demo"
    cmd_demo.build_beside(root, "small", allow_temp=True)
    with Store.open(root, allow_temp=True, read_only=True) as store:
        st = store.state()
        assert st.state == "READY"
        assert st.memories > 100
        assert store.tail(1, limit=1_000_000, op="checkpoint")  # signed at the end
    assert not root.with_name(".demo.partial").exists()


def test_a_failed_child_build_is_raised_here(tmp_path: Path, no_model: None) -> None:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "stray").write_text("not a store")
    with pytest.raises(BrainError, match="already exists"):
        cmd_demo.build_beside(root, "small", allow_temp=True)
