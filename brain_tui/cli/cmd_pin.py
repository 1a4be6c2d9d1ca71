"""`brain pin PATH`: keep a memory hot (never below warm)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers, "pin", "pin a memory to the hot tier (never demoted below warm)"
    )
    p.add_argument("path", metavar="PATH")
    return p


def run(args: argparse.Namespace, pinned: bool = True) -> int:
    with common.open_store(args) as store:
        changed = store.tiers.pin(args.path, actor=common.actor_of(args), pinned=pinned)
    if args.json:
        common.print_json({"path": args.path, "pinned": pinned, "changed": changed})
        return 0
    if changed:
        common.out(f"{'pinned' if pinned else 'unpinned'} {common.clean(args.path)}")
    else:
        common.out(f"{'already pinned' if pinned else 'not pinned'}: {common.clean(args.path)}")
    return 0
