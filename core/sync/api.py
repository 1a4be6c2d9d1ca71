"""`store.sync`: join a hub, run a pass, read the state (docs/sync.md).

What the CLI (`brain sync …`) and the TUI's sync pane call. The pieces underneath: config
(`local/sync.json`), the queue (`local/sync.sqlite`), one push pass (core.sync.push), one pull
pass (core.sync.pull), the orchestrator (core.sync.orchestrator). HTTP and the sync modules are
imported on first use, never by `import core.store`.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from core.errors import BrainError
from core.sync import config
from core.sync.config import SyncConfig

if TYPE_CHECKING:
    from core.store import Store
    from core.sync.client import HubClient
    from core.sync.queue import Queue

ACTOR = "system:sync"
# Per-memory sync states (the memory browser's column), see SyncApi.state_of.
MEMORY_STATES = (
    "local-only",  # pushable, but this store has not joined a hub (or not scanned it yet)
    "private",  # sync_class private: never leaves
    "held",  # held for PII review: not pushed until resolved
    "pending-push",
    "pushed",  # sent, no reply yet
    "confirmed",  # the hub holds it
    "refused",  # the hub refused it (status says why)
    "imported",  # arrived from another store (import or pull): only its origin pushes it
)


class NotJoined(BrainError):
    """This store has not joined a hub."""


class SyncConflict(msgspec.Struct):
    path: str  # the local path the incoming version could not take
    origin: str  # the store it came from
    copy: str  # conflicts/<origin>/<path>: the incoming version, to compare side by side
    cursor: int  # the hub cursor it arrived at


class SyncRefusal(msgspec.Struct):
    path: str
    seq: int  # the local row the hub refused
    reason: str  # the hub's reason


class SyncStatus(msgspec.Struct):
    joined: bool
    hub: str = ""
    org: str = ""
    user: str = ""
    role: str = ""
    device: str = ""
    store: str = ""  # this store's id (the origin its pushes name)
    mode: str = config.DEFAULT_MODE
    interval_s: int = 0  # 0: manual
    outbox: dict[str, int] = {}  # per state (core.sync.queue.OUT_STATES)
    inbox: dict[str, int] = {}  # per state (core.sync.queue.IN_STATES)
    last_push_ns: int = 0
    last_push_outcome: str = ""  # "ok: 12 confirmed" / the error
    last_pull_ns: int = 0
    last_pull_outcome: str = ""
    last_error: str = ""  # the last failed pass's error ("" after a good pass)
    next_retry_ns: int = 0  # when the orchestrator tries again after that error (0: none)
    conflicts: list[SyncConflict] = []
    orchestrator_alive: bool = False  # an orchestrator holds the lock for this store now
    heartbeat_ns: int = 0  # its last beat
    refused: list[SyncRefusal] = []  # items the hub refused, newest first (at most 100)


class SyncReport(msgspec.Struct):
    pushed: int = 0  # confirmed by the hub this pass (accepted)
    duplicates: int = 0  # the hub already held them (a retried delivery)
    refused: list[tuple[str, str]] = []  # (path, the hub's reason)
    purges_sent: int = 0
    pulled: int = 0  # items stored in the inbox this pass
    imported: int = 0  # pulled memories written here
    conflicts: list[str] = []  # conflicts/<origin>/<path> written
    skipped: int = 0
    purged: int = 0  # local copies erased by purge notices
    # key rotations pulled that the pinned key did not vouch for (the origin's new key stays
    # untrusted here, and its new versions are skipped)
    refused_rotations: list[str] = []
    errors: list[str] = []  # a failed half of the pass (push or pull), actionable
    retry_after_s: float = 0.0  # the hub asked to wait this long (429) before the next try

    @property
    def ok(self) -> bool:
        return not self.errors


class SyncApi:
    """One per open Store (Store.sync); safe to call from the orchestrator's thread and a UI
    worker at once: a pass runs under `self.lock`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()
        self._queue: Queue | None = None
        self._client: HubClient | None = None

    # -- configuration ------------------------------------------------------------------

    def config(self) -> SyncConfig | None:
        return config.load(self.store.root)

    def require(self) -> SyncConfig:
        cfg = self.config()
        if cfg is None:
            raise NotJoined(
                f"{self.store.root} has not joined a hub; run `brain sync join URL --token-file F`"
            )
        return cfg

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            from core.sync.queue import Queue

            self._queue = Queue(self.store.root)
        return self._queue

    def client(self, cfg: SyncConfig) -> HubClient:
        from core.sync.client import HubClient

        c = self._client
        want = (cfg.hub, cfg.org, cfg.token, cfg.ca_file)
        if c is None or (c.url, c.org, c.token, c.ca_file) != want:
            if c is not None:
                c.close()
            c = self._client = HubClient(cfg.hub, cfg.org, cfg.token, ca_file=cfg.ca_file)
        return c

    def join(
        self, url: str, token: str, *, mode: str | None = None, ca_file: str | None = None
    ) -> SyncConfig:
        """Check the token with whoami, then record hub, org and token in local/sync.json.
        `ca_file`: the CA of a hub whose certificate the system does not trust."""
        from core.sync.client import HubClient, org_of_token

        token = token.strip()
        org = org_of_token(token)
        old = self.config()
        ca = ca_file if ca_file is not None else (old.ca_file if old else "")
        if ca:
            ca = str(Path(ca).resolve())
            if not Path(ca).is_file():
                raise BrainError(f"--ca-file {ca}: no such file")
        probe = HubClient(url, org, token, ca_file=ca)
        try:
            me = probe.whoami()
        finally:
            probe.close()
        sid = self.store.manifest.store_id
        if me.store and me.store != sid:
            raise BrainError(
                f"device {me.device} already pushes as store {me.store}, not this store ({sid});"
                " one store per device: ask the hub operator for a token for a new device"
            )
        cfg = SyncConfig(
            hub=url.rstrip("/"),
            org=me.org,
            token=token,
            mode=mode or (old.mode if old else config.DEFAULT_MODE),
            user=me.user,
            role=me.role,
            device=me.device,
            hub_id=me.hub,
            ca_file=ca,
        )
        config.save(self.store.root, cfg)
        with self.lock:
            self.queue.bind(f"{me.hub}/{me.org}")
        return cfg

    def leave(self) -> bool:
        """Forget the hub (local/sync.json). The queue stays: joining again resumes it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        return config.remove(self.store.root)

    def set_mode(self, mode: str) -> SyncConfig:
        cfg = self.require()
        config.check_mode(mode)
        cfg = msgspec.structs.replace(cfg, mode=mode)
        config.save(self.store.root, cfg)
        return cfg

    # -- passes -------------------------------------------------------------------------

    def run(self, push: bool = True, pull: bool = True, *, actor: str = ACTOR) -> SyncReport:
        """One pass: push what is queued (scanning new local rows first), then pull and import.
        A failing half is reported in `errors` (and recorded for `status`), never half-done:
        the queue says what is left for the next pass."""
        from core.sync import pull as pull_pass
        from core.sync import push as push_pass

        cfg = self.require()
        report = SyncReport()
        with self.lock, _PassLock(self.store.root):
            q = self.queue
            hub = self.client(cfg)
            now = self.store.clock
            halves = [
                ("push", push_pass.run, _push_summary, push),
                ("pull", pull_pass.run, _pull_summary, pull),
            ]
            for half, run_half, summary, wanted in halves:
                if not wanted:
                    continue
                try:
                    run_half(self.store, q, hub, report, actor=actor)
                    q.set(**{f"last_{half}_ns": now(), f"last_{half}_outcome": summary(report)})
                except (BrainError, OSError, sqlite3.Error) as e:
                    report.errors.append(f"{half}: {e}")
                    report.retry_after_s = max(report.retry_after_s, _wait(e))
                    q.set(**{f"last_{half}_ns": now(), f"last_{half}_outcome": f"failed: {e}"})
            q.set(last_error="; ".join(report.errors))
            if not report.errors:
                q.set(next_retry_ns=0)
        return report

    def resolve_conflict(self, path: str, origin: str, take: str, *, actor: str) -> int:
        """Settle a conflict: take "mine" (the local memory stays) or "theirs" (the incoming
        version is written as the pull would have); the copy under conflicts/ goes. Returns
        the seq `theirs` wrote, 0 for `mine` (core/sync/conflicts.py)."""
        from core.sync import conflicts

        with self.lock:
            return conflicts.resolve(self.store, self.queue, path, origin, take, actor)

    # -- reading ------------------------------------------------------------------------

    def status(self) -> SyncStatus:
        from core.sync import orchestrator
        from core.sync import push as push_pass

        cfg = self.config()
        sid = self.store.manifest.store_id
        if cfg is None:
            return SyncStatus(joined=False, store=sid)
        q = self.queue
        out, inn = q.counts()
        out["pending-push"] += push_pass.unscanned(self.store, q)  # written since the last scan
        conflicts = [SyncConflict(c.path, c.origin, c.copy, c.cursor) for c in q.conflicts()]
        return SyncStatus(
            joined=True,
            hub=cfg.hub,
            org=cfg.org,
            user=cfg.user,
            role=cfg.role,
            device=cfg.device,
            store=sid,
            mode=cfg.mode,
            interval_s=config.interval_s(cfg.mode) or 0,
            outbox=out,
            inbox=inn,
            last_push_ns=int(q.get("last_push_ns", 0) or 0),
            last_push_outcome=str(q.get("last_push_outcome", "") or ""),
            last_pull_ns=int(q.get("last_pull_ns", 0) or 0),
            last_pull_outcome=str(q.get("last_pull_outcome", "") or ""),
            last_error=str(q.get("last_error", "") or ""),
            next_retry_ns=int(q.get("next_retry_ns", 0) or 0),
            conflicts=conflicts,
            orchestrator_alive=orchestrator.is_running(self.store.layout),
            heartbeat_ns=int(q.get("heartbeat_ns", 0) or 0),
            refused=[SyncRefusal(p, s, r) for p, s, r in q.refusals()],
        )

    def pending_error(self) -> str:
        """The last failed pass's error ("" when joined and fine, or not joined): cheap enough
        for the workstation's header on every state refresh."""
        if self.config() is None:
            return ""
        return str(self.queue.get("last_error", "") or "")

    def state_of(self, path: str) -> str:
        """One of MEMORY_STATES for the memory at `path` now (the memory browser's column)."""
        return self.states_of([path])[path]

    def states_of(self, paths: list[str]) -> dict[str, str]:
        """`state_of` for many paths at once (a page of the memory browser): the config and
        the push scan mark are read once, then a sidecar and an outbox lookup per path."""
        from core.write.file_view import read_sidecar

        joined = self.config() is not None
        scan = int(self.queue.get("push_scan", 0) or 0) if joined else 0
        out: dict[str, str] = {}
        for path in paths:
            side = read_sidecar(self.store.root, path)
            if side is None or side.state != "active":
                state = "local-only"
            elif "imported_from" in side.extra:
                state = "imported"
            elif side.pii_status == "held":
                state = "held"
            elif side.sync_class == "private":
                state = "private"
            elif not joined:
                state = "local-only"
            else:
                item = self.queue.latest_out(path)
                if item is not None and item.seq == side.seq:
                    state = item.state
                elif side.seq > scan:
                    state = "pending-push"  # written after the last scan: the next pass queues it
                else:
                    state = "local-only"
            out[path] = state
        return out

    def conflict_copy(self, copy: str) -> bytes | None:
        """The incoming version a conflict kept aside (`SyncConflict.copy`, under
        `conflicts/`), or None once it is gone (a purge notice drops it)."""
        parts = copy.split("/")
        if parts[0] != "conflicts" or len(parts) < 3 or any(p in ("", ".", "..") for p in parts):
            raise BrainError(f"{copy!r} is not a conflict copy (conflicts/<origin>/<path>)")
        try:
            return (self.store.root / copy).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise BrainError(f"{copy}: cannot read the conflict copy ({e})") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._queue is not None:
            self._queue.close()
            self._queue = None


