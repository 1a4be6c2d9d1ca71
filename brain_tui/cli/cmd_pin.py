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
        store.tiers.pin(args.path, actor=common.actor_of(args), pinned=pinned)
    common.out(f"{'pinned' if pinned else 'unpinned'} {args.path}")
    return 0
