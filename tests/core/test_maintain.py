"""`brain maintain`'s generators (core.maintain) on a real store: retiring contradicted
memories, and the body-commitment preconditions of every memory a maintenance proposal reads."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import core.maintain as maintain_mod
from core.errors import BrainError, PreconditionFailed
from core.maintain import TOMBSTONED, contradictions
from core.read_types import MemoryRow
from core.store import Store

AGENT = "agent:t@h"
HUMAN = "human:ana@laptop"
OLD = "memories/decisions/web/deploy-target.md"
NEW = "memories/decisions/web/deploy-target-2026.md"


@pytest.fixture
def store(tmp_path: Path):
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        yield s


def _pair(store) -> None:
    """One subject, two statements: the newer one contradicts the older."""
    store.put(
        OLD,
        "We deploy the web app to Heroku with git push from the main branch.\n",
        actor=AGENT,
        title="Deploy target for the web app",
    )
    store.put(
        NEW,
        "The web app now runs on Fly.io machines, released by the CI pipeline on tags.\n",
        actor=AGENT,
        title="Deploy target for the web app",
    )


def _retire(store):
    made = [f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6) if f.filed]
    assert len(made) == 1
    p = store.proposals.show(made[0].path)
    assert p.status == "pending" and p.extra["action"]["op"] == "retire"
    return p


def test_a_newer_memory_with_the_same_subject_retires_the_older(store):
    _pair(store)
    store.put("memories/decisions/web/db.md", "Postgres 16 on the managed plan.\n", actor=AGENT)
    p = _retire(store)
    act = p.extra["action"]
    # Both memories' body commitments are named: the one retired and the one relied on.
    assert act["targets"] == [{"path": OLD, "commit": store.view(OLD).sidecar.commit}]
    assert act["requires"] == [{"path": NEW, "commit": store.view(NEW).sidecar.commit}]
    assert NEW in p.body and OLD in p.body
    assert store.proposals.preview(p.path)[1] == (OLD, [], [TOMBSTONED])
    new_before = store.view(NEW).sidecar
    d = store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert d.applied == [OLD]
    assert store.memory_rows([OLD])[0].state == "tombstoned"
    assert OLD not in {h.path for h in store.search("Heroku deploy")}
    after = store.view(NEW).sidecar  # the superseding memory is left as it was
    assert (after.seq, after.commit) == (new_before.seq, new_before.commit)
    rows = store.tail(1, 100, op="proposal.decided")
    assert rows[-1].extra["applied"] == [OLD] and rows[-1].extra["human"] == HUMAN
    # Nothing is proposed twice: the pair is handled.
    assert [f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6) if f.filed] == []


@pytest.mark.parametrize("key", ["supersedes", "contradicts"])
def test_an_explicit_link_retires_the_memory_it_names(store, key):
    store.put("memories/facts/ports.md", "The API listens on port 8080.\n", actor=AGENT)
    store.put(
        "memories/facts/network.md",
        f"---\ntitle: Network layout\n{key}: memories/facts/ports.md\n---\n"
        "Everything sits behind the proxy on 443; services bind unix sockets.\n",
        actor=AGENT,
    )
    p = _retire(store)
    assert p.extra["action"]["targets"][0]["path"] == "memories/facts/ports.md"
    assert p.extra["action"]["keep"] == "memories/facts/network.md"
    assert key in p.body
    store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert store.memory_rows(["memories/facts/ports.md"])[0].state == "tombstoned"


@pytest.mark.parametrize("changed", [OLD, NEW])
def test_retiring_refuses_when_either_body_changed_since(store, changed):
    _pair(store)
    p = _retire(store)
    store.put(changed, "Edited since: the team is still deciding where to deploy.\n", actor=AGENT)
    with pytest.raises(PreconditionFailed):
        store.proposals.decide(p.path, "accept", actor=HUMAN)
    # all or nothing: still pending, no decision row, nothing tombstoned
    assert store.proposals.show(p.path).status == "pending"
    assert store.tail(1, 100, op="proposal.decided") == []
    assert {r.state for r in store.memory_rows([OLD, NEW])} == {"active"}


def test_retiring_refuses_when_the_superseding_memory_is_gone(store):
    _pair(store)
    p = _retire(store)
    store.delete(NEW, actor=AGENT)
    with pytest.raises(PreconditionFailed, match="no longer active"):
        store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert store.memory_rows([OLD])[0].state == "active"


def test_a_merge_also_requires_the_kept_memory_unchanged(store):
    body = "Deploys go through the staging cluster first and then production after a soak.\n"
    store.put("memories/facts/deploy-a.md", body, actor=AGENT)
    store.put("memories/facts/deploy-b.md", body.replace("first", "first,"), actor=AGENT)
    made = [f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6) if f.filed]
    p = store.proposals.show(made[0].path)
    assert p.extra["action"]["op"] == "merge"  # same title, same words: a merge, not a retire
    assert p.extra["action"]["requires"][0]["path"] == "memories/facts/deploy-a.md"
    store.put("memories/facts/deploy-a.md", "Deploys now skip staging.\n", actor=AGENT)
    with pytest.raises(PreconditionFailed):
        store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert "status:deprecated" not in store.view("memories/facts/deploy-b.md").sidecar.tags


def test_a_merge_of_decisions_applies_and_is_not_proposed_again(store):
    """A type:decision carries no status: its merge marks it signal:merged instead."""
    body = "Deploys go through the staging cluster first and then production after a soak.\n"
    for name, text in (("a", body), ("b", body.replace("first", "first,"))):
        store.put(
            f"memories/decisions/{name}.md",
            text,
            actor=AGENT,
            tags=["type:decision"],
            category="architecture",
        )
    made = [f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6) if f.filed]
    assert len(made) == 1
    store.proposals.decide(made[0].path, "accept", actor=HUMAN)
    m = store.view("memories/decisions/b.md").sidecar
    assert "signal:merged" in m.tags and m.extra["merged_into"] == "memories/decisions/a.md"
    assert [f for f in store.proposals.maintain(actor=AGENT, stale_days=1e6) if f.filed] == []


def test_demote_marks_a_memory_that_has_ten_tags(store):
    full = [f"t{i}" for i in range(10)]
    store.put(
        "memories/facts/old.md", "An old fact about the build server.\n", actor=AGENT, tags=full
    )
    made = store.proposals.maintain(actor=AGENT, stale_days=0)
    store.proposals.decide(made[0].path, "accept", actor=HUMAN)
    tags = store.view("memories/facts/old.md").sidecar.tags
    assert "signal:stale" in tags and len(tags) == 10
    assert [f for f in store.proposals.maintain(actor=AGENT, stale_days=0) if f.filed] == []


def _row(path: str, title: str, seq: int, folder: str = "web") -> MemoryRow:
    return MemoryRow(
        path, title, "decisions", folder, "", [], "personal", "internal", "active", seq, seq,
        "cold", False, 0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "bodies", "expect"),
    [
        # one subject, two statements: the newer (by write) retires the older
        (
            [_row("a", "Deploy target", 1), _row("b", "the deploy target", 2)],
            {"a": "heroku git push main", "b": "fly machines on ci tags"},
            [("a", "b")],
        ),
        # the same statement twice is a near duplicate (a merge), not a contradiction
        (
            [_row("a", "Deploy target", 1), _row("b", "Deploy target", 2)],
            {"a": "heroku git push main", "b": "heroku git push main"},
            [],
        ),
        # the same words in another order are one subject (and here, opposite statements)
        (
            [
                _row("a", "Keeps nginx instead of Kafka", 1),
                _row("b", "Keeps Kafka instead of nginx", 2),
            ],
            {"a": "nginx stays for the queue", "b": "kafka replaces nginx now"},
            [("a", "b")],
        ),
        # one word apart is another subject: a tool's flag is not its plugin's flag
        (
            [
                _row("a", "Pytest flag that saves time on ledger", 1),
                _row("b", "Pytest-xdist flag that saves time on ledger", 2),
            ],
            {"a": "use -x to stop early", "b": "use -n auto for workers"},
            [],
        ),
        # other subjects, or another folder: nothing contradicts
        (
            [_row("a", "Deploy target", 1), _row("b", "Database engine", 2)],
            {"a": "heroku", "b": "postgres"},
            [],
        ),
        (
            [_row("a", "Deploy target", 1), _row("b", "Deploy target", 2, folder="api")],
            {"a": "heroku", "b": "fly"},
            [],
        ),
        # an explicit link and a title match in one chain: b supersedes a (said), c is newer
        # than b and titled alike; b keeps a retired this run and is itself left for the next
        (
            [_row("a", "Ports", 1), _row("b", "Deploy target", 2), _row("c", "Deploy target", 3)],
            {"a": "8080", "b": "heroku", "c": "fly"},
            [("a", "b")],
        ),
        # three alike: the newest retires both, each once
        (
            [
                _row("a", "Deploy target", 1),
                _row("b", "Deploy target", 2),
                _row("c", "Deploy target", 3),
            ],
            {"a": "heroku", "b": "render", "c": "fly"},
            [("b", "c"), ("a", "c")],
        ),
    ],
)
def test_the_contradiction_rule(rows, bodies, expect):
    links = {"b": {"supersedes": "a"}} if rows[0].title == "Ports" else {}
    found = contradictions(
        rows, bodies.__getitem__, lambda p: links.get(p, {}), lambda p: True, set()
    )
    assert [(c.older, c.newer) for c in found] == expect


def test_maintenance_never_accepts():
    src = inspect.getsource(maintain_mod)
    assert '"accepted"' not in src and "status:accepted" not in src and ".decide(" not in src


@pytest.mark.parametrize(
    "action",
    [
        {"op": "retire"},
        {"op": "explode", "targets": [{"path": OLD, "commit": "0" * 64}]},
        {"op": "retire", "targets": [{"path": OLD}]},
        {"op": "merge", "targets": [{"path": "../etc/passwd", "commit": "0" * 64}]},
    ],
)
def test_an_action_approval_could_not_apply_is_refused_at_filing(store, action):
    from tests.core.test_proposals import ANSWERS, proposal

    with pytest.raises(BrainError, match="action|segments"):
        store.proposals.propose(
            "Retire it", proposal(0), ANSWERS, actor=AGENT, scope=["docs/"], action=action
        )
    assert store.proposals.count("pending") == 0
