"""The memory browser's writes: new, edit, $EDITOR, move, tombstone, purge, copy and history.

A mixin of `MemoriesScreen` (it uses the screen's list, scope and `_after_write`). Each write
runs in a thread worker and ends with `WriteDone`; failures become notifications through
`widgets.status.guarded`.
"""

from __future__ import annotations

from textual import work
from textual.message import Message

from core.models import Memory
from core.read_types import MemoryRow
from screens.memory_common import actor_of, store_of
from screens.memory_editor import Edited, EditorModal, run_editor
from screens.memory_modals import MoveModal, PurgeModal, PurgeRequest
from widgets.status import ActivityChanged, guarded


class MemoryLoaded(Message):
    """A memory read for an action (edit, $EDITOR)."""

    def __init__(self, action: str, memory: Memory) -> None:
        super().__init__()
        self.action, self.memory = action, memory


class WriteDone(Message):
    """A write finished: say so, and show the list from `reload` with `select` chosen."""

    def __init__(self, text: str, reload: str, select: str | None) -> None:
        super().__init__()
        self.text, self.reload, self.select = text, reload, select


class ActionsMixin:
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

            self.app.push_screen(HistoryScreen(row.path))

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
        self.post_message(MemoryLoaded(action, store_of(self).view(path)))

    @guarded("editing the memory")
    def on_memory_loaded(self, message: MemoryLoaded) -> None:
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
        self.post_message(WriteDone(text, res.path, res.path))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("moving the memory")
    def _move(self, src: str, dst: str | None) -> None:
        if dst is None:
            return
        res = store_of(self).move(src, dst, actor=actor_of(self))
        self.post_message(WriteDone(f"moved to {res.path} (seq {res.seq})", min(src, dst), dst))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("tombstoning the memory")
    def _tombstone(self, path: str) -> None:
        res = store_of(self).delete(path, actor=actor_of(self), mode="tombstone")
        self.post_message(WriteDone(f"tombstoned {path} (seq {res.seq})", path, path))

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("purging the memory")
    def _purge(self, path: str, req: PurgeRequest | None) -> None:
        if req is None:
            return
        res = store_of(self).delete(
            path, actor=actor_of(self), mode="purge", reason=req.reason, ticket=req.ticket
        )
        text = f"purged {path} (seq {res.seq}, reason {req.reason}); the erasure row stays"
        self.post_message(WriteDone(text, path, path))

    def on_write_done(self, message: WriteDone) -> None:
        self.notify(message.text, timeout=3)
        self._after_write(message.reload, message.select)
