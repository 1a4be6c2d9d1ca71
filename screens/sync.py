"""Pane 6: sync. Which hub this store syncs with, as whom, how often, and what is waiting.

The body (widgets.sync_format) reads `store.sync.status()` in a thread worker: hub, org,
user, role, device and mode; who runs the timed passes; the outbox and inbox counted per
state; the last push and pull with their age and outcome; the last error with its next try.
Below it, the conflicts: `enter` opens one, the local version beside the incoming copy
(`conflicts/<origin>/<path>`), `d` there shows their diff, `l` keeps the local version and `t`
takes the incoming one (each asks first; `store.sync.resolve_conflict`).

`s` syncs now: through this workstation's orchestrator when it runs here (so a failure is
retried on its backoff), else `store.sync.run()` in a worker; the pane bar says it runs and
then what moved. `m` picks the mode (a dialog listing the five). A store that has not joined a
hub shows how to join instead of empty numbers. The pane reloads when HEAD moves, after every
orchestrator pass, every 2 s while a pass runs, and every 15 s otherwise (ages, the
orchestrator's own passes that failed and moved nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from core.errors import BrainError
from core.sync.api import SyncConflict, SyncReport, SyncStatus
from core.sync.config import MODES
from screens.confirm import ConfirmModal
from screens.memories.common import actor_of, now_of, store_of
from screens.pane import PaneBar, PaneScreen
from widgets.diff_view import DiffView
from widgets.header import PaneTabs, StoreHeader
from widgets.key_footer import KeyFooter
from widgets.shell import shell
from widgets.status import ActivityChanged, StoreChanged, WorkFailed, guarded
from widgets.sync_format import (
    ROWS,
    bar_text,
    conflict_label,
    conflicts_title,
    join_content,
    mode_text,
    report_bar,
    report_text,
    status_rows,
)

BUSY_POLL_S = 2.0
IDLE_POLL_S = 15.0
WAIT_PASS_S = 120.0  # "sync now" through the orchestrator: stop saying "syncing…" after this


class ConflictList(OptionList):
    """The conflicts; `enter` opens one side by side."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="sync.conflicts.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sync.conflicts.up"),
    ]


