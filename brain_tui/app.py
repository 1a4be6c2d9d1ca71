"""The workstation: one `App` over one open `Store`, six panes reached by number keys.

The shell owns the store, the header's state and the error policy (every failure is a
notification; the app stays up). It is composed of two parts, not mixed from them:
`follow` (brain_tui.follow: the HEAD watcher, the header's state and the tail's newest rows)
and `background` (brain_tui.services: the semantic model, embedding, tier rebalances); the
App's message handlers hand their messages to them. Panes do their own paging in thread
workers and talk to the shell with the messages in `brain_tui.messages`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import cache, partial
from importlib import resources
from pathlib import Path, PurePath
from typing import Any

from textual import events
from textual.actions import ActionParseResult
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import format_key
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Static

import styles
from brain_tui import messages, workers
from brain_tui.capture import Capture
from brain_tui.config import Config
from brain_tui.follow import Follow
from brain_tui.keymap import Registry, unknown_ids
from brain_tui.services import Background
from brain_tui.sync import Sync
from brain_tui.theme import BRAIN_THEME
from core.models import Row
from core.store import Store, resolve_root
from core.sync.api import SyncReport
from screens.audit import AuditScreen
from screens.doctor import DoctorScreen
from screens.error import ErrorModal
from screens.first_run import FirstRunScreen
from screens.help import HelpScreen, Section
from screens.memories import MemoriesScreen
from screens.pii import PiiScreen
from screens.proposals import ProposalsScreen
from screens.sync import SyncScreen
from widgets.header import PANES, HeaderInfo, read_only_reason, short_root
from widgets.shell import Shell, TypeAhead
from widgets.status import describe

STYLES_DIR = Path(styles.__file__).parent


def style_paths() -> list[str | PurePath]:
    """base.tcss first, then every pane's file (a new pane's .tcss is picked up as it lands)."""
    rest = sorted(p for p in STYLES_DIR.glob("*.tcss") if p.name != "base.tcss")
    return [STYLES_DIR / "base.tcss", *rest]


class BrainApp(App[int]):
    TITLE = "brain"
    CSS_PATH = style_paths()
    BINDINGS = [
        *(
            Binding(key, f"pane('{pane}')", f"{label} pane", show=False, id=f"app.pane.{pane}")
            for key, pane, label in PANES
        ),
        # f1 too: where a text field has the focus, `?` types itself; f1 still opens help.
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        # Declaring any palette binding stops Textual adding its own ctrl+p, so both are here.
        Binding(
            "ctrl+p", "command_palette", "Commands", show=False, priority=True, id="app.palette"
        ),
        Binding("colon", "command_palette", "Commands", show=False, id="app.palette_colon"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    header_info: reactive[HeaderInfo | None] = reactive(None)
    index_head: reactive[int] = reactive(0)  # the newest row in the index: the tail follows it
    activity: reactive[str] = reactive("")
    semantic_state: reactive[str] = reactive("off")  # see brain_tui.services
    tiers_version: reactive[int] = reactive(0)
    embed_version: reactive[int] = reactive(0)  # bumped when an embedding pass stored vectors
    sync_passes: reactive[int] = reactive(0)  # bumped after each orchestrator pass here

    def __init__(
        self,
        root: Path | None = None,
        *,
        store: Store | None = None,
        allow_temp: bool = False,
        config: Config | None = None,
        now: Callable[[], int] = time.time_ns,
        watch: bool = True,
        timings: bool = True,
        demo_root: Path | None = None,
        demo_builder: workers.DemoBuilder | None = None,
        store_kw: dict[str, Any] | None = None,
        actor: str = "human:tui@localhost",
        services: bool = True,
        capture: bool = True,
        sync: bool | None = None,
    ) -> None:
        super().__init__()
        self.root = Path(root) if root is not None else (store.root if store else resolve_root())
        self.store = store
        self.owns_store = store is None
        self.allow_temp = allow_temp
        self.config = config or Config()
        self.now = now
        self.watch_head = watch
        self.timings = timings
        self.demo_root = demo_root
        self.demo_builder = demo_builder
        self.store_kw = store_kw or {}
        self.actor = actor  # who the panes' writes are recorded as
        self.errors: list[str] = []
        self.config_problems: list[str] = []
        self._activities: dict[str, tuple[str, str]] = {}  # key -> (text, short)
        self.activity_short = ""  # `activity` in short forms (set before it)
        self.index_tail: list[Row] = []  # the newest rows, from a page boundary to index_head
        self.tail_read = False  # index_head and index_tail have been read at least once
        self.semantic_hint = ""  # the install hint, once semantic search is known unavailable
        self.follow = Follow(self)
        # Model warm-up and embedding; tests and snapshots turn them off (services=False)
        # so nothing loads behind their back.
        self.background = Background(self, enabled=services)
        # The capture loop of the store's watched folders, unless a daemon runs it
        # (brain_tui.capture); tests turn it off (capture=False) unless they test it.
        self.capture = Capture(self, enabled=capture)
        # The sync orchestrator (brain_tui.sync), unless the daemon runs it; off wherever
        # capture is off unless asked for (tests).
        self.hub_sync = Sync(self, enabled=capture if sync is None else sync)
        self.sync_report: SyncReport | None = None  # the orchestrator's last pass here
        self.register_theme(BRAIN_THEME)
        self.theme = "brain"

    def compose(self) -> ComposeResult:
        yield Static(f"opening {short_root(str(self.root))}…", id="splash")

    def on_mount(self) -> None:
        self._apply_config()
        if self.store is not None:
            self._adopt(self.store)
            return
        job = partial(workers.open_store, self, self.root, self.allow_temp, **self.store_kw)
        self.run_worker(job, thread=True, exclusive=True, group="open", exit_on_error=False)

    def _apply_config(self) -> None:
        cfg = self.config
        problems = list(cfg.problems)
        if cfg.theme:
            if cfg.theme in self.available_themes:
                self.theme = cfg.theme
            else:
                problems.append(f"unknown theme {cfg.theme!r}; try one of: brain, nord, gruvbox")
        if cfg.keys:
            unknown = unknown_ids(cfg.keys, registry())
            if unknown:
                problems.append(f"unknown binding ids in [keys]: {', '.join(unknown)} (see ?)")
            keymap = {k: v for k, v in cfg.keys.items() if k not in unknown}
            problems += registry().conflicts(keymap)
            self.set_keymap(keymap)
        self.config_problems = problems
        for text in problems:
            self.notify(text, title="config", severity="warning", timeout=8)

    # -- the store -----------------------------------------------------------------------

    def _adopt(self, store: Store) -> None:
        self.store = store
        self.root = store.root
        for _key, pane, _label in PANES:
            self.add_mode(pane, partial(self._make_pane, pane))
        self.switch_mode("audit")
        if self.watch_head:
            self.follow.start_watcher()
        # The header's state counts memories (~50 ms of SQLite at 100k): after the first
        # frame, which needs only the rows the store's opening already read.
        self.call_after_refresh(self.follow.request_state)
        self.follow.start_freeze_poll()
        self.call_after_refresh(self.background.start)  # after the first frame
        if store.read_only:
            # Read-only media, a full disk, or opened so: reads work, nothing here writes (no
            # capture loop, no sync, no door); the header says so, the note says why once.
            why = store.cannot_write or f"{short_root(str(store.root))} was opened read-only"
            self.notify(why, title="read-only", severity="warning", timeout=10)
            return
        self.call_after_refresh(self.capture.start)
        self.call_after_refresh(self.hub_sync.start)

    def _make_pane(self, pane: str) -> Screen:
        store = self.store
        assert store is not None
        if pane == "audit":
            return AuditScreen(store)
        if pane == "memories":
            return MemoriesScreen()  # it reads the store from the shell (widgets.shell)
        if pane == "doctor":
            return DoctorScreen(store, timings=self.timings)
        return {"pii": PiiScreen, "proposals": ProposalsScreen, "sync": SyncScreen}[pane]()

    async def on_key(self, event: events.Key) -> None:
        # Runs before App's own key handler (which checks the bindings): a key that bubbled up
        # here before a just-opened search box got the focus is the query's, not a command.
        screen = self.screen
        if isinstance(screen, TypeAhead) and await screen.type_ahead(event.key, event.character):
            event.stop()
            event.prevent_default()

    def on_unmount(self) -> None:
        self.follow.stop_watcher()
        self.background.stop()
        self.capture.stop()
        self.hub_sync.stop()

    # -- what the parts handle -----------------------------------------------------------

    def on_watch_failed(self, message: messages.WatchFailed) -> None:
        self.show_error("live follow stopped (HEAD watcher)", message.error, severity="warning")

    def on_head_moved(self, _message: messages.HeadMoved) -> None:
        self.follow.head_moved()

    def on_state_loaded(self, message: messages.StateLoaded) -> None:
        if message.info is not None and self.store is not None:
            message.info = replace(message.info, read_only=read_only_reason(self.store))
        self.follow.state_loaded(message)

    def on_index_head_loaded(self, message: messages.IndexHeadLoaded) -> None:
        self.follow.index_head_loaded(message)

    def on_freeze_checked(self, message: messages.FreezeChecked) -> None:
        self.follow.freeze_checked(message)

    def on_store_changed(self, _message: messages.StoreChanged) -> None:
        self.follow.store_changed()

    def on_semantic_wanted(self, _message: messages.SemanticWanted) -> None:
        self.background.warm_semantic()

    def on_semantic_state_changed(self, message: messages.SemanticStateChanged) -> None:
        self.background.semantic_state_changed(message)

    def on_embed_finished(self, message: messages.EmbedFinished) -> None:
        self.background.embed_finished(message)

    def on_rebalance_requested(self, message: messages.RebalanceRequested) -> None:
        self.background.rebalance(message.actor, manual=True)

    def on_rebalanced(self, message: messages.Rebalanced) -> None:
        self.background.rebalanced(message)

    def on_sync_passed(self, message: messages.SyncPassed) -> None:
        self.sync_report = message.report
        self.sync_passes += 1
        self.follow.request_state()  # the header's sync error

    @property
    def sync_runner(self) -> str:
        return self.hub_sync.state

    def sync_now(self) -> bool:
        return self.hub_sync.sync_now()

    def on_capture_started(self, message: messages.CaptureStarted) -> None:
        self.capture.started(message)

    def on_capture_event(self, message: messages.CaptureEvent) -> None:
        self.capture.event(message)

    # -- opening, first run --------------------------------------------------------------

    def on_store_opened(self, message: messages.StoreOpened) -> None:
        if isinstance(self.screen, FirstRunScreen):
            self.pop_screen()
        self.owns_store = True
        if message.note:
            self.notify(message.note, timeout=4)
        if message.tail is not None:
            self.tail_read = True
            self.index_tail = message.tail[1]
            self.index_head = message.tail[0]
        self._adopt(message.store)

    def on_no_store(self, message: messages.NoStore) -> None:
        demo = str(self.demo_root) if self.demo_root and self.demo_builder else None
        self.push_screen(FirstRunScreen(str(message.root), demo))

    def on_store_open_failed(self, message: messages.StoreOpenFailed) -> None:
        text = describe(message.error)
        self.errors.append(text)
        if isinstance(self.screen, FirstRunScreen):
            self.screen.set_busy(False)
            self.notify(text, title=message.doing, severity="error", timeout=10)
            return
        root = str(message.root)
        modal = ErrorModal(
            f"brain could not open {short_root(root)}",
            text.replace(root, short_root(root)),
            hint="Check the path (--store or CYBEROS_BRAIN_HOME), or run `brain doctor`.",
        )
        self.push_screen(modal, lambda _r: self.exit(1, return_code=1))

    def on_first_run_screen_chosen(self, message: FirstRunScreen.Chosen) -> None:
        if message.choice == "create":
            job = partial(workers.create_store, self, self.root, self.allow_temp, **self.store_kw)
        else:
            assert self.demo_root is not None and self.demo_builder is not None
            job = partial(
                workers.build_demo, self, self.demo_root, self.allow_temp, self.demo_builder
            )
        self.run_worker(job, thread=True, exclusive=True, group="open", exit_on_error=False)

    # -- errors and activity -------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications carry paths, engine errors and install hints (`brain-tui[semantic]`),
        never styling: all of them are plain text, so Rich markup cannot eat a bracket."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_work_failed(self, message: messages.WorkFailed) -> None:
        self.show_error(message.doing, message.error)
        # A refused write (the store froze meanwhile) must show in the header at once.
        if message.doing != workers.READING_STATE:
            self.follow.request_state()

    def show_error(
        self, doing: str, error: BaseException, severity: SeverityLevel = "error"
    ) -> None:
        text = describe(error)
        self.errors.append(f"{doing}: {text}")
        self.log.error(doing, repr(error))
        self.notify(text, title=doing, severity=severity, timeout=8)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key, click and palette action of every pane runs through here (Textual's
        public entry point): a bug in one becomes an error notification and the app stays up
        (Textual would exit with a traceback)."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:  # noqa: BLE001 - shown to the person, logged for a report
            self.show_error(f"{action} failed (the app stays up; please report it)", error)
            return True

    def on_activity_changed(self, message: messages.ActivityChanged) -> None:
        if message.text:
            self._activities[message.key] = (message.text, message.short or message.text)
        else:
            self._activities.pop(message.key, None)
        self.activity_short = " · ".join(short for _text, short in self._activities.values())
        self.activity = " · ".join(text for text, _short in self._activities.values())

    # -- actions -------------------------------------------------------------------------

    def action_pane(self, pane: str) -> None:
        if self.store is None:
            self.bell()
            return
        if self.current_mode != pane:
            self.switch_mode(pane)

    def action_help(self) -> None:
        """`?` opens the help at the section of the screen it was pressed on."""
        if isinstance(self.screen, HelpScreen):
            return
        scope = registry().scope_of(type(self.screen))
        start = scope.title if scope is not None else None
        self.push_screen(HelpScreen(self.help_sections(), help_intro(), start=start))

    def key_text(self, binding: Binding) -> str:
        keys = self._keymap.get(binding.id, binding.key) if binding.id else binding.key
        return ", ".join(format_key(k.strip()) for k in keys.split(","))

    def help_sections(self) -> list[Section]:
        return registry().sections(self._keymap, self.key_text)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, pane, label in PANES:
            yield SystemCommand(f"Go to {label}", f"pane {key}", partial(self.action_pane, pane))
        yield SystemCommand("Help: every key", "?", self.action_help)
        seen = {"command_palette", "quit", "help"}
        for active in screen.active_bindings.values():
            b = active.binding
            if not b.description or b.action in seen or b.action.startswith("pane("):
                continue
            seen.add(b.action)
            node = active.node
            title = registry().title_of(type(node)) or type(node).__name__
            yield SystemCommand(
                f"{title}: {b.description}",
                f"key {self.key_text(b)}",
                partial(self.run_action, b.action, active.node),
            )


def as_shell(app: BrainApp) -> Shell:
    """The shell contract panes and widgets read (widgets.shell): mypy checks BrainApp
    implements every member here, and a test checks it at run time."""
    return app


@cache
def registry() -> Registry:
    """Built once: the classes' BINDINGS are fixed; the user's keymap is applied on top."""
    return Registry(BrainApp)


def known_binding_ids() -> set[str]:
    return registry().known_ids()


def help_intro() -> str:
    try:
        return resources.files("brain_tui").joinpath("help.md").read_text(encoding="utf-8")
    except OSError:
        return ""
