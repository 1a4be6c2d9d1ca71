"""`brain history PATH`: every audit row that touched this memory, following moves back."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "history",
        "audit rows of one memory, across moves",
        description="Print the audit rows of PATH, oldest first, including those written under"
        " the paths it was moved from. --json prints one JSON array.",
    )
    p.add_argument("path", metavar="PATH")
    return p


def run(args: argparse.Namespace) -> int:
    from core.errors import NotFound

    with common.open_store(args, read_only=True) as store:
        rows = store.history(args.path)
    if not rows:
        raise NotFound(f"{args.path}: no audit row ever touched this path")
    if args.json:
        common.print_json(rows)
    else:
        for r in rows:
            common.out(common.format_row(r))
    return 0
