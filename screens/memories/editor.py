"""The built-in memory editor (path, title, body) and the hand-over to `$EDITOR`.

The built-in editor takes bodies of at most `EDIT_MAX` bytes: a TextArea lays out its whole
text when loaded and wraps the edited line again at every key (measured: a 5 MB body froze the
UI for five seconds on `e`; a 256 KB line costs half a second a key, a 64 KB one 0.15 s). A
longer body is `$EDITOR`'s (`E`, `ctrl+e` here) or `brain put`'s, which take any size.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static, TextArea

from core import paths
from core.errors import BrainError
from screens.confirm import ConfirmModal
from screens.memories.view import SHOWN_MAX, size_text

# As much as the TUI ever shows of a body (view.SHOWN_MAX): it loads in ~0.2 s.
EDIT_MAX = SHOWN_MAX


@dataclass(frozen=True, slots=True)
class Edited:
    path: str
    title: str
    body: str


def too_big_to_edit(path: str, size: int) -> str | None:
    """Why a body of `size` bytes is not for the built-in editor, or None when it is."""
    if size <= EDIT_MAX:
        return None
    return (
        f"{path} is {size_text(size)}, too long for the built-in editor (at most"
        f" {size_text(EDIT_MAX)}): edit it in $EDITOR (E), or write it with"
        f" `brain put {path} FILE`"
    )


def editor_command() -> list[str]:
    raw = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(raw)


def run_editor(app: App, text: str, *, name: str = "memory") -> str | None:
    """Hand the terminal to $EDITOR on a temporary copy of text; returns the edited text,
    or None when the editor failed. Runs on the UI thread: the app is suspended meanwhile."""
    fd, tmp = tempfile.mkstemp(prefix=f"brain-{name}-", suffix=".md")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        cmd = [*editor_command(), tmp]
        try:
            with app.suspend():
                rc = subprocess.call(cmd)
        except SuspendNotSupported:
            if not app.is_headless:
                raise BrainError(
                    "this terminal cannot hand over to $EDITOR; use the built-in editor (e)"
                ) from None
            # Headless (tests): nothing owns the terminal, so a non-interactive editor may run.
            rc = subprocess.call(cmd, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise BrainError(f"$EDITOR {cmd[0]!r} was not found; set EDITOR or VISUAL") from None
        if rc != 0:
            raise BrainError(f"{cmd[0]} exited with status {rc}; nothing was saved")
        return Path(tmp).read_text(encoding="utf-8")
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


class EditorModal(ModalScreen[Edited | None]):
    """New memory (path editable) or edit (path fixed). ctrl+s saves, ctrl+e opens $EDITOR.

    Both keys have priority: the text fields bind ctrl+e themselves (end of line), and the
    editor's keys must work from whichever field has the cursor. `esc` with a typed draft
    asks before throwing it away. A body longer than EDIT_MAX is not opened here (the browser
    says to use $EDITOR); one that comes back from $EDITOR that long is held (`_load_body`).
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="editor.save"),
        Binding("ctrl+e", "external", "$EDITOR", priority=True, id="editor.external"),
        Binding("escape", "cancel", "Cancel", id="editor.cancel"),
    ]

    def __init__(self, *, path: str, title: str = "", body: str = "", new: bool = True) -> None:
        super().__init__()
        self.path = path
        self.title_text = title
        self.body = body
        self.new = new
        # A body from $EDITOR too long for the TextArea: kept here (what ctrl+s saves and
        # ctrl+e edits again) while the TextArea only says so.
        self.held: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="editor-dialog", classes="memory-dialog"):
            heading = "New memory" if self.new else "Edit memory (saves a new version)"
            yield Static(heading, classes="dialog-title")
            yield Input(
                self.path,
                placeholder="memories/<kind>/<folder>/<slug>.md",
                id="editor-path",
                disabled=not self.new,
                select_on_focus=False,  # typing adds the name after the folder offered
            )
            yield Input(self.title_text, placeholder="title (optional)", id="editor-title")
            yield TextArea(self.body, id="editor-body", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="editor-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="editor-cancel")
                yield Button("$EDITOR (^e)", id="editor-external")
                yield Button("Save (^s)", variant="primary", id="editor-save")

    def on_mount(self) -> None:
        target = "#editor-path" if self.new else "#editor-body"
        self.query_one(target).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = {"editor-save": self.action_save, "editor-external": self.action_external}
        action.get(event.button.id or "", self.action_cancel)()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#editor-body", TextArea).focus()

    def action_save(self) -> None:
        path = self.query_one("#editor-path", Input).value.strip()
        try:
            paths.validate(path)
        except BrainError as e:
            self._error(str(e))
            return
        body = self._body()
        if not body.strip():
            self._error("the body is empty; write something (or cancel)")
            return
        title = " ".join(self.query_one("#editor-title", Input).value.split())
        self.dismiss(Edited(path, title, body))

    def action_external(self) -> None:
        try:
            text = run_editor(self.app, self._body())
        except BrainError as e:
            self._error(str(e))
            return
        if text is not None:
            self._load_body(text)
        self.app.refresh()

    def _body(self) -> str:
        return self.held if self.held is not None else self.query_one("#editor-body", TextArea).text

    def _load_body(self, text: str) -> None:
        """Put $EDITOR's text in the TextArea, or when too long hold it (never lost, never
        loaded into the TextArea, which would freeze the UI): the TextArea says so, read-only."""
        area = self.query_one("#editor-body", TextArea)
        size = len(text.encode("utf-8"))
        if size <= EDIT_MAX:
            self.held = None
            area.read_only = False
            area.load_text(text)
            return
        self.held = text
        area.read_only = True
        area.load_text(
            f"The body from $EDITOR is {size_text(size)}, too long to show here (at most"
            f" {size_text(EDIT_MAX)}).\nctrl+s saves it; ctrl+e opens it in $EDITOR again."
        )

    def _fields(self) -> tuple[str, str, str]:
        return (
            self.query_one("#editor-path", Input).value,
            self.query_one("#editor-title", Input).value,
            self._body(),
        )

    def draft_changed(self) -> bool:
        return self._fields() != (self.path, self.title_text, self.body)

    def action_cancel(self) -> None:
        if not self.draft_changed():
            self.dismiss(None)
            return
        ask = ConfirmModal(
            "Discard the draft?",
            "What you typed here has not been saved. Discard it, or go back to editing"
            " (ctrl+s saves it).",
            confirm_label="Discard",
        )
        self.app.push_screen(ask, self._discard)

    def _discard(self, ok: str | None) -> None:
        if ok is not None:
            self.dismiss(None)

    def _error(self, text: str) -> None:
        self.query_one("#editor-error", Static).update(text)
