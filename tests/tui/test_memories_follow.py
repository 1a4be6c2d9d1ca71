"""The memory browser follows writes made outside it (the CLI, another process, pane 4):
the tree's counts, the list (cursor kept on its path), the tiers and the preview are read
again when the index head moves, a burst at most a few times, and on return from another pane.
A purged memory's text leaves the preview."""

from __future__ import annotations

import time
from collections import Counter

from textual.widgets import Markdown, Static

from screens.memories import MemoriesScreen
from screens.memories.preview import PreviewPane
from tests.tui import test_memories as mem
from tests.tui.conftest import wait_until
from tests.tui.test_browser_parts import record_workers
from tests.tui.test_memories import ACTOR, first_active, make_app, open_pane, settle
from widgets.kind_tree import KindTree, Scope

built = mem.built  # the memory browser's fixtures: a demo store, a private copy per test
store = mem.store


def preview_text(screen: MemoriesScreen) -> str:
    """Everything the preview shows: its meta lines, the Markdown source and the plain text."""
    meta = str(screen.query_one("#mem-meta", Static).render())
    md = screen.query_one("#mem-preview", Markdown).source
    texts = [str(t.render()) for t in screen.query("#mem-preview-text").results(Static)]
    return "\n".join((meta, md, *texts))


def kind_count(screen: MemoriesScreen, kind: str) -> int:
    tree = screen.query_one(KindTree)
    node = next(n for n in tree.root.children if n.data == Scope(kind))
    return int(str(node.label).rsplit(" ", 1)[-1].replace(",", ""))


async def put_cursor_on(pilot, screen: MemoriesScreen, index: int) -> str:
    screen.list.cursor = index
    await settle(pilot)
    row = screen.list.current()
    assert row is not None
    return row.path


