"""Pane 3: the doctor. Runs the invariants in a worker with progress and cancel; repairs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import partial

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widgets import ProgressBar, Static

from core.doctor.model import DoctorReport
from core.store import Store
from screens.confirm import ConfirmModal
from screens.pane import PaneScreen
from widgets.header import STATE_STYLE, age
from widgets.invariant_table import InvariantTable
from widgets.shell import shell
from widgets.status import ActivityChanged, StoreChanged, WorkFailed

# What core/doctor/repair.py does, and nothing more (keep these in step with it).
REPAIR_TEXT = (
    "Repair rebuilds derived state from the log and the files, where the doctor found it"
    " wrong: it replays the journal and rewrites HEAD, rebuilds the MMR node file, reindexes,"
    " clears a stale lease note, deletes an export that holds a private key, drops purge-list"
    " entries that name no purge, deletes temp files a dead writer left, and lifts a freeze"
    " once the checks pass. It writes no audit row and rewrites nothing in the ledger;"
    " the doctor then checks again."
)
REPAIR_HUMAN_TEXT = (
    "The store is FROZEN_HUMAN. With your reason, repair accepts a rolled-back or truncated"
    " log, a witness ahead of it or a bad checkpoint signature as the store now is: it writes"
    " one `repair` row holding your reason (kept for good), moves the checkpoint notes the log"
    " no longer reaches to local/rejected-checkpoints/ and resets the witness, then rebuilds"
    " derived state. A damaged log, body or sidecar cannot be repaired in place: then nothing"
    " is written and the doctor says to restore from a backup. Check the FAIL rows first: a"
    " broken chain can mean the log was tampered with."
)


class DoctorScreen(PaneScreen):
    PANE = "doctor"
    TITLE_TEXT = "Doctor"
    BINDINGS = [
        Binding("r", "run", "Re-run", id="doctor.run"),
        Binding("R", "repair", "Repair…", id="doctor.repair"),
        Binding("escape", "cancel", "Cancel run", id="doctor.cancel"),
    ]

    @dataclass(eq=False)
    class Progress(Message):
        done: int
        total: int
        label: str

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # a fast check: only the newest step

    @dataclass(eq=False)
    class Finished(Message):
        report: DoctorReport | None
        cancelled: bool
        repair: bool

    def __init__(self, store: Store, *, timings: bool = True) -> None:
        super().__init__()
        self.store = store
        self.timings = timings
        self.report: DoctorReport | None = None
        self._cancel: threading.Event | None = None
        self._ran = False
        self._finished_ns: int | None = None  # when the shown results were found
        self._cancelled = False
        self._total: int | None = None  # invariants in a full run (from the progress)

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="doctor-banner")
        with Horizontal(id="doctor-progress"):
            yield ProgressBar(show_eta=False, id="doctor-bar")
            yield Static("", id="doctor-step")
        yield InvariantTable(id="doctor-table")
        yield Static("", id="doctor-detail")

    def on_mount(self) -> None:
        self.query_one(InvariantTable).focus()
        self._banner(Content("press r to check every invariant"), "-idle")
        # The results age (and the store's state may change under them): say how old they
        # are, and show the state the header shows, from the same engine read.
        self.set_interval(30, self._show_summary)
        self.watch(self.app, "header_info", self._show_summary, init=False)

    def on_screen_resume(self) -> None:
        if not self._ran:  # first visit runs it: the pane's purpose
            self._ran = True
            self.action_run()

    def _banner(self, text: Content, cls: str) -> None:
        banner = self.query_one("#doctor-banner", Static)
        banner.set_classes(cls)
        banner.update(text)

    # -- running -------------------------------------------------------------------------

    def action_run(self, repair: bool = False, reason: str | None = None) -> None:
        if self.running:
            self.notify("the doctor is already running (esc cancels)", severity="warning")
            return
        self._ran = True
        self._cancel = threading.Event()
        self.query_one("#doctor-progress").add_class("-running")
        self.refresh_bindings()
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#doctor-step", Static).update("starting…")
        verb = "repairing" if repair else "checking"
        self.bar.show(Content.styled(f"{verb}…", "bold $accent"))
        self.post_message(ActivityChanged("doctor", f"doctor: {verb}…", "doctor…"))
        job = partial(self._doctor, repair, reason, self._cancel)
        self.run_worker(job, thread=True, exclusive=True, group="doctor", exit_on_error=False)

    def _doctor(self, repair: bool, reason: str | None, cancel: threading.Event) -> None:
        last = [0.0]

        def progress(done: int, total: int, label: str) -> None:
            now = time.monotonic()  # throttled: the UI needs ~20 updates a second, not 10^5
            if done >= total or now - last[0] >= 0.05:
                last[0] = now
                self.post_message(self.Progress(done, total, label))

        report = None
        try:
            report = self.store.doctor(
                repair=repair,
                reason=reason,
                progress=progress,
                cancel=cancel,
                actor=shell(self).actor,
            )
        except Exception as e:  # noqa: BLE001 - reported, the pane stays
            self.post_message(
                WorkFailed("repairing the store" if repair else "running the doctor", e)
            )
        self.post_message(self.Finished(report, cancel.is_set(), repair))

    def on_doctor_screen_progress(self, message: Progress) -> None:
        self._total = message.total
        self.query_one(ProgressBar).update(total=max(1, message.total), progress=message.done)
        step = f"{message.done}/{message.total}  {message.label}"
        self.query_one("#doctor-step", Static).update(Content(step))
        done, total = message.done, message.total
        short = f"doctor {100 * done // max(total, 1)}%"
        self.post_message(ActivityChanged("doctor", f"doctor {done}/{total}", short))

    def on_doctor_screen_finished(self, message: Finished) -> None:
        self._cancel = None
        self.refresh_bindings()
        self.query_one("#doctor-progress").remove_class("-running")
        self.post_message(ActivityChanged("doctor", None))
        # The doctor records what it finds in the store (a freeze is for every process):
        # the header reads the store's state again, and this pane shows that state.
        self.post_message(StoreChanged())
        report = message.report
        if report is None:
            if message.cancelled:
                self._banner(Content.styled("cancelled before any result", "$warning"), "-idle")
            self.bar.show("cancelled" if message.cancelled else "failed (see the notification)")
            return
        self.report = report
        self._cancelled = message.cancelled or report.cancelled
        self._finished_ns = self._now()
        results = report.results
        self.query_one(InvariantTable).show(results, timings=self.timings)
        self._show_summary()

    def _now(self) -> int:
        return shell(self).now()

    def _store_state(self) -> str:
        """The state every pane and command shows: the store's (the header reads it)."""
        info = shell(self).header_info
        if info is not None:
            return str(info.state)
        return self.report.state if self.report is not None else "?"

    def _show_summary(self, _changed: object = None) -> None:
        report = self.report
        if report is None or self.running:
            return
        results = report.results
        total = self._total
        ran = ("  ran " + age((self._now() - (self._finished_ns or 0)) / 1e9), "dim")
        if self._cancelled:
            # Partial results decide nothing: no state, no "n pass" that reads as a verdict.
            of = f" of {total}" if total else ""
            self._banner(
                Content.assemble(
                    ("cancelled", "bold $warning"),
                    f"  {len(results)}{of} checked, no verdict",
                    ran,
                ),
                "-recoverable",
            )
            self.bar.show(f"cancelled: partial results ({len(results)})  r re-run")
            return
        counts = {
            s: sum(1 for r in results if str(r.status) == s) for s in ("PASS", "WARN", "FAIL")
        }
        state = self._store_state()
        parts: list[str | tuple[str, str]] = [
            (state, STATE_STYLE.get(state, "bold")),
            "  ",
            (f"{counts['PASS']} pass", "$success"),
            " · ",
            (f"{counts['WARN']} warn", "$warning" if counts["WARN"] else ""),
            " · ",
            (f"{counts['FAIL']} fail", "$error" if counts["FAIL"] else ""),
            ran,
        ]
        repaired = report.repaired
        if repaired:
            parts += ["  ", ("repaired: ", "dim"), ", ".join(map(str, repaired))]
        cls = {"READY": "-ready", "FROZEN_RECOVERABLE": "-recoverable"}.get(state, "-human")
        self._banner(Content.assemble(*parts), cls)
        self.bar.show(f"{len(results)} invariants checked  r re-run · R repair")

    def on_data_table_row_highlighted(self, event: InvariantTable.RowHighlighted) -> None:
        """The table cuts the detail at 80 columns; the line below shows all of it."""
        result = self.query_one(InvariantTable).result_at(event.cursor_row)
        detail = self.query_one("#doctor-detail", Static)
        if result is None:
            detail.update("")
            return
        paths = list(result.paths)
        if not paths and result.path:
            paths = [result.path]
        where = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        detail.update(
            Content.assemble(
                (f"{result.id}: ", "bold"),
                " ".join(str(result.detail).split()),
                ("\n" + where if where else "", "$text-muted"),
            )
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running  # shown in the footer only while a check runs
        return True

    def action_cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.query_one("#doctor-step", Static).update("cancelling…")

    # -- repair --------------------------------------------------------------------------

    def _state(self) -> str:
        """FROZEN_HUMAN when the store is, or when the latest full run found it so."""
        found = "" if self.report is None or self._cancelled else str(self.report.state)
        return "FROZEN_HUMAN" if "FROZEN_HUMAN" in (found, self._store_state()) else found

    def action_repair(self) -> None:
        if self.running:
            self.notify("wait for the running check to finish (or esc)", severity="warning")
            return
        human = self._state() == "FROZEN_HUMAN"
        modal = ConfirmModal(
            "Repair the store?",
            REPAIR_HUMAN_TEXT if human else REPAIR_TEXT,
            confirm_label="Repair",
            reason_prompt="required, and kept in the audit log for good" if human else None,
        )

        def done(reason: str | None) -> None:
            if reason is not None:
                self.action_run(repair=True, reason=reason or None)

        self.app.push_screen(modal, done)
