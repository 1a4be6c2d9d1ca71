"""A destructive action asks first, saying exactly what will happen (and why, when needed)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


class ConfirmModal(ModalScreen[str | None]):
    """Dismisses with None (cancelled) or the reason typed ("" when none is asked for)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="confirm.cancel"),
        Binding("y", "confirm", "Yes", id="confirm.yes"),
        Binding("n", "cancel", "No", show=False, id="confirm.no"),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm_label: str = "Yes",
        reason_prompt: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label
        self.reason_prompt = reason_prompt

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.title_text, id="confirm-title")
            yield Static(self.message, id="confirm-message", markup=False)
            if self.reason_prompt is not None:
                yield Static(f"Reason: {self.reason_prompt}", id="confirm-reason-label")
                yield Input(placeholder="type the reason", id="confirm-reason")
            key = "y" if self.reason_prompt is None else "enter"  # y types into the reason box
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (esc)", id="confirm-no")
                yield Button(f"{self.confirm_label} ({key})", variant="error", id="confirm-yes")

    def on_mount(self) -> None:
        if self.reason_prompt is not None:
            self.query_one("#confirm-reason", Input).focus()
        else:
            self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm-yes":
            self.action_confirm()
        else:
            self.action_cancel()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_confirm()

    def action_confirm(self) -> None:
        if self.reason_prompt is None:
            self.dismiss("")
            return
        box = self.query_one("#confirm-reason", Input)
        reason = " ".join(box.value.split())
        if not reason:
            box.border_subtitle = "a reason is required"
            box.add_class("-invalid")
            box.focus()
            return
        self.dismiss(reason)

    def action_cancel(self) -> None:
        self.dismiss(None)
