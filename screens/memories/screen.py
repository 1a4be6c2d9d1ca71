"""Pane 2: the memory browser, composed of child widgets that talk by messages.

    KindTree ──Filter──►            ◄──Query/Cleared/ModeChanged── SearchBox
    TierPane ──Moved───► MemoriesScreen ──set_source / set_rows──► MemoryList
    SimilarPane ─Jump──►            ◄──Highlighted/Opened───────── MemoryList
    RowActions ─Written►            ──show(row)──► PreviewPane, SimilarPane

The screen owns what the list shows (a scope from the tree, a tier filter, or search
results) and routes the children's messages (`@on(Message, "#id")`); each child owns its
reads (thread workers) and its part of the screen. Keys are the screen's, so they work from
any panel; each action hands the selected row to the child that acts on it.

Writes made elsewhere (the CLI, another process, pane 4's resolutions) move the app's
`index_head`: the pane reads what it shows again (the tree's counts, the tiers, the list in
place with the cursor on the same path, the preview and the similar memories), at most every
`REFRESH_S` during a burst, and on its return when the head moved while another pane was
shown. Its own writes move the head too; it read everything after them already
(`RowActions.Written.head`), so those moves read nothing again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer

from core import paths
from core.read_types import FolderCount, MemoryRow
from screens.memories.common import actor_of, now_of, store_of
from screens.memories.preview import PreviewPane
from screens.memories.row_actions import RowActions
from screens.memories.search import SearchBox
from screens.memories.similar import SimilarPane
from screens.memories.tiers import TierPane
from screens.pane import PaneScreen
from widgets.kind_tree import KindTree, Scope
from widgets.memory_list import MemoryList, Source, sync_states
from widgets.search_input import SearchInput
from widgets.shell import shell
from widgets.similar_panel import SimilarPanel
from widgets.status import ActivityChanged, RebalanceRequested, StoreChanged, guarded

SEARCH_LIMIT = 200
SEMANTIC_LIMIT = 50  # cosine ranks every memory: past the first fifty it is noise
# Another process's writes: the pane reads again at most this often (one trailing read ends a
# burst), and never sooner than REFRESH_DELAY_S after the head moved, by when a write of our
# own has said which head it read after (so its move reads nothing twice).
REFRESH_S = 0.5
REFRESH_DELAY_S = 0.1


class MemoriesScreen(PaneScreen):
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
    class Results(Message):
        query: str
        mode: str
        rows: list[MemoryRow]
        states: dict[str, str] | None = None  # the rows' sync states (the list's markers)
        select: str | None = None  # the path to keep the cursor on (a search read again)

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # typed fast: the newest results

    def __init__(self) -> None:
        super().__init__()
        self.scope = Scope()
        self.query_text = ""
        self._results_mode = "lexical"  # the mode the shown results came from
        self._seen_head = 0  # the index head the pane last read what it shows at (or after)
        self._refresh_timer: Timer | None = None
        self._refreshed_at = float("-inf")

    # -- layout -------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="mem-body"):
            with Vertical(id="mem-side"):
                yield KindTree(id="mem-tree")
                yield TierPane(id="mem-tiers")
            with Vertical(id="mem-main"):
                yield SearchBox(id="mem-search", classes="filter-input")
                yield MemoryList(now=lambda: now_of(self), id="mem-list")
                yield PreviewPane(id="mem-preview-pane")
                yield SimilarPane(id="mem-similar")
        yield RowActions(id="mem-actions")

    @property
    def list(self) -> MemoryList:
        return self.query_one("#mem-list", MemoryList)

    @property
    def search(self) -> SearchBox:
        return self.query_one("#mem-search", SearchBox)

    @property
    def tiers(self) -> TierPane:
        return self.query_one("#mem-tiers", TierPane)

    @property
    def similar(self) -> SimilarPane:
        return self.query_one("#mem-similar", SimilarPane)

    @property
    def actions(self) -> RowActions:
        return self.query_one("#mem-actions", RowActions)

    @property
    def tier(self) -> str | None:
        return self.tiers.tier

    @property
    def search_mode(self) -> str:
        return self.search.mode

    def on_mount(self) -> None:
        self._seen_head = shell(self).index_head
        self._load_counts()
        self._show_scope()
        self.list.focus()
        self.watch(self.app, "index_head", self._head_moved, init=False)
        # A memory written elsewhere is ranked only once its vector is stored, which may be
        # after the re-rank its head move asked for: rank again when vectors land.
        self.watch(self.app, "embed_version", self._vectors_stored, init=False)

    def on_screen_resume(self) -> None:
        if shell(self).index_head > self._seen_head:  # written while another pane was shown
            self.refresh_pane()
        elif self.tiers.summary is not None:  # another pane's work (or another process) may
            self.tiers.load()  # have moved tiers meanwhile

    # -- following the store ------------------------------------------------------------------

    def _head_moved(self, _head: object = None) -> None:
        """Rows landed in the index: read again soon (one timer at a time: a burst of moves
        is one read every REFRESH_S at most). Off screen, `on_screen_resume` catches up."""
        if self._refresh_timer is not None or not self.is_attached or self.app.screen is not self:
            return
        wait = max(REFRESH_DELAY_S, self._refreshed_at + REFRESH_S - time.monotonic())
        self._refresh_timer = self.set_timer(wait, self._refresh_due)

    def _vectors_stored(self, _version: object = None) -> None:
        if self.is_attached and self.app.screen is self:
            self.similar.reread()

    def _refresh_due(self) -> None:
        self._refresh_timer = None
        if self.app.screen is self and shell(self).index_head > self._seen_head:
            self.refresh_pane()

    def refresh_pane(self) -> None:
        """Read again what the pane shows: counts, tiers, the list where it stands (search
        results: the search again), through the list's announcement the preview, and the
        similar memories (ranked again here: the cursor's memory may be unchanged, so its
        announcement asks for nothing, while a memory written or purged elsewhere moves the
        ranking)."""
        self._seen_head = shell(self).index_head
        self._refreshed_at = time.monotonic()
        self._load_counts()
        self.tiers.load()
        self.similar.reread()
        if self.query_text:
            self._search(self.query_text, keep_cursor=True)
        elif not self.list.reread():
            self.query_one(PreviewPane).show(self.list.current())

    # -- what the list shows ------------------------------------------------------------------

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

        def states(paths: list[str]) -> dict[str, str]:
            return store_of(self).sync.states_of(paths)

        return Source(page, count, states)

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
        tier = [("  ", ""), (self.tiers.label, "bold")] if self.tier else []
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

    @on(Counts)
    def _counts(self, message: Counts) -> None:
        self.query_one(KindTree).set_counts(message.counts)

    @on(KindTree.Filter, "#mem-tree")
    def _scope_chosen(self, message: KindTree.Filter) -> None:
        self.scope = message.scope
        self._clear_search(reload=False)
        self._show_scope()

    # -- the list's cursor --------------------------------------------------------------------

    @on(MemoryList.Highlighted, "#mem-list")
    def _highlighted(self, message: MemoryList.Highlighted) -> None:
        row = message.row
        self.query_one(PreviewPane).show(row)  # the same row again: read again (it may differ)
        if self.similar.display and not _same_version(row, self.similar.row):
            self.similar.follow_cursor(row)
        else:
            self.similar.row = row

    @on(MemoryList.Opened, "#mem-list")
    def _opened(self, message: MemoryList.Opened) -> None:
        self.actions.open(message.row)

    # -- search -------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search.open()

    async def type_ahead(self, key: str, character: str | None) -> bool:
        """Keys typed right after `/` reach the app before the focus reaches the search box:
        they belong to the query, never to the list's one-letter commands (`e`: the editor)."""
        return self.search.awaiting_focus and await self.search.type_ahead(key, character)

    @on(SearchBox.Query, "#mem-search")
    def _query(self, message: SearchBox.Query) -> None:
        self._search(message.text)

    @on(SearchBox.Cleared, "#mem-search")
    def _query_cleared(self, _message: SearchBox.Cleared) -> None:
        self._clear_search()

    @on(SearchInput.ToResults, "#mem-search")
    def _to_results(self, message: SearchInput.ToResults) -> None:
        message.stop()
        self.list.focus()

    @on(SearchBox.ModeChanged, "#mem-search")
    def _mode_changed(self, _message: SearchBox.ModeChanged) -> None:
        self._update_bar()

    def action_search_mode(self) -> None:
        if self.search.cycle_mode():
            self._update_bar()
            if self.query_text:
                self._search(self.query_text)

    def _search(self, text: str, *, keep_cursor: bool = False) -> None:
        row = self.list.current() if keep_cursor else None
        select = row.path if row is not None else None
        self._search_worker(text, self.search.mode, self.tier, self.search.state, select)

    @work(thread=True, exclusive=True, group="mem-search", exit_on_error=False)
    @guarded("searching")
    def _search_worker(
        self, text: str, mode: str, tier: str | None, state: str, select: str | None = None
    ) -> None:
        from core.search.embeddings import SemanticUnavailable

        store = store_of(self)
        limit = SEARCH_LIMIT if mode == "lexical" else SEMANTIC_LIMIT
        slow = mode != "lexical" and state != "ready"
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
        states = sync_states(store.sync.states_of, rows)
        self.post_message(self.Results(text, mode, rows, states, select))

    @on(Results)
    def _results(self, message: Results) -> None:
        self.query_text = message.query
        self._results_mode = message.mode
        self.list.set_rows(message.rows, message.states, select=message.select)
        self._update_bar()

    def action_clear(self) -> None:
        if self.search.is_open or self.query_text:
            self._clear_search()
        elif self.tier is not None:  # then the tier filter
            self.tiers.set_tier(None)
            self._reload()
        else:  # nothing to clear: read the pane again (the store may have changed unseen)
            self.refresh_pane()

    def _clear_search(self, reload: bool = True) -> None:
        had = bool(self.query_text)
        self.search.close()
        self.query_text = ""
        self.list.focus()
        if had and reload:
            self._show_scope()
        self._update_bar()

    # -- tiers --------------------------------------------------------------------------------

    def action_tier_filter(self) -> None:
        self.tiers.cycle()
        self._reload(keep_cursor=False)

    @on(TierPane.Moved, "#mem-tiers")
    def _tiers_moved(self, _message: TierPane.Moved) -> None:
        self._reload()

    def action_rebalance(self) -> None:
        self.post_message(RebalanceRequested(actor_of(self)))

    # -- similar ------------------------------------------------------------------------------

    def action_similar(self) -> None:
        if not self.similar.toggle(self.list.current()):
            self.list.focus()

    def action_tab(self) -> None:
        """tab from the list lands on the similar panel when it is shown (it sits below the
        preview, which the focus chain would visit first)."""
        if self.similar.display and self.list.has_focus:
            self.similar.focus()
        else:
            self.focus_next()

    @on(SimilarPanel.Jump, "#mem-similar")
    def _jump(self, message: SimilarPanel.Jump) -> None:
        """Put the list's cursor on that memory: in place when it is listed, else show its kind."""
        path = message.path
        self.list.focus()
        for i, row in enumerate(self.list.rows):
            if row.path == path:
                self.list.cursor = i
                return
        self._clear_search(reload=False)
        self.tiers.set_tier(None)
        self.scope = Scope(paths.kind_of(path))
        self.query_one(KindTree).show_scope(self.scope)
        self._show_scope(select=path)

    # -- actions on the selected row ----------------------------------------------------------

    def _selected(self) -> MemoryRow | None:
        row = self.list.current()
        if row is None:
            self.notify("no memory selected", severity="warning", timeout=2)
        return row

    def action_new(self) -> None:
        self.actions.new(self.scope.folder or self.scope.kind or "facts")

    def action_edit(self) -> None:
        if row := self._selected():
            self.actions.edit(row)

    def action_edit_external(self) -> None:
        if row := self._selected():
            self.actions.edit(row, external=True)

    def action_history(self) -> None:
        if row := self._selected():
            self.actions.history(row)

    def action_copy_path(self) -> None:
        if row := self._selected():
            self.actions.copy_path(row)

    def action_move(self) -> None:
        if row := self._selected():
            self.actions.move(row)

    def action_tombstone(self) -> None:
        if row := self._selected():
            self.actions.tombstone(row)

    def action_purge(self) -> None:
        if row := self._selected():
            self.actions.purge(row)

    def action_pin(self) -> None:
        if row := self._selected():
            self.actions.pin(row, True)

    def action_unpin(self) -> None:
        if row := self._selected():
            self.actions.pin(row, False)

    # No selector: a message made in a thread worker has no sender, and Textual matches
    # selectors only for messages with one (there is one RowActions here anyway).
    @on(RowActions.Written)
    def _written(self, message: RowActions.Written) -> None:
        """A write (or pin) landed: the header, counts, tiers and the list, each read once."""
        self.notify(message.text, timeout=3)
        self._seen_head = max(self._seen_head, message.head)  # what follows reads after it
        self.post_message(StoreChanged())
        self._load_counts()
        self.tiers.load()
        if self.query_text:
            self._search(self.query_text)
        else:
            self.list.reload_from(message.reload, select=message.select)


def _same_version(a: MemoryRow | None, b: MemoryRow | None) -> bool:
    """The same memory in the same version (its similar memories need no new ranking)."""
    return a is not None and b is not None and (a.path, a.seq, a.state) == (b.path, b.seq, b.state)
