"""The index's status column and maintained counts (schema 3): pane 5's queue is a keyset read
on an index and its count a lookup, and both agree with the tags in the files whatever the
index did to get there (puts, status changes, moves, deletes, a rebuild, an old index)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.index import proposal_rows, schema
from core.proposals import PROPOSALS
from core.store import Store
from core.write.intents import Delete, Move

AGENT = "agent:t@h"
FOLDER = "refinements/proposals"


@pytest.fixture
def store(tmp_path: Path):
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        yield s


def _put(store, name: str, status: str | None, folder: str = PROPOSALS, v: int = 0) -> None:
    """A proposal's put; out of pending with the decision row a person's decision carries
    (the write path refuses a status change without it)."""
    from core.proposals.model import submit
    from core.write.intents import Note

    path = f"{folder}{name}.md"
    tags = ["type:proposal", f"status:{status}"] if status else []
    body = f"PROPOSAL: change {name} ({v})\n"
    intents = [Store.put_intent(path, body, False, title=name, category="architecture", tags=tags)]
    if status != "pending":
        row = {"decision": "test", "status": status, "human": "human:ana@laptop"}
        intents.append(Note("proposal.decided", path, "", row))
    else:
        intents.append(Note("proposal.filed", path, "", {}))
    submit(store, intents, AGENT)


def _queue(store, *intents) -> None:
    """Moves and tombstones in the queue, with the row core.proposals would write (the write
    path refuses a queue change without one)."""
    from core.proposals.model import submit
    from core.write.intents import Note

    paths = [it.src if isinstance(it, Move) else it.path for it in intents]
    submit(store, [*intents, *(Note("proposal.decided", p, "", {}) for p in paths)], AGENT)


def _truth(store, statuses: tuple[str, ...], prefix: str = PROPOSALS) -> list[str]:
    """What the count and the pages must say, from every memory's tags (oldest write first)."""
    rows = [
        r
        for r in store.memories("", 10_000, state="active")
        if r.path.startswith(prefix) and any(f"status:{s}" in r.tags for s in statuses)
    ]
    return [r.path for r in sorted(rows, key=lambda r: r.seq)]


def _paged(store, status: str, size: int) -> list[str]:
    out, after = [], 0
    while True:
        page = store.proposals.page(status, after, size)
        out += [r.path for r in page]
        if len(page) < size:
            return out
        after = page[-1].seq


def _agrees(store) -> None:
    store.wait_index()
    for status, statuses in (
        ("pending", ("pending",)),
        ("accepted", ("accepted",)),
        ("decided", ("accepted", "rejected", "deprecated")),
    ):
        truth = _truth(store, statuses)
        assert store.proposals.count(status) == len(truth), status
        assert _paged(store, status, 2) == truth, status


def test_counts_and_pages_follow_every_kind_of_change(store):
    for i in range(6):
        _put(store, f"p{i}", "pending")
    _put(store, "sub/p9", "pending")  # a subfolder of the proposals' folder counts too
    _put(store, "x", "pending", folder="memories/facts/")  # elsewhere: never in the queue
    _agrees(store)
    _put(store, "p1", "accepted")  # a status change moves it between the counts
    _put(store, "p2", "rejected")
    _put(store, "p0", "pending", v=1)  # rewritten, same status: counted once, now the newest
    _agrees(store)
    assert _paged(store, "pending", 50)[-1] == f"{PROPOSALS}p0.md"
    _queue(store, Delete(f"{PROPOSALS}p3.md"))  # tombstoned: out of every count
    _queue(store, Move(f"{PROPOSALS}p4.md", "memories/refinements/drafts/p4.md"))
    _queue(store, Move(f"{PROPOSALS}p1.md", f"{PROPOSALS}old/p1.md"))
    _put(store, "p5", None)  # its status tag removed
    _agrees(store)
    assert store.proposals.count("pending") == 2  # p0, sub/p9
    store.delete(f"{PROPOSALS}p2.md", actor=AGENT, mode="purge", reason="other")
    _agrees(store)
    before = {s: store.proposals.count(s) for s in ("pending", "accepted", "rejected")}
    store.reindex()  # a rebuild from the files reaches the same counts
    assert {s: store.proposals.count(s) for s in before} == before
    _agrees(store)


