"""Snapshots of pane 6 at 80x24 and 200x60: joined (queues, last passes, a conflict), joined
with a pending error, not joined, a conflict side by side, and the mode dialog.

The hub's port is random and its times are real, so the joined snapshots read a fixed
`SyncStatus` (the store's `sync` replaced by one that returns it); everything else is the
fixed store and clock of tests/tui/test_snapshots.py. The Pilot tests (test_sync_pane.py)
run the same pane against a real hub. Regenerate with `--snapshot-update` and look at every
changed SVG before committing it.
"""

from __future__ import annotations

import msgspec
import pytest

from core.sync.api import SyncApi, SyncConflict, SyncStatus
from tests.tui.conftest import NOW
from tests.tui.test_snapshots import keys_then_settle, snap_app

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((200, 60), id="200x60")]
NS = 1_000_000_000
ORIGIN = "5f1c9a0e7d3b42a8b6c1e09f3a7d5c21"
LOCAL = "memories/facts/note-06.md"  # in the small store

STATUS = SyncStatus(
    joined=True,
    hub="https://hub.example.org",
    org="acme",
    user="ana",
    role="member",
    device="ana-laptop",
    store="0" * 32,
    mode="normal",
    interval_s=300,
    outbox={"pending-push": 3, "pushed": 0, "confirmed": 41, "refused": 1, "superseded": 2},
    inbox={"pending-pull": 0, "imported": 17, "conflict": 1, "skipped": 2},
    last_push_ns=NOW - 125 * NS,
    last_push_outcome="ok: 3 accepted, 0 duplicate, 1 refused",
    last_pull_ns=NOW - 124 * NS,
    last_pull_outcome="ok: 2 pulled, 1 imported, 1 conflicts",
    conflicts=[SyncConflict(LOCAL, ORIGIN, f"conflicts/{ORIGIN}/{LOCAL}", 57)],
    orchestrator_alive=True,
    heartbeat_ns=NOW - 20 * NS,
)
FAILING = msgspec.structs.replace(
    STATUS,
    mode="frequent",
    interval_s=60,
    last_push_ns=NOW - 8 * NS,
    last_push_outcome="failed: cannot reach the hub at https://hub.example.org (refused)",
    last_pull_ns=NOW - 8 * NS,
    last_pull_outcome="failed: cannot reach the hub at https://hub.example.org (refused)",
    last_error="push: cannot reach the hub at https://hub.example.org (connection refused);"
    " pull: cannot reach the hub at https://hub.example.org (connection refused)",
    next_retry_ns=NOW + 34 * NS,
)
INCOMING = b"The facts note number 6, as bob's laptop has it.\n\nChecked again on 2 June.\n"


class FixedSync(SyncApi):
    def __init__(self, store, status: SyncStatus) -> None:
        super().__init__(store)
        self.fixed = status

    def status(self) -> SyncStatus:
        return self.fixed

    def conflict_copy(self, copy: str) -> bytes | None:
        return INCOMING

    def states_of(self, paths: list[str]) -> dict[str, str]:
        """Private memories stay private; the others take SHARED's states by name."""
        real = super().states_of(paths)
        return {p: SHARED.get(p, real[p]) if real[p] != "private" else "private" for p in paths}

    def state_of(self, path: str) -> str:
        return self.states_of([path])[path]

    def pending_error(self) -> str:
        return self.fixed.last_error


SHARED = {  # memories the marker snapshot adds, with the state each shows
    "memories/decisions/a-pushed.md": "confirmed",
    "memories/decisions/b-waiting.md": "pending-push",
    "memories/decisions/c-pulled.md": "imported",
    "memories/decisions/d-refused.md": "refused",
}


def fixed(store, status: SyncStatus = STATUS):
    store._sync = FixedSync(store, status)
    return store


@pytest.mark.parametrize("size", SIZES)
def test_sync_joined(snap_compare, small_store, size):
    app = snap_app(fixed(small_store))
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("6"))


@pytest.mark.parametrize("size", SIZES)
def test_sync_error(snap_compare, small_store, size):
    app = snap_app(fixed(small_store, FAILING))
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("6"))


@pytest.mark.parametrize("size", SIZES)
def test_sync_not_joined(snap_compare, small_store, size):
    app = snap_app(small_store)
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("6"))


@pytest.mark.parametrize("size", SIZES)
def test_sync_conflict_side_by_side(snap_compare, small_store, size):
    app = snap_app(fixed(small_store))
    assert snap_compare(app, terminal_size=size, run_before=keys_then_settle("6", "enter"))


def test_sync_mode_dialog(snap_compare, small_store):
    app = snap_app(fixed(small_store))
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys_then_settle("6", "m"))


def test_sync_markers_in_the_memory_browser(snap_compare, small_store):
    """Pane 2 of a joined store: a marker per memory (↑ to push, ✓ on the hub, ↓ pulled,
    ! refused) and the state spelled out in the preview."""
    for path, state in SHARED.items():
        body = f"---\ntitle: Shared, {state}\n---\nA shareable memory, {state}.\n"
        small_store.put(path, body, actor="human:ana@laptop", sync_class="shareable")
    small_store.wait_index()
    app = snap_app(fixed(small_store))
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys_then_settle("2"))
