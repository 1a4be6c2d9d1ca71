"""Pane 4's release dialog: a person's act (PROTOCOL's threat model), typed, with a reason.

Releasing shares a memory that holds PII as it is, so it asks for a reason code from the
closed list (`core.pii_review.RELEASE_REASONS`; rows carry codes, never free text) and for
the memory's slug typed back. A wrong answer says so and releases nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from core.pii_review import RELEASE_REASONS
from screens.memories.modals import slug_of

RELEASE_WARNING = (
    "Release shares this memory as it is, findings and all, with every device and person"
    " its sync class reaches. Nothing is masked. The release is recorded as a pii.resolved"
    " row with your reason code."
)


@dataclass(frozen=True, slots=True)
class ReleaseRequest:
    reason: str


class ReleaseModal(ModalScreen[ReleaseRequest | None]):
    """Dismisses with the reason once the slug is typed back exactly, or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="release.cancel")]

    def __init__(self, path: str, counts: str) -> None:
        super().__init__()
        self.path = path
        self.counts = counts
        self.slug = slug_of(path)

    def compose(self) -> ComposeResult:
        with Vertical(id="release-dialog", classes="memory-dialog"):
            yield Static("Release held memory (share with its PII)", classes="dialog-title")
            yield Static(
                f"{self.path}\nfindings: {self.counts}", classes="dialog-text", markup=False
            )
            yield Static(RELEASE_WARNING, classes="dialog-warning")
            yield Select(
                [(r, r) for r in RELEASE_REASONS], prompt="reason (required)", id="release-reason"
            )
            confirm = Input(placeholder=self.slug, id="release-slug")
            confirm.border_title = "type the slug to confirm"
            yield confirm
            yield Static("", id="release-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="release-cancel")
                yield Button("Release", variant="error", id="release-ok")

    def on_mount(self) -> None:
        self.query_one("#release-reason", Select).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value in RELEASE_REASONS:
            self.query_one("#release-slug", Input).focus()  # the next thing to type

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "release-ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_ok(self) -> None:
        reason = self.query_one("#release-reason", Select).value
        typed = self.query_one("#release-slug", Input).value.strip()
        if reason not in RELEASE_REASONS:
            self.query_one("#release-error", Static).update("choose a reason from the list")
            return
        if typed != self.slug:
            self.query_one("#release-error", Static).update(
                f"that is not the slug: type {self.slug} exactly to release; nothing was released"
            )
            return
        self.dismiss(ReleaseRequest(str(reason)))

    def action_cancel(self) -> None:
        self.dismiss(None)
