"""Move and purge dialogs for the memory browser (tombstone uses the shared ConfirmModal)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from core import paths
from core.errors import BrainError
from core.models import PURGE_REASONS

PURGE_WARNING = (
    "Purge destroys this memory's body, every earlier version and its index entries;"
    " the erasure fact is permanent: the audit row stays, the content is destroyed."
    " This cannot be undone."
)
_TICKET = re.compile(r"[A-Za-z0-9._-]{1,64}")


def slug_of(path: str) -> str:
    return path.rsplit("/", 1)[-1].removesuffix(".md")


class MoveModal(ModalScreen[str | None]):
    """Dismisses with the destination path, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="move.cancel")]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="move-dialog", classes="memory-dialog"):
            yield Static("Move memory", classes="dialog-title")
            yield Static(f"from  {self.path}", classes="dialog-text", markup=False)
            yield Input(self.path, placeholder="destination path", id="move-dest")
            yield Static(
                "A move keeps the kind (memories/<kind>/…); versions move with it.",
                classes="dialog-hint",
            )
            yield Static("", id="move-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="move-cancel")
                yield Button("Move (enter)", variant="primary", id="move-ok")

    def on_mount(self) -> None:
        self.query_one("#move-dest", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "move-ok":
            self.action_ok()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_ok()

    def action_ok(self) -> None:
        dest = self.query_one("#move-dest", Input).value.strip()
        try:
            paths.validate(dest)
            if dest == self.path:
                raise BrainError("the destination is the current path; type a new one")
            if paths.kind_of(dest) != paths.kind_of(self.path):
                raise BrainError(
                    f"a move keeps the kind: stay under memories/{paths.kind_of(self.path)}/"
                )
        except BrainError as e:
            self.query_one("#move-error", Static).update(str(e))
            return
        self.dismiss(dest)

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class PurgeRequest:
    reason: str
    ticket: str | None


class PurgeModal(ModalScreen[PurgeRequest | None]):
    """Purge needs a reason from the closed list and the memory's slug typed back."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="purge.cancel")]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.slug = slug_of(path)

    def compose(self) -> ComposeResult:
        with Vertical(id="purge-dialog", classes="memory-dialog"):
            yield Static("Purge memory (legal erasure)", classes="dialog-title")
            yield Static(self.path, classes="dialog-text", markup=False)
            yield Static(PURGE_WARNING, id="purge-warning", classes="dialog-warning")
            yield Select(
                [(r, r) for r in PURGE_REASONS], prompt="reason (required)", id="purge-reason"
            )
            ticket = Input(placeholder="e.g. dsr-1234", id="purge-ticket")
            ticket.border_title = "ticket id (optional)"
            yield ticket
            confirm = Input(placeholder=self.slug, id="purge-slug")
            confirm.border_title = "type the slug to confirm"
            yield confirm
            yield Static("", id="purge-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="purge-cancel")
                yield Button("Purge", variant="error", id="purge-ok", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#purge-reason", Select).focus()

    def _ready(self) -> bool:
        reason = self.query_one("#purge-reason", Select).value
        typed = self.query_one("#purge-slug", Input).value.strip()
        return reason in PURGE_REASONS and typed == self.slug

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#purge-ok", Button).disabled = not self._ready()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#purge-ok", Button).disabled = not self._ready()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "purge-ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_ok(self) -> None:
        if not self._ready():
            reason = self.query_one("#purge-reason", Select).value
            why = (
                "choose a reason from the list"
                if reason not in PURGE_REASONS
                else f"type the slug {self.slug} exactly to confirm"
            )
            self.query_one("#purge-error", Static).update(why)
            return
        reason = str(self.query_one("#purge-reason", Select).value)
        ticket = self.query_one("#purge-ticket", Input).value.strip() or None
        if ticket is not None and not _TICKET.fullmatch(ticket):
            # The row is permanent: an id only, never free text that might name someone.
            self.query_one("#purge-error", Static).update(
                "a ticket is an id (letters, digits, . _ -, up to 64); notes belong in local/"
            )
            return
        self.dismiss(PurgeRequest(reason, ticket))

    def action_cancel(self) -> None:
        self.dismiss(None)