class _PassLock:
    """One pass at a time per store across processes (`brain sync` beside the daemon's
    orchestrator): an flock on local/sync.pass.lock, waited for (a pass ends), within reason.
    Two passes at once would lose nothing either, but would send and import twice."""

    WAIT_S = 600.0

    def __init__(self, root) -> None:
        self.path = root / "local" / "sync.pass.lock"
        self.fd: int | None = None

    def __enter__(self) -> None:
        import fcntl
        import os
        import time

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise BrainError(
                        f"another sync pass has held {self.path} for {self.WAIT_S:.0f} s;"
                        " is a `brain sync` stuck? stop it and try again"
                    ) from None
                time.sleep(0.05)
        self.fd = fd

    def __exit__(self, *exc) -> None:
        import os

        if self.fd is not None:
            os.close(self.fd)  # closing drops the flock
            self.fd = None


def _wait(e: BaseException) -> float:
    return float(getattr(e, "retry_after", None) or 0.0)


def _n(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _push_summary(r: SyncReport) -> str:
    parts = [f"{r.pushed} accepted", f"{r.duplicates} duplicate"]
    if r.refused:
        parts.append(f"{len(r.refused)} refused")
    if r.purges_sent:
        parts.append(_n(r.purges_sent, "purge"))
    return "ok: " + ", ".join(parts)


def _pull_summary(r: SyncReport) -> str:
    parts = [f"{r.pulled} pulled", f"{r.imported} imported"]
    if r.conflicts:
        parts.append(_n(len(r.conflicts), "conflict"))
    if r.purged:
        parts.append(f"{r.purged} purged")
    return "ok: " + ", ".join(parts)


__all__ = [
    "ACTOR",
    "MEMORY_STATES",
    "NotJoined",
    "SyncApi",
    "SyncConflict",
    "SyncRefusal",
    "SyncReport",
    "SyncStatus",
]
