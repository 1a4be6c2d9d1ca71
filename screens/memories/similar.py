"""'Similar memories' (`s`) for the row under the browser's cursor, found by the engine.

The panel (widgets.similar_panel) shows lines; this pane decides what they are: the nearest
memories from `store.similar` in a worker, or why there are none (the model is loading, the
extra is not installed, the memory is not active). `enter` on a hit posts `SimilarPanel.Jump`.

The browser calls `reread` when the store changed elsewhere (its throttled refresh): the same
memory's neighbours are ranked again, so one written since shows up and one purged, deleted or
tombstoned leaves (the engine ranks active memories only). The hits shown stay until the new
ones land; a ranking started before the change is dropped when it comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.message import Message

from core.errors import BrainError, NotFound
from core.read_types import MemoryRow
from screens.memories.common import store_of
from screens.memories.search import UNUSABLE
from widgets.debounce import Debounced
from widgets.shell import shell
from widgets.similar_panel import SimilarPanel
from widgets.status import SemanticWanted, describe

SIMILAR_K = 8
DEBOUNCE_S = 0.15


class SimilarPane(SimilarPanel):
    @dataclass(eq=False)
    class Found(Message):
        pane: SimilarPane
        path: str
        gen: int  # which ranking: an older one (started before the store changed) is dropped
        hits: list[Any] | None
        text: str = ""

        @property
        def control(self) -> SimilarPane:
            return self.pane

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.row: MemoryRow | None = None  # the list's current row
        self.done = False  # the panel holds the answer for self.path (not a message)
        self._gen = 0  # the newest ranking started
        # The list's cursor, debounced: a cursor held down does not rank every row it passes.
        self.follow_cursor = Debounced(self, DEBOUNCE_S, self.follow)

    def on_mount(self) -> None:
        self.watch(self.app, "semantic_state", self._semantic_changed, init=False)

    def _semantic_changed(self, state: str) -> None:
        if state != "warming":
            self.follow(self.row, force=False)

    def toggle(self, row: MemoryRow | None) -> bool:
        """Show (for this row) or hide; True when now shown."""
        self.display = not self.display
        if self.display:
            self.follow(row)
        else:
            self.path = None
        return bool(self.display)

    def follow(self, row: MemoryRow | None, *, force: bool = True) -> None:
        """Show this row's neighbours (when the panel is shown). force=False keeps what is
        there for the same memory (the model's state changed, not the memory)."""
        self.row = row
        self._gen += 1  # a ranking on its way no longer applies (a message may take its place)
        if not self.display:
            return
        if row is None:
            self.show_message(None, "no memory selected")
            return
        if not force and row.path == self.path and self.done:
            return
        state = shell(self).semantic_state
        if state in UNUSABLE:
            self.show_message(
                row.path, shell(self).semantic_hint or "semantic search is unavailable"
            )
            return
        if row.state != "active":
            self.show_message(row.path, f"{row.state}: no similar memories")
            return
        if state == "off":
            self.post_message(SemanticWanted())
        self.show_message(
            row.path, "finding similar memories…" if state == "ready" else "loading the model…"
        )
        self._start(row.path)

    def reread(self) -> None:
        """Rank the shown memory's neighbours again (the store changed; the memory itself may
        not have), keeping the hits shown until the new ones land. Nothing when hidden, when
        the cursor's row is on its way (its own ranking reads the store as it is now), or when
        the panel says why there are none (semantic search unusable, the memory not active)."""
        row = self.row
        if not self.display or row is None or row.path != self.path or row.state != "active":
            return
        if shell(self).semantic_state in UNUSABLE:
            return
        self._start(row.path)

    def _start(self, path: str) -> None:
        self.done = False
        self._gen += 1
        self._load(path, self._gen)

    @work(thread=True, exclusive=True, group="mem-similar", exit_on_error=False)
    def _load(self, path: str, gen: int) -> None:
        try:
            hits = store_of(self).similar(path, limit=SIMILAR_K)
        except NotFound:
            self.post_message(self.Found(self, path, gen, None, "not active: no similar memories"))
        except BrainError as e:  # the extra is missing (an install hint), or the model failed
            self.post_message(self.Found(self, path, gen, None, describe(e)))
        except Exception as e:  # noqa: BLE001 - shown in the panel; the browser stays up
            self.post_message(self.Found(self, path, gen, None, describe(e)))
        else:
            self.post_message(self.Found(self, path, gen, hits))

    @on(Found)
    def _found(self, message: Found) -> None:
        message.stop()
        if message.path != self.path or message.gen != self._gen:
            return  # the cursor moved on meanwhile, or the store changed since it was ranked
        self.done = True
        if message.hits is None:
            self.show_message(message.path, message.text)
        else:
            self.show_hits(message.path, message.hits)
