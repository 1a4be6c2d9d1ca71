"""One virtual list under the audit tail and the memory list: cursor, drawing, messages.

Modelled on toolong's log view: a `ScrollView` whose `render_line` draws only what is on
screen, from rows a subclass fetches by key in thread workers. This base owns what both lists
share: the cursor and its keys, a small LRU of rendered strips, a repaint of only the two
changed lines when the cursor moves, and the `Highlighted`/`Opened` messages (carrying
`control`, as Textual's own widgets do). A subclass says how many rows there are (`total`),
which row is at an index (`row_at`, None while its page is on its way), asks for missing
pages (`request_rows`) and how a row looks (`row_cells`, `strip_key`).

Line 0 of the viewport is the column header; viewport line y >= 1 shows row scroll_y + y - 1,
and the virtual height is rows + 1, so the last row is reachable and the header never scrolls.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cells = list[tuple[str, str]]  # (text, component class) per cell


class VirtualList(ScrollView, can_focus=True):
    CURSOR_CLASS: ClassVar[str] = ""  # the component class of the cursor line

    cursor: reactive[int] = reactive(0, repaint=False)
    total: reactive[int] = reactive(0, repaint=False)

    @dataclass(eq=False)
    class Highlighted(Message):
        """The cursor rests on a row (row is None on an empty list)."""

        virtual_list: VirtualList
        row: Any

        @property
        def control(self) -> VirtualList:
            return self.virtual_list

        def can_replace(self, message: Message) -> bool:
            # j held down: only where the cursor came to rest matters (one preview read).
            return isinstance(message, type(self)) and message.control is self.control

    @dataclass(eq=False)
    class Opened(Message):
        """Enter (or a click on the cursor row) on a loaded row."""

        virtual_list: VirtualList
        row: Any

        @property
        def control(self) -> VirtualList:
            return self.virtual_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Drawn rows, keyed by what changes their look; cleared when the theme or CSS does.
        self._strips: LRUCache[tuple[Hashable, int, bool], Strip] = LRUCache(1024)
        # Looked up once per frame (render_lines), not once per line or cell: Textual computes
        # each of these afresh on every access, and they were half of a frame's cost.
        self._styles: dict[tuple[str, bool], Style] = {}
        self._frame_top = 0
        self._frame_width = 80
        self._frame_style = Style()
        self._announced: Hashable | None = None
        self._announced_any = False

    # -- what a subclass provides ----------------------------------------------------------

    def row_at(self, index: int) -> Any | None:
        """The row at index, or None while its page is on its way."""
        raise NotImplementedError

    def request_rows(self, first: int, last: int) -> None:
        """Rows first..last are about to be drawn: fetch the pages they are on if missing."""

    def prepare_frame(self, width: int) -> None:
        """Once per frame, before any line: lay out the columns for this width."""

    def header_cells(self) -> Cells:
        raise NotImplementedError

    def row_cells(self, row: Any) -> Cells:
        raise NotImplementedError

    def pending_cells(self, index: int) -> Cells:
        return [("  …", "")]

    def empty_cells(self) -> Cells | None:
        """What line 1 says when there are no rows (None: blank)."""
        return None

    def strip_key(self, row: Any) -> Hashable:
        """Everything that changes how the row looks (with the width and the cursor)."""
        raise NotImplementedError

    def row_identity(self, row: Any) -> Hashable:
        """What makes two rows the same row (Highlighted is posted when it changes)."""
        return self.strip_key(row)

    # -- rows and size ---------------------------------------------------------------------

    def current_row(self) -> Any | None:
        return self.row_at(self.cursor) if 0 <= self.cursor < self.total else None

    def set_total(self, total: int, *, reset: bool = False) -> None:
        """The list has `total` rows now; keeps the cursor inside them."""
        self.total = total
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        if reset or self.cursor >= self.total:
            self.cursor = max(0, min(self.cursor, self.total - 1))
        self.refresh()

    def rows_arrived(self, first: int, last: int) -> None:
        """Rows first..last have loaded: repaint if any is on screen, and tell the screen
        about the cursor row if it was among them."""
        top = int(self.scroll_offset.y)
        if first <= top + self.scrollable_content_region.height and last >= top - 1:
            self.refresh()
        if first <= self.cursor <= last:
            self.announce()

    def announce(self) -> None:
        """Post Highlighted when the row under the cursor is a different one (or none)."""
        row = self.current_row()
        if row is None and self.total:
            return  # its page is on its way: announced when it lands
        key = self.row_identity(row) if row is not None else None
        if not self._announced_any or key != self._announced or row is None:
            self._announced, self._announced_any = key, True
            self.post_message(self.Highlighted(self, row))

    def forget_announced(self) -> None:
        """The rows changed under the cursor: announce the cursor row again."""
        self._announced_any = False

    # -- drawing -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.clear_strips()

    def clear_strips(self) -> None:
        self._strips.clear()
        self._styles.clear()

    # The cursor's style depends on focus (`List:focus > .x-list--cursor`).
    def on_focus(self) -> None:
        self.clear_strips()

    def on_blur(self) -> None:
        self.clear_strips()

    def render_lines(self, crop: Region) -> list[Strip]:
        width = self.scrollable_content_region.width
        top = int(self.scroll_offset.y)
        height = self.scrollable_content_region.height
        if self.total:
            self.request_rows(max(0, top - 1), min(self.total - 1, top + height))
        self.prepare_frame(width)
        self._frame_top = top
        self._frame_width = width
        style = self.rich_style
        if style != self._frame_style:  # e.g. an ancestor's background: cached looks are stale
            self.clear_strips()
            self._frame_style = style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._frame_width
        if y == 0:
            return self._strip(self.header_cells(), width, False)
        index = self._frame_top + y - 1
        if index >= self.total:
            empty = self.empty_cells() if index == 0 else None
            if empty is not None:
                return self._strip(empty, width, False)
            return Strip.blank(width, self._frame_style)
        cursor = index == self.cursor
        row = self.row_at(index)
        if row is None:
            return self._strip(self.pending_cells(index), width, cursor)
        key = (self.strip_key(row), width, cursor)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strip(self.row_cells(row), width, cursor)
            self._strips.set(key, strip)
        return strip

    def _style(self, cls: str, cursor: bool) -> Style:
        """The full style of a cell of this class (on the cursor line or not), cached until
        the theme, the CSS or the focus changes."""
        key = (cls, cursor)
        style = self._styles.get(key)
        if style is None:
            style = self._frame_style
            if cls:
                style = style + self.get_component_rich_style(cls, partial=True)
            if cursor:
                style = style + self.get_component_rich_style(self.CURSOR_CLASS, partial=True)
            self._styles[key] = style
        return style

    def _strip(self, cells: Cells, width: int, cursor: bool) -> Strip:
        segments = [Segment(text, self._style(cls, cursor)) for text, cls in cells]
        return Strip(segments).adjust_cell_length(width, self._style("", cursor))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.total + 1)
        self.scroll_to_cursor()

    def watch_virtual_size(self) -> None:
        # A new row count moves the scroll limits: keep the cursor (the end, when the tail
        # follows) in view as rows arrive.
        self.scroll_to_cursor()

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        # A scroll made before the layout that shows the bar (rows just arrived) would leave
        # its thumb at the top: the bar starts where the list is.
        if shown:
            self.vertical_scrollbar.position = self.scroll_y

    # -- cursor -----------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        top = self.scroll_offset.y
        self.scroll_to_cursor()
        if self.scroll_offset.y == top:
            # Only the two cursor lines change (a scroll repaints everything by itself): a
            # whole repaint per j/k was most of a key's time on a busy machine.
            self.refresh_lines(old + 1)  # row i is virtual line i + 1 (line 0: the header)
            self.refresh_lines(new + 1)
        self.cursor_moved()

    def cursor_moved(self) -> None:
        """After every cursor move (the base announces the new row)."""
        self.announce()

    def scroll_to_cursor(self) -> None:
        if not self.scrollable_content_region.height:
            return  # not laid out yet: the scroll limits are unknown; on_resize comes next
        rows_visible = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        # force: rows that just arrived may need a scroll bar that the next layout adds (an
        # `auto` overflow refuses to scroll until then); the limit is the virtual size.
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor > top + rows_visible - 1:
            y = self.cursor - rows_visible + 1
            self.scroll_to(y=y, animate=False, immediate=True, force=True)

    def set_cursor(self, index: int) -> None:
        self.cursor = max(0, min(index, self.total - 1))

    def action_move(self, delta: int) -> None:
        self.set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.set_cursor(self.cursor + direction * max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self.set_cursor(0)

    def action_last(self) -> None:
        self.set_cursor(self.total - 1)

    def action_open(self) -> None:
        row = self.current_row()
        if row is not None:
            self.post_message(self.Opened(self, row))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if index >= self.total:
            return
        if index == self.cursor:
            self.action_open()
        else:
            self.set_cursor(index)
