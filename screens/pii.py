"""Pane 4: PII review. The memories the PII gate held, and the four ways to resolve one.

The queue (widgets.pii_queue) lists held memories with their findings counted by type; the
pane bar totals the queue by type. The body below shows the cursor memory's text with every
finding highlighted in its type's colour (widgets.pii_format) and the findings listed by
number, never their text elsewhere. Keys act on the memory under the cursor:

- `n` / `N` move between findings, `space` toggles the current one for redaction, `a` all;
- `r` redacts the chosen findings (a new put with them masked; it may stay held);
- `p` keeps it private (a put with sync class `private`);
- `R` releases it as it is: a dialog with a reason code and the slug typed back;
- `P` purges it: the purge dialog (a reason from the closed list, the slug typed back).

Every engine call runs in a thread worker (`store.pii`, core/pii_review.py); each resolution
is one `pii.resolved` row, which moves HEAD: the queue, the header's pending count and the
audit tail all follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from core.pii_review import Pending, Resolution
from screens.memories.common import actor_of, store_of
from screens.memories.modals import PurgeModal, PurgeRequest
from screens.pane import PaneScreen
from screens.pii_modals import ReleaseModal, ReleaseRequest
from widgets.pii_format import (
    counts_text,
    field_lines,
    findings_lines,
    highlighted_body,
    queue_totals,
)
from widgets.pii_queue import PiiQueue
from widgets.status import ActivityChanged, StoreChanged, guarded


class PiiDetail(VerticalScroll, can_focus=True):
    """The body (findings highlighted) and the numbered findings; scrolls with the arrows."""

    BINDINGS = [
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="pii.detail.down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="pii.detail.up"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="pii-title")
        yield Static("", id="pii-fields")  # tags and extra with findings (hidden when none)
        yield Static("", id="pii-text")
        yield Static("", id="pii-findings")


class PiiScreen(PaneScreen):
    PANE = "pii"
    TITLE_TEXT = "PII review"

    BINDINGS = [
        Binding("n", "finding(1)", "Next", id="pii.next", tooltip="the next finding"),
        Binding("N", "finding(-1)", "Previous finding", show=False, id="pii.prev"),
        Binding(
            "space", "toggle_span", "Toggle", id="pii.toggle", tooltip="redact this finding or not"
        ),
        Binding("a", "toggle_all", "Toggle all findings", show=False, id="pii.toggle_all"),
        Binding("r", "redact", "Redact", id="pii.redact", tooltip="a new put, chosen spans masked"),
        Binding("p", "keep_private", "Private", id="pii.keep_private", tooltip="keep it private"),
        Binding(
            "R",
            "release",
            "Release",
            id="pii.release",
            tooltip="share as it is; typed confirmation",
        ),
        Binding("P", "purge", "Purge", id="pii.purge", tooltip="legal erasure, with a reason"),
        Binding("tab", "switch_focus", "Body", show=False, id="pii.focus"),
    ]

    @dataclass(eq=False)
    class QueueLoaded(Message):
        items: list[Pending]
        select: str | None = None

    @dataclass(eq=False)
    class BodyLoaded(Message):
        path: str
        seq: int
        text: str

    @dataclass(eq=False)
    class Resolved(Message):
        resolution: Resolution
        notes: list[str] = field(default_factory=list)

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Pending] = []
        self.item: Pending | None = None  # the memory under the cursor
        self.text = ""  # its body (loaded for it)
        self.chosen: set[int] = set()  # findings (numbered from 1) chosen for redaction
        self.current: int | None = None  # the finding `space` toggles
        self.busy = False  # a resolution is on its way: one at a time
        self.loaded = False

    def compose_body(self) -> ComposeResult:
        with Vertical(id="pii-body"):
            yield PiiQueue(id="pii-queue")
            yield PiiDetail(id="pii-detail")

    @property
    def queue(self) -> PiiQueue:
        return self.query_one("#pii-queue", PiiQueue)

    def on_mount(self) -> None:
        self.bar.show("reading the queue…")
        self.queue.focus()
        self.load()
        # Every write moves the index head: the queue follows it (another process's capture,
        # a `brain pending resolve` in a terminal, this pane's own resolutions).
        self.watch(self.app, "index_head", self._head_moved, init=False)

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.load()

    def _head_moved(self, _head: object = None) -> None:
        if self.is_attached and self.app.screen is self:
            self.load()

    # -- reads --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="pii-queue", exit_on_error=False)
    @guarded("reading the PII queue")
    def load(self, select: str | None = None) -> None:
        self.post_message(self.QueueLoaded(store_of(self).pii.pending(), select))

    @on(QueueLoaded)
    def _queue_loaded(self, message: QueueLoaded) -> None:
        self.loaded = True
        self.items = message.items
        self.queue.set_rows(message.items, select=message.select)
        if not message.items:
            self._show(None)
        self._update_bar()

    def _update_bar(self) -> None:
        n = len(self.items)
        if not n:
            self.bar.show(Content.styled("nothing held", "$text-muted"))
            return
        totals = counts_text(queue_totals(self.items))
        self.bar.show(Content.assemble((f"{n} held  ", "bold $warning"), (totals, "")))

    @on(PiiQueue.Highlighted, "#pii-queue")
    def _highlighted(self, message: PiiQueue.Highlighted) -> None:
        self._show(message.row)

    @on(PiiQueue.Opened, "#pii-queue")
    def _opened(self, _message: PiiQueue.Opened) -> None:
        self.query_one(PiiDetail).focus()

    def _show(self, item: Pending | None) -> None:
        same = (
            item is not None
            and self.item is not None
            and (item.path, item.seq) == (self.item.path, self.item.seq)
        )
        self.item = item
        if same:
            return
        self.text = ""
        self.chosen = (
            {n for n, f in enumerate(item.findings, 1) if f.get("where") != "path"}
            if item
            else set()
        )
        self.current = 1 if item and item.findings else None
        self._paint()
        if item is not None:
            self._load_body(item.path, item.seq)

    @work(thread=True, exclusive=True, group="pii-body", exit_on_error=False)
    @guarded("reading the held memory")
    def _load_body(self, path: str, seq: int) -> None:
        body = store_of(self).view(path).body
        self.post_message(self.BodyLoaded(path, seq, body.decode("utf-8", "replace")))

    @on(BodyLoaded)
    def _body_loaded(self, message: BodyLoaded) -> None:
        if self.item is None or (self.item.path, self.item.seq) != (message.path, message.seq):
            return  # the cursor moved on
        self.text = message.text
        self._paint()

    def _paint(self) -> None:
        title = self.query_one("#pii-title", Static)
        fields = self.query_one("#pii-fields", Static)
        text = self.query_one("#pii-text", Static)
        found = self.query_one("#pii-findings", Static)
        item = self.item
        lines = field_lines(item, self.chosen, self.current) if item else Content("")
        fields.update(lines)
        fields.display = bool(lines.plain)
        if item is None:
            title.update("")
            text.update(Content.styled("Nothing to review.", "$text-muted"))
            found.update("")
            return
        title.update(
            Content.assemble(
                f"{item.path}  ({item.sync_class}) · ",
                highlighted_body(item.title, item.findings, self.chosen, self.current, "title"),
            )
        )
        text.update(
            highlighted_body(self.text.rstrip("\n"), item.findings, self.chosen, self.current)
        )
        found.update(findings_lines(item.findings, self.chosen, self.current))

    # -- findings -----------------------------------------------------------------------------

    def action_finding(self, step: int) -> None:
        item = self.item
        if item is None or not item.findings:
            self.app.bell()
            return
        n = len(item.findings)
        self.current = ((self.current or 1) - 1 + step) % n + 1
        self._paint()

    def action_toggle_span(self) -> None:
        item, n = self.item, self.current
        if item is None or n is None:
            self.app.bell()
            return
        if item.findings[n - 1].get("where") == "path":
            self.notify("a path cannot be redacted (paths are permanent chain data)", timeout=4)
            return
        self.chosen ^= {n}
        self._paint()

    def action_toggle_all(self) -> None:
        item = self.item
        if item is None:
            return
        body = {n for n, f in enumerate(item.findings, 1) if f.get("where") != "path"}
        self.chosen = set() if self.chosen >= body else body
        self._paint()

    def action_switch_focus(self) -> None:
        detail = self.query_one(PiiDetail)
        (self.queue if detail.has_focus else detail).focus()

    # -- the four actions ---------------------------------------------------------------------

    def _target(self) -> Pending | None:
        if self.item is None or self.busy:
            self.app.bell()
            return None
        return self.item

    def action_redact(self) -> None:
        item = self._target()
        if item is None:
            return
        if not self.chosen:
            self.notify("no finding chosen: toggle one with space", severity="warning", timeout=4)
            return
        self._resolve(item, "redact", spans=sorted(self.chosen))

    def action_keep_private(self) -> None:
        item = self._target()
        if item is not None:
            self._resolve(item, "keep-private")

    def action_release(self) -> None:
        item = self._target()
        if item is None:
            return

        def done(req: ReleaseRequest | None) -> None:
            if req is not None:
                self._resolve(item, "release", reason=req.reason)

        self.app.push_screen(ReleaseModal(item.path, counts_text(item.counts)), done)

    def action_purge(self) -> None:
        item = self._target()
        if item is None:
            return

        def done(req: PurgeRequest | None) -> None:
            if req is not None:
                self._resolve(item, "purge", reason=req.reason, ticket=req.ticket)

        self.app.push_screen(PurgeModal(item.path), done)

    def _resolve(self, item: Pending, action: str, **kw: object) -> None:
        self.busy = True
        # Bound to the version on screen: one written since (by the CLI, an agent) is refused.
        self._resolve_worker(item.path, action, {**kw, "seen": item.seq})

    @work(thread=True, group="pii-write", exit_on_error=False)
    def _resolve_worker(self, path: str, action: str, kw: dict) -> None:
        self.post_message(ActivityChanged("pii", f"{action}: {path}…", f"{action}…"))
        try:
            res = store_of(self).pii.resolve(path, action, actor=actor_of(self), **kw)
        except Exception as e:  # noqa: BLE001 - a notification; the queue reloads
            from widgets.status import WorkFailed

            self.post_message(WorkFailed(f"{action} {path}", e))
            self.post_message(self.Resolved(Resolution(path, "failed", 0)))
        else:
            self.post_message(self.Resolved(res, list(res.notes)))
        finally:
            self.post_message(ActivityChanged("pii", None))

    @on(Resolved)
    def _resolved(self, message: Resolved) -> None:
        self.busy = False
        res = message.resolution
        if res.action != "failed":
            done = {
                "keep-private": "kept private",
                "redact": "redacted",
                "release": "released",
                "purge": "purged",
            }[res.action]
            text = f"{res.path}: {done} (row {res.seq:,})"
            if res.still_held:
                text += "; still held: findings are left"
            self.notify(text, title="PII review", timeout=5)
            for note in message.notes:
                if not res.still_held:
                    self.notify(note, timeout=6)
        self.item = None  # repaint whatever the cursor lands on
        self.post_message(StoreChanged())
        self.load(select=res.path if res.still_held else None)
