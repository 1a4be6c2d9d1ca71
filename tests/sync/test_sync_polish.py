"""Small client fixes found by the sync pane (issue 16 follow-up): the retry time is written
before the pane hears of a failed pass, error texts promise no automatic retry, plurals,
`status` counts memories written since the last outbox scan, one notification per distinct
error."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.sync.api import SyncReport, _pull_summary, _push_summary
from core.sync.orchestrator import Orchestrator
from tests.sync.fleet import Fleet, put


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path, names=("ana1",))
    yield f
    f.close()


def test_on_pass_sees_the_retry_time_of_the_failed_pass(fleet: Fleet, hub) -> None:
    a = fleet["ana1"]
    a.sync.set_mode("realtime")
    put(a, "memories/facts/one.md", "one\n", "shareable")
    hub.stop()
    seen: list[int] = []
    orch = Orchestrator(
        a, program="test", on_pass=lambda r: seen.append(a.sync.status().next_retry_ns)
    )
    orch.step(0.0)
    assert seen and seen[0] > 0  # the pane's reload on this pass shows the next try
    hub.start()


def test_a_failed_manual_pass_promises_no_automatic_retry(fleet: Fleet, hub) -> None:
    a = fleet["ana1"]
    hub.stop()
    rep = a.sync.run()
    hub.start()
    assert rep.errors
    assert not any("automatically" in e for e in rep.errors), rep.errors


def test_status_counts_what_was_written_since_the_last_scan(fleet: Fleet) -> None:
    a = fleet["ana1"]
    assert a.sync.run().ok  # the scan mark moves past everything so far
    put(a, "memories/facts/one.md", "one\n", "shareable")
    put(a, "memories/facts/one.md", "one, again\n", "shareable")  # one version travels
    put(a, "memories/facts/mine.md", "mine\n", "private")
    assert a.sync.status().outbox["pending-push"] == 1
    assert a.sync.run().pushed == 1
    assert a.sync.status().outbox["pending-push"] == 0


def test_summaries_say_one_conflict_and_one_purge() -> None:
    r = SyncReport(conflicts=["conflicts/x/memories/a.md"], purges_sent=1)
    assert "1 conflict" in _pull_summary(r) and "1 conflicts" not in _pull_summary(r)
    assert "1 purge" in _push_summary(r) and "1 purges" not in _push_summary(r)
    r = SyncReport(conflicts=["a", "b"], purges_sent=2)
    assert "2 conflicts" in _pull_summary(r) and "2 purges" in _push_summary(r)


class _App:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.posted: list[object] = []

    def notify(self, text: str, **_kw) -> None:
        self.notes.append(text)

    def post_message(self, m: object) -> None:
        self.posted.append(m)


def test_the_workstation_notifies_each_distinct_error_once_until_a_pass_succeeds() -> None:
    from brain_tui.sync import Sync

    app = _App()
    s = Sync(app, enabled=False)  # type: ignore[arg-type]
    down = SyncReport(errors=["push: cannot reach the hub"])
    for _ in range(3):
        s._passed(down)
    assert app.notes == ["push: cannot reach the hub"]
    s._passed(SyncReport(errors=["push: the hub failed (HTTP 500)"]))
    assert len(app.notes) == 2
    s._passed(SyncReport())  # a good pass: the next failure is news again
    s._passed(down)
    assert len(app.notes) == 3
