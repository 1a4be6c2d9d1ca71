"""The doctor pane: the real doctor on a real store, and a scripted one for progress,
cancel and the repair confirmations (reason required when FROZEN_HUMAN)."""

from __future__ import annotations

import threading
import time

import pytest

from core.doctor.model import DoctorReport, InvariantResult
from core.store import Store
from screens.confirm import ConfirmModal
from screens.doctor import DoctorScreen
from tests.tui.conftest import make_app, settle, wait_until
from widgets.invariant_table import InvariantTable


def result(inv_id, status, level="error", detail="ok", path=""):
    return InvariantResult(inv_id, level, "test", status, detail, path, 1.5)


async def _doctor_pane(pilot, app) -> DoctorScreen:
    """Pane 3, once its first report is shown."""
    await settle(pilot)
    await pilot.press("3")
    screen = app.screen
    assert isinstance(screen, DoctorScreen)
    assert await wait_until(pilot, lambda: screen.report is not None)
    await settle(pilot)
    return screen


class ScriptedDoctor:
    """Stands in for store.doctor with the documented signature; records its calls."""

    def __init__(self, state="READY", steps=4, delay=0.0, results=None):
        self.state, self.steps, self.delay = state, steps, delay
        self.results = results or [
            result("chain.hash", "PASS"),
            result("derived.lease", "WARN", "warning", "stale lease held by pid 1"),
            result("memories.commitment", "FAIL", detail="body differs", path="memories/a.md"),
        ]
        self.calls: list[dict] = []

    def __call__(self, repair=False, reason=None, progress=None, cancel=None, *, actor="x"):
        self.calls.append({"repair": repair, "reason": reason, "actor": actor})
        for i in range(self.steps):
            if cancel is not None and cancel.is_set():
                return DoctorReport(self.state, self.results[:i], [], 0, 0.0, cancelled=True)
            if progress is not None:
                progress(i + 1, self.steps, f"step {i + 1}")
            time.sleep(self.delay)
        repaired = ["derived.lease"] if repair else []
        return DoctorReport(self.state, list(self.results), repaired, 29, 3.0)


async def test_the_real_doctor_runs_on_first_visit(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = app.screen
        assert isinstance(screen, DoctorScreen)
        assert await wait_until(pilot, lambda: screen.report is not None, timeout=60)
        await settle(pilot)
        table = screen.query_one(InvariantTable)
        assert table.row_count == len(screen.report.results) > 10
        banner = str(screen.query_one("#doctor-banner").render())
        assert screen.report.state in banner
        first = screen.report
        await pilot.press("r")
        assert await wait_until(pilot, lambda: screen.report is not first, timeout=60)
        assert app.errors == []


async def test_progress_table_detail_and_rerun(small_store):
    doctor = ScriptedDoctor()
    small_store.doctor = doctor
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _doctor_pane(pilot, app)
        table = screen.query_one(InvariantTable)
        assert [r.status for r in table.results] == ["FAIL", "WARN", "PASS"]  # failures first
        detail = str(screen.query_one("#doctor-detail").render())
        assert "memories.commitment" in detail and "body differs" in detail
        banner = str(screen.query_one("#doctor-banner").render())
        assert "1 pass" in banner and "1 warn" in banner and "1 fail" in banner
        await pilot.press("r")
        assert await wait_until(pilot, lambda: len(doctor.calls) == 2 and not screen.running)
        assert doctor.calls[1]["repair"] is False


async def test_escape_cancels_a_running_check(small_store):
    doctor = ScriptedDoctor(steps=200, delay=0.02)
    small_store.doctor = doctor
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
        assert screen.report.cancelled
        assert "cancelled" in str(screen.query_one("#doctor-banner").render())


async def test_repair_asks_first_and_can_be_declined(small_store):
    doctor = ScriptedDoctor(state="FROZEN_RECOVERABLE")
    small_store.doctor = doctor
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = app.screen
        assert await wait_until(pilot, lambda: screen.report is not None)
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and len(doctor.calls) == 1
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("y")
        assert await wait_until(pilot, lambda: len(doctor.calls) == 2 and not screen.running)
        assert doctor.calls[1] == {"repair": True, "reason": None, "actor": "human:tester@ci"}
        assert "repaired: derived.lease" in str(screen.query_one("#doctor-banner").render())


async def test_repair_when_frozen_human_requires_a_reason(small_store):
    doctor = ScriptedDoctor(state="FROZEN_HUMAN")
    small_store.doctor = doctor
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        screen = app.screen
        assert await wait_until(pilot, lambda: screen.report is not None)
        await pilot.press("R")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal) and modal.reason_prompt
        await pilot.press("enter")  # empty reason: refused, the modal stays
        await settle(pilot)
        assert app.screen is modal and modal.query_one("#confirm-reason").has_class("-invalid")
        await pilot.press(*"restored from backup", "enter")
        assert await wait_until(pilot, lambda: len(doctor.calls) == 2 and not screen.running)
        assert doctor.calls[1]["reason"] == "restored from backup"


async def test_a_doctor_that_raises_is_a_notification(small_store):
    def broken(**_kw):
        raise RuntimeError("disk on fire")

    small_store.doctor = broken
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)
        assert any("disk on fire" in e for e in app.errors)
        assert isinstance(app.screen, DoctorScreen) and not app.screen.running


def test_scripted_doctor_matches_the_engine(small_store):
    import inspect

    engine = set(inspect.signature(Store.doctor).parameters) - {"self", "full"}
    assert engine <= set(inspect.signature(ScriptedDoctor.__call__).parameters)
    # Both take the cancel argument as a threading.Event and answer a set one the same way.
    for doctor in (small_store.doctor, ScriptedDoctor()):
        stop = threading.Event()
        stop.set()
        report = doctor(cancel=stop)
        assert isinstance(report, DoctorReport) and report.cancelled, doctor


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_detail_column_is_read_whole(small_store, size):
    long = "the index stops at seq 20 while the log goes on to seq 29; rebuild it with repair"
    small_store.doctor = ScriptedDoctor(results=[result("derived.index_head", "FAIL", detail=long)])
    app = make_app(small_store)
    async with app.run_test(size=size) as pilot:
        screen = await _doctor_pane(pilot, app)
        table = screen.query_one(InvariantTable)
        shown = " ".join(
            line.text.strip()
            for line in table.render_lines(table.region.reset_offset)
            if line.text.strip()
        )
        words = [w for w in " ".join(shown.split("│")).split() if w]
        assert all(w in words for w in long.split()), shown  # wrapped, not cut at the edge
        assert ("ms" in words) == (size[0] >= 100)  # timings give their room at 80 columns


async def test_a_path_the_detail_names_is_not_repeated(small_store):
    """The table adds a finding's first path after its detail, unless the detail says it."""
    named = "1 purged: content destroyed by design (seq 5 memories/a.md)"
    doctor = ScriptedDoctor(
        results=[
            result("memories.purged", "PASS", "info", named, path="memories/a.md"),
            result("memories.commitment", "FAIL", detail="body differs", path="memories/b.md"),
        ]
    )
    small_store.doctor = doctor
    app = make_app(small_store)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await _doctor_pane(pilot, app)
        table = screen.query_one(InvariantTable)
        details = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        assert details == ["body differs (memories/b.md)", named]