class SyncScreen(PaneScreen):
    PANE = "sync"
    TITLE_TEXT = "Sync"

    BINDINGS = [
        Binding("s", "sync_now", "Sync now", id="sync.now", tooltip="push and pull now"),
        Binding("m", "mode", "Mode", id="sync.mode", tooltip="how often passes run"),
        Binding("enter", "open_conflict", "Open conflict", id="sync.open", show=False),
        Binding("r", "reload", "Reload", show=False, id="sync.reload"),
    ]

    @dataclass(eq=False)
    class StatusLoaded(Message):
        status: SyncStatus

    @dataclass(eq=False)
    class PassDone(Message):
        report: SyncReport | None  # None: the pass could not start (WorkFailed says why)

    @dataclass(eq=False)
    class ModeSet(Message):
        mode: str | None

    def __init__(self) -> None:
        super().__init__()
        self.status: SyncStatus | None = None
        self.busy = False  # a pass asked for here runs now
        self.waiting_passes: int | None = None  # the orchestrator's pass count when asked
        self.asked_ns = 0
        self.report_line: Content | None = None  # the last pass's report, for the bar
        self._poll: Timer | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="sync-body"):
            yield Static("", id="sync-join")
            with Vertical(id="sync-status"):
                for key, label, gap in ROWS:
                    with Horizontal(classes="sync-row gap" if gap else "sync-row"):
                        yield Static(label, classes="sync-label")
                        yield Static("", id=f"sync-{key}", classes="sync-value")
            yield Static("", id="sync-conflicts-title")
            yield ConflictList(id="sync-conflicts")

    @property
    def conflicts(self) -> ConflictList:
        return self.query_one("#sync-conflicts", ConflictList)

    def on_mount(self) -> None:
        self.bar.show("reading the sync state…")
        self.query_one("#sync-conflicts").display = False
        self.query_one("#sync-status").display = False
        self.query_one("#sync-body").focus()
        self.load()
        self.watch(self.app, "index_head", self._moved, init=False)
        self.watch(self.app, "sync_passes", self._passed, init=False)
        self._poll = self.set_interval(IDLE_POLL_S, self._tick)

    def on_screen_resume(self) -> None:
        if self.status is not None:
            self.load()

    def _moved(self, _value: object = None) -> None:
        if self.is_attached and self.app.screen is self:
            self.load()

    def _tick(self) -> None:
        if self.waiting_passes is not None and now_of(self) - self.asked_ns > WAIT_PASS_S * 1e9:
            self.waiting_passes = None  # never heard back: stop saying it runs
            self.busy = False
        if self.app.screen is self:
            self.load()

    def _set_poll(self) -> None:
        if self._poll is not None:
            self._poll.stop()
        self._poll = self.set_interval(BUSY_POLL_S if self.busy else IDLE_POLL_S, self._tick)

    # -- reading ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="sync-status", exit_on_error=False)
    @guarded("reading the sync state")
    def load(self) -> None:
        self.post_message(self.StatusLoaded(store_of(self).sync.status()))

    @on(StatusLoaded)
    def _loaded(self, message: StatusLoaded) -> None:
        self.status = st = message.status
        join = self.query_one("#sync-join", Static)
        rows = self.query_one("#sync-status")
        if not st.joined:
            join.update(join_content())
            join.display, rows.display = True, False
            self.query_one("#sync-conflicts-title", Static).update("")
            self.conflicts.display = False
            self._update_bar()
            return
        join.display, rows.display = False, True
        for key, value in status_rows(st, now_of(self), shell(self).sync_runner).items():
            self.query_one(f"#sync-{key}", Static).update(value)
        self._show_conflicts(st.conflicts)
        self._update_bar()

    def _show_conflicts(self, conflicts: list[SyncConflict]) -> None:
        title = self.query_one("#sync-conflicts-title", Static)
        clist = self.conflicts
        if not conflicts:
            title.update(Content.styled("No conflicts.", "$text-muted"))
            if clist.has_focus:
                self.query_one("#sync-body").focus()
            clist.display = False
            return
        n = len(conflicts)
        title.update(conflicts_title(n))
        keep = clist.highlighted
        width = max(20, (self.size.width or 80) - 4)
        clist.set_options(
            Option(conflict_label(c, width), id=str(i)) for i, c in enumerate(conflicts)
        )
        clist.display = True
        clist.highlighted = min(keep or 0, n - 1)
        if self.focused is None or self.focused.id == "sync-body":
            clist.focus()

    def _update_bar(self) -> None:
        st = self.status
        if self.busy:
            self.bar.show(Content.styled("syncing…", "bold $accent"))
        elif self.report_line is not None:
            self.bar.show(self.report_line)
        elif st is not None:
            self.bar.show(bar_text(st))

    # -- sync now -----------------------------------------------------------------------------

    def action_sync_now(self) -> None:
        st = self.status
        if st is not None and not st.joined:
            self.notify(
                "this store has not joined a hub: brain sync join URL --token-file F",
                severity="warning",
                timeout=6,
            )
            return
        if self.busy:
            self.notify("a pass is already running", timeout=3)
            return
        self.busy = True
        self.report_line = None
        self._update_bar()
        self._set_poll()
        app = shell(self)
        if app.sync_runner == "on":
            # Through the orchestrator: a failure is retried on its backoff.
            self.waiting_passes = app.sync_passes
            self.asked_ns = now_of(self)
            app.sync_now()
            return
        self._run_pass()

    @work(thread=True, exclusive=True, group="sync-pass", exit_on_error=False)
    def _run_pass(self) -> None:
        self.post_message(ActivityChanged("sync-now", "sync: a pass runs…", "sync…"))
        try:
            report = store_of(self).sync.run()
        except Exception as e:  # noqa: BLE001 - a notification; the pane reloads
            self.post_message(WorkFailed("sync now", e))
            self.post_message(self.PassDone(None))
        else:
            self.post_message(self.PassDone(report))
        finally:
            self.post_message(ActivityChanged("sync-now", None))

    def _passed(self, _value: object = None) -> None:
        """The workstation's orchestrator ran a pass (asked for here or on its timer)."""
        if self.waiting_passes is not None and shell(self).sync_passes > self.waiting_passes:
            self.waiting_passes = None
            # The workstation's sync part has already notified a failure of its passes.
            self._done(shell(self).sync_report, notify_errors=False)
        elif self.is_attached and self.app.screen is self:
            self.load()

    @on(PassDone)
    def _pass_done(self, message: PassDone) -> None:
        self._done(message.report)

    def _done(self, report: SyncReport | None, *, notify_errors: bool = True) -> None:
        self.busy = False
        self._set_poll()
        if report is not None:
            self.report_line = report_bar(report)
            if notify_errors or not report.errors:
                if report.errors:
                    self.notify(report_text(report), title="sync", severity="warning")
                else:
                    self.notify(report_text(report), title="sync")
        self.post_message(StoreChanged())
        self.load()

    # -- mode ---------------------------------------------------------------------------------

    def action_mode(self) -> None:
        st = self.status
        if st is None or not st.joined:
            self.notify("join a hub first: brain sync join URL --token-file F", timeout=5)
            return

        def chosen(mode: str | None) -> None:
            if mode is not None and mode != st.mode:
                self._set_mode(mode)

        self.app.push_screen(ModeModal(st.mode), chosen)

    @work(thread=True, group="sync-mode", exit_on_error=False)
    @guarded("setting the sync mode")
    def _set_mode(self, mode: str) -> None:
        store_of(self).sync.set_mode(mode)
        self.post_message(self.ModeSet(mode))

    @on(ModeSet)
    def _mode_set(self, message: ModeSet) -> None:
        if message.mode:
            # The orchestrator reads the mode at its next turn (within 30 s) and times its
            # next pass from the last good one.
            self.notify(f"sync mode: {mode_text(message.mode)}", title="sync", timeout=4)
        self.load()

    # -- conflicts ----------------------------------------------------------------------------

    def action_reload(self) -> None:
        self.load()

    def action_open_conflict(self) -> None:
        st = self.status
        clist = self.conflicts
        if st is None or not st.conflicts or clist.highlighted is None:
            self.app.bell()
            return
        self.app.push_screen(ConflictScreen(st.conflicts[clist.highlighted]))

    @on(OptionList.OptionSelected, "#sync-conflicts")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_conflict()


