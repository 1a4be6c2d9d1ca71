"""The orchestrator's thread against a real hub: one per store, a pass at start and on "sync
now", the heartbeat the doctor reads (docs/sync.md, "Modes")."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from core.sync.orchestrator import Orchestrator, SyncBusy
from tests.sync.fleet import Fleet, put

WAIT_S = 120  # only a bound on a hang: nothing asserts how long a pass takes


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path, names=("ana1", "bob1"))
    yield f
    f.close()


def test_one_orchestrator_per_store_passes_and_sync_now(fleet: Fleet) -> None:
    a = fleet["ana1"]
    a.sync.set_mode("infrequent")
    put(a, "memories/facts/one.md", "one\n", "shareable")
    passes: queue.Queue = queue.Queue()
    orch = Orchestrator(a, program="test", on_pass=passes.put)
    orch.start()
    try:
        with pytest.raises(SyncBusy, match="already runs"):
            Orchestrator(a).start()
        first = passes.get(timeout=WAIT_S)  # a pass at start
        assert first.ok and first.pushed == 1
        st = a.sync.status()
        assert st.orchestrator_alive and st.heartbeat_ns > 0
        assert a.doctor().result("sync.orchestrator").status == "PASS"
        put(a, "memories/facts/two.md", "two\n", "shareable")
        orch.sync_now()  # the next one is an hour away: only "sync now" runs it
        second = passes.get(timeout=WAIT_S)
        assert second.ok and second.pushed == 1
    finally:
        orch.stop()
    assert not a.sync.status().orchestrator_alive
    fleet.sync("bob1")
    assert fleet.paths("bob1") == {"memories/facts/one.md", "memories/facts/two.md"}


def test_manual_mode_runs_only_when_asked(fleet: Fleet) -> None:
    a = fleet["ana1"]  # the fleet joins in manual mode
    put(a, "memories/facts/one.md", "one\n", "shareable")
    orch = Orchestrator(a, program="test")
    assert orch.step(0.0) > 0 and a.sync.status().last_push_ns == 0
    orch.sync_now()
    orch.step(1.0)
    assert a.sync.status().outbox["confirmed"] == 1


def test_a_shorter_mode_takes_effect_before_the_old_interval_ends(fleet: Fleet) -> None:
    a = fleet["ana1"]
    a.sync.set_mode("infrequent")
    orch = Orchestrator(a, program="test")
    assert orch.step(0.0) == 30.0  # a pass ran; the next is an hour away (beat every 30 s)
    assert orch.step(30.0) == 30.0
    a.sync.set_mode("realtime")
    put(a, "memories/facts/one.md", "one\n", "shareable")
    orch.step(30.0)  # 30 s since the last pass > 10 s: due now
    assert a.sync.status().outbox["confirmed"] == 1
