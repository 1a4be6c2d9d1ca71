"""Pane 2, the memory browser: Pilot tests against a real (small demo) store, and snapshots.

Every action is driven end to end through the UI and checked in the store itself.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pytest
from textual.widgets import Button, Input, Markdown, Select, TextArea

from brain_tui.app import BrainApp
from brain_tui.demo import build_demo
from core.errors import NotFound
from core.store import Store
from screens.memories import MemoriesScreen
from screens.memories.editor import EditorModal
from screens.memories.history import HistoryScreen
from screens.memories.modals import PurgeModal
from screens.memories.view import MemoryViewScreen
from widgets import memory_list
from widgets.diff_view import DiffView
from widgets.kind_tree import KindTree, Scope

NOW = 1_780_000_000 * 10**9  # the demo's simulated weeks end here (2026-05-28)
ACTOR = "human:tester@ci"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        root = tmp_path_factory.mktemp("built") / "demo"
        build_demo(root, size="small", clock=lambda: NOW, rng=random.Random(7), allow_temp=True)
    return root


@pytest.fixture
def store(built, home, monkeypatch):
    """A private copy of the demo (tests write to it), shown as ~/demo in the header.
    `home` (tests/tui/conftest.py) puts HOME and the XDG folders under tmp_path."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setattr(TextArea, "cursor_blink", False)
    root = home / "demo"
    shutil.copytree(built, root)
    s = Store.open(root, allow_temp=True, clock=lambda: NOW)
    yield s
    s.close()


def make_app(store: Store, **kw) -> BrainApp:
    kw.setdefault("services", False)
    app = BrainApp(store=store, now=lambda: NOW, watch=False, timings=False, actor=ACTOR, **kw)
    app.animation_level = "none"
    return app


async def settle(pilot, rounds: int = 3) -> None:
    for _ in range(rounds):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_pane(pilot) -> MemoriesScreen:
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MemoriesScreen)
    return screen


def accesses(store: Store, path: str) -> int:
    store.wait_index()
    hit = store.reader.conn.execute("SELECT count FROM access WHERE path = ?", (path,)).fetchone()
    return hit[0] if hit else 0


def first_active(screen: MemoriesScreen) -> int:
    return next(i for i, r in enumerate(screen.list.rows) if r.state == "active")


# -- browsing ---------------------------------------------------------------------------------


async def test_list_preview_and_open_journals_only_on_enter(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        lst = screen.list
        assert len(lst.rows) == len(store.memories(limit=1000))
        target = next(i for i, r in enumerate(lst.rows) if i >= 2 and r.state == "active")
        await pilot.press(*["j"] * target)
        await settle(pilot)
        row = lst.current()
        assert row is not None and lst.cursor == target
        before = accesses(store, row.path)
        preview = screen.query_one("#mem-preview", Markdown)
        assert row.title in preview.source  # the preview shows the body...
        assert accesses(store, row.path) == before  # ...without journaling an access
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MemoryViewScreen)
        assert app.screen.memory.path == row.path
        assert accesses(store, row.path) == before + 1
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MemoriesScreen)


async def test_paging_by_key_reaches_the_end(store, monkeypatch):
    monkeypatch.setattr(memory_list, "PAGE", 20)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        lst = screen.list
        assert len(lst.rows) < 100  # only what is near the viewport was fetched
        every = [r.path for r in store.memories(limit=1000)]
        assert lst.total == len(every) > 100
        await pilot.press("G")
        await settle(pilot, 6)
        # The last page by key, from the end: not every page from the first.
        assert lst.cursor == len(every) - 1 and lst.current().path == every[-1]
        assert len(lst.rows) <= 100  # the pages near each end (PREFETCH + viewport), not all
        assert [r.path for r in lst.model.tail] == every[-len(lst.model.tail) :]
        await pilot.press("g")
        assert lst.cursor == 0 and lst.current().path == every[0]
        for _ in range(20):  # page down through the gap: both ends meet and join
            await pilot.press("pagedown", "pagedown", "pagedown")
            await settle(pilot, 3)
        while lst.more:
            lst.cursor = len(lst.model.head) + 1
            await settle(pilot, 3)
        assert [r.path for r in lst.rows] == every


