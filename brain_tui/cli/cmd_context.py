"""`brain context`: the memories an agent should start a session with."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "context",
        "memories to start an agent session with (at most 300)",
        description="Print at most 300 memories in the order preferences, active project,"
        " recent often-used, recent; each with the reason it was chosen and its tier score.",
    )
    p.add_argument("--project", metavar="P", help="project to favour (default: the active one)")
    p.add_argument("--limit", type=int, default=300, metavar="N")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        items = store.context(project=args.project, limit=args.limit)
    if args.json:
        common.print_json(items)
    else:
        for it in items:
            common.out(f"{it.score:>4}  {it.tier:<4}  {it.path}  [{it.reason}]")
    return 0
