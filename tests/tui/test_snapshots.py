"""Snapshots of every pane this shell owns, at 80x24 and 120x40, on a fixed store.

Deterministic by construction: fixed clock and RNG on the store (so chains, keys and
signatures repeat), HOME under tmp_path (the header shows ~/store), an injected `now` for the
checkpoint age, no timings in the doctor table, no animations, no cursor blink, no
notifications. Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` and look
at every changed SVG before committing it.
"""

from __future__ import annotations

import pytest

from core.doctor.model import DoctorReport
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.test_doctor import ScriptedDoctor, result

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def snap_app(store=None, **kw):
    app = make_app(store, **kw)
    app._disable_notifications = True  # snapshots come from app.run(), which would show them
    return app


def keys_then_settle(*steps: str | list[str]):
    """Each step is a key, or a list of keys typed in one go; the app settles after each."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for step in steps:
            await pilot.press(*([step] if isinstance(step, str) else step))
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_audit_tail(snap_compare, small_store, size):
    assert snap_compare(snap_app(small_store), terminal_size=size, run_before=keys_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_audit_filter(snap_compare, small_store, size):
    before = keys_then_settle("slash", list("op:put actor:human:ana@laptop"), "enter", "g", "slash")
    assert snap_compare(snap_app(small_store), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_row_detail(snap_compare, small_store, size):
    before = keys_then_settle("k", "k", "k", "enter")  # the move row
    assert snap_compare(snap_app(small_store), terminal_size=size, run_before=before)


def test_row_detail_with_proof(snap_compare, small_store):
    # At 120x40 the whole proof fits; at 80x24 the view scrolls to it, which the snapshot
    # harness captures at an unreliable moment: tests/tui/test_audit.py checks that scroll.
    before = keys_then_settle("g", "j", "enter", "p")
    assert snap_compare(snap_app(small_store), terminal_size=(120, 40), run_before=before)


def _doctor_store(store, state="FROZEN_RECOVERABLE"):
    store.doctor = ScriptedDoctor(
        state=state,
        results=[
            result("chain.continuity", "PASS", detail="every row links to the one before"),
            result("chain.hash", "PASS", detail="28 chain hashes recomputed"),
            result(
                "derived.index_head",
                "FAIL",
                detail="the index stops at seq 20; the log at 29",
                path="index/brain.sqlite",
            ),
            result("derived.lease", "WARN", "warning", "a stale lease from a process now gone"),
            result("layout.manifest", "PASS", detail="store manifest is valid"),
        ],
    )
    return store


@pytest.mark.parametrize("size", SIZES)
def test_doctor(snap_compare, small_store, size):
    store = _doctor_store(small_store)
    # A detail that names its path already: the table does not add it again.
    named = "1 purged: content destroyed by design (seq 12 memories/facts/old-phone.md)"
    store.doctor.results.append(
        result("memories.purged", "PASS", "info", named, path="memories/facts/old-phone.md")
    )
    app = snap_app(store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("3"))


@pytest.mark.parametrize("size", SIZES)
def test_doctor_repair_dialog(snap_compare, small_store, size):
    """The recoverable repair's confirmation: it names every repair repair.py makes."""
    app = snap_app(_doctor_store(small_store))
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("3", "R"))


