"""`brain reindex`: drop the derived index and rebuild it from the files and the log."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    return common.command_parser(
        subparsers, "reindex", "rebuild the derived index from the files and the log"
    )


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        n = store.reindex()
        head = store.tip.seq
    if args.json:
        common.print_json({"memories": n, "head_seq": head})
    else:
        common.out(f"reindexed {n} memories (head seq {head})")
    return 0
