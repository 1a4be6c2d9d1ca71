"""The memory browser as composed parts: reads per own write, the debounced preview, and the
layout at 80x24 (list rows, title width, footers)."""

from __future__ import annotations

from collections import Counter

import pytest
from textual.worker_manager import WorkerManager

from brain_tui.app import BrainApp
from screens.memories.preview import PreviewPane
from tests.tui import test_memories as mem
from tests.tui.conftest import wait_until
from tests.tui.test_memories import ACTOR, NOW, first_active, make_app, open_pane, settle
from widgets.key_footer import KeyFooter
from widgets.memory_format import columns

built = mem.built  # the memory browser's fixtures: a demo store, a private copy per test
store = mem.store


def record_workers(monkeypatch) -> list[str]:
    """The group of every worker started from here on (Textual's public add_worker)."""
    started: list[str] = []
    add = WorkerManager.add_worker

    def recording(self, worker, start=True, exclusive=True):
        started.append(worker.group)
        return add(self, worker, start=start, exclusive=exclusive)

    monkeypatch.setattr(WorkerManager, "add_worker", recording)
    return started


async def test_one_own_write_reads_each_thing_once(store, monkeypatch):
    started = record_workers(monkeypatch)
    app = BrainApp(store=store, now=lambda: NOW, timings=False, actor=ACTOR, services=False)
    app.animation_level = "none"  # and the HEAD watcher on: it sees our own write too
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        watcher = app.follow.watcher
        assert await wait_until(pilot, lambda: watcher is not None and watcher.ready.is_set())
        screen.list.cursor = first_active(screen)
        await settle(pilot)
        await pilot.pause(1.2)  # past the state's once-a-second throttle
        await settle(pilot)
        head = store.state().head_seq
        started.clear()
        await pilot.press("p")  # pin: one write (a tier.changed row)
        assert await wait_until(pilot, lambda: app.index_head > head)
        await pilot.pause(1.5)  # the watcher's debounce, and any trailing state read
        await settle(pilot)
        reads = Counter(g for g in started if g not in ("mem-write", "freeze"))
        assert reads["state"] == 1, reads  # the header, once (not again for the HEAD move)
        assert reads["tail-head"] == 1, reads  # the tail's newest rows, once
        assert reads["mem-counts"] == 1 and reads["mem-tiers"] == 1, reads
        assert reads["memory-pages"] <= 1 and reads["mem-preview"] <= 1, reads
        assert sum(reads.values()) <= 6, reads
        assert screen.list.current().pinned


async def test_the_preview_does_not_read_every_row_the_cursor_passes(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        pane = screen.query_one(PreviewPane)
        rows = screen.list.rows[:20]
        before = pane.reads
        for row in rows:  # a cursor moving faster than a read: twenty rows in one tick
            pane.show(row)
        await pilot.pause(0.3)
        await settle(pilot)
        assert pane.reads - before <= 2  # at once (if idle), then the newest when it rests
        assert pane.path == rows[-1].path
        assert rows[-1].path in str(screen.query_one("#mem-meta").render())
        before = pane.reads
        await pilot.press("j")  # a cursor at rest loads at once
        await pilot.pause(0.2)
        await settle(pilot)
        assert pane.reads - before == 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_list_shows_seven_rows_and_titles_are_wide(store, size):
    app = make_app(store)
    async with app.run_test(size=size) as pilot:
        screen = await open_pane(pilot)
        lst = screen.list
        assert lst.scrollable_content_region.height - 1 >= (7 if size[1] == 24 else 14)
        cols = {c[0]: c[2] for c in columns(lst.scrollable_content_region.width)}
        assert cols["title"] > (22 if size[0] == 80 else 40)
        assert ("sync" in cols) == (size[0] > 80)  # the preview's meta line has it at 80


async def test_footers_fit_80_columns_with_help_shown(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        for pane in ("1", "2", "3"):
            await settle(pilot)
            await pilot.press(pane)
            await settle(pilot)
            footer = app.screen.query_one(KeyFooter)
            text = footer.content_for(80).plain
            assert len(text) <= 80 and "? Help" in text, (pane, text)
            shown = [b.description for _k, b, _e in footer.entries()[0] if b.description in text]
            assert len(shown) >= 3, (pane, text)  # whole entries: the most useful keys lead
        await pilot.press("2", "slash")  # a text field has the focus: `?` types itself
        await settle(pilot)
        text = app.screen.query_one(KeyFooter).content_for(80).plain
        assert "f1 help" in text.lower() and "?" not in text, text
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"


async def test_keys_typed_right_after_slash_go_to_the_query(store):
    """`/retry enter` in one burst (a paste, tmux send-keys, a fast typist): the letters that
    arrive before the focus reaches the search box are the query's, never list commands."""
    from textual import events

    from screens.memories.search import SearchBox

    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.focus()
        await settle(pilot)
        burst = [("slash", "/")] + [(c, c) for c in "retry"] + [("enter", None)]
        for key, char in burst:  # queued together: no pause between them
            app.post_message(events.Key(key, char))
        await pilot.pause(0.3)
        await settle(pilot)
        box = screen.query_one(SearchBox)
        assert box.value == "retry"
        assert app.screen is screen  # `e` did not open the editor, `r` ran nothing
        assert app.focused is box
        assert screen.query_text == "retry"
        await pilot.press("s")  # typing on extends the query: the type-ahead is not selected
        assert box.value == "retrys"
