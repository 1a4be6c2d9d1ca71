"""`brain unpin PATH`: let a pinned memory follow its score again."""

from __future__ import annotations

import argparse

from brain_tui.cli import cmd_pin, common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(subparsers, "unpin", "unpin a memory")
    p.add_argument("path", metavar="PATH")
    return p


def run(args: argparse.Namespace) -> int:
    return cmd_pin.run(args, pinned=False)
