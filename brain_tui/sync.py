"""The sync orchestrator as a workstation part (issue 16; docs/sync.md, "Modes").

The workstation runs the same orchestrator `brain capture-daemon` runs, in its own thread,
unless another program already holds the store's sync lock (then nothing runs here and the
status line says so), and never on a store this process cannot write (read-only media, a full
disk: a pass writes; the header says read-only). A pass never blocks the UI: it runs on the
orchestrator's thread and reports through thread-safe messages; a failed pass is a warning
notification (once per distinct error until a pass succeeds). `sync_now()` is the sync pane's
"sync now". Stopped on quit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from brain_tui.messages import ActivityChanged, SyncPassed
from widgets.status import describe

if TYPE_CHECKING:
    from brain_tui.app import BrainApp
    from core.sync.api import SyncReport
    from core.sync.orchestrator import Orchestrator

PROGRAM = "brain tui"
STOP_S = 5.0


class Sync:
    def __init__(self, app: BrainApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled
        self.orchestrator: Orchestrator | None = None
        self.state = "off"  # off | on | elsewhere | failed
        self.notified = ""  # the error last notified: each distinct one once until a pass is ok

    def start(self) -> None:
        """Takes the sync lock (an flock, never waits) and starts the thread."""
        from core.sync.orchestrator import Orchestrator, SyncBusy

        store = self.app.store
        if not self.enabled or store is None or self.orchestrator is not None:
            return
        if store.read_only:
            # Read-only media, a full disk, or opened so: a pass writes (the sync lock, its
            # state, pulled rows), so nothing starts; the header says the store is read-only.
            self.state = "off"
            return
        orch = Orchestrator(store, program=PROGRAM, on_pass=self._passed)
        try:
            orch.start()
        except SyncBusy:
            self.state = "elsewhere"  # the daemon runs it
            return
        except Exception as e:  # noqa: BLE001 - a notification; the workstation works without it
            self.state = "failed"
            self.app.show_error("starting sync", e, severity="warning")
            return
        self.orchestrator = orch
        self.state = "on"

    def sync_now(self) -> bool:
        """Ask for a pass now; False when this workstation does not run the orchestrator."""
        if self.orchestrator is None:
            return False
        self.orchestrator.sync_now()
        return True

    def _passed(self, report: SyncReport) -> None:
        """On the orchestrator's thread: post, never call into the UI."""
        self.app.post_message(SyncPassed(report))
        if report.errors:
            error = "; ".join(report.errors)
            if error != self.notified:  # realtime retries every few seconds: say it once
                self.notified = error
                self.app.notify(error, title="sync", severity="warning")
            self.app.post_message(ActivityChanged("sync", "sync: failed, retrying", "sync failed"))
        else:
            self.notified = ""
            moved = report.pushed + report.imported
            self.app.post_message(ActivityChanged("sync", f"sync: ok ({moved} moved)", "sync ok"))

    def stop(self) -> None:
        orch, self.orchestrator = self.orchestrator, None
        if orch is not None:
            try:
                orch.stop(STOP_S)
            except Exception as e:  # noqa: BLE001 - quitting: log it, never raise
                self.app.log.error("stopping sync", describe(e))
        self.state = "off"
