"""The capture loop as a workstation worker (issue 14, item 2; docs/capture.md, "TUI API").

When the workstation opens a store that has watched folders (`brain watch PATH`), it runs the
same capture loop `brain capture-daemon` runs, in a thread, unless a daemon already holds the
store's capture lock: then the status line says `capture: daemon` (one capture loop per store,
whichever runs it). Until its own loop runs, the workstation tries again every RETRY_S: a daemon
that stops or dies is taken over, and a folder watched while it is open (`brain watch PATH`)
starts the loop. The loop stops, saving its state, on quit.
Captured rows reach the audit tail through HEAD as every other write does; a capture the PII
gate holds shows in pane 4's queue and the header's count the same way. A capture error is a
warning notification; the loop carries on.

`Capture` is the app's part (composed, like `services.Background`); `start_loop` is the
worker's body and never raises.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from brain_tui.messages import ActivityChanged, CaptureEvent, CaptureStarted
from brain_tui.workers import Target
from widgets.status import describe

if TYPE_CHECKING:
    from brain_tui.app import BrainApp
    from core.capture import CaptureLoop, Event
    from core.store import Store

ACTOR = "agent:capture-tui"
PROGRAM = "brain tui"
STOP_S = 5.0  # how long quitting waits for the loop to save its state
RETRY_S = 2.0  # how often to try again while a daemon holds the lock or nothing is watched


def start_loop(target: Target, store: Store, actor: str = ACTOR) -> None:
    """Start the loop if the store watches folders and no daemon runs (a thread worker)."""
    from core.capture import CaptureBusy, CaptureLoop, config

    try:
        folders = len(config.load(store.layout).folders)
        if not folders:
            target.post_message(CaptureStarted(None))
            return

        def on_event(ev: Event) -> None:  # the loop's thread; posting does not block
            target.post_message(CaptureEvent(ev))

        loop = CaptureLoop(store, actor=actor, program=PROGRAM, on_event=on_event)
        loop.start()
    except CaptureBusy as e:
        target.post_message(CaptureStarted(None, daemon=str(e) or "daemon"))
    except Exception as e:  # noqa: BLE001 - a notification; the workstation works without it
        target.post_message(CaptureStarted(None, error=e))
    else:
        target.post_message(CaptureStarted(loop, folders))


class Capture:
    """The workstation's capture loop: started after the first frame, stopped on quit."""

    def __init__(self, app: BrainApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled
        self.loop: CaptureLoop | None = None
        self.state = "off"  # off | on | daemon | failed
        self.captured = 0
        self._stopping = False
        # The folder list's stat when the last try began (taken before its worker read the
        # list), and that stat again when the try found no folders: the retry waits for it
        # to change instead of starting a worker every RETRY_S.
        self._tried: tuple[int, int, int] | None = None
        self._watched: tuple[int, int, int] | None = None

    def start(self) -> None:
        store = self.app.store
        if not self.enabled or store is None or self.loop is not None or self._stopping:
            return
        self._tried = self._watch_list_stat()
        job = partial(start_loop, self.app, store)
        self.app.run_worker(job, thread=True, group="capture", exit_on_error=False)

    def started(self, message: CaptureStarted) -> None:
        if self.loop is not None and message.loop is None:
            return  # a retry that raced our own loop's start: nothing changed
        if message.loop is not None:
            if self._stopping:  # quit came first: stop it at once
                message.loop.stop(STOP_S)
                return
            took_over = self.state == "daemon"
            self.loop = message.loop
            self.state = "on"
            n = message.folders
            self._show(f"capture: {n} folder{'s' if n != 1 else ''}", f"cap {n}")
            if took_over:
                self.app.notify("the capture daemon stopped: capturing here", title="capture")
            return
        if message.error is not None:
            self.state = "failed"  # shown once; not retried (the cause needs a person)
            self.app.show_error("starting capture", message.error, severity="warning")
            return
        if message.daemon:
            if self.state != "daemon":
                self.state = "daemon"
                self._show("capture: daemon", "cap: daemon")
        elif self.state == "daemon":  # the daemon stopped and nothing is watched any more
            self.state = "off"
            self._show("")
        if not self._stopping:
            self._watched = None if message.daemon else self._tried
            self.app.set_timer(RETRY_S, self._retry)

    def _retry(self) -> None:
        """Try again (a thread worker) unless nothing is watched and the folder list is as it
        was: a stat on the app's thread, instead of a worker every RETRY_S for nothing."""
        if self._watched is not None and self._watched == self._watch_list_stat():
            if not self._stopping:
                self.app.set_timer(RETRY_S, self._retry)
            return
        self.start()

    def _watch_list_stat(self) -> tuple[int, int, int] | None:
        from core.capture import config

        store = self.app.store
        if store is None:
            return None
        try:
            st = config.config_path(store.layout).stat()
        except OSError:
            return (0, 0, 0)  # no list yet: it appears when a folder is watched
        return (st.st_ino, st.st_mtime_ns, st.st_size)  # a new list is a new file (renamed in)

    def event(self, message: CaptureEvent) -> None:
        ev: Event = message.event
        if ev.kind == "captured":
            self.captured += 1
        elif ev.kind == "error":
            self.app.notify(ev.detail or "capture error", title="capture", severity="warning")

    def stop(self) -> None:
        self._stopping = True
        loop, self.loop = self.loop, None
        if loop is not None:
            try:
                loop.stop(STOP_S)
            except Exception as e:  # noqa: BLE001 - quitting: log it, never raise
                self.app.log.error("stopping capture", describe(e))
        self.state = "off"

    def _show(self, text: str, short: str | None = None) -> None:
        self.app.post_message(ActivityChanged("capture", text, short))
