"""`brain search QUERY`: ranked matches with a snippet.

Lexical (FTS5 + bm25) by default; `--mode semantic|hybrid` loads the embedding model (seconds,
once per process) and needs the optional extra `brain-tui[semantic]`. Only then is anything of
the semantic stack imported: agents run `brain search` from hooks.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common

MODES = ("lexical", "semantic", "hybrid")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(subparsers, "search", "search memories")
    p.add_argument("query", metavar="QUERY")
    add_filters(p)
    p.add_argument(
        "--mode",
        choices=MODES,
        default="lexical",
        help="lexical (words, default), semantic (meaning) or hybrid (both)",
    )
    return p


def add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kind")
    p.add_argument("--category")
    p.add_argument("--tag")
    p.add_argument("--tier", choices=("hot", "warm", "cold"))
    p.add_argument("--limit", type=positive, default=10, metavar="N", help="default 10")


def positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def filters(args: argparse.Namespace) -> dict:
    return {"kind": args.kind, "category": args.category, "tag": args.tag, "tier": args.tier}


def run(args: argparse.Namespace) -> int:
    # Semantic modes store embeddings they compute: those need a writable open.
    with common.open_store(args, read_only=args.mode == "lexical") as store:
        hits = store.search(args.query, mode=args.mode, limit=args.limit, **filters(args))
        if args.mode != "lexical":
            note_pending(store)
    print_hits(args, hits, f"no matches for {common.one_line(args.query)!r}")
    return 0


def note_pending(store) -> None:
    """A one-shot search embeds only a few missing memories itself; say when more are left."""
    missing = store.semantic_pending()
    if missing:
        common.err(
            f"note: {missing} memories have no embedding yet and were not searched by meaning;"
            " run `brain embed`"
        )


def print_hits(args: argparse.Namespace, hits: list, empty: str) -> None:
    if args.json:
        common.print_json(hits)
        return
    if not hits:
        common.err(empty)
        return
    for h in hits:
        common.out(f"{common.clean(h.path)}  {common.one_line(h.title)}  (score {h.score:.3g})")
        common.out(f"    {common.one_line(h.snippet)}")
