"""One virtual list under both lists: `G` by key in O(1) pages, two-line cursor repaints."""

from __future__ import annotations

import pytest

from core.store import Store
from screens.memories import MemoriesScreen
from tests.tui.conftest import make_app, settle
from tests.tui.store_fixture import build_rows
from widgets import memory_list
from widgets.audit_list import AuditList
from widgets.memory_list import MemoryList
from widgets.virtual_list import VirtualList

ROWS = 5_000


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    store = build_rows(tmp_path_factory.mktemp("big") / "store", ROWS)
    yield store
    store.close()


def count_calls(monkeypatch, store: Store, name: str) -> list[tuple]:
    calls: list[tuple] = []
    real = getattr(Store, name)

    def counted(self, *a, **kw):
        if self is store:
            calls.append((a, kw))
        return real(self, *a, **kw)

    monkeypatch.setattr(Store, name, counted)
    return calls


def count_lines(monkeypatch, lst: VirtualList) -> list[int]:
    drawn: list[int] = []
    real = lst.render_line

    def counted(y: int):
        drawn.append(y)
        return real(y)

    monkeypatch.setattr(lst, "render_line", counted)
    return drawn


async def test_G_in_a_5000_row_audit_tail_reads_O1_pages(big, monkeypatch):
    app = make_app(big)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        lst = app.screen.query_one(AuditList)
        assert lst.total >= ROWS
        await pilot.press("g")
        for _ in range(3):  # far from both ends: the pages near the start are cached
            await pilot.press("pagedown")
        await settle(pilot)
        pages = count_calls(monkeypatch, big, "audit_page")
        await pilot.press("G")
        await settle(pilot)
        assert lst.cursor == lst.total - 1 and lst.current_row().seq == lst.total
        assert len(pages) <= 3, pages  # the last page (and its neighbour), never a walk
        assert all(not kw.get("descending") for _a, kw in pages)


async def test_G_in_a_5000_memory_list_fetches_the_last_page_by_key(big, monkeypatch):
    monkeypatch.setattr(memory_list, "PAGE", 100)
    app = make_app(big)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MemoriesScreen)
        lst = screen.list
        assert lst.total == ROWS and len(lst.rows) <= 200
        pages = count_calls(monkeypatch, big, "memory_page")
        await pilot.press("G")
        await settle(pilot)
        assert lst.cursor == ROWS - 1 and lst.current().path == f"memories/facts/f{ROWS - 1:05d}.md"
        assert len(pages) <= 2, pages
        assert pages[0][1].get("descending") is True and pages[0][0][0] == ""
        assert len(lst.rows) <= 300  # the two ends, not every page between


@pytest.mark.parametrize("pane", ["1", "2"])
async def test_moving_the_cursor_repaints_two_lines_not_the_screen(big, monkeypatch, pane):
    app = make_app(big)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(pane)
        await settle(pilot)
        lst = app.screen.query_one(AuditList if pane == "1" else MemoryList)
        lst.focus()
        await pilot.press("g")
        await settle(pilot)
        visible = lst.scrollable_content_region.height
        assert visible > 8  # a whole repaint would draw them all
        drawn = count_lines(monkeypatch, lst)
        await pilot.press("j")
        await settle(pilot)
        assert lst.cursor == 1
        assert 0 < len(drawn) <= 4, drawn  # the old and the new cursor line
