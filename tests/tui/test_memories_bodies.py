"""The memory browser with bodies that are hard to show: a 5 MB one (its start, as plain text,
with a note; fast), a damaged sidecar (the engine's words), the old body gone at once when
the cursor moves, an open dropped when the person has left; and the header's "1 memory".
Editing a 5 MB body: the built-in editor refuses it (a TextArea froze the UI for seconds on
it), $EDITOR takes it, from the list (`E`) and from the editor dialog (`ctrl+e`)."""

from __future__ import annotations

import sys
import threading
import time

from textual.widgets import Input, Markdown, Static, TextArea

from core.layout import sidecar_path
from core.store import Store
from screens.memories.editor import EDIT_MAX, EditorModal
from screens.memories.view import SHOWN_MAX, MemoryViewScreen
from tests.tui import test_memories as mem
from tests.tui.conftest import wait_until
from tests.tui.store_fixture import fixed_clock, fixed_rng
from tests.tui.test_memories import ACTOR, first_active, make_app, open_pane, settle
from tests.tui.test_memories_follow import preview_text
from tests.tui.test_tiers_semantic import record_notes
from widgets.header import StoreHeader

built = mem.built  # the memory browser's fixtures: a demo store, a private copy per test
store = mem.store

BIG = "memories/facts/big.md"


def big_body() -> str:
    line = "A line of a very long memory, repeated until it is five megabytes long.\n"
    return "---\ntitle: Big\n---\n" + line * (5 * 1024 * 1024 // len(line))


async def cursor_to(pilot, screen, path: str) -> None:
    await settle(pilot)
    index = next(i for i, r in enumerate(screen.list.rows) if r.path == path)
    screen.list.cursor = index
    await settle(pilot)


async def test_a_5mb_body_shows_its_start_as_plain_text_with_a_note(store):
    store.put(BIG, big_body(), actor=ACTOR)
    store.wait_index()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        t0 = time.monotonic()
        await cursor_to(pilot, screen, BIG)
        text = screen.query_one("#mem-preview-text", Static)
        assert await wait_until(pilot, lambda: "5.0 MB" in str(text.render()), timeout=5)
        shown = str(text.render())
        assert "first 64 KB of 5.0 MB" in shown and f"brain view {BIG}" in shown
        assert len(shown) < SHOWN_MAX + 500  # the start only
        assert screen.query_one("#mem-preview", Markdown).source == ""
        assert not screen.query_one("#mem-preview", Markdown).display
        assert time.monotonic() - t0 < 5  # was ~5 s for the preview alone, 1 GB of memory

        await pilot.press("enter")  # the full view: the same start, not 5 MB of Markdown
        assert await wait_until(pilot, lambda: isinstance(app.screen, MemoryViewScreen), 5)
        await settle(pilot)
        view = app.screen
        assert not view.query("#view-markdown")
        body = str(view.query_one("#view-text", Static).render())
        assert "first 64 KB of 5.0 MB" in body and len(body) < SHOWN_MAX + 500
        assert time.monotonic() - t0 < 10  # was ~13 s for enter

        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("k")  # back to a short memory: Markdown again
        await settle(pilot)
        assert screen.query_one("#mem-preview", Markdown).display
        assert not text.display


def unfronted(body: str) -> str:
    """The body as stored: its frontmatter (the title) goes to the sidecar."""
    return body.removeprefix("---\ntitle: Big\n---\n")


def editor_script(tmp_path, monkeypatch, first: str = "") -> None:
    """$EDITOR: writes `first` into an empty file, else appends a line."""
    src = tmp_path / "first.md"
    src.write_text(first)
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys\n"
        f"first = open({str(src)!r}).read()\n"
        "with open(sys.argv[1], 'r+') as f:\n"
        "    f.write('From $EDITOR.\\n' if f.read() else first)\n"
    )
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    monkeypatch.delenv("VISUAL", raising=False)


async def test_e_refuses_a_5mb_body_and_E_edits_it_in_editor(store, tmp_path, monkeypatch):
    store.put(BIG, big_body(), actor=ACTOR)
    store.wait_index()
    editor_script(tmp_path, monkeypatch)
    app = make_app(store)
    notes = record_notes(app)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await cursor_to(pilot, screen, BIG)
        t0 = time.monotonic()
        await pilot.press("e")
        assert await wait_until(pilot, lambda: any("built-in editor" in n for n in notes), 5)
        assert time.monotonic() - t0 < 3  # was ~5 s loading the TextArea, the UI frozen
        await settle(pilot)
        assert app.screen is screen and not any(
            isinstance(s, EditorModal) for s in app.screen_stack
        )
        note = next(n for n in notes if "built-in editor" in n)
        assert "5.0 MB" in note and "(E)" in note and f"brain put {BIG}" in note

        await pilot.press("E")  # $EDITOR takes any size
        assert await wait_until(pilot, lambda: store.view(BIG).text.endswith("From $EDITOR.\n"))
        assert store.view(BIG).text == unfronted(big_body()) + "From $EDITOR.\n"


