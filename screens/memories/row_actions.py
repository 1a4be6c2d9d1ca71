"""What the memory browser does to a row: open, new, edit, $EDITOR, move, tombstone, purge,
pin, unpin, history and copy.

`RowActions` is a widget without a face: the browser composes it, hands it the selected row,
and hears back by message. Dialogs ask first; every engine call runs in a thread worker; a
write ends with `Written` (the browser reloads what it changed), an open with `Opened`.
Failures become notifications through `widgets.status.guarded`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.message import Message
from textual.widget import Widget

from core.models import Memory
from core.read_types import MemoryRow
from screens.confirm import ConfirmModal
from screens.memories.common import actor_of, store_of
from screens.memories.editor import Edited, EditorModal, run_editor, too_big_to_edit
from screens.memories.history import HistoryScreen
from screens.memories.modals import MoveModal, PurgeModal, PurgeRequest
from screens.memories.view import MemoryViewScreen
from widgets.status import ActivityChanged, guarded


class RowActions(Widget):
    DEFAULT_CSS = "RowActions { display: none; }"

    @dataclass(eq=False)
    class Written(Message):
        """A write finished: say so, and show the list from `reload` with `select` chosen."""

        actions: RowActions
        text: str
        reload: str
        select: str | None
        head: int = 0  # the index's newest row once the write was in it (its own HEAD move)

        @property
        def control(self) -> RowActions:
            return self.actions

    @dataclass(eq=False)
    class Loaded(Message):
        """A memory read for an action (edit, $EDITOR) or opened (journaled as an access)."""

        actions: RowActions
        action: str
        memory: Memory
        accesses: int | None = None

        @property
        def control(self) -> RowActions:
            return self.actions

    # -- reads -------------------------------------------------------------------------------

    def open(self, row: MemoryRow) -> None:
        self._open(row.path, row.accesses)

    @work(thread=True, group="mem-open", exit_on_error=False)
    @guarded("opening the memory")
    def _open(self, path: str, accesses: int) -> None:
        memory = store_of(self).view(path, actor=actor_of(self))  # an access, journaled
        count = accesses + 1 if accesses >= 0 else None
        self.post_message(self.Loaded(self, "open", memory, count))

    def history(self, row: MemoryRow) -> None:
        self.app.push_screen(HistoryScreen(row.path))

    def copy_path(self, row: MemoryRow) -> None:
        self.app.copy_to_clipboard(row.path)
        self.notify(f"copied {row.path}", timeout=2)

    def edit(self, row: MemoryRow, *, external: bool = False) -> None:
        self._read_for("external" if external else "edit", row.path)

    @work(thread=True, group="mem-read", exit_on_error=False)
    @guarded("reading the memory")
    def _read_for(self, action: str, path: str) -> None:
        self.post_message(self.Loaded(self, action, store_of(self).view(path)))

    @on(Loaded)
    @guarded("editing the memory")
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        if self.app.screen is not self.screen:
            return  # the person went on to another pane (or a dialog) while it was read
        mem = message.memory
        if message.action == "open":
            self.app.push_screen(MemoryViewScreen(mem, message.accesses))
            return
        if mem.sidecar.state != "active":
            self.notify(f"{mem.path} is {mem.sidecar.state}: nothing to edit", severity="warning")
            return
        if message.action == "edit" and (why := too_big_to_edit(mem.path, len(mem.body))):
            self.notify(why, title="too long to edit here", severity="warning", timeout=10)
            return
        text = mem.body.decode("utf-8", "replace")
        if message.action == "edit":
            modal = EditorModal(path=mem.path, title=mem.sidecar.title, body=text, new=False)
            self.app.push_screen(modal, self._save)
            return
        edited = run_editor(self.app, text, name=mem.path.rsplit("/", 1)[-1][:-3])
        if edited is None or edited == text:
            self.notify("no change", timeout=2)
            return
        self._put(Edited(mem.path, mem.sidecar.title, edited), "saved")

    # -- dialogs -----------------------------------------------------------------------------

    def new(self, folder: str) -> None:
        modal = EditorModal(path=f"memories/{folder}/", new=True)
        self.app.push_screen(modal, self._create)

    def _save(self, edited: Edited | None) -> None:
        if edited is not None:
            self._put(edited, "saved")

    def _create(self, edited: Edited | None) -> None:
        if edited is not None:
            self._put(edited, "created")

    def move(self, row: MemoryRow) -> None:
        def moved(dst: str | None) -> None:
            if dst is not None:
                self._move(row.path, dst)

        self.app.push_screen(MoveModal(row.path), moved)

    def tombstone(self, row: MemoryRow) -> None:
        if row.state != "active":
            self.notify(f"{row.path} is already {row.state}", severity="warning")
            return
        message = (
            f"{row.path}\n\nThe body becomes a tombstone stub. Every earlier version stays"
            " in its history and the audit trail; nothing is destroyed."
        )
        modal = ConfirmModal("Tombstone memory?", message, confirm_label="Tombstone")

        def confirmed(ok: str | None) -> None:
            if ok is not None:
                self._tombstone(row.path)

        self.app.push_screen(modal, confirmed)

    def purge(self, row: MemoryRow) -> None:
        def asked(req: PurgeRequest | None) -> None:
            if req is not None:
                self._purge(row.path, req)

        self.app.push_screen(PurgeModal(row.path), asked)

    def pin(self, row: MemoryRow, pinned: bool) -> None:
        if row.pinned == pinned:
            self.notify(f"{row.path} is {'already' if pinned else 'not'} pinned", timeout=2)
            return
        self._pin(row.path, pinned)

    # -- writes (workers) --------------------------------------------------------------------

    def _done(self, text: str, reload: str, select: str | None) -> None:
        """In the write's worker: say it landed, and at which index head (the browser's reads
        that follow see it; the HEAD move it causes then reads nothing again)."""
        try:
            store = store_of(self)
            store.wait_index()
            head = store.indexed_seq()
        except Exception:  # noqa: BLE001 - the write landed; its HEAD move reads the pane again
            head = 0
        self.post_message(self.Written(self, text, reload, select, head))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("saving the memory")
    def _put(self, edited: Edited, verb: str) -> None:
        self.post_message(ActivityChanged("memories", f"saving {edited.path}…"))
        try:
            res = store_of(self).put(
                edited.path, edited.body, actor=actor_of(self), title=edited.title or None
            )
        finally:
            self.post_message(ActivityChanged("memories", None))
        text = f"{verb} {res.path} (seq {res.seq})" if res.changed else "no change: nothing written"
        self._done(text, res.path, res.path)

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("moving the memory")
    def _move(self, src: str, dst: str) -> None:
        res = store_of(self).move(src, dst, actor=actor_of(self))
        self._done(f"moved to {res.path} (seq {res.seq})", min(src, dst), dst)

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("tombstoning the memory")
    def _tombstone(self, path: str) -> None:
        res = store_of(self).delete(path, actor=actor_of(self), mode="tombstone")
        self._done(f"tombstoned {path} (seq {res.seq})", path, path)

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("purging the memory")
    def _purge(self, path: str, req: PurgeRequest) -> None:
        res = store_of(self).delete(
            path, actor=actor_of(self), mode="purge", reason=req.reason, ticket=req.ticket
        )
        text = f"purged {path} (seq {res.seq}, reason {req.reason}); the erasure row stays"
        self._done(text, path, path)

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("pinning the memory")
    def _pin(self, path: str, pinned: bool) -> None:
        store_of(self).tiers.pin(path, actor=actor_of(self), pinned=pinned)
        text = (
            f"pinned {path}: hot now, never below warm"
            if pinned
            else f"unpinned {path}: its tier follows its use from the next rebalance"
        )
        self._done(text, path, path)
