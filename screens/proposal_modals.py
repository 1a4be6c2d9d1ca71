"""Pane 5's decision dialog: approving or rejecting a proposal is a person's act (seed 004).

The dialog names the proposal and what the decision does, asks (for a rejection) a reason,
and takes the proposal's slug typed back. A wrong slug or a missing reason says so and decides
nothing; escape cancels. The decision is recorded as a `proposal.decided` row naming the
app's human actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.memories.modals import slug_of

WHAT = {
    "accept": (
        "Approve proposal",
        "Approving marks it status:accepted and applies the change shown under 'on approval'"
        " (for a maintenance proposal, each target's put, on the body it was proposed"
        " against), all in one request with a proposal.decided row naming you.",
    ),
    "reject": (
        "Reject proposal",
        "Rejecting marks it status:rejected with your reason, recorded in a proposal.decided"
        " row naming you. Nothing else changes.",
    ),
}


@dataclass(frozen=True, slots=True)
class DecideRequest:
    decision: str
    reason: str


class DecideModal(ModalScreen[DecideRequest | None]):
    """Dismisses with the decision once the slug is typed back (and a reason given for a
    rejection), or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="decide.cancel")]

    def __init__(self, path: str, title: str, decision: str) -> None:
        super().__init__()
        self.path = path
        self.title_text = title
        self.decision = decision
        self.slug = slug_of(path)

    def compose(self) -> ComposeResult:
        heading, warning = WHAT[self.decision]
        with Vertical(id="decide-dialog", classes=f"memory-dialog decide-{self.decision}"):
            yield Static(heading, classes="dialog-title")
            yield Static(f"{self.title_text}\n{self.path}", classes="dialog-text", markup=False)
            yield Static(warning, classes="dialog-warning")
            if self.decision == "reject":
                reason = Input(placeholder="why it is rejected", id="decide-reason")
                reason.border_title = "reason (required)"
                yield reason
            confirm = Input(placeholder=self.slug, id="decide-slug")
            confirm.border_title = "type the slug to confirm"
            yield confirm
            yield Static("", id="decide-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (esc)", id="decide-cancel")
                if self.decision == "accept":
                    yield Button("Approve", variant="success", id="decide-ok")
                else:
                    yield Button("Reject", variant="error", id="decide-ok")

    def on_mount(self) -> None:
        first = "#decide-reason" if self.decision == "reject" else "#decide-slug"
        self.query_one(first, Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "decide-reason" and event.value.strip():
            self.query_one("#decide-slug", Input).focus()
            return
        self.action_ok()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "decide-ok":
            self.action_ok()
        else:
            self.action_cancel()

    def action_ok(self) -> None:
        error = self.query_one("#decide-error", Static)
        reason = ""
        if self.decision == "reject":
            reason = self.query_one("#decide-reason", Input).value.strip()
            if not reason:
                error.update("a rejection needs a reason; nothing was decided")
                return
        typed = self.query_one("#decide-slug", Input).value.strip()
        if typed != self.slug:
            error.update(f"that is not the slug: type {self.slug} exactly; nothing was decided")
            return
        self.dismiss(DecideRequest(self.decision, reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
