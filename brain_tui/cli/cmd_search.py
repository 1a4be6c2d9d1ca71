"""`brain search QUERY`: ranked matches with a snippet (lexical: FTS5 + bm25)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(subparsers, "search", "search memories")
    p.add_argument("query", metavar="QUERY")
    p.add_argument("--kind")
    p.add_argument("--category")
    p.add_argument("--tag")
    p.add_argument("--limit", type=_positive, default=10, metavar="N", help="default 10")
    p.add_argument("--mode", default="lexical", help="search mode (default lexical)")
    return p


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        hits = store.search(
            args.query,
            mode=args.mode,
            limit=args.limit,
            kind=args.kind,
            category=args.category,
            tag=args.tag,
        )
    if args.json:
        common.print_json(hits)
        return 0
    if not hits:
        common.err(f"no matches for {common.one_line(args.query)!r}")
        return 0
    for h in hits:
        common.out(f"{common.clean(h.path)}  {common.one_line(h.title)}  (score {h.score:.3g})")
        common.out(f"    {common.one_line(h.snippet)}")
    return 0