async def test_tree_counts_and_folder_filter(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        tree = screen.query_one(KindTree)
        node = next(n for n in tree.root.children if n.data == Scope("facts"))
        active = sum(1 for r in store.memories(limit=1000, kind="facts") if r.state == "active")
        assert str(node.label).endswith(f" {active}")
        tree.select_node(node)
        await settle(pilot)
        assert screen.list.rows and {r.kind for r in screen.list.rows} == {"facts"}
        sub = next(iter(node.children))
        tree.select_node(sub)
        await settle(pilot)
        assert sub.data is not None and sub.data.folder is not None
        assert all(r.folder.startswith(sub.data.folder) for r in screen.list.rows)


async def test_search_replaces_the_list_and_escape_restores_it(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        total = len(screen.list.rows)
        await pilot.press("slash")
        assert screen.query_one("#mem-search", Input).has_focus
        await pilot.press(*"retry", "enter")
        await settle(pilot)
        hits = store.search("retry", limit=200)
        assert [r.path for r in screen.list.rows] == [h.path for h in hits]
        assert 0 < len(hits) < total
        await pilot.press("escape")
        await settle(pilot)
        assert len(screen.list.rows) == total
        assert not screen.query_text


# -- actions ----------------------------------------------------------------------------------


async def test_new_memory_with_the_built_in_editor(store):
    app = make_app(store)
    path = "memories/facts/tooling/tui-made-this.md"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EditorModal)
        modal.query_one("#editor-path", Input).value = path
        modal.query_one("#editor-title", Input).value = "Made in the TUI"
        modal.query_one("#editor-body", TextArea).load_text("# Made in the TUI\n\nHello.\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        mem = store.view(path)
        assert mem.text == "# Made in the TUI\n\nHello.\n"
        assert mem.sidecar.title == "Made in the TUI" and mem.sidecar.actor == ACTOR
        assert app.screen.list.current().path == path  # the list shows the new memory


async def test_edit_writes_a_new_version_and_history_diffs_it(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        path = screen.list.current().path
        puts = sum(1 for r in store.history(path) if r.op == "put")
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EditorModal)
        area = modal.query_one("#editor-body", TextArea)
        area.load_text(area.text + "\nAdded from the TUI.\n")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert store.view(path).text.endswith("Added from the TUI.\n")
        assert sum(1 for r in store.history(path) if r.op == "put") == puts + 1
        await pilot.press("h")
        await settle(pilot)
        hist = app.screen
        assert isinstance(hist, HistoryScreen)
        await pilot.press("d")
        await settle(pilot)
        text = str(hist.query_one(DiffView).query_one("#diff-text").render())
        assert "+Added from the TUI." in text


async def test_external_editor_saves_a_new_version(store, tmp_path, monkeypatch):
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write('From $EDITOR.\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        path = screen.list.current().path
        await pilot.press("E")
        await settle(pilot)
        assert store.view(path).text.endswith("From $EDITOR.\n")


async def test_move(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        src = screen.list.current().path
        dst = src.rsplit("/", 1)[0] + "/moved-by-the-tui.md"
        await pilot.press("m")
        await settle(pilot)
        app.screen.query_one("#move-dest", Input).value = dst
        await pilot.press("enter")
        await settle(pilot)
        assert store.view(dst).sidecar.state == "active"
        with pytest.raises(NotFound):
            store.view(src)
        assert store.history(dst)[-1].extra["from"] == src  # beside extra.meta
        assert screen.list.current().path == dst


async def test_tombstone_asks_then_tombstones(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        path = screen.list.current().path
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("escape")  # cancelled: nothing happens
        await settle(pilot)
        assert store.view(path).sidecar.state == "active"
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert store.view(path).sidecar.state == "tombstoned"
        assert store.history(path)[-1].extra == {"mode": "tombstone"}
        assert screen.list.current().state == "tombstoned"


async def test_purge_needs_a_listed_reason_and_the_typed_slug(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        path = screen.list.current().path
        slug = path.rsplit("/", 1)[-1][:-3]
        await pilot.press("P")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, PurgeModal)
        text = str(modal.query_one("#purge-warning").render())
        assert (
            "the erasure fact is permanent: the audit row stays, the content is destroyed" in text
        )
        ok = modal.query_one("#purge-ok", Button)
        modal.query_one("#purge-slug", Input).value = slug
        await pilot.pause()
        assert ok.disabled  # no reason chosen yet
        modal.query_one("#purge-reason", Select).value = "user-request"
        modal.query_one("#purge-slug", Input).value = slug[:-1]
        await pilot.pause()
        assert ok.disabled  # slug not typed exactly
        modal.query_one("#purge-slug", Input).value = slug
        modal.query_one("#purge-ticket", Input).value = "dsr-42"
        await pilot.pause()
        assert not ok.disabled
        await pilot.click("#purge-ok")
        await settle(pilot)
        with pytest.raises(NotFound):
            store.view(path)
        row = store.history(path)[-1]
        assert row.op == "delete" and row.actor == ACTOR
        assert row.extra["mode"] == "purge" and row.extra["reason"] == "user-request"
        assert row.extra["ticket"] == "dsr-42" and row.extra["destroyed"]
        assert path not in [r.path for r in screen.list.rows]


async def test_copy_path_and_errors_are_notifications(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        src = screen.list.current().path
        await pilot.press("y")
        assert app.clipboard == src
        # Moving onto an existing memory fails in the engine: a notification, not a crash.
        other = next(
            r.path
            for r in screen.list.rows
            if r.path != src and r.kind == screen.list.current().kind
        )
        await pilot.press("m")
        await settle(pilot)
        app.screen.query_one("#move-dest", Input).value = other
        await pilot.press("enter")
        await settle(pilot)
        assert any("already exists" in e for e in app.errors)
        assert isinstance(app.screen, MemoriesScreen)
        assert store.view(src).sidecar.state == "active"


# -- snapshots --------------------------------------------------------------------------------


async def _to_memories(pilot) -> None:
    await open_pane(pilot)
    await pilot.press("j", "j")
    await settle(pilot)


def test_snapshot_memories_80x24(store, snap_compare):
    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=_to_memories)


def test_snapshot_memories_120x40(store, snap_compare):
    assert snap_compare(make_app(store), terminal_size=(120, 40), run_before=_to_memories)


async def _to_purge(pilot) -> None:
    await _to_memories(pilot)
    await pilot.press("P")
    await settle(pilot)


def test_snapshot_purge_modal_80x24(store, snap_compare):
    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=_to_purge)


async def _to_diff(pilot) -> None:
    await _to_memories(pilot)
    screen = pilot.app.screen
    store = pilot.app.store

    def body_changed(path: str) -> bool:
        puts = [h.seq for h in store.history(path) if h.op == "put"]
        if len(puts) < 3:
            return False
        return store.version(path, puts[-1]).body != store.version(path, puts[-2]).body

    # The first memory whose newest edit changed its body, so the diff has lines to show.
    screen.list.cursor = next(
        i for i, r in enumerate(screen.list.rows) if r.state == "active" and body_changed(r.path)
    )
    await settle(pilot)
    await pilot.press("h")
    await settle(pilot)
    await pilot.press("d")
    await settle(pilot)


def test_snapshot_history_diff_80x24(store, snap_compare):
    assert snap_compare(make_app(store), terminal_size=(80, 24), run_before=_to_diff)


async def _to_search_typing(pilot) -> None:
    """After `/ query enter` the box keeps focus (its border lit) and shows the results."""
    await open_pane(pilot)
    await pilot.press("slash", *"retry", "enter")
    await settle(pilot)


async def _to_discard_draft(pilot) -> None:
    await open_pane(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*"draft", "escape")
    await settle(pilot)


async def _to_preview_focus(pilot) -> None:
    await _to_memories(pilot)
    await pilot.press("tab")  # list -> preview: the focus bar moves with it
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize(
    "steps",
    [_to_search_typing, _to_discard_draft, _to_preview_focus],
    ids=["search", "discard", "preview"],
)
def test_snapshot_focus_and_input(store, snap_compare, size, steps):
    assert snap_compare(make_app(store), terminal_size=size, run_before=steps)


# -- focus and input (issue 12) ---------------------------------------------------------------


async def test_esc_with_a_typed_draft_asks_before_discarding(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, EditorModal)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        await pilot.press(*"draft-note.md")
        await pilot.press("escape")
        await settle(pilot)
        from screens.confirm import ConfirmModal

        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")  # keep editing: the draft is still there
        await settle(pilot)
        assert app.screen is editor
        assert editor.query_one("#editor-path", Input).value.endswith("draft-note.md")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")  # discard
        await settle(pilot)
        assert app.screen is screen


async def test_editor_key_works_from_every_field(store, tmp_path, monkeypatch):
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\nwith open(sys.argv[1], 'a') as f:\n    f.write('From $EDITOR.\\n')\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane(pilot)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        body = editor.query_one("#editor-body", TextArea)
        for field in ("#editor-path", "#editor-title", "#editor-body"):
            editor.query_one(field).focus()
            await pilot.pause()
            before = body.text.count("From $EDITOR.")
            await pilot.press("ctrl+e")
            await settle(pilot)
            assert body.text.count("From $EDITOR.") == before + 1, field


async def test_typed_letters_after_a_search_edit_the_query(store):
    """`/ query enter` keeps focus in the box: `h` types, it does not open History."""
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        await pilot.press("slash", *"retry", "enter")
        await settle(pilot)
        box = screen.query_one("#mem-search", Input)
        assert box.has_focus and screen.query_text == "retry"
        await pilot.press("h")
        await settle(pilot)
        assert app.screen is screen and box.value == "retryh"
        await pilot.press("down")  # to the results
        assert screen.list.has_focus
        await pilot.press("escape")
        await settle(pilot)
        assert screen.query_text == "" and screen.list.has_focus


async def test_tab_stops_only_where_keys_work(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        stops = []
        for _ in range(4):
            await pilot.press("tab")
            await pilot.pause()
            stops.append(app.focused)
        for widget in stops:  # every stop answers keys of its own, listed in `?`
            own = [b for b in type(widget).BINDINGS if getattr(b, "id", None)]
            assert own, f"tab stopped on {widget!r}, which has no keys"
        # the preview scrolls with j like the list moves with it
        preview = screen.query_one("#mem-preview-box")
        preview.focus()
        await pilot.pause()
        await pilot.press("G")
        await pilot.pause()
        assert preview.scroll_y == preview.max_scroll_y


async def test_the_focused_panel_has_a_visible_bar(store):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_pane(pilot)
        tree = screen.query_one(KindTree)
        focused = screen.list.styles.border_left[1]
        assert screen.list.has_focus and tree.styles.border_left[1] != focused
        assert focused.hex.upper() == app.current_theme.to_color_system().generate()["accent"]
        tree.focus()
        await pilot.pause()
        assert tree.styles.border_left[1] == focused
        assert screen.list.styles.border_left[1] != focused


async def test_history_across_a_move_diffs_any_two_versions(store):
    """The put before a move has no archived copy (the move carries its body): it can still
    be marked and diffed, against the move and against later versions."""
    moves = [r for r in store.tail(1, limit=100_000) if r.op == "move"]
    path = next(m.path for m in moves if store.history(m.path)[-1].op != "delete")
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        app.push_screen(HistoryScreen(path))
        await settle(pilot)
        hist = app.screen
        assert isinstance(hist, HistoryScreen)
        versions = [r for r in hist.rows if r.op in ("put", "move")]
        assert any(r.op == "put" for r in versions) and any(r.op == "move" for r in versions)
        assert all(r.seq in hist.bodies for r in versions)  # every version can be compared
        first_put = next(i for i, r in enumerate(hist.rows) if r.op == "put")
        table = hist.query_one("#history-table")
        table.move_cursor(row=first_put)
        await pilot.press("space")  # mark the put
        table.move_cursor(row=len(hist.rows) - 1)
        await pilot.press("d")
        await settle(pilot)
        text = str(hist.query_one(DiffView).query_one("#diff-text").render())
        old, new = hist.rows[first_put].seq, hist.rows[-1].seq
        assert f"seq {old} → seq {new}" in text
        assert app.errors == [] and screen is not None
