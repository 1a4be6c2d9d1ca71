"""Pane 2: the memory browser (tree, virtual list, search, preview, history, actions).

Every engine call runs in a thread worker and reports back with a message; failures become
notifications through `widgets.status.guarded`. The preview reads without an actor (a scrolled
preview is not an access); `enter` opens the memory and journals the read as an access.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Markdown, Static

from core import queries
from core.errors import BrainError
from core.models import Memory
from core.queries import MemoryRow
from screens.memory_common import actor_of, now_of, row_from_hit, store_of
from screens.memory_editor import Edited, EditorModal, run_editor
from screens.memory_modals import MoveModal, PurgeModal, PurgeRequest
from screens.memory_view import MemoryViewScreen, body_markdown, meta_text
from screens.pane import PaneScreen
from widgets.kind_tree import KindTree, Scope
from widgets.memory_list import MemoryList
from widgets.status import ActivityChanged, StoreChanged, guarded

SEARCH_LIMIT = 200


class MemoriesScreen(PaneScreen):
    PANE = "memories"
    TITLE_TEXT = "Memories"
    AUTO_FOCUS = "#mem-list"
    BINDINGS = [
        Binding("slash", "search", "Search", id="memories.search"),
        Binding("escape", "clear", "Clear", show=False, id="memories.clear"),
        Binding("n", "new", "New", id="memories.new"),
        Binding("e", "edit", "Edit", id="memories.edit"),
        Binding("E", "edit_external", "$EDITOR", show=False, id="memories.editor"),
        Binding("m", "move", "Move", id="memories.move"),
        Binding("t", "tombstone", "Tombstone", id="memories.tombstone"),
        Binding("P", "purge", "Purge", id="memories.purge"),
        Binding("h", "history", "History", id="memories.history"),
        Binding("y", "copy_path", "Copy path", show=False, id="memories.copy"),
    ]

    class Counts(Message):
        def __init__(self, counts: list[tuple[str, str, int]]) -> None:
            super().__init__()
            self.counts = counts

    class Preview(Message):
        def __init__(self, path: str, memory: Memory | None, accesses: int) -> None:
            super().__init__()
            self.path, self.memory, self.accesses = path, memory, accesses

    class Results(Message):
        def __init__(self, query: str, rows: list[MemoryRow]) -> None:
            super().__init__()
            self.query, self.rows = query, rows

    class Opened(Message):
        def __init__(self, memory: Memory, accesses: int | None) -> None:
            super().__init__()
            self.memory, self.accesses = memory, accesses

    class Loaded(Message):
        """A memory read for an action (edit, $EDITOR, move, tombstone, purge)."""

        def __init__(self, action: str, memory: Memory) -> None:
            super().__init__()
            self.action, self.memory = action, memory

    class Done(Message):
        """A write finished: say so, and show the list from `reload` with `select` chosen."""

        def __init__(self, text: str, reload: str, select: str | None) -> None:
            super().__init__()
            self.text, self.reload, self.select = text, reload, select

    def __init__(self, store=None) -> None:
        super().__init__()
        self._store = store
        self.scope = Scope()
        self.query_text = ""
        self._preview_path: str | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mem-body"):
            yield KindTree(id="mem-tree")
            with Vertical(id="mem-main"):
                yield Input(placeholder="search memories (esc clears)", id="mem-search")
                yield MemoryList(now=lambda: now_of(self), id="mem-list")
                yield Static("", id="mem-meta")
                with VerticalScroll(id="mem-preview-box"):
                    yield Markdown("", id="mem-preview")

    @property
    def list(self) -> MemoryList:
        return self.query_one(MemoryList)

    def on_mount(self) -> None:
        self._load_counts()
        self._show_scope()
        self.list.focus()

    # -- data sources ---------------------------------------------------------------------------

    def _fetch(self, scope: Scope):
        def fetch(after: str, limit: int) -> list[MemoryRow]:
            store = store_of(self)  # runs in a worker thread: its own SQLite connection
            store.wait_index()
            return queries.memory_page(
                store.reader.conn, after, limit, kind=scope.kind, folder_prefix=scope.folder
            )

        return fetch

    def _show_scope(self, select: str | None = None) -> None:
        self.list.set_source(self._fetch(self.scope), select=select)
        self._update_bar()

    def _update_bar(self) -> None:
        if self.query_text:
            n = len(self.list.rows)
            status = Content.assemble(
                (f"{n} result{'s' if n != 1 else ''} for ", "dim"),
                (self.query_text, "bold"),
                ("  esc clears", "dim"),
            )
        else:
            status = Content.assemble(("in ", "dim"), (self.scope.label, "bold"))
        self.bar.show(status)

    @work(thread=True, exclusive=True, group="mem-counts", exit_on_error=False)
    @guarded("counting memories")
    def _load_counts(self) -> None:
        store = store_of(self)
        store.wait_index()
        self.post_message(self.Counts(queries.folder_counts(store.reader.conn)))

    def on_memories_screen_counts(self, message: Counts) -> None:
        self.query_one(KindTree).set_counts(message.counts)

    def on_kind_tree_filter(self, message: KindTree.Filter) -> None:
        self.scope = message.scope
        self._clear_search(reload=False)
        self._show_scope()

    # -- preview ------------------------------------------------------------------------------

    def on_memory_list_highlighted(self, message: MemoryList.Highlighted) -> None:
        row = message.row
        self._preview_path = row.path if row is not None else None
        if row is None:
            self.query_one("#mem-meta", Static).update("")
            self.query_one("#mem-preview", Markdown).update("")
            return
        self._load_preview(row.path, row.accesses)

    @work(thread=True, exclusive=True, group="mem-preview", exit_on_error=False)
    @guarded("loading the preview")
    def _load_preview(self, path: str, accesses: int) -> None:
        try:
            memory = store_of(self).view(path)  # no actor: a preview is not an access
        except BrainError:
            memory = None
        self.post_message(self.Preview(path, memory, accesses))

    def on_memories_screen_preview(self, message: Preview) -> None:
        if message.path != self._preview_path:
            return  # the cursor moved on meanwhile
        meta = self.query_one("#mem-meta", Static)
        md = self.query_one("#mem-preview", Markdown)
        if message.memory is None:
            meta.update(Content(message.path))
            md.update("*Not readable now (moved or purged); press esc to refresh.*")
            return
        count = message.accesses if message.accesses >= 0 else None
        meta.update(meta_text(message.memory, count, lines=2))
        md.update(body_markdown(message.memory))
        self.query_one("#mem-preview-box", VerticalScroll).scroll_home(animate=False)

    # -- open (journals an access) --------------------------------------------------------------

    def on_memory_list_opened(self, message: MemoryList.Opened) -> None:
        self._open(message.row.path, message.row.accesses)

    @work(thread=True, group="mem-open", exit_on_error=False)
    @guarded("opening the memory")
    def _open(self, path: str, accesses: int) -> None:
        memory = store_of(self).view(path, actor=actor_of(self))
        self.post_message(self.Opened(memory, accesses + 1 if accesses >= 0 else None))

    def on_memories_screen_opened(self, message: Opened) -> None:
        self.app.push_screen(MemoryViewScreen(message.memory, message.accesses))

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#mem-search", Input)
        box.add_class("-open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "mem-search":
            return
        event.stop()
        text = " ".join(event.value.split())
        if not text:
            self._clear_search()
            return
        self._search(text)
        self.list.focus()

    @work(thread=True, exclusive=True, group="mem-search", exit_on_error=False)
    @guarded("searching")
    def _search(self, text: str) -> None:
        store = store_of(self)
        hits = store.search(text, limit=SEARCH_LIMIT)
        out = []
        for h in hits:
            try:
                side = store.view(h.path).sidecar  # no actor: listing is not an access
            except BrainError:
                continue  # moved or purged since the index answered
            out.append(row_from_hit(h, side))
        self.post_message(self.Results(text, out))

    def on_memories_screen_results(self, message: Results) -> None:
        self.query_text = message.query
        self.list.set_rows(message.rows)
        self._update_bar()

    def action_clear(self) -> None:
        box = self.query_one("#mem-search", Input)
        if box.has_class("-open") or self.query_text:
            self._clear_search()

    def _clear_search(self, reload: bool = True) -> None:
        box = self.query_one("#mem-search", Input)
        had = bool(self.query_text)
        box.value = ""
        box.remove_class("-open")
        self.query_text = ""
        self.list.focus()
        if had and reload:
            self._show_scope()
        self._update_bar()

    # -- actions --------------------------------------------------------------------------------

    def _selected(self) -> MemoryRow | None:
        row = self.list.current()
        if row is None:
            self.notify("no memory selected", severity="warning", timeout=2)
        return row

    def action_copy_path(self) -> None:
        row = self._selected()
        if row is not None:
            self.app.copy_to_clipboard(row.path)
            self.notify(f"copied {row.path}", timeout=2)

    def action_history(self) -> None:
        row = self._selected()
        if row is not None:
            from screens.memory_history import HistoryScreen

            self.app.push_screen(HistoryScreen(row.path, store=self._store))

    def action_new(self) -> None:
        folder = self.scope.folder or self.scope.kind or "facts"
        modal = EditorModal(path=f"memories/{folder}/", new=True)
        self.app.push_screen(modal, self._save_new)

    def _save_new(self, edited: Edited | None) -> None:
        if edited is not None:
            self._put(edited, "created")

    def action_edit(self) -> None:
        row = self._selected()
        if row is not None:
            self._read_for("edit", row.path)

    def action_edit_external(self) -> None:
        row = self._selected()
        if row is not None:
            self._read_for("external", row.path)

    def action_move(self) -> None:
        row = self._selected()
        if row is not None:
            self.app.push_screen(MoveModal(row.path), lambda dst: self._move(row.path, dst))

    def action_tombstone(self) -> None:
        row = self._selected()
        if row is None:
            return
        if row.state != "active":
            self.notify(f"{row.path} is already {row.state}", severity="warning")
            return
        from screens.confirm import ConfirmModal

        message = (
            f"{row.path}\n\nThe body becomes a tombstone stub. Every earlier version stays"
            " in its history and the audit trail; nothing is destroyed."
        )
        modal = ConfirmModal("Tombstone memory?", message, confirm_label="Tombstone")
        self.app.push_screen(
            modal, lambda ok: self._tombstone(row.path) if ok is not None else None
        )

    def action_purge(self) -> None:
        row = self._selected()
        if row is not None:
            self.app.push_screen(PurgeModal(row.path), lambda req: self._purge(row.path, req))

    @work(thread=True, group="mem-read", exit_on_error=False)
    @guarded("reading the memory")
    def _read_for(self, action: str, path: str) -> None:
        self.post_message(self.Loaded(action, store_of(self).view(path)))

    @guarded("editing the memory")
    def on_memories_screen_loaded(self, message: Loaded) -> None:
        mem = message.memory
        if mem.sidecar.state != "active":
            self.notify(f"{mem.path} is {mem.sidecar.state}: nothing to edit", severity="warning")
            return
        text = mem.body.decode("utf-8", "replace")
        if message.action == "edit":
            modal = EditorModal(path=mem.path, title=mem.sidecar.title, body=text, new=False)
            self.app.push_screen(modal, lambda e: self._put(e, "saved") if e else None)
            return
        edited = run_editor(self.app, text, name=mem.path.rsplit("/", 1)[-1][:-3])
        if edited is None or edited == text:
            self.notify("no change", timeout=2)
            return
        self._put(Edited(mem.path, mem.sidecar.title, edited), "saved")

    # -- writes (workers) -----------------------------------------------------------------------

    def _busy(self, text: str | None) -> None:
        self.post_message(ActivityChanged("memories", text))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("saving the memory")
    def _put(self, edited: Edited, verb: str) -> None:
        self._busy(f"saving {edited.path}…")
        try:
            res = store_of(self).put(
                edited.path, edited.body, actor=actor_of(self), title=edited.title or None
            )
        finally:
            self._busy(None)
        text = f"{verb} {res.path} (seq {res.seq})" if res.changed else "no change: nothing written"
        self.post_message(self.Done(text, res.path, res.path))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("moving the memory")
    def _move(self, src: str, dst: str | None) -> None:
        if dst is None:
            return
        res = store_of(self).move(src, dst, actor=actor_of(self))
        self.post_message(self.Done(f"moved to {res.path} (seq {res.seq})", min(src, dst), dst))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("tombstoning the memory")
    def _tombstone(self, path: str) -> None:
        res = store_of(self).delete(path, actor=actor_of(self), mode="tombstone")
        self.post_message(self.Done(f"tombstoned {path} (seq {res.seq})", path, path))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("purging the memory")
    def _purge(self, path: str, req: PurgeRequest | None) -> None:
        if req is None:
            return
        res = store_of(self).delete(
            path, actor=actor_of(self), mode="purge", reason=req.reason, ticket=req.ticket
        )
        text = f"purged {path} (seq {res.seq}, reason {req.reason}); the erasure row stays"
        self.post_message(self.Done(text, path, path))

    def on_memories_screen_done(self, message: Done) -> None:
        self.notify(message.text, timeout=3)
        self.post_message(StoreChanged())
        self._load_counts()
        if self.query_text:
            self._search(self.query_text)
        else:
            self.list.reload_from(message.reload, select=message.select)


def help_groups() -> list[tuple[str, list[type]]]:
    """Binding groups for the help screen and for checking remapped binding ids."""
    from screens.memory_history import HistoryScreen

    return [
        ("Memories (2)", [MemoriesScreen, MemoryList, KindTree]),
        ("Memory view (enter)", [MemoryViewScreen]),
        ("Memory history (h)", [HistoryScreen]),
        ("Memory dialogs", [EditorModal, MoveModal, PurgeModal]),
    ]
