"""`brain move SRC DST`: move a memory (and its versions); the kind stays the same."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(subparsers, "move", "move a memory to another path")
    p.add_argument("src", metavar="SRC")
    p.add_argument("dst", metavar="DST")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        res = store.move(args.src, args.dst, actor=common.actor_of(args))
    if args.json:
        common.print_json(res)
    else:
        common.out(f"moved  seq {res.seq}  {common.clean(args.src)} -> {common.clean(res.path)}")
    return 0
