"""The status line says when the workstation writes other processes' `brain put`s through its
door (core/door.py), and how many; nothing while it serves none."""

from __future__ import annotations

import shutil
import tempfile

import pytest
from textual.widgets import Static

from brain_tui.messages import ActivityChanged
from core import door
from tests.tui.conftest import make_app, settle, wait_until


@pytest.fixture
def runtime(monkeypatch):
    d = tempfile.mkdtemp(prefix="bd", dir="/tmp")  # short: socket paths are ~107 bytes at most
    monkeypatch.setenv("XDG_RUNTIME_DIR", d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


async def test_the_status_line_counts_the_puts_written_through_the_door(small_store, runtime):
    assert small_store.open_door() is not None
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: "door open" in app.activity)
        root = str(small_store.root)
        for i in range(2):
            reply = door.put(root, f"memories/facts/door-{i}.md", b"# D\n\nthrough\n", "cli:t")
            assert reply is not None and reply.ok
        assert await wait_until(pilot, lambda: "door: 2 puts" in app.activity)
        await settle(pilot)
        shown = str(app.screen.query_one(".pane-tabs .activity", Static).render())
        assert shown.strip() == "door: 2 puts"  # it fits: said whole
        app.post_message(ActivityChanged("capture", "capture: 12 folders", "cap 12"))
        await settle(pilot)
        shown = str(app.screen.query_one(".pane-tabs .activity", Static).render())
        assert shown.strip() == "door 2 · cap 12"  # both fit only in their short forms


async def test_nothing_is_said_without_a_door(small_store, runtime):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.pause(2.5)  # past one poll
        assert "door" not in app.activity
