"""`brain unwatch PATH`: stop capturing a folder (its memories stay)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "unwatch",
        "stop capturing a folder",
        description="Stop watching PATH. What was captured stays in the ledger.",
    )
    p.add_argument("path", metavar="PATH", help="the folder, as `brain status` lists it")
    return p


def run(args: argparse.Namespace) -> int:
    from core.capture import config

    with common.open_store(args, read_only=True) as store:
        common.refuse_read_only_media(store)
        w = config.unwatch(store.layout, args.path)
    if args.json:
        common.print_json({"removed": w})
    else:
        common.out(f"unwatched  {common.clean(w.path)}  ({w.id}; its memories stay)")
    return 0