async def test_a_purge_elsewhere_empties_the_preview_and_updates_list_and_counts(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        i = first_active(screen)
        path = await put_cursor_on(pilot, screen, i)
        body = store.view(path).body.decode()
        line = next(ln for ln in body.splitlines() if len(ln) > 20 and not ln.startswith("-"))
        assert line in preview_text(screen)
        kind = screen.list.current().kind
        before = kind_count(screen, kind)

        # `brain delete --purge` in a terminal: this pane wrote nothing, the index head moves.
        store.delete(path, actor=ACTOR, mode="purge", reason="user-request")
        store.wait_index()
        app.index_head = store.indexed_seq()

        # A purged memory leaves the index: the cursor stays where it was, on the next row.
        assert await wait_until(pilot, lambda: path not in [r.path for r in screen.list.rows])
        assert await wait_until(pilot, lambda: line not in preview_text(screen))
        await settle(pilot)
        assert screen.list.cursor == i
        assert screen.query_one(PreviewPane).path == screen.list.current().path != path
        assert path not in preview_text(screen)
        assert await wait_until(pilot, lambda: kind_count(screen, kind) == before - 1)


async def test_the_cursor_keeps_its_path_when_rows_arrive_before_it(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        i = first_active(screen) + 3
        path = await put_cursor_on(pilot, screen, i)
        total = screen.list.total
        first = screen.list.rows[0].path
        for n in range(3):  # paths that sort before every row listed
            store.put(f"memories/{first.split('/')[1]}/000-new-{n}.md", f"new {n}", actor=ACTOR)
        store.wait_index()
        app.index_head = store.indexed_seq()
        assert await wait_until(pilot, lambda: screen.list.total == total + 3)
        await settle(pilot)
        assert screen.list.cursor == i + 3
        assert screen.list.current().path == path
        assert screen.query_one(PreviewPane).path == path


async def test_a_burst_of_writes_is_read_a_few_times_not_once_a_row(store, monkeypatch):
    started = record_workers(monkeypatch)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        total = screen.list.total
        started.clear()
        t0 = time.monotonic()
        for n in range(60):  # another process's puts, the head moving after each
            store.put(f"memories/facts/burst-{n:03d}.md", f"burst {n}", actor=ACTOR)
            store.wait_index()
            app.index_head = store.indexed_seq()
            await pilot.pause(0.01)
        elapsed = time.monotonic() - t0
        assert await wait_until(pilot, lambda: screen.list.total == total + 60)
        await pilot.pause(0.7)
        await settle(pilot)
        reads = Counter(started)
        most = 2 + elapsed / 0.5  # REFRESH_S apart, and one trailing read
        assert 1 <= reads["mem-counts"] <= most, (reads, elapsed)
        assert reads["mem-tiers"] <= most and reads["memory-pages"] <= most + 3, reads


async def test_a_change_made_while_another_pane_was_shown_is_read_on_return(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        path = await put_cursor_on(pilot, screen, first_active(screen))
        await pilot.press("1")
        await settle(pilot)
        store.delete(path, actor=ACTOR, mode="tombstone")
        store.wait_index()
        app.index_head = store.indexed_seq()
        await settle(pilot)
        await pilot.press("2")
        assert app.screen is screen

        def tombstoned() -> bool:
            row = screen.list.current()
            return row is not None and row.path == path and row.state == "tombstoned"

        assert await wait_until(pilot, tombstoned)
        assert await wait_until(pilot, lambda: "tombstoned" in preview_text(screen))


async def test_escape_with_nothing_to_clear_reads_the_pane_again(store):
    """The head watcher may be off (or failed): esc reads what the pane shows again."""
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        path = await put_cursor_on(pilot, screen, first_active(screen))
        store.delete(path, actor=ACTOR, mode="tombstone")
        store.wait_index()
        await pilot.press("escape")
        assert await wait_until(pilot, lambda: screen.list.current().state == "tombstoned")
        assert await wait_until(pilot, lambda: "tombstoned" in preview_text(screen))


async def test_search_results_are_searched_again_with_the_cursor_kept(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("slash", *"retry", "enter")
        await settle(pilot)
        assert len(screen.list.rows) > 3
        keep = await put_cursor_on(pilot, screen, 2)
        gone = screen.list.row_at(1).path
        store.delete(gone, actor=ACTOR, mode="purge", reason="user-request")
        store.wait_index()
        app.index_head = store.indexed_seq()
        assert await wait_until(pilot, lambda: gone not in [r.path for r in screen.list.rows])
        await settle(pilot)
        assert screen.query_text == "retry"
        assert screen.list.current().path == keep and screen.list.cursor == 1
        assert screen.query_one(PreviewPane).path == keep


def head_moves_as_the_app_does(app, store) -> None:
    """The follower's order (brain_tui.follow): the newest rows first, then the head."""
    store.wait_index()
    app.index_tail = store.audit_page(0, 10_000)[-50:]
    app.index_head = store.indexed_seq()


def record_rereads(screen) -> list[str]:
    calls: list[str] = []
    real = screen._reread

    def reread(path: str) -> None:
        calls.append(path)
        real(path)

    screen._reread = reread
    return calls


async def test_the_full_view_and_history_follow_a_new_version_and_a_purge(store):
    """`enter` opens a memory, `h` its history: a put elsewhere shows there, and a purge
    elsewhere takes the text off both screens (it was displayed from what they held)."""
    from screens.memories.history import HistoryScreen
    from screens.memories.view import MemoryViewScreen
    from widgets.diff_view import DiffView

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        path = await put_cursor_on(pilot, screen, first_active(screen))
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, MemoryViewScreen)

        def shown() -> str:
            parts = [str(view.query_one("#view-meta", Static).render())]
            parts += [m.source for m in view.query(Markdown).results(Markdown)]
            parts += [str(s.render()) for s in view.query("#view-body Static").results(Static)]
            return "\n".join(parts)

        store.put("memories/facts/unrelated-elsewhere.md", "another memory\n", actor=ACTOR)
        rereads = record_rereads(view)
        head_moves_as_the_app_does(app, store)
        await settle(pilot)
        assert rereads == []  # a row about another memory: nothing read again

        store.put(path, "A second version, written in a terminal.\n", actor=ACTOR)
        head_moves_as_the_app_does(app, store)
        assert await wait_until(pilot, lambda: "A second version" in shown())

        await pilot.press("h")
        await settle(pilot)
        hist = app.screen
        assert isinstance(hist, HistoryScreen)
        await pilot.press("d")  # the new version against the one before
        await settle(pilot)
        diff = hist.query_one(DiffView).query_one("#diff-text", Static)
        assert "A second version" in str(diff.render())

        store.delete(path, actor=ACTOR, mode="purge", reason="user-request")
        head_moves_as_the_app_does(app, store)
        assert await wait_until(pilot, lambda: "A second version" not in str(diff.render()))
        assert "purged" in str(diff.render()) and not hist.bodies
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is view
        assert await wait_until(pilot, lambda: "A second version" not in shown())
        assert "purged" in shown() and view.memory.body == b""
