"""The memory browser's meaning-based parts: the search mode (lexical, semantic, hybrid; `M` or
`ctrl+t`) and the "similar memories" panel (`s`).

A mixin of `MemoriesScreen`. The model belongs to the app, which warms it after the first
frame and reports `app.semantic_state` ("off", "warming", "ready", "unavailable", "failed");
searches stay lexical until it is ready, then turn hybrid unless a mode was chosen. Without the
semantic extra the app shows the install hint once; here the toggle only rings the bell.
"""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.widgets import Input

from core import paths
from core.errors import BrainError, NotFound
from screens.memory_common import store_of
from widgets.kind_tree import KindTree, Scope
from widgets.shell import shell
from widgets.similar_panel import SimilarPanel
from widgets.status import SemanticWanted, describe

MODES = ("lexical", "semantic", "hybrid")
SIMILAR_K = 8
UNUSABLE = ("unavailable", "failed")


class SimilarFound(Message):
    def __init__(self, path: str, hits: list | None, text: str = "") -> None:
        super().__init__()
        self.path, self.hits, self.text = path, hits, text


class SemanticMixin:
    search_mode: str = "lexical"
    _mode_chosen = False  # the person picked a mode: the model getting warm leaves it alone
    _similar_done = False  # the panel holds the answer for panel.path (not a placeholder)

    def _semantic_state(self) -> str:
        return shell(self).semantic_state

    def _watch_semantic(self) -> None:
        self.watch(self.app, "semantic_state", self._semantic_changed, init=True)

    def _semantic_changed(self, state: str = "off") -> None:
        if state == "ready" and not self._mode_chosen:
            self.search_mode = "hybrid"
        elif state in UNUSABLE:
            self.search_mode = "lexical"
        self._show_mode()
        if state != "warming":
            self._similar_for_current(force=False)

    # -- search mode --------------------------------------------------------------------------

    def action_search_mode(self) -> None:
        state = self._semantic_state()
        if state in UNUSABLE:
            self.app.bell()  # the app said why, once; lexical is all there is
            self._show_mode()
            return
        self.search_mode = MODES[(MODES.index(self.search_mode) + 1) % len(MODES)]
        self._mode_chosen = True
        if self.search_mode != "lexical" and state == "off":
            self.post_message(SemanticWanted())
        self._show_mode()
        if self.query_text:
            self._search(self.query_text)

    def mode_label(self) -> str:
        state = self._semantic_state()
        if state == "unavailable":
            return "lexical (semantic not installed)"
        if state == "failed":
            return "lexical (semantic unavailable)"
        if self.search_mode != "lexical" and state != "ready":
            return f"{self.search_mode} (model loading…)"
        return self.search_mode

    def _show_mode(self) -> None:
        box = self.query_one("#mem-search", Input)
        box.border_title = f"search · {self.mode_label()}"
        self._update_bar()

    # -- similar memories ---------------------------------------------------------------------

    def action_similar(self) -> None:
        panel = self.query_one(SimilarPanel)
        panel.display = not panel.display
        if panel.display:
            self._similar_for_current()
        else:
            panel.path = None
            self.list.focus()

    def action_tab(self) -> None:
        """tab from the list lands on the similar panel when it is shown (it sits below the
        preview, which the focus chain would visit first)."""
        panel = self.query_one(SimilarPanel)
        if panel.display and self.list.has_focus:
            panel.focus()
        else:
            self.focus_next()

    def _similar_for_current(self, force: bool = True) -> None:
        """Show the current row's neighbours (when the panel is shown). force=False keeps
        what is there for the same memory (the model's state changed, not the memory)."""
        panel = self.query_one(SimilarPanel)
        if not panel.display:
            return
        row = self.list.current()
        if row is None:
            panel.show_message(None, "no memory selected")
            return
        if not force and row.path == panel.path and self._similar_done:
            return
        state = self._semantic_state()
        if state in UNUSABLE:
            hint = shell(self).semantic_hint or "semantic search is unavailable"
            panel.show_message(row.path, hint)
            return
        if row.state != "active":
            panel.show_message(row.path, f"{row.state}: no similar memories")
            return
        if state == "off":
            self.post_message(SemanticWanted())
        loading = "finding similar memories…" if state == "ready" else "loading the model…"
        panel.show_message(row.path, loading)
        self._similar_done = False
        self._load_similar(row.path)

    @work(thread=True, exclusive=True, group="mem-similar", exit_on_error=False)
    def _load_similar(self, path: str) -> None:
        try:
            hits = store_of(self).similar(path, limit=SIMILAR_K)
        except NotFound:
            self.post_message(SimilarFound(path, None, "not active: no similar memories"))
        except BrainError as e:  # the extra is missing (an install hint), or the model failed
            self.post_message(SimilarFound(path, None, describe(e)))
        except Exception as e:  # noqa: BLE001 - shown in the panel; the browser stays up
            self.post_message(SimilarFound(path, None, describe(e)))
        else:
            self.post_message(SimilarFound(path, hits))

    def on_similar_found(self, message: SimilarFound) -> None:
        panel = self.query_one(SimilarPanel)
        if message.path != panel.path:
            return  # the cursor moved on meanwhile
        self._similar_done = True
        if message.hits is None:
            panel.show_message(message.path, message.text)
        else:
            panel.show_hits(message.path, message.hits)

    def on_similar_panel_jump(self, message: SimilarPanel.Jump) -> None:
        """Put the list's cursor on that memory: in place when it is listed, else show its kind."""
        path = message.path
        self.list.focus()
        for i, row in enumerate(self.list.rows):
            if row.path == path:
                self.list.cursor = i
                return
        self._clear_search(reload=False)
        self.tier = None
        self._show_summary()
        self.scope = Scope(paths.kind_of(path))
        self.query_one(KindTree).show_scope(self.scope)
        self._show_scope(select=path)
