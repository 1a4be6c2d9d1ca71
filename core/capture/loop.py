"""The capture loop: watched folders -> debounced, rate-limited captures through pipeline.py.

One loop per store, whichever program runs it (`brain capture-daemon` in the foreground, or
the workstation in a thread): `CaptureLoop` takes the capture lock (local/capture/lock) before
it does anything, and a second loop is refused with `CaptureBusy`.

The cycle: file-system events (watchfiles' Rust notifier) mark files pending; a pending file
is captured once it has been quiet for `debounce_ms` (at most `max_wait_ms` after its first
event, so a file written without pause is still captured now and then), when its folder's
token bucket allows (ratelimit.py). Before watching, and whenever a folder (re)appears, the
folder is walked and every file whose size or mtime differs from the state file is pending:
files changed while no loop ran are caught up. A busy or frozen store delays captures (they
stay pending and are retried), never drops them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.capture import config, filters, naming, pipeline, walk
from core.capture import state as st
from core.capture.ratelimit import Bucket

if TYPE_CHECKING:
    from core.store import Store

DEBOUNCE_MS = 250
MAX_WAIT_MS = 3000
STEP_MS = 50  # the notifier groups events closer than this
CONFIG_CHECK_S = 1.0  # how often `brain watch`/`unwatch` changes are looked for
RESCAN_MISSING_S = 10.0  # how often a missing watched folder is looked for again
RETRY_S = 1.0  # a busy or frozen store: try again after this, doubling up to RETRY_MAX_S
RETRY_MAX_S = 30.0
ROUND = 256  # captures per round before events are read again


@dataclass
class Event:
    """What the loop tells its host (the daemon's log, the TUI's worker) after each capture."""

    kind: str  # captured | unchanged | skipped | error | retry
    folder: str  # the folder's id (w-…)
    path: str = ""  # the memory's path
    seq: int = 0
    detail: str = ""


@dataclass
class _Pending:
    folder: config.Watched
    rel: str
    due: float
    first: float


class CaptureLoop:
    def __init__(
        self,
        store: Store,
        *,
        actor: str = "agent:capture",
        program: str = "brain capture-daemon",
        debounce_ms: int = DEBOUNCE_MS,
        max_wait_ms: int = MAX_WAIT_MS,
        heartbeat_s: float = st.HEARTBEAT_S,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.store = store
        self.layout = store.layout
        self.actor = actor
        self.program = program
        self.debounce = debounce_ms / 1000
        self.max_wait = max(max_wait_ms, debounce_ms) / 1000
        self.heartbeat_s = heartbeat_s
        self.on_event = on_event
        self.stop_event = threading.Event()
        self.lock = st.CaptureLock(self.layout, program)
        self.pending: dict[str, _Pending] = {}
        self.buckets: dict[str, Bucket] = {}
        self.folders: list[config.Watched] = []
        self.missing: list[config.Watched] = []
        self.captured = 0
        self._thread: threading.Thread | None = None
        self._watcher: Any = None  # watchfiles' RustNotify, imported when first needed
        self._cfg_stamp: tuple[int, int] | None = None
        self._key = b""
        self._state = st.CaptureState()
        self._dirty = False
        self._hb: st.Heartbeat | None = None
        self._last_beat = 0.0
        self._next_cfg = 0.0
        self._next_missing = 0.0
        self._retry_s = RETRY_S
        self._retry_why = ""

    # -- hosting ------------------------------------------------------------------------

    def run(self) -> None:
        """Foreground: take the lock, loop until stop() (or a signal handler sets stop_event)."""
        self.lock.acquire()
        self.serve()

    def start(self) -> threading.Thread:
        """In a thread (the workstation's worker). The lock is taken here, in the caller's
        thread, so a second loop is refused (CaptureBusy) before any thread starts."""
        self.lock.acquire()
        t = threading.Thread(target=self.serve, name="brain-capture", daemon=True)
        self._thread = t
        t.start()
        return t

    def stop(self, timeout: float | None = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def serve(self) -> None:
        try:
            self._setup()
            while not self.stop_event.is_set():
                try:
                    self.step()
                except Exception as e:  # noqa: BLE001 - a daemon reports and carries on
                    self._emit(Event("error", "", detail=f"{type(e).__name__}: {e}"))
                    self.stop_event.wait(RETRY_S)
        finally:
            self._teardown()

    # -- the cycle ----------------------------------------------------------------------

    def _setup(self) -> None:
        self._key = config.key(self.layout, self.store.rng)
        self._state = st.load_state(self.layout)
        now_ns = time.time_ns()
        self._hb = st.Heartbeat(
            pid=os.getpid(),
            host=socket.gethostname(),
            program=self.program,
            started_ns=now_ns,
            beat_ns=now_ns,
        )
        self._beat(time.monotonic())
        self._reload(force=True)

    def _teardown(self) -> None:
        try:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None
            self._save()
            if self._hb is not None:
                self._hb.stopped_ns = self._hb.beat_ns = time.time_ns()
                self._hb.pending = len(self.pending)
                st.save_heartbeat(self.layout, self._hb)
        finally:
            self.lock.release()

    def step(self) -> None:
        """Wait for events (or the next due capture), then capture what is due."""
        now = time.monotonic()
        wait = min(self.heartbeat_s, CONFIG_CHECK_S, self._next_due() - now)
        timeout_ms = max(1, int(wait * 1000))
        changes = None
        if self._watcher is not None:
            changes = self._watcher.watch(STEP_MS * 2, STEP_MS, timeout_ms, self.stop_event)
        else:
            self.stop_event.wait(timeout_ms / 1000)
        now = time.monotonic()
        if isinstance(changes, set):
            for _change, path in changes:
                self._mark(path, now)
        if now >= self._next_cfg:
            self._reload()
        if now >= self._next_missing:
            self._next_missing = now + RESCAN_MISSING_S
            gone = [w.id for w in self.folders if not os.path.isdir(w.path)]
            if gone != [w.id for w in self.missing]:
                self._reload(force=True)  # a folder went away or came back
            elif self._watcher is None and self.folders:
                for w in self.folders:  # no notifier (see _reload): walk instead
                    if w not in self.missing:
                        self._scan(w)
        self._capture_due(now)
        if now - self._last_beat >= self.heartbeat_s:
            self._save()
            self._beat(now)

    def _next_due(self) -> float:
        if not self.pending:
            return float("inf")
        return min(p.due for p in self.pending.values())

    def _beat(self, now: float) -> None:
        assert self._hb is not None
        self._hb.beat_ns = time.time_ns()
        self._hb.pending = len(self.pending)
        self._hb.captured = self.captured
        try:
            st.save_heartbeat(self.layout, self._hb)
        except OSError:
            pass  # a full disk: the doctor will call the loop stuck, which is close to true
        self._last_beat = now

    # -- folders and events -------------------------------------------------------------

    def _reload(self, force: bool = False) -> None:
        self._next_cfg = time.monotonic() + CONFIG_CHECK_S
        try:
            s = os.stat(config.config_path(self.layout))
            stamp = (s.st_mtime_ns, s.st_ino)
        except FileNotFoundError:
            stamp = (0, 0)
        if stamp == self._cfg_stamp and not force:
            return
        self._cfg_stamp = stamp
        try:
            cfg = config.load(self.layout)
        except Exception as e:  # noqa: BLE001 - keep watching what we had; say why
            self._emit(Event("error", "", detail=str(e)))
            return
        old = {w.id for w in self.folders if w not in self.missing}
        self.folders = list(cfg.folders)
        self.missing = [w for w in self.folders if not os.path.isdir(w.path)]
        live = [w for w in self.folders if w not in self.missing]
        by_id = {w.id: w for w in self.folders}
        self.pending = {k: p for k, p in self.pending.items() if p.folder.id in by_id}
        for p in self.pending.values():
            p.folder = by_id[p.folder.id]  # new defaults apply to what is still pending
        for w in self.folders:
            b = self.buckets.get(w.id)
            if b is None or b.rate != float(w.rate_per_s) or b.burst != w.burst:
                self.buckets[w.id] = Bucket(w.rate_per_s, w.burst, time.monotonic())
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if live:
            self._watcher = self._notifier([w.path for w in live])
        # Walk after the notifier started: a file written in between is seen by one or both.
        for w in live:
            if force or w.id not in old:
                self._scan(w)

    def _notifier(self, paths: list[str]) -> Any:
        """watchfiles' Rust notifier (its low-level class: it takes a timeout per wait, which
        the debounce needs). Where the OS refuses (inotify's watch limit on a huge tree), the
        loop walks the folders every RESCAN_MISSING_S instead, and says so."""
        from watchfiles._rust_notify import RustNotify

        try:
            return RustNotify(paths, False, False, 300, True, True)
        except Exception as e:  # noqa: BLE001 - any refusal: fall back, never stop capturing
            self._emit(
                Event(
                    "error",
                    "",
                    detail=f"cannot watch for events ({e}); walking the folders every"
                    f" {RESCAN_MISSING_S:g} s instead",
                )
            )
            return None

    def _scan(self, w: config.Watched) -> None:
        now = time.monotonic()
        for rel in walk.changed(w, self._state.of(w.id).files, skip=str(self.layout.root)):
            self._pend(w, rel, now, now)

    def _folder_of(self, path: str) -> config.Watched | None:
        for w in self.folders:
            if path.startswith(w.path.rstrip("/") + "/"):
                return w
        return None

    def _mark(self, path: str, now: float) -> None:
        w = self._folder_of(path)
        if w is None or w in self.missing:
            return
        root = str(self.layout.root)
        if path == root or path.startswith(root + "/"):
            return  # the store itself lives in the watched folder: never capture our writes
        rel = path[len(w.path.rstrip("/")) + 1 :]
        if os.path.islink(path):
            return  # links are not followed (filters.outside), to folders or files
        if os.path.isdir(path):
            parts = rel.split("/")
            if any(
                filters.ignored_dir(p, "/".join(parts[: i + 1]), w.ignore)
                for i, p in enumerate(parts)
            ):
                return
            # A folder moved in whole: its files may predate the notifier's watch on it.
            self._scan_dir(w, path, now)
            return
        if filters.ignored_rel(rel, w.ignore):
            return
        p = self.pending.get(path)
        first = p.first if p is not None else now
        self._pend(w, rel, min(now + self.debounce, first + self.max_wait), first)

    def _scan_dir(self, w: config.Watched, path: str, now: float) -> None:
        for rel, _abs in walk.files(w, path, skip=str(self.layout.root)):
            self._pend(w, rel, now + self.debounce, now)

    def _pend(self, w: config.Watched, rel: str, due: float, first: float) -> None:
        self.pending[os.path.join(w.path, rel)] = _Pending(w, rel, due, first)

    # -- capturing ----------------------------------------------------------------------

    def _capture_due(self, now: float) -> None:
        due = sorted(
            (p for p in self.pending.values() if p.due <= now), key=lambda p: (p.due, p.rel)
        )
        if not due:
            return
        batch: list[tuple[_Pending, filters.Read]] = []
        for p in due:
            if len(batch) >= ROUND:
                break
            bucket = self.buckets[p.folder.id]
            if not bucket.take(now):
                p.due = bucket.next_at(now)  # delayed, never dropped
                continue
            key = os.path.join(p.folder.path, p.rel)
            del self.pending[key]
            why = filters.outside(p.folder.path, p.rel, str(self.layout.root))
            r = filters.Read(None, 0, 0, why) if why else filters.read_text(key)
            if self._settle(p, r):
                batch.append((p, r))
        if batch:
            self._commit(batch, now)

    def _settle(self, p: _Pending, r: filters.Read) -> bool:
        """Record a file that needs no put; True when it must be captured."""
        fs = self._state.of(p.folder.id)
        known = fs.files.get(p.rel)
        if r.skip == "gone":
            # Deleted (its memory stays: the ledger is append-only). Forgotten here so the state
            # file does not grow forever; if it comes back, the idempotent put guards it.
            if fs.files.pop(p.rel, None) is not None:
                self._dirty = True
            return False
        if r.body is None:
            if known is None or known.skip != r.skip:
                fs.skipped += 1
                self._emit(Event("skipped", p.folder.id, detail=r.skip))
            fs.files[p.rel] = st.FileState(r.mtime_ns, r.size, skip=r.skip)
            self._dirty = True
            return False
        digest = naming.content_digest(self._key, r.body)
        if known is not None and known.digest == digest and known.path:
            fs.unchanged += 1
            fs.files[p.rel] = st.FileState(r.mtime_ns, r.size, digest, known.path, known.seq)
            self._dirty = True
            self._emit(Event("unchanged", p.folder.id, known.path, known.seq))
            return False
        return True

    def _commit(self, batch: list[tuple[_Pending, filters.Read]], now: float) -> None:
        items = []
        for p, r in batch:
            assert r.body is not None
            items.append(
                pipeline.Item(
                    path=naming.file_path(self._key, p.folder.id, p.rel),
                    body=r.body,
                    title=pipeline.title_of(p.rel),
                    sync_class=p.folder.sync_class,
                    classification=p.folder.classification,
                    origin="watch",
                )
            )
        try:
            results = pipeline.capture_many(self.store, items, actor=self.actor)
        except Exception as e:  # noqa: BLE001 - RETRYABLE, or the store failed (I/O, SQLite)
            for p, _r in batch:  # everything goes back; what was written is a no-op next time
                self._pend(p.folder, p.rel, now + self._retry_s, p.first)
            self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)
            why = " ".join(str(e).split())
            if why != self._retry_why:  # say it once, not at every retry
                self._retry_why = why
                self._emit(Event("retry", "", detail=why))
            return
        self._retry_s, self._retry_why = RETRY_S, ""
        now_ns = time.time_ns()
        for (p, r), res in zip(batch, results, strict=True):
            fs = self._state.of(p.folder.id)
            self._dirty = True
            if res.error:
                fs.errors += 1
                fs.last_error = res.error[:300]
                fs.files[p.rel] = st.FileState(r.mtime_ns, r.size, skip="refused: " + res.error)
                self._emit(Event("error", p.folder.id, res.item.path, detail=res.error))
                continue
            assert r.body is not None
            digest = naming.content_digest(self._key, r.body)
            fs.files[p.rel] = st.FileState(r.mtime_ns, r.size, digest, res.item.path, res.seq)
            if res.changed:
                fs.captured += 1
                fs.last_capture_ns = now_ns
                self.captured += 1
                self._emit(Event("captured", p.folder.id, res.item.path, res.seq))
            else:
                fs.unchanged += 1
                self._emit(Event("unchanged", p.folder.id, res.item.path, res.seq))
        self._save()

    def _save(self) -> None:
        if not self._dirty:
            return
        try:
            st.save_state(self.layout, self._state)
            self._dirty = False
        except OSError as e:
            self._emit(Event("error", "", detail=f"cannot save the capture state: {e}"))

    def _emit(self, ev: Event) -> None:
        if self.on_event is not None:
            try:
                self.on_event(ev)
            except Exception:  # noqa: BLE001 - a host's callback never stops the loop
                pass
