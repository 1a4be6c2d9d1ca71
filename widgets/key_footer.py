"""The footer: the focused pane's keys on one line that fits the terminal.

Textual's `Footer` lays every shown binding out in a row and cuts the last one mid-word at 80
columns, dropping `?` and `q` off the end. This one reads the same active bindings (the user's
keymap already applied), keeps their order (the focused widget's first, so the most useful
keys of what has focus lead), drops whole entries that do not fit, and always ends with
`? Help` and `q Quit` (whatever those keys do on this screen), then `^p Commands` when there
is room. Every key is clickable (it presses the key). What is left out is in `?`.
"""

from __future__ import annotations

import string

from textual.binding import Binding
from textual.content import Content
from textual.keys import _character_to_key, key_to_character
from textual.widgets import Static

# Keys shown at the right end on every screen that binds them, in this order; where a text
# field has the focus (it types `?`), help's other key is shown instead.
PINNED = ("question_mark", "q")
ALTERNATE = {"question_mark": "f1"}
PALETTE = "ctrl+p"
GAP = 2
Item = tuple[str, Binding, bool]  # (key, binding, enabled)
# Textual knows `?` is question_mark but not that `slash` is `/`: the characters of the
# punctuation keys, so a key a text field would type is never offered in the footer.
_CHARS = {_character_to_key(c): c for c in string.punctuation}


def char_of(key: str) -> str | None:
    return key_to_character(key) or _CHARS.get(key)


class KeyFooter(Static):
    DEFAULT_CLASSES = "key-footer"

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        # The signal can fire before the screen's first focus lands: follow focus as well.
        self.watch(self.screen, "focused", self._bindings_changed, init=False)
        self.call_after_refresh(self._repaint)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen: object) -> None:
        if self.is_attached:
            self.call_after_refresh(self._repaint)

    def on_resize(self) -> None:
        self._repaint()

    def entries(self) -> tuple[list[Item], list[Item]]:
        """(the keys in order, the pinned ones), one entry per action. A disabled key (say
        `enter` before the list has rows) stays, dimmed: the line does not jump about."""
        focused = self.screen.focused
        active = {
            key: item
            for key, item in self.screen.active_bindings.items()
            if focused is None or not focused.check_consume_key(key, char_of(key))
        }
        keys = [k if k in active else ALTERNATE.get(k, k) for k in PINNED]
        pinned = [(key, active[key].binding, active[key].enabled) for key in keys if key in active]
        seen: set[str] = {b.action for _k, b, _e in pinned}
        out: list[Item] = []
        for key, item in active.items():
            b = item.binding
            if not b.show or b.action in seen or key == PALETTE:
                continue
            seen.add(b.action)
            out.append((key, b, item.enabled))
        if PALETTE in active and active[PALETTE].binding.action not in seen:
            out.append((PALETTE, active[PALETTE].binding, True))
        return out, pinned

    def _item(self, key: str, binding: Binding, enabled: bool) -> Content:
        shown = self.app.get_key_display(binding)
        key_style = "bold $footer-key-foreground" if enabled else "$text-disabled"
        what = binding.description if enabled else (binding.description, "$text-disabled")
        text = Content.assemble((shown, key_style), " ", what)
        return text.stylize(f"@click=app.simulate_key('{key}')")

    def content_for(self, width: int) -> Content:
        keys, pinned = self.entries()
        tail = [self._item(*p) for p in pinned]
        tail_w = sum(t.cell_length for t in tail) + GAP * max(0, len(tail) - 1)
        room = width - 2 - tail_w  # a space at each end
        parts: list[Content] = []
        for key, b, enabled in keys:
            item = self._item(key, b, enabled)
            need = item.cell_length + GAP
            if need > room:
                if key == PALETTE:
                    continue
                break  # keep the order: a later key never jumps ahead of one left out
            parts.append(item)
            room -= need
        gap = Content(" " * GAP)
        left = gap.join(parts)
        pad = max(GAP if parts and tail else 0, width - 2 - left.cell_length - tail_w)
        return Content.assemble(" ", left, " " * pad, gap.join(tail), " ")

    def _repaint(self) -> None:
        if not self.is_attached:
            return
        self.update(self.content_for(self.size.width or self.app.size.width), layout=False)