class ModeModal(ModalScreen[str | None]):
    """The five modes, the current one marked; enter picks, esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="sync.mode.cancel")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        modes = list(MODES)
        with Vertical(id="mode-dialog", classes="memory-dialog"):
            yield Static("Sync mode", classes="dialog-title")
            yield Static(
                "How often this workstation (or brain capture-daemon) pushes and pulls.",
                classes="dialog-text",
            )
            yield OptionList(
                *(
                    Option(("● " if m == self.current else "  ") + mode_text(m), id=m)
                    for m in modes
                ),
                id="mode-list",
            )
            yield Static("enter picks · esc cancels", classes="dialog-text")

    def on_mount(self) -> None:
        ol = self.query_one("#mode-list", OptionList)
        ol.highlighted = list(MODES).index(self.current) if self.current in MODES else 0
        ol.focus()

    @on(OptionList.OptionSelected, "#mode-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConflictScreen(Screen):
    """One conflict: the local memory on the left, the incoming copy on the right."""

    BINDINGS = [
        Binding("escape,q", "back", "Back", id="sync.conflict.back"),
        Binding("d", "diff", "Diff", id="sync.conflict.diff", tooltip="or side by side"),
        Binding(
            "l",
            "resolve('mine')",
            "Keep here",
            id="sync.conflict.mine",
            tooltip="yours stays, the copy goes",
        ),
        Binding(
            "t",
            "resolve('theirs')",
            "Take incoming",
            id="sync.conflict.theirs",
            tooltip="a put of theirs",
        ),
        Binding("tab", "switch", "Other side", show=False, id="sync.conflict.switch"),
    ]

    @dataclass(eq=False)
    class Loaded(Message):
        local: str | None
        incoming: str | None
        local_meta: str = ""

    @dataclass(eq=False)
    class Resolved(Message):
        take: str
        seq: int

    def __init__(self, conflict: SyncConflict) -> None:
        super().__init__()
        self.conflict = conflict
        self.local: str | None = None
        self.incoming: str | None = None
        self.resolving = False

    def compose(self) -> ComposeResult:
        c = self.conflict
        yield StoreHeader()
        yield PaneTabs("sync")
        yield PaneBar("Conflict", id="pane-bar")
        with Horizontal(id="conflict-sides"):
            with VerticalScroll(id="conflict-local", classes="conflict-side"):
                yield Static(
                    Content.assemble(("here", "bold"), ("  this store's memory", "$text-muted")),
                    classes="side-title",
                )
                yield Static("", id="conflict-local-meta", classes="side-meta")
                yield Static("reading…", id="conflict-local-text", classes="side-text")
            with VerticalScroll(id="conflict-incoming", classes="conflict-side"):
                yield Static(
                    Content.assemble(
                        ("incoming", "bold"), (f"  from store {c.origin[:8]}…", "$text-muted")
                    ),
                    classes="side-title",
                )
                yield Static(f"hub cursor {c.cursor:,} · kept as {c.copy}", classes="side-meta")
                yield Static("reading…", id="conflict-incoming-text", classes="side-text")
        yield DiffView(id="conflict-diff")
        yield KeyFooter()

    def on_mount(self) -> None:
        c = self.conflict
        self.query_one(PaneBar).show(
            Content.assemble((c.path, "bold"), ("  here, and as it arrived", "$text-muted"))
        )
        self.query_one("#conflict-diff").display = False
        self.query_one("#conflict-local").focus()
        self._load()

    @work(thread=True, exclusive=True, group="sync-conflict", exit_on_error=False)
    @guarded("reading the conflict")
    def _load(self) -> None:
        store = store_of(self)
        c = self.conflict
        meta = ""
        try:
            mem = store.view(c.path)
            local: str | None = mem.body.decode("utf-8", "replace")
            side = mem.sidecar
            meta = f"{side.sync_class} · by {side.actor} · row {side.seq:,}"
        except BrainError:
            local = None
        raw = store.sync.conflict_copy(c.copy)
        incoming = raw.decode("utf-8", "replace") if raw is not None else None
        self.post_message(self.Loaded(local, incoming, meta))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.local, self.incoming = message.local, message.incoming
        self.query_one("#conflict-local-meta", Static).update(message.local_meta)
        gone = Content.styled("(not here any more: moved, deleted or purged)", "$text-muted")
        self.query_one("#conflict-local-text", Static).update(
            Content(message.local) if message.local is not None else gone
        )
        self.query_one("#conflict-incoming-text", Static).update(
            Content(message.incoming) if message.incoming is not None else gone
        )

    def action_diff(self) -> None:
        diff = self.query_one(DiffView)
        sides = self.query_one("#conflict-sides")
        if diff.display:
            diff.display, sides.display = False, True
            self.query_one("#conflict-local").focus()
            return
        diff.show(self.local or "", self.incoming or "", "here", "incoming")
        diff.display, sides.display = True, False
        diff.focus()

    def action_switch(self) -> None:
        left = self.query_one("#conflict-local")
        right = self.query_one("#conflict-incoming")
        (right if left.has_focus else left).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_resolve(self, take: str) -> None:
        if self.resolving:
            self.app.bell()
            return
        c = self.conflict
        if take == "mine":
            title, label = "Keep the local memory?", "Keep here"
            what = (
                f"{c.path} stays as it is here. The incoming copy from store {c.origin[:8]}…"
                f" ({c.copy}) is deleted and the conflict leaves the sync pane."
            )
        else:
            title, label = "Take the incoming version?", "Take incoming"
            what = (
                f"{c.path} gets a new version: the incoming one from store {c.origin[:8]}…"
                " (a put naming you; the local version stays in its history). The copy"
                " under conflicts/ is deleted; later versions from that store follow it."
            )

        def done(answer: str | None) -> None:
            if answer is not None:
                self.resolving = True
                self._resolve(take)

        self.app.push_screen(ConfirmModal(title, what, confirm_label=label), done)

    @work(thread=True, group="sync-resolve", exit_on_error=False)
    def _resolve(self, take: str) -> None:
        c = self.conflict
        self.post_message(ActivityChanged("sync-resolve", f"resolving {c.path}…", "resolving…"))
        try:
            seq = store_of(self).sync.resolve_conflict(c.path, c.origin, take, actor=actor_of(self))
        except Exception as e:  # noqa: BLE001 - a notification; the screen stays
            self.post_message(WorkFailed(f"resolving the conflict on {c.path}", e))
            self.post_message(self.Resolved(take, -1))
        else:
            self.post_message(self.Resolved(take, seq))
        finally:
            self.post_message(ActivityChanged("sync-resolve", None))

    @on(Resolved)
    def _resolved(self, message: Resolved) -> None:
        self.resolving = False
        if message.seq < 0:
            return
        c = self.conflict
        if message.take == "mine":
            text = f"{c.path}: kept here; the incoming copy is gone"
        else:
            text = f"{c.path}: took the incoming version (row {message.seq:,})"
        self.notify(text, title="sync conflict", timeout=5)
        self.post_message(StoreChanged())
        if self.is_current:
            self.app.pop_screen()
