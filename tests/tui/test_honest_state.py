"""Honest state (issue 12): the header, the doctor pane and the engine agree; looking at a
store never writes to it; refused writes say why; the doctor's results show their age and a
cancelled run says so; the repair dialog promises only what the repair does."""

from __future__ import annotations

from core import verdict
from core.search.embeddings import SemanticUnavailable
from screens.confirm import ConfirmModal
from screens.doctor import REPAIR_TEXT, DoctorScreen
from screens.memories import MemoriesScreen
from tests.tui.conftest import NOW, make_app, settle, wait_until
from tests.tui.test_doctor import ScriptedDoctor


def head(store) -> int:
    return store.tail(1, limit=100_000)[-1].seq


async def test_opening_looking_and_quitting_write_nothing(small_store, monkeypatch):
    """Services on (as a person runs it): panes visited, the doctor run, idle, quit."""

    def no_model() -> None:
        raise SemanticUnavailable("no model in this test")

    monkeypatch.setattr(small_store, "warm_semantic", no_model)
    before = head(small_store)
    app = make_app(small_store, services=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for pane in "2313":
            await pilot.press(pane)
            await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        assert await wait_until(pilot, lambda: screen.report is not None, timeout=60)
        await pilot.pause(5.5)  # idle past the old start-up rebalance (5 s): nothing writes
        await settle(pilot)
        await pilot.press("q")
    assert head(small_store) == before
    assert not [r for r in small_store.tail(1, limit=100_000) if r.op == "tier.changed"]


async def test_a_verdict_another_process_records_reaches_the_header_and_refuses_writes(
    small_store,
):
    app = make_app(small_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.header_info.state == "READY"
        await pilot.press("2")
        await settle(pilot)
        # What `brain doctor` in another process does when it finds a person's problem.
        verdict.record(small_store.layout, "FROZEN_HUMAN", "chain.hash failing", "brain doctor")
        assert await wait_until(pilot, lambda: app.header_info.state == "FROZEN_HUMAN", timeout=10)
        assert app.header_info.state == small_store.state().state  # one source
        header = str(app.screen.query_one(".store-header").render())
        assert "FROZEN_HUMAN" in header
        screen = app.screen
        assert isinstance(screen, MemoriesScreen)
        before = head(small_store)
        await pilot.press("p")  # pin: a write, refused by the engine as the CLI's is
        await settle(pilot)
        assert any("writes are refused" in e and "FROZEN_HUMAN" in e for e in app.errors)
        assert head(small_store) == before and app.is_running
        await pilot.press("3")
        doctor = app.screen
        assert await wait_until(pilot, lambda: doctor.report is not None, timeout=60)
        await settle(pilot)
        banner = str(doctor.query_one("#doctor-banner").render())
        assert banner.startswith("FROZEN_HUMAN")  # the same state as the header


async def test_doctor_results_show_their_age(small_store):
    small_store.doctor = ScriptedDoctor()
    clock = [NOW]
    app = make_app(small_store, now=lambda: clock[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = app.screen
        assert await wait_until(pilot, lambda: screen.report is not None)
        await settle(pilot)
        assert "ran 0s ago" in str(screen.query_one("#doctor-banner").render())
        clock[0] += 180 * 10**9
        screen._show_summary()  # what its 30 s timer does
        assert "ran 3m ago" in str(screen.query_one("#doctor-banner").render())


async def test_a_cancelled_run_says_cancelled_not_a_state(small_store):
    small_store.doctor = ScriptedDoctor(steps=200, delay=0.02)
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, rounds=1)
        await pilot.press("3")
        screen = app.screen
        assert await wait_until(pilot, lambda: screen.running)
        await pilot.pause(0.2)
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        banner = str(screen.query_one("#doctor-banner").render())
        assert banner.startswith("cancelled") and "of 200 checked, no verdict" in banner
        assert "READY" not in banner and "pass" not in banner


async def test_the_repair_dialog_promises_only_what_repair_does(small_store):
    small_store.doctor = ScriptedDoctor(state="FROZEN_RECOVERABLE")
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = app.screen
        assert await wait_until(pilot, lambda: screen.report is not None)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
    # A recoverable repair writes no row (core/doctor/repair.py): the text must not promise one.
    assert "writes no audit row" in REPAIR_TEXT and "records a `repair` row" not in REPAIR_TEXT
