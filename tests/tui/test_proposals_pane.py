"""Pane 5, proposals: the pending queue oldest first, the detail (gate, duplicates, diff),
approve / reject / defer through the typed dialog, the history and lessons with patterns.

On a real store: the small fixture plus lessons, proposals and one maintenance proposal.
"""

from __future__ import annotations

import pytest

from screens.proposal_modals import DecideModal
from screens.proposals import ProposalsScreen
from tests.tui.conftest import make_app, settle, wait_until
from tests.tui.store_fixture import ACTORS, build_small
from widgets.header import StoreHeader

AGENT = "agent:claude@laptop"
ANSWERS = {
    "observed": "the memory list stalls when 10k rows load at once",
    "evidence": "audit rows 120-180 show 4 s gaps between list pages",
    "scope": "changes widgets/memory_list.py paging only; the index is untouched",
    "reversible": "revert the commit; the page size is a constant",
    "safety": "no: it only reads through the existing store API",
}
TOPICS = [
    ("cache list rows by page", "reloads every row on each keypress", "keep an LRU of pages"),
    ("explain refused tags inline", "makes agents retry bad tags blindly", "return the rule"),
    ("prefetch proofs for export", "recomputes proofs serially", "reuse checkpoint nodes"),
]
LESSON = {
    "FAILURE": "export kept a purged body in the archive",
    "ROOT CAUSE": "the exporter read a stale snapshot of the blob store",
    "FIX": "read blobs through the purge list at export time",
    "PREVENTION": "run the export test right after a purge",
}
DUP = "Deploys run from the release branch; tag first, then push the build to staging.\n"


def file(store, n: int):
    what, problem, how = TOPICS[n]
    return store.proposals.propose(
        f"Proposal {n}: {what}",
        {
            "PROPOSAL": what,
            "PROBLEM": f"today it {problem}",
            "SOLUTION": f"we {how} instead",
            "BENEFIT": "the workstation stays responsive at 10k memories",
            "CONTEXT": f"observed during review {n}",
        },
        ANSWERS,
        actor=AGENT,
        session=f"s{n}",
        scope=["widgets/memory_list.py"],
    )


def build_proposals(root):
    store = build_small(root)
    store.proposals.lesson("Export after purge", LESSON, actor=AGENT, category="bug-fix")
    made = [file(store, n) for n in range(3)]
    store.put("memories/facts/deploy-a.md", DUP, actor=ACTORS[0])
    store.put("memories/facts/deploy-b.md", DUP.replace("first", "first,"), actor=ACTORS[0])
    maint = store.proposals.maintain(actor=AGENT, stale_days=1e6, session="maint")
    store.wait_index()
    assert [f.filed for f in made] == [True] * 3 and len(maint) == 1
    assert store.proposals.count("pending") == 4
    return store


@pytest.fixture
def prop_store(home):
    store = build_proposals(home / "store")
    yield store
    store.close()


