"""Pane 2: the memory browser (tree, tiers, virtual list, search, preview, similar, actions).

Every engine call runs in a thread worker and reports back with a message; failures become
notifications through `widgets.status.guarded`. The preview reads without an actor (a scrolled
preview is not an access); `enter` opens the memory and journals the read as an access.
Writes live in `memory_actions`, tiers in `memory_tiers`, search modes and the similar panel
in `memory_semantic` (mixins of this screen).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Markdown, Static

from core.errors import BrainError
from core.models import Memory
from core.read_types import FolderCount, MemoryRow
from screens.memory_actions import ActionsMixin
from screens.memory_common import actor_of, now_of, store_of
from screens.memory_semantic import SemanticMixin
from screens.memory_tiers import TiersMixin
from screens.memory_view import MemoryViewScreen, body_markdown, meta_text
from screens.pane import PaneScreen
from widgets.kind_tree import KindTree, Scope
from widgets.memory_list import MemoryList, Source
from widgets.preview_scroll import PreviewScroll
from widgets.search_input import SearchInput
from widgets.similar_panel import SimilarPanel
from widgets.status import ActivityChanged, StoreChanged, guarded
from widgets.tier_summary import TierSummaryView

SEARCH_LIMIT = 200
SEMANTIC_LIMIT = 50  # cosine ranks every memory: past the first fifty it is noise


class MemoriesScreen(ActionsMixin, TiersMixin, SemanticMixin, PaneScreen):
    PANE = "memories"
    TITLE_TEXT = "Memories"
    AUTO_FOCUS = "#mem-list"
    # Order is the footer's: what a person reaches for first leads (the rest is in `?`).
    BINDINGS = [
        Binding("slash", "search", "Search", id="memories.search"),
        Binding("e", "edit", "Edit", id="memories.edit"),
        Binding("n", "new", "New", id="memories.new"),
        Binding("h", "history", "History", id="memories.history"),
        Binding("s", "similar", "Similar", id="memories.similar"),
        Binding("m", "move", "Move", id="memories.move"),
        Binding("t", "tombstone", "Tombstone", id="memories.tombstone"),
        Binding("P", "purge", "Purge", id="memories.purge"),
        Binding("T", "tier_filter", "Tier filter", id="memories.tier_filter"),
        Binding("escape", "clear", "Clear", show=False, id="memories.clear"),
        Binding("E", "edit_external", "$EDITOR", show=False, id="memories.editor"),
        Binding("y", "copy_path", "Copy path", show=False, id="memories.copy"),
        Binding("M,ctrl+t", "search_mode", "Search mode", show=False, id="memories.search_mode"),
        Binding("p", "pin", "Pin", show=False, id="memories.pin"),
        Binding("u", "unpin", "Unpin", show=False, id="memories.unpin"),
        Binding("b", "rebalance", "Rebalance tiers", show=False, id="memories.rebalance"),
        Binding(
            "tab",
            "tab",
            "Next panel",
            show=False,
            id="memories.tab",
            tooltip="the similar panel first when shown",
        ),
    ]

    @dataclass(eq=False)
    class Counts(Message):
        counts: list[FolderCount]

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # writes in a burst: the newest counts

    @dataclass(eq=False)
    class Preview(Message):
        path: str
        memory: Memory | None
        accesses: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # only the newest preview is shown

    @dataclass(eq=False)
    class Results(Message):
        query: str
        mode: str
        rows: list[MemoryRow]

    @dataclass(eq=False)
    class Opened(Message):
        memory: Memory
        accesses: int | None

    def __init__(self) -> None:
        super().__init__()
        self.scope = Scope()
        self.query_text = ""
        self._results_mode = "lexical"  # the mode the shown results came from
        self._preview_path: str | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mem-body"):
            with Vertical(id="mem-side"):
                yield KindTree(id="mem-tree")
                tiers = TierSummaryView("", id="mem-tiers")
                tiers.border_title = "tiers"
                yield tiers
            with Vertical(id="mem-main"):
                box = SearchInput(
                    placeholder="search memories", id="mem-search", classes="filter-input"
                )
                box.border_subtitle = "enter search · ↓ results · ctrl+t mode · esc clears"
                yield box
                yield MemoryList(now=lambda: now_of(self), id="mem-list")
                yield Static("", id="mem-meta")
                with PreviewScroll(id="mem-preview-box"):
                    yield Markdown("", id="mem-preview")
                yield SimilarPanel(id="mem-similar")

    @property
    def list(self) -> MemoryList:
        return self.query_one(MemoryList)

    def on_mount(self) -> None:
        self._load_counts()
        self._show_scope()
        self._watch_semantic()
        self._watch_tiers()
        self.list.focus()

    def on_screen_resume(self) -> None:
        if self._summary is not None:  # another pane's work (or another process) may have
            self._load_summary()  # moved tiers meanwhile

    # -- data sources ---------------------------------------------------------------------------

    def _source(self, scope: Scope, tier: str | None) -> Source:
        # Both run in worker threads: the engine reads on that thread's own connection.
        filters = {
            "kind": scope.kind,
            "folder_prefix": scope.folder,
            "tier": tier,
            "state": "active" if tier else None,  # tiers are for active memories
        }

        def page(after: str, limit: int, descending: bool) -> list[MemoryRow]:
            return store_of(self).memory_page(after, limit, descending=descending, **filters)

        def count() -> int:
            return store_of(self).memory_count(**filters)

        return Source(page, count)

    def _show_scope(self, select: str | None = None) -> None:
        self.list.set_source(self._source(self.scope, self.tier), select=select)
        self._update_bar()

    def _reload(self, keep_cursor: bool = True) -> None:
        """Show the list again (tiers moved, the filter changed): search results or the scope."""
        if self.query_text:
            self._search(self.query_text)
            return
        row = self.list.current() if keep_cursor else None
        self._show_scope(select=row.path if row is not None else None)

    def _update_bar(self) -> None:
        tier = [("  ", ""), (self.tier_label(), "bold")] if self.tier else []
        if self.query_text:
            n = len(self.list.rows)
            status = Content.assemble(
                (f"{n} result{'s' if n != 1 else ''} for ", "dim"),
                (self.query_text, "bold"),
                (f" · {self._results_mode}", "dim"),
                *tier,
                ("  esc clears", "dim"),
            )
        else:
            status = Content.assemble(("in ", "dim"), (self.scope.label, "bold"), *tier)
        self.bar.show(status)

    @work(thread=True, exclusive=True, group="mem-counts", exit_on_error=False)
    @guarded("counting memories")
    def _load_counts(self) -> None:
        self.post_message(self.Counts(store_of(self).folder_counts()))

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
        self._similar_for_current()
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
        # Focus stays in the box: letters typed next edit the query, never run the list's
        # one-letter commands (`h` would open History). `down` or `tab` reach the results.
        self._search(text)

    def on_search_input_to_results(self, message: SearchInput.ToResults) -> None:
        message.stop()
        self.list.focus()

    def _search(self, text: str) -> None:
        self._search_worker(text, self.search_mode, self.tier)

    @work(thread=True, exclusive=True, group="mem-search", exit_on_error=False)
    @guarded("searching")
    def _search_worker(self, text: str, mode: str, tier: str | None) -> None:
        from core.search.embeddings import SemanticUnavailable

        store = store_of(self)
        limit = SEARCH_LIMIT if mode == "lexical" else SEMANTIC_LIMIT
        slow = mode != "lexical" and self._semantic_state() != "ready"
        if slow:  # this search loads the model first: seconds
            self.post_message(ActivityChanged("memories-search", f"{mode} search: loading model…"))
        try:
            hits = store.search(text, mode=mode, limit=limit, tier=tier)
        except SemanticUnavailable:  # the app shows the install hint once; lexical still works
            mode = "lexical"
            hits = store.search(text, mode=mode, limit=SEARCH_LIMIT, tier=tier)
        finally:
            if slow:
                self.post_message(ActivityChanged("memories-search", None))
        # One index read for the rows (pin, sync class, state); gone since the search: left out.
        rows = store.memory_rows([h.path for h in hits])
        self.post_message(self.Results(text, mode, rows))

    def on_memories_screen_results(self, message: Results) -> None:
        self.query_text = message.query
        self._results_mode = message.mode
        self.list.set_rows(message.rows)
        self._update_bar()

    def action_clear(self) -> None:
        box = self.query_one("#mem-search", Input)
        if box.has_class("-open") or self.query_text:
            self._clear_search()
        elif self.tier is not None:  # then the tier filter
            self.tier = None
            self._show_summary()
            self._reload()

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

    def _after_write(self, reload: str, select: str | None) -> None:
        """A write (or pin) landed: refresh the header, counts, tiers and the list."""
        self.post_message(StoreChanged())
        self._load_counts()
        self._load_summary()
        if self.query_text:
            self._search(self.query_text)
        else:
            self.list.reload_from(reload, select=select)
