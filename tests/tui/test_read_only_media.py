"""A store on read-only media opens read-only in the workstation: the header says so and why,
a note says it in full once, and nothing that writes starts (no sync, no door, no capture
loop), so no OSError reaches the person (README: "opens read-only with a note").

Two ways to put the store on read-only media: a real read-only bind mount (needs root and
mount(2); skipped, saying so, where refused) and, everywhere, the file system's read-only flag
as the engine reads it (statvfs ST_RDONLY) set for the store's folder. The engine's writes are
not mocked: on the simulated medium they would succeed, so only the engine's own check can
keep them from starting.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from textual.widgets import Static

from core.store import Store
from core.sync import orchestrator
from tests.core.stress_harness import brain
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.store_fixture import build_small
from widgets.header import HeaderInfo, header_content

NOTE = "the store cannot be written (Read-only file system)"


@pytest.fixture(autouse=True)
def runtime(monkeypatch):
    d = tempfile.mkdtemp(prefix="bd", dir="/tmp")  # short: socket paths are ~107 bytes at most
    monkeypatch.setenv("XDG_RUNTIME_DIR", d)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _mount(*args: str) -> str | None:
    p = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip() or f"mount exited {p.returncode}")


@pytest.fixture(params=["closed", "wal-left"])
def mounted_read_only(home: Path, request):
    """A store built at src, seen through a read-only bind mount at ~/ro. "wal-left": a
    one-shot `brain put` left the index's WAL beside it, as a store in use does; SQLite then
    opens the index on the mount without a word (the reviewer's "door open")."""
    src, dst = home / "src", home / "ro"
    dst.mkdir()
    build_small(src).close()
    if request.param == "wal-left":
        p = brain(src, "put", "memories/facts/late.md", input=b"put by the CLI\n")
        assert p.returncode == 0, p.stderr.decode()
    err = _mount("--bind", str(src), str(dst))
    if err:
        pytest.skip(f"cannot bind-mount (needs root and mount(2)): {err}")
    try:
        err = _mount("-o", "remount,bind,ro", str(dst))
        if err:
            pytest.skip(f"cannot remount the bind mount read-only: {err}")
        yield dst
    finally:
        if subprocess.run(["umount", str(dst)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(dst)], capture_output=True)


@pytest.fixture
def flagged_read_only(home: Path, monkeypatch):
    """A store whose file system reports itself read-only (statvfs's ST_RDONLY), as a
    read-only mount does; its files stay writable, so a write that starts anyway succeeds."""
    root = home / "store"
    build_small(root).close()
    real = os.statvfs

    def statvfs(path):
        st = real(path)
        if Path(os.fsdecode(path)).resolve().is_relative_to(root.resolve()):
            fields = list(st)
            fields[8] |= os.ST_RDONLY  # f_flag
            return os.statvfs_result(fields)
        return st

    monkeypatch.setattr(os, "statvfs", statvfs)
    return root


def _header(app) -> str:
    return str(app.screen.query_one(".store-header", Static).render())


def _toasts(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def _check_workstation(root: Path) -> None:
    # What `brain --store ROOT` runs: the app opens the store itself (door and all), with the
    # capture loop and sync on.
    app = make_app(root=root, allow_temp=True, capture=True, sync=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.header_info is not None)
        store = app.store
        assert store is not None and store.read_only and store.media_read_only
        assert app.header_info.read_only == "read-only media"
        assert app.header_info.state == "READY"  # sound: read-only media is not a freeze
        wide = _header(app)
        assert "READY  read-only media  ckpt" in wide, wide
        # Nothing that writes started: no sync (not even its lock), no door, no capture.
        assert app.hub_sync.orchestrator is None and app.hub_sync.state == "off"
        assert not orchestrator.is_running(store.layout)
        assert store.door_served() is None
        assert app.capture.loop is None
        await pilot.pause(2.5)  # past one poll of the door and the freeze
        await settle(pilot)
        assert "door" not in app.activity
        assert app.errors == [], app.errors
        toasts = _toasts(app)
        assert not [t for t in toasts if "OSError" in t or "starting sync" in t], toasts
        assert [t for t in toasts if t.startswith("read-only: ") and NOTE in t], toasts
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        narrow = _header(app)
        assert "READY  read-only" in narrow and len(narrow.rstrip()) <= 80, narrow
        # Reads work: the memories pane lists the store.
        await pilot.press("2")
        await settle(pilot)
        assert app.current_mode == "memories"
        assert app.errors == [], app.errors


async def test_a_read_only_mount_opens_read_only_and_starts_nothing_that_writes(
    mounted_read_only,
):
    await _check_workstation(mounted_read_only)


async def test_read_only_media_opens_read_only_and_starts_nothing_that_writes(
    flagged_read_only,
):
    before = sorted(p.name for p in (flagged_read_only / "local").iterdir())
    await _check_workstation(flagged_read_only)
    # The files were writable all along: only the engine's check kept the writes away.
    assert not (flagged_read_only / "local" / "sync.lock").exists()
    assert sorted(p.name for p in (flagged_read_only / "local").iterdir()) == before


def test_the_engine_opens_read_only_media_read_only(flagged_read_only):
    with Store.open(flagged_read_only, allow_temp=True) as s:
        assert s.read_only and s.media_read_only
        assert s.cannot_write is not None and NOTE in s.cannot_write
        assert s.frozen() is None  # not a freeze: the state stays READY, with a note
        assert s.open_door() is None
        assert any(NOTE in n for n in s.state().notes)


async def test_a_store_opened_read_only_says_so(home):
    root = home / "store"
    build_small(root).close()
    app = make_app(root=root, allow_temp=True, store_kw={"read_only": True}, sync=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.header_info is not None)
        assert app.header_info.read_only == "opened read-only"
        assert "READY  opened read-only" in _header(app)
        assert app.hub_sync.state == "off" and app.errors == []


def test_the_read_only_note_keeps_a_short_form_when_narrow():
    info = HeaderInfo(
        "/tmp/together/store",
        237,
        237,
        "FROZEN_RECOVERABLE",
        "no space",
        220,
        220,
        0,
        0,
        None,
        None,
        1,
        1,
        read_only="read-only: cannot write here",
    )
    # The reason stays while the queues' short form makes room for the path...
    wide = header_content(info, 120, 0).plain
    assert wide.endswith(
        "FROZEN_RECOVERABLE  read-only: cannot write here  ckpt —  1 PII · 1 prop."
    )
    # ...and is the first to go short when that is not enough (the note said it in full).
    narrow = header_content(info, 80, 0).plain
    assert narrow.endswith("FROZEN_RECOVERABLE  read-only  ckpt —  1 PII · 1 prop."), narrow
    assert len(narrow) <= 80
    media = HeaderInfo("/x/store", 5, 5, "READY", None, 3, 3, 0, 0, read_only="read-only media")
    assert header_content(media, 80, 0).plain.endswith("READY  read-only media  ckpt —  3 memories")
    plain = header_content(HeaderInfo("/x/s", 5, 5, "READY", None, 3, 3, 0, 0), 80, 0).plain
    assert "read-only" not in plain