@pytest.mark.parametrize("size", SIZES)
def test_doctor_repair_needs_a_reason(snap_compare, small_store, size):
    app = snap_app(_doctor_store(small_store, "FROZEN_HUMAN"))
    before = keys_then_settle("3", "R", list("restored"))
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, small_store, size):
    app = snap_app(small_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_first_run(snap_compare, home, size):
    app = snap_app(
        root=home / "store",
        allow_temp=True,
        demo_root=home / "data/brain-tui/demo",
        demo_builder=lambda *a, **k: None,
    )
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_error_modal(snap_compare, home, size):
    root = home / "store"
    root.mkdir()
    (root / "manifest.json").write_text("{not json")
    app = snap_app(root=root, allow_temp=True)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_help_opens_at_the_memories_pane(snap_compare, small_store, size):
    app = snap_app(small_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("2", "question_mark"))


class CancelledDoctor(ScriptedDoctor):
    """Cancelled after two of 27 invariants, every time (a real cancel depends on timing)."""

    def __call__(self, repair=False, reason=None, progress=None, cancel=None, *, actor="x"):
        if progress is not None:
            progress(2, 27, "chain.hash")
        return DoctorReport("READY", self.results[:2], [], 0, 0.0, cancelled=True)


@pytest.mark.parametrize("size", SIZES)
def test_doctor_cancelled(snap_compare, small_store, size):
    small_store.doctor = CancelledDoctor()
    app = snap_app(small_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("3"))


@pytest.fixture
def held_store(home):
    from tests.tui.test_pii import build_held

    store = build_held(home / "store")
    yield store
    store.close()


@pytest.mark.parametrize("size", SIZES)
def test_pii_queue(snap_compare, held_store, size):
    """Pane 4: the queue by type, the first memory's body with its findings highlighted."""
    app = snap_app(held_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("4"))


@pytest.mark.parametrize("size", SIZES)
def test_pii_toggled_span(snap_compare, held_store, size):
    """The e-mail toggled off (kept), the card still chosen, the cursor on the next memory
    and back: the body shows one mask."""
    app = snap_app(held_store)
    before = keys_then_settle("4", "j", "k", "space", "n")
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_pii_release_dialog(snap_compare, held_store, size):
    app = snap_app(held_store)
    before = keys_then_settle("4", "R", "enter", "down", "enter", list("ana-contac"), "enter")
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.fixture
def prop_store(home):
    from tests.tui.test_proposals_pane import build_proposals

    store = build_proposals(home / "store")
    yield store
    store.close()


@pytest.mark.parametrize("size", SIZES)
def test_proposals_queue(snap_compare, prop_store, size):
    """Pane 5: the pending queue oldest first, the first proposal's gate, duplicates, diff."""
    app = snap_app(prop_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("5"))


@pytest.mark.parametrize("size", SIZES)
def test_proposals_maintenance(snap_compare, prop_store, size):
    """The engine's merge proposal: its near duplicate and the target's diff."""
    app = snap_app(prop_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("5", "G"))


@pytest.mark.parametrize("size", SIZES)
def test_proposals_reject_dialog(snap_compare, prop_store, size):
    """Reject: the slug typed but no reason given, refused."""
    app = snap_app(prop_store)
    before = keys_then_settle("5", "x", "tab", list("proposal-0"), "enter")
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_proposals_lessons(snap_compare, prop_store, size):
    """v twice: the lessons, the first with its pattern."""
    app = snap_app(prop_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("5", "v", "v"))


@pytest.mark.parametrize("size", SIZES)
def test_activity_line_with_capture_and_the_door(snap_compare, small_store, size):
    """What the tabs line says while the workstation captures and serves the door: whole at
    120 columns, in short forms at 80, where the whole text would hide the door's count
    (never wrapped onto a hidden second line)."""
    from brain_tui.messages import ActivityChanged

    async def before(pilot) -> None:
        await settle(pilot)
        pilot.app.post_message(ActivityChanged("capture", "capture: 1 folder", "cap 1"))
        pilot.app.post_message(ActivityChanged("door", "door: 3 puts", "door 3"))
        await settle(pilot)

    assert snap_compare(snap_app(small_store), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES)
def test_doctor_progress_in_the_activity_line(snap_compare, small_store, size):
    """The doctor's progress as the tabs line says it beside the door's count: `doctor 7/37`
    where it fits, `doctor 18%` in the short forms of 80 columns (the screen's own message
    drives it, as a run's worker does)."""
    from brain_tui.messages import ActivityChanged
    from screens.doctor import DoctorScreen

    async def before(pilot) -> None:
        await pilot.press("3")
        await settle(pilot)
        # The first visit runs the doctor (scripted: a real run's details, such as the seqs
        # it walked, changed with the fixture's timing); its Finished message clears the
        # activity, so it is handled before the progress below is shown.
        assert await wait_until(pilot, lambda: not pilot.app.screen.running)
        await settle(pilot)
        pilot.app.post_message(ActivityChanged("door", "door: 3 puts", "door 3"))
        pilot.app.screen.post_message(DoctorScreen.Progress(7, 37, "chain.hash"))
        await settle(pilot)

    _doctor_store(small_store, "READY")
    assert snap_compare(snap_app(small_store), terminal_size=size, run_before=before)
