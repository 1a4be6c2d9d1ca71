"""The capture loop as a workstation worker: started when the store watches folders and no
daemon runs, `capture: daemon` when one does, stopped (lock released) on quit."""

from __future__ import annotations

from core.capture import config
from core.capture import state as capture_state
from tests.tui.conftest import make_app, settle, wait_until


async def test_capture_runs_in_the_workstation_and_stops_on_quit(small_store, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    config.watch(small_store.layout, folder)
    app = make_app(small_store, capture=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.capture.state == "on")
        assert "capture: 1 folder" in app.activity
        assert capture_state.is_running(small_store.layout)
        (folder / "idea.md").write_text("A captured idea about tides.\n")
        assert await wait_until(pilot, lambda: app.capture.captured >= 1, timeout=20)
    assert not capture_state.is_running(small_store.layout)  # stopped on quit
    small_store.wait_index()
    rows = small_store.audit_page(0, 10_000)
    assert any(r.path and r.path.startswith("memories/facts/captured/") for r in rows)


def _watched_with_daemon(store, tmp_path):
    """A watched folder, and the capture lock held as a running daemon holds it."""
    folder = tmp_path / "notes"
    folder.mkdir()
    config.watch(store.layout, folder)
    daemon = capture_state.CaptureLock(store.layout, "brain capture-daemon")
    daemon.acquire()
    return folder, daemon


async def test_a_running_daemon_is_left_alone(small_store, tmp_path):
    _folder, daemon = _watched_with_daemon(small_store, tmp_path)
    try:
        app = make_app(small_store, capture=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert await wait_until(pilot, lambda: app.capture.state == "daemon")
            assert "capture: daemon" in app.activity
            assert app.errors == []  # no error: the daemon captures
            assert app.capture.loop is None
    finally:
        daemon.release()


async def test_a_daemon_that_stops_is_taken_over(small_store, tmp_path):
    folder, daemon = _watched_with_daemon(small_store, tmp_path)
    app = make_app(small_store, capture=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert await wait_until(pilot, lambda: app.capture.state == "daemon")
        daemon.release()  # as when the daemon quits or is killed (its flock goes with it)
        assert await wait_until(pilot, lambda: app.capture.state == "on", timeout=10)
        assert "capture: 1 folder" in app.activity and "daemon" not in app.activity
        (folder / "tide.md").write_text("Captured after the takeover.\n")
        assert await wait_until(pilot, lambda: app.capture.captured >= 1, timeout=20)
    assert not capture_state.is_running(small_store.layout)


async def test_a_folder_watched_while_open_starts_the_loop(small_store, tmp_path):
    app = make_app(small_store, capture=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.capture.state == "off"
        folder = tmp_path / "later"
        folder.mkdir()
        config.watch(small_store.layout, folder)  # `brain watch PATH` from another terminal
        assert await wait_until(pilot, lambda: app.capture.state == "on", timeout=10)
        assert "capture: 1 folder" in app.activity


async def test_no_watched_folders_no_loop(small_store):
    app = make_app(small_store, capture=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.capture.state == "off" and app.capture.loop is None
        assert "capture" not in app.activity
    assert not capture_state.is_running(small_store.layout)
