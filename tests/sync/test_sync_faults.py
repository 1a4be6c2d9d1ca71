"""Faults during sync (docs/sync.md, "Client state"): a duplicate delivery, the hub killed
mid-push, the client killed mid-push and mid-pull, a revoked device. A rerun completes; no
memory is lost or doubled; every store's doctor passes and the counts are exact."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import Store
from tests.sync.fleet import ANA, ORG, Fleet, put

REPO = Path(__file__).resolve().parents[2]
P = "memories/facts/m{:04d}.md"


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path, names=("ana1", "bob1", "bob2"))
    yield f
    f.close()


def _fill(s: Store, n: int, cls: str = "shareable") -> None:
    from core.write.intents import Put

    for start in range(0, n, 250):
        s.batch(
            [
                Put(P.format(i), f"memory {i}\n".encode(), sync_class=cls)
                for i in range(start, min(n, start + 250))
            ],
            ANA,
        )


def _exact(s: Store, n: int) -> None:
    """n memories, each written once (no duplicate put)."""
    paths = {m.path for m in s.memories(limit=10_000)}
    assert paths == {P.format(i) for i in range(n)}
    puts = s.tail(1, 100_000, op="put")
    assert len(puts) == n
    assert len({r.extra["imported_from"]["seq"] for r in puts}) == n


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")


def _reopen(fleet: Fleet, name: str) -> Store:
    fleet.stores[name] = Store.open(fleet[name].root, allow_temp=True)
    return fleet.stores[name]


def _crash(fleet: Fleet, name: str, point: str) -> None:
    root = fleet[name].root
    fleet[name].close()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.sync.crash_driver", str(root), point],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    _reopen(fleet, name)


def test_duplicate_delivery_after_a_crash_between_send_and_reply(fleet: Fleet) -> None:
    _fill(fleet["ana1"], 30)
    _crash(fleet, "ana1", "after-push-sent")
    a = fleet["ana1"]
    assert a.sync.status().outbox["pushed"] == 30  # sent, the reply lost with the process
    rep = fleet.sync("ana1")["ana1"]
    assert (rep.pushed, rep.duplicates) == (0, 30)  # the hub already held every one
    assert a.sync.status().outbox["confirmed"] == 30
    rep = fleet.sync("bob1")["bob1"]
    assert (rep.pulled, rep.imported) == (30, 30)
    _exact(fleet["bob1"], 30)
    fleet.check_all()


def test_hub_killed_mid_push_then_the_outbox_completes(fleet: Fleet) -> None:
    a = fleet["ana1"]
    _fill(a, 20)
    fleet.hub.stop()
    rep = a.sync.run()
    assert rep.errors and "cannot reach the hub" in rep.errors[0]
    st = a.sync.status()
    assert st.outbox["pushed"] == 20 and "cannot reach the hub" in st.last_error
    assert st.last_push_outcome.startswith("failed")
    fleet.hub.start()
    rep = fleet.sync("ana1")["ana1"]
    assert (rep.pushed, rep.duplicates) == (20, 0)
    assert a.sync.status().last_error == ""
    fleet.sync("bob1")
    _exact(fleet["bob1"], 20)
    fleet.check_all()


@pytest.mark.parametrize("point", ["after-stash", "after-write"])
def test_client_killed_mid_pull_resumes_without_loss_or_duplicates(
    fleet: Fleet, point: str
) -> None:
    _fill(fleet["ana1"], 40)
    fleet.sync("ana1")
    _crash(fleet, "bob1", point)
    b = fleet["bob1"]
    assert b.sync.status().inbox["pending-pull"] == 40
    rep = fleet.sync("bob1")["bob1"]
    assert rep.pulled == 0  # the cursor moved with the page: nothing is pulled twice
    assert rep.imported == (40 if point == "after-stash" else 0)
    assert b.sync.status().inbox["imported"] == 40
    _exact(b, 40)
    assert len(b.tail(1, 1000, op="session.start")) == 1
    fleet.check_all()


def _pull_cursor(root: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{root / 'local' / 'sync.sqlite'}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'pull'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def test_brain_sync_pull_only_sigkilled_then_rerun(fleet: Fleet) -> None:
    n = 1200  # three pages
    _fill(fleet["ana1"], n)
    fleet.sync("ana1")
    root = fleet["bob1"].root
    fleet["bob1"].close()
    cmd = [sys.executable, "-m", "brain_tui.cli.main", "sync", "--pull-only", "--store", str(root)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # Kill it once the first page is in its inbox (or whenever it is, if it ends first).
    while proc.poll() is None and _pull_cursor(root) == 0:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    b = _reopen(fleet, "bob1")
    fleet.sync("bob1")
    _exact(b, n)
    assert b.sync.status().inbox == {
        "pending-pull": 0,
        "imported": n,
        "conflict": 0,
        "skipped": 0,
    }
    fleet.check_all()


def test_a_revoked_device_is_refused_and_keeps_its_queue(fleet: Fleet) -> None:
    a = fleet["ana1"]
    _fill(a, 3)
    fleet.hub.revoke(ORG, device="ana1")
    rep = a.sync.run()
    assert len(rep.errors) == 2 and all(
        "forbids" in e or "refused the token" in e for e in rep.errors
    )
    st = a.sync.status()
    assert st.outbox["confirmed"] == 0 and st.last_error
    assert fleet.sync("bob1")["bob1"].imported == 0
    put(a, "memories/facts/later.md", "later\n", "shareable")  # still a working store
    fleet.check_all()


def test_a_refused_item_keeps_the_hubs_reason_and_is_not_resent(fleet: Fleet) -> None:
    """The hub pins an origin's key on first use and (brain-sync/v1) learns no rotation: after
    a finished `brain rotate-key` the new versions are refused, item by item, with why."""
    a = fleet["ana1"]
    put(a, "memories/facts/a.md", "a\n", "shareable")
    fleet.sync("ana1")
    a.rotate_key()
    a.rotate_key(finish=True)
    put(a, "memories/facts/c.md", "c\n", "shareable")
    rep = fleet.sync("ana1")["ana1"]
    assert rep.pushed == 0 and [p for p, _ in rep.refused] == ["memories/facts/c.md"]
    assert "not one of the trusted keys" in rep.refused[0][1]
    assert a.sync.state_of("memories/facts/c.md") == "refused"
    st = a.sync.status()
    assert (st.outbox["confirmed"], st.outbox["refused"], st.outbox["pending-push"]) == (1, 1, 0)
    assert [(r.path, r.reason) for r in st.refused] == rep.refused
    again = fleet.sync("ana1")["ana1"]
    assert again.refused == [] and again.pushed == 0  # refused is final: not re-sent
    fleet.sync("bob1")
    assert fleet.paths("bob1") == {"memories/facts/a.md"}
    fleet.check_all()


def test_killed_before_the_request_left_the_batch_is_sent_once(fleet: Fleet) -> None:
    _fill(fleet["ana1"], 12)
    _crash(fleet, "ana1", "before-push-sent")
    a = fleet["ana1"]
    assert a.sync.status().outbox["pushed"] == 12  # marked first, never sent
    rep = fleet.sync("ana1")["ana1"]
    assert (rep.pushed, rep.duplicates) == (12, 0)
    fleet.sync("bob1")
    _exact(fleet["bob1"], 12)
    fleet.check_all()
