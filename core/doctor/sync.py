"""Invariant of sync (issue 16): when a mode other than manual is set, an orchestrator (the
TUI or `brain capture-daemon`) runs passes; its heartbeat in local/sync.sqlite is younger than
twice the mode's interval (docs/sync.md, "Modes").

A warning that never freezes the store (no ledger data is at stake) and that no `--repair`
fixes: a person starts the TUI or the daemon, or sets `brain sync-mode manual`.
"""

from __future__ import annotations

from core.doctor.model import Finding, Invariant, ok, warn
from core.sync import config

SCOPE = "local/sync.sqlite"


def orchestrator(ctx) -> Finding:
    store = ctx.store
    try:
        cfg = config.load(store.root)
    except Exception as e:  # noqa: BLE001 - an unreadable config is the finding
        return warn(f"the sync config is unreadable: {e}", [f"local/{config.FILE}"])
    if cfg is None:
        return ok("not joined to a hub")
    every = config.interval_s(cfg.mode)
    if every is None:
        return ok("sync mode manual: passes run only when asked")
    beat = int(store.sync.queue.get("heartbeat_ns", 0) or 0)
    age_s = (store.clock() - beat) / 1e9 if beat else None
    if age_s is not None and age_s > 2 * every and _in_a_pass(store):
        return ok(
            f"sync mode {cfg.mode}: the orchestrator is in a long pass (beat {int(age_s)} s ago)"
        )
    if age_s is None or age_s > 2 * every:
        seen = "has never run" if age_s is None else f"last ran {int(age_s)} s ago"
        return warn(
            f"sync mode is {cfg.mode} (every {every} s) but no orchestrator {seen}: start the"
            " TUI or `brain capture-daemon`, or set `brain sync-mode manual`",
            [SCOPE],
        )
    return ok(f"sync mode {cfg.mode}: the orchestrator ran {int(age_s)} s ago")


def _in_a_pass(store) -> bool:
    """The orchestrator holds its lock and a pass holds the pass lock: it beats again when
    the pass ends (a first sync of a large org can outlast two intervals)."""
    from core.sync import orchestrator
    from core.write import lock

    return orchestrator.is_running(store.layout) and lock.is_locked(
        store.root / "local" / "sync.pass.lock"
    )


INVARIANTS = [
    Invariant("sync.orchestrator", "warning", SCOPE, orchestrator, False, "sync orchestrator"),
]