async def test_a_body_at_the_limit_opens_in_the_built_in_editor(store):
    path = "memories/facts/at-the-limit.md"
    body = "x" * (EDIT_MAX - 1) + "\n"
    store.put(path, body, actor=ACTOR)
    store.wait_index()
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        await cursor_to(pilot, screen, path)
        await pilot.press("e")
        assert await wait_until(pilot, lambda: isinstance(app.screen, EditorModal), 5)
        assert app.screen.query_one("#editor-body", TextArea).text == body


async def test_a_5mb_body_from_editor_in_the_dialog_is_held_then_saved(
    store, tmp_path, monkeypatch
):
    """ctrl+e in the dialog brings back 5 MB: kept, not loaded into the TextArea."""
    path = "memories/facts/big-new.md"
    editor_script(tmp_path, monkeypatch, first=big_body())
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_pane(pilot)
        await pilot.press("n")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, EditorModal)
        modal.query_one("#editor-path", Input).value = path
        t0 = time.monotonic()
        await pilot.press("ctrl+e")
        await settle(pilot)
        area = modal.query_one("#editor-body", TextArea)
        assert area.read_only and "5.0 MB" in area.text and len(area.text) < 500
        assert time.monotonic() - t0 < 3
        await pilot.press("ctrl+e")  # $EDITOR again, on the body held
        await settle(pilot)
        assert len(area.text) < 500
        await pilot.press("ctrl+s")
        assert await wait_until(pilot, lambda: app.screen is not modal, 5)
        assert await wait_until(pilot, lambda: store.memory_rows([path]) != [])
        assert store.view(path).text == unfronted(big_body()) + "From $EDITOR.\n"


async def test_the_old_body_goes_as_soon_as_the_cursor_moves(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        i = first_active(screen)
        screen.list.cursor = i
        await settle(pilot)
        old = screen.list.current()
        md = screen.query_one("#mem-preview", Markdown)
        assert old.title in md.source
        nxt = screen.list.row_at(i + 1)
        screen.query_one("#mem-preview-pane").show(nxt)  # the load has not come back yet
        assert old.title not in md.source  # never the old body under the new path
        assert nxt.path in str(screen.query_one("#mem-meta", Static).render())
        await settle(pilot)
        assert screen.query_one("#mem-preview-pane").shown[0] == nxt.path


async def test_a_damaged_sidecar_shows_the_engines_message(store):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        row = screen.list.row_at(first_active(screen) + 1)
        (store.root / sidecar_path(row.path)).write_text("{not json")
        await cursor_to(pilot, screen, row.path)
        shown = preview_text(screen)
        assert "unreadable sidecar" in shown and "brain doctor" in shown, shown
        assert "moved or purged" not in shown


async def test_an_open_that_lands_after_the_person_left_is_dropped(store, monkeypatch):
    app = make_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_pane(pilot)
        screen.list.cursor = first_active(screen)
        await settle(pilot)
        gate = threading.Event()
        view = store.view

        def slow_view(path, *, actor=None):
            if actor is not None:  # the open (an access), not the preview
                gate.wait(10)
            return view(path, actor=actor)

        monkeypatch.setattr(store, "view", slow_view)
        await pilot.press("enter")
        await pilot.press("1")  # on to the audit pane while the memory is read
        await pilot.pause()
        gate.set()
        await settle(pilot)
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "AuditScreen"
        assert not any(isinstance(s, MemoryViewScreen) for s in app.screen_stack)


async def test_the_header_says_1_memory(home):
    store = Store.init(home / "one", allow_temp=True, clock=fixed_clock(), rng=fixed_rng())
    store.put("memories/facts/only.md", "the only one", actor=ACTOR)
    store.wait_index()
    try:
        app = make_app(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            header = app.screen.query_one(StoreHeader)
            assert await wait_until(pilot, lambda: "1 memory" in str(header.render()))
            assert "1 memories" not in str(header.render())
    finally:
        store.close()
