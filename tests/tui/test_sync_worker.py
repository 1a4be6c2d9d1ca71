"""The sync orchestrator as a workstation part: started after the first frame unless another
program runs it, "sync now" asks for a pass, stopped (lock released) on quit."""

from __future__ import annotations

from core.sync import orchestrator
from tests.tui.conftest import make_app, settle


async def test_sync_runs_in_the_workstation_and_stops_on_quit(small_store):
    app = make_app(small_store, sync=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.hub_sync.state == "on"
        assert orchestrator.is_running(small_store.layout)
        assert app.hub_sync.sync_now()  # not joined: the pass is a no-op, never an error
        await settle(pilot)
        assert app.errors == []
    assert not orchestrator.is_running(small_store.layout)
    assert app.hub_sync.state == "off"


async def test_an_orchestrator_elsewhere_is_left_alone(small_store):
    other = orchestrator.SyncLock(small_store.layout, "brain capture-daemon")
    other.acquire()
    try:
        app = make_app(small_store, sync=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert app.hub_sync.state == "elsewhere"
            assert not app.hub_sync.sync_now()
            assert app.errors == []
    finally:
        other.release()
