"""`brain sync-mode MODE`: how often the orchestrator syncs (docs/sync.md, "Modes")."""

from __future__ import annotations

import argparse

from brain_tui.cli import common

MODES = ("realtime", "frequent", "normal", "infrequent", "manual")  # core.sync.config.MODES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "sync-mode",
        "how often to sync: realtime, frequent, normal, infrequent, manual",
        description="realtime: every 10 s; frequent: every minute; normal (the default):"
        " every 5 minutes; infrequent: every hour; manual: only `brain sync` or the TUI's"
        " sync now. The TUI and `brain capture-daemon` run the passes.",
    )
    p.add_argument("mode", choices=MODES, metavar="MODE")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        cfg = store.sync.set_mode(args.mode)
    if args.json:
        common.print_json({"mode": cfg.mode})
        return 0
    common.out(f"sync mode: {cfg.mode}")
    return 0