async def open_pane(pilot):
    await settle(pilot)
    await pilot.press("5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ProposalsScreen)
    await wait_until(pilot, lambda: screen.loaded and screen.detail is not None)
    return screen


def detail_text(screen) -> str:
    return str(screen.query_one("#proposal-detail-text").render())


async def test_queue_oldest_first_detail_and_header(prop_store):
    app = make_app(prop_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        rows = screen.plist.rows
        assert [r.title for r in rows[:3]] == [f"Proposal {n}: {TOPICS[n][0]}" for n in range(3)]
        assert rows[3].title.startswith("merge ")
        assert [r.seq for r in rows] == sorted(r.seq for r in rows)
        assert "4 pending" in str(screen.bar.render())
        assert app.header_info is not None and app.header_info.proposals_pending == 4
        assert "4 proposals pending" in str(screen.query_one(StoreHeader).render())
        text = detail_text(screen)
        assert "Gate (" in text and "✓ q:observed" in text and "✓ security" in text
        assert "Duplicates found" in text
        assert "On approval" in text and "- status:pending" in text and "+ status:accepted" in text
        # The maintenance proposal: its near duplicate and the target's diff.
        await pilot.press("G")
        await wait_until(
            pilot, lambda: screen.detail is not None and "merge" in detail_text(screen)
        )
        text = detail_text(screen)
        assert "memories/facts/deploy-b.md" in text and "+ status:deprecated" in text
        assert "near duplicate" in text


async def test_approve_needs_the_typed_slug(prop_store):
    app = make_app(prop_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        path = screen.row.path
        slug = path.rsplit("/", 1)[-1].removesuffix(".md")
        await pilot.press("a")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, DecideModal)
        await pilot.press(*"wrong", "enter")
        await settle(pilot)
        assert app.screen is modal
        assert "nothing was decided" in str(modal.query_one("#decide-error").render())
        assert prop_store.proposals.show(path).status == "pending"
        modal.query_one("#decide-slug").value = slug
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: screen.pending == 3)
        assert prop_store.proposals.show(path).status == "accepted"
        rows = [r for r in prop_store.audit_page(0, 10_000) if r.op == "proposal.decided"]
        assert rows[-1].extra["human"] == "human:tester@ci" and rows[-1].actor == "human:tester@ci"
        assert await wait_until(pilot, lambda: app.header_info.proposals_pending == 3)
        assert await wait_until(pilot, lambda: len(screen.plist.rows) == 3)


async def test_reject_requires_a_reason(prop_store):
    app = make_app(prop_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        path = screen.row.path
        slug = path.rsplit("/", 1)[-1].removesuffix(".md")
        await pilot.press("x")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, DecideModal)
        modal.query_one("#decide-slug").value = slug
        modal.action_ok()
        await settle(pilot)
        assert app.screen is modal
        assert "needs a reason" in str(modal.query_one("#decide-error").render())
        await pilot.press(*"dup of 7", "enter")  # the reason, then enter moves to the slug
        await pilot.press("enter")
        assert await wait_until(pilot, lambda: screen.pending == 3)
        p = prop_store.proposals.show(path)
        assert p.status == "rejected" and p.extra["reason"] == "dup of 7"


async def test_escape_and_defer(prop_store):
    app = make_app(prop_store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        path = screen.row.path
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and prop_store.proposals.show(path).status == "pending"
        before = prop_store.indexed_seq()
        await pilot.press("d")
        assert await wait_until(pilot, lambda: prop_store.indexed_seq() > before)
        await settle(pilot)
        assert prop_store.proposals.show(path).status == "pending"
        rows = [r for r in prop_store.audit_page(0, 10_000) if r.op == "proposal.decided"]
        assert rows[-1].extra["decision"] == "defer" and rows[-1].path == path
        assert screen.pending == 4 and screen.row.path == path


async def test_history_and_lessons(prop_store):
    first = prop_store.proposals.page("pending", 0, 2)
    prop_store.proposals.decide(first[0].path, "accept", actor="human:ana@laptop")
    prop_store.proposals.decide(first[1].path, "reject", actor="human:ana@laptop", reason="no")
    app = make_app(prop_store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: screen.loaded and screen.detail is not None)
        assert screen.view == "decided"
        assert [r.path for r in screen.plist.rows] == [first[0].path, first[1].path]
        text = detail_text(screen)
        assert "Decision" in text and "by human:ana@laptop" in text and "On approval" not in text
        assert "filed by" not in text  # its last writer is the person who decided
        await pilot.press("a")  # no decisions outside the pending view
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("j")
        await wait_until(pilot, lambda: "reason: no" in detail_text(screen))
        await pilot.press("v")
        await wait_until(pilot, lambda: screen.loaded and screen.detail is not None)
        assert screen.view == "lessons"
        titles = [r.title for r in screen.plist.rows]
        assert "Export after purge" in titles
        text = detail_text(screen)
        assert "Pattern" in text and "score 0.50" in text and "PREVENTION" in text


async def test_empty_queue(small_store):
    app = make_app(small_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ProposalsScreen)
        await wait_until(pilot, lambda: screen.loaded)
        assert screen.plist.rows == [] and "nothing pending" in str(screen.bar.render())
        await pilot.press("a", "x", "d")  # nothing to act on: a bell, no dialog
        assert app.screen is screen


def test_ten_thousand_pending_are_read_a_page_at_a_time(home):
    """Keyset paging: the count is the whole queue, a page is at most its limit, and the next
    page starts after the last seq (no OFFSET, never the whole set). The time of the count and
    the first pages at 10 and at 10k is `./dev bench proposals` (pane-open rows)."""
    from core.store import Store

    with Store.init(home / "s10k", allow_temp=True) as store:
        bulk_pending(store, 10_000)
        assert store.proposals.count("pending") == 10_000
        first = store.proposals.page("pending", 0, 200)
        second = store.proposals.page("pending", first[-1].seq, 200)
        assert len(first) == len(second) == 200
        assert first[-1].seq < second[0].seq
        assert [r.title for r in first[:2]] == ["p 00000", "p 00001"]
        assert second[0].title == "p 00200"


def bulk_pending(store, n: int) -> None:
    from core.proposals import PROPOSALS
    from core.proposals.model import submit
    from core.write.intents import Note

    intents = [
        store.put_intent(
            f"{PROPOSALS}p{i:05d}.md",
            f"PROPOSAL: change {i}\n",
            False,
            "",
            title=f"p {i:05d}",
            category="architecture",
            tags=["type:proposal", "status:pending"],
        )
        for i in range(n)
    ]
    filed = [Note("proposal.filed", it.path, "", {}) for it in intents]  # as core.proposals files
    for k in range(0, n, 1000):
        submit(store, [*intents[k : k + 1000], *filed[k : k + 1000]], AGENT)
    store.wait_index()


async def test_the_pane_reads_a_page_at_a_time(home):
    """3,000 pending: the pane holds one page after opening, the count is the whole queue, and
    G pages on (by key) to the newest proposal."""
    from core.store import Store

    with Store.init(home / "big", allow_temp=True) as store:
        bulk_pending(store, 3000)
        app = make_app(store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_pane(pilot)
            assert screen.plist.total == 3000 and "3,000 pending" in str(screen.bar.render())
            assert len(screen.plist.rows) < 1000
            assert screen.row.title == "p 00000"
            await pilot.press("G")
            assert await wait_until(
                pilot, lambda: screen.row is not None and screen.row.title == "p 02999"
            )
            assert [r.seq for r in screen.plist.rows] == sorted(r.seq for r in screen.plist.rows)
            assert len({r.path for r in screen.plist.rows}) == 3000
