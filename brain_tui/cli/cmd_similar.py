"""`brain similar PATH`: the memories nearest in meaning to one memory (semantic search)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from brain_tui.cli.cmd_search import add_filters, filters, note_pending, print_hits


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "similar",
        "memories similar in meaning to one memory",
        description="List the memories whose embeddings are nearest to PATH's (needs the"
        " optional extra brain-tui[semantic]).",
    )
    p.add_argument("path", metavar="PATH")
    add_filters(p)
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        hits = store.similar(args.path, limit=args.limit, **filters(args))
        note_pending(store)
    print_hits(args, hits, f"no memories similar to {common.clean(args.path)}")
    return 0
