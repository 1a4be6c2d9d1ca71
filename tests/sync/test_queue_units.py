"""The client's state machines (core/sync/queue.py) and the orchestrator's schedule
(core/sync/orchestrator.py), with an injectable clock and RNG: no hub, no waiting."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from core.errors import BrainError
from core.store import Store
from core.sync import config
from core.sync.orchestrator import FIRST_RETRY_S, IDLE_S, Orchestrator, backoff
from core.sync.queue import InItem, Queue


@pytest.fixture
def q(tmp_path: Path):
    queue = Queue(tmp_path)
    yield queue
    queue.close()


def test_outbox_moves_pending_pushed_confirmed_or_refused(q: Queue) -> None:
    assert q.enqueue([(3, "memories/facts/a.md", "put"), (4, "memories/facts/b.md", "put")], 4, 1)
    assert q.get("push_scan") == 4
    assert [i.state for i in q.to_send(10)] == ["pending-push", "pending-push"]
    q.mark([3, 4], "pushed", 2)
    assert [(i.seq, i.state, i.attempts) for i in q.to_send(10)] == [
        (3, "pushed", 1),
        (4, "pushed", 1),
    ]
    q.settle({3: ("confirmed", ""), 4: ("refused", "class private")}, 3)
    assert q.to_send(10) == []
    out, _ = q.counts()
    assert out["confirmed"] == 1 and out["refused"] == 1 and out["pending-push"] == 0
    assert q.was_sent("memories/facts/a.md")
    assert not q.was_sent("memories/facts/b.md")


def test_a_newer_put_supersedes_the_unsent_one(q: Queue) -> None:
    q.enqueue([(3, "memories/facts/a.md", "put")], 3, 1)
    q.enqueue([(5, "memories/facts/a.md", "put")], 5, 2)
    assert [i.seq for i in q.to_send(10)] == [5]
    assert q.counts()[0]["superseded"] == 1
    assert q.latest_out("memories/facts/a.md").seq == 5


def test_pushed_items_go_first_and_a_second_enqueue_is_a_no_op(q: Queue) -> None:
    q.enqueue([(3, "memories/facts/a.md", "put"), (4, "memories/facts/b.md", "put")], 4, 1)
    q.mark([4], "pushed", 2)
    assert [i.seq for i in q.to_send(10)] == [4, 3]
    assert q.enqueue([(4, "memories/facts/b.md", "put")], 4, 3) == 0


def test_inbox_stash_moves_the_cursor_in_the_same_transaction(q: Queue) -> None:
    items = [
        InItem(7, "envelope", "a" * 32, 3, "memories/facts/x.md", "", b"{}"),
        InItem(9, "purge", "a" * 32, 5, "memories/facts/x.md", "", b"{}"),
    ]
    q.stash(items, 9, 1)
    assert q.get("pull") == 9
    assert [i.cursor for i in q.to_import(10)] == [7, 9]
    q.stash(items, 9, 2)  # a page pulled twice stores nothing twice
    assert q.counts()[1]["pending-pull"] == 2
    q.resolve({7: ("conflict", "conflict", "conflicts/x"), 9: ("imported", "", "")}, 3)
    assert q.to_import(10) == []
    assert [c.copy for c in q.conflicts()] == ["conflicts/x"]
    assert q.forget_path("a" * 32, "memories/facts/x.md") == 1
    assert q.conflicts() == []
    with pytest.raises(BrainError):
        q.resolve({7: ("lost", "", "")}, 4)


def test_a_failed_stash_leaves_cursor_and_inbox_as_they_were(q: Queue) -> None:
    q.stash([InItem(1, "envelope", "a" * 32, 1, "p", "", b"{}")], 1, 1)
    bad = [InItem(2, "bogus-kind", "a" * 32, 2, "p", "", b"{}")]  # the CHECK refuses it
    with pytest.raises(sqlite3.IntegrityError):
        q.stash(bad, 2, 2)
    assert q.get("pull") == 1
    assert [i.cursor for i in q.to_import(10)] == [1]


def test_backoff_doubles_from_2s_capped_at_the_interval_with_20pc_jitter() -> None:
    mid = lambda: 0.5  # noqa: E731 - no jitter
    assert [backoff(n, 60, mid) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert backoff(1, 60, lambda: 0.0) == pytest.approx(FIRST_RETRY_S * 0.8)
    assert backoff(1, 60, lambda: 1.0) == pytest.approx(FIRST_RETRY_S * 1.2)
    assert backoff(40, 10, lambda: 1.0) == pytest.approx(12.0)


def test_orchestrator_retries_with_backoff_then_keeps_the_mode_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        assert Orchestrator(s).step(0.0) == IDLE_S  # not joined: idle
        # Joined to a hub that is not there (a closed port): every pass fails.
        cfg = config.SyncConfig(hub="http://127.0.0.1:9", org="acme", token="t", mode="frequent")
        config.save(s.root, cfg)
        wall = [time.time_ns()]  # the doctor compares it with the store clock
        o = Orchestrator(s, wall_ns=lambda: wall[0], rng=lambda: 0.5)
        waits = [o.step(t) for t in (0.0, 2.0, 6.0)]
        assert waits == [2.0, 4.0, 8.0]
        st = s.sync.status()
        assert "cannot reach the hub" in st.last_error
        assert st.next_retry_ns == wall[0] + 8 * 10**9
        assert st.heartbeat_ns == wall[0]
        assert o.step(7.0) == pytest.approx(7.0)  # not due yet: sleep until the retry
        s.sync.set_mode("manual")
        assert o.step(20.0) == IDLE_S  # manual: nothing runs unless asked
        assert s.sync.status().last_push_ns != 0
        doc = s.doctor().result("sync.orchestrator")
        assert doc is not None and doc.status == "PASS"
        s.sync.set_mode("realtime")
        doc = s.doctor().result("sync.orchestrator")
        assert doc is not None and doc.status == "PASS"  # the beat above is fresh
        cfg = s.sync.config()
        assert cfg is not None and cfg.mode == "realtime"


def test_one_scan_with_two_versions_of_a_path_queues_only_the_newer(q: Queue) -> None:
    assert q.enqueue([(3, "memories/facts/a.md", "put"), (5, "memories/facts/a.md", "put")], 5, 1)
    assert [i.seq for i in q.to_send(10)] == [5]


def test_doctor_counts_a_long_pass_as_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.sync.api import _PassLock
    from core.sync.orchestrator import SyncLock

    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        cfg = config.SyncConfig(hub="http://127.0.0.1:9", org="acme", token="t", mode="realtime")
        config.save(s.root, cfg)

        def verdict() -> str:
            r = s.doctor().result("sync.orchestrator")
            assert r is not None
            return r.status

        assert verdict() == "WARN"  # realtime, and no orchestrator ever ran
        s.sync.queue.set(heartbeat_ns=time.time_ns() - 3600 * 10**9)  # an hour-old beat
        orch = SyncLock(s.layout, "test")
        orch.acquire()
        try:
            assert verdict() == "WARN"  # its lock is held, but no pass runs: stuck
            with _PassLock(s.root):
                assert verdict() == "PASS"  # in a long pass: it beats when the pass ends
        finally:
            orch.release()
        s.sync.set_mode("manual")
        assert verdict() == "PASS"