def test_the_queue_reads_an_index_and_the_count_a_counter(store):
    """Size independence without a timer: the page walks the status index from its key (no
    scan of the table, no sort) and the count reads the maintained counts, not memories."""
    _put(store, "p0", "pending")
    store.wait_index()
    conn = store.reader.conn
    args = ["pending", 0, FOLDER, FOLDER + "/", FOLDER + "/\U0010ffff", 10]
    plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + proposal_rows._PAGE, args))
    assert "USING INDEX memories_status_seq (status=? AND seq>?)" in plan
    assert "TEMP B-TREE" not in plan  # rows come in seq order from the index: no sort
    plan = " | ".join(
        r[3]
        for r in conn.execute("EXPLAIN QUERY PLAN " + proposal_rows._COUNT, args[:1] + args[2:5])
    )
    assert "status_counts" in plan and "memories" not in plan


def test_an_index_of_the_previous_version_is_rebuilt(tmp_path):
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        _put(s, "p0", "pending")
        _put(s, "p1", "accepted")
        db = s.layout.index_db
    # An index written before the status column: version 2, without the column or the counts.
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER status_ins")
    conn.execute("DROP TABLE status_counts")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")
    conn.commit()
    conn.close()
    with Store.open(root, allow_temp=True, read_only=True) as s:
        # A read-only open cannot rebuild it: it says so (the CLI then opens for writing).
        assert s.index_problem is not None and "schema 2" in s.index_problem
    with Store.open(root, allow_temp=True) as s:
        assert schema.SCHEMA_VERSION == 3
        assert s.proposals.count("pending") == 1 and s.proposals.count("accepted") == 1
        assert [r.title for r in s.proposals.page("pending")] == ["p0"]


def test_doctor_recounts_status_counts_that_disagree(tmp_path):
    """derived.status_counts: counts corrupted behind the triggers' back (raw SQL) fail the
    doctor naming the pairs; `--repair` recounts them (no reindex) and the store is READY."""
    root = tmp_path / "s"
    with Store.init(root, allow_temp=True) as s:
        _put(s, "p0", "pending")
        _put(s, "p1", "pending")
        _put(s, "p2", "accepted")
        r = s.doctor().result("derived.status_counts")
        assert r.status == "PASS" and "match a recount" in r.detail
        db = s.layout.index_db
    conn = sqlite3.connect(db)
    conn.execute("UPDATE status_counts SET n = 7 WHERE status = 'pending'")
    conn.execute("DELETE FROM status_counts WHERE status = 'accepted'")
    conn.execute("INSERT INTO status_counts VALUES ('facts', 'rejected', 2)")
    conn.commit()
    conn.close()
    with Store.open(root, allow_temp=True) as s:
        assert s.proposals.count("pending") == 7  # what pane 5's header would show
        report = s.doctor()
        assert report.state == "FROZEN_RECOVERABLE"
        r = report.result("derived.status_counts")
        assert r.status == "FAIL" and r.recoverable
        assert "disagree with a recount of the memories in 3 (folder, status) pairs" in r.detail
        assert f"{FOLDER}/pending: 7 kept, 2 counted" in r.detail
        assert f"{FOLDER}/accepted: 0 kept, 1 counted" in r.detail
        assert "facts/rejected: 2 kept, 0 counted" in r.detail
        assert "`--repair` recounts them" in r.detail
        assert report.result("derived.index_coverage").status == "PASS"
        fixed = s.doctor(repair=True)
        assert fixed.state == "READY", fixed.failing()
        assert any(x.startswith("recounted the index's status counts") for x in fixed.repaired)
        assert not any(x.startswith("reindexed") for x in fixed.repaired)
        assert s.proposals.count("pending") == 2 and s.proposals.count("accepted") == 1
        _agrees(s)
        _put(s, "p3", "pending")  # the triggers count on from the recount
        assert s.proposals.count("pending") == 3
        assert s.doctor().result("derived.status_counts").status == "PASS"
