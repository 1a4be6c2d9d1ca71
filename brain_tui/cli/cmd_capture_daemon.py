"""`brain capture-daemon`: run the capture loop in the foreground (for systemd or launchd)."""

from __future__ import annotations

import argparse
import os

import brain_tui.cli
from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "capture-daemon",
        "capture watched folders until stopped",
        description="Watch every folder `brain watch` added and capture its text files as they"
        " change, until SIGTERM or Ctrl-C. One capture loop runs per store (the daemon or the"
        " workstation): a second one is refused. Logs one line per capture on stderr. It also"
        " runs the sync orchestrator (`brain sync-mode`) when no TUI runs one.",
    )
    p.add_argument(
        "--debounce-ms",
        type=int,
        default=250,
        metavar="MS",
        help="capture a file once it has been quiet this long (default 250)",
    )
    p.add_argument("--quiet", action="store_true", help="log errors only")
    return p


def run(args: argparse.Namespace) -> int:
    from core.capture import daemon
    from core.store import Store

    if not 0 <= args.debounce_ms <= 60_000:
        raise common.UsageError("--debounce-ms must be between 0 and 60000")
    actor = getattr(args, "actor", None) or "agent:capture-daemon"

    def out(line: str) -> None:
        if not args.quiet or line.startswith(("error", "retry")):
            common.err(line)

    store = Store.open(
        args.store,
        allow_temp=args.allow_temp_store,
        program="brain capture-daemon",
        service=True,
    )
    try:
        common.refuse_read_only_media(store)
    except BaseException:
        store.close()
        raise
    store.open_door()
    brain_tui.cli.settle_gc()  # a long-lived loop from here on
    syncs: list = []

    def ready(_loop) -> None:
        # After the capture lock: a second daemon is refused before it touches sync.
        common.err(
            f"capture-daemon: started (pid {os.getpid()}) for the store at"
            f" {common.clean(str(store.root))}"
        )
        syncs.extend(o for o in [_start_sync(store, out)] if o is not None)

    try:
        return daemon.run(store, actor=actor, debounce_ms=args.debounce_ms, out=out, ready=ready)
    finally:
        for orch in syncs:
            orch.stop()
        store.close()


def _start_sync(store, out):
    """The sync orchestrator beside the capture loop (docs/sync.md, "Modes"): it idles until
    the store joins a hub, and a second one (the TUI's) is only reported."""
    from core.sync.orchestrator import Orchestrator, SyncBusy

    def said(rep) -> None:
        for e in rep.errors:
            out(f"error  sync  {e}")

    orch = Orchestrator(store, program="brain capture-daemon", on_pass=said)
    try:
        orch.start()
    except SyncBusy as e:
        out(f"skipped  sync  ({e})")
        return None
    return orch
