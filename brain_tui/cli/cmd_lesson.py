"""`brain lesson TITLE`: record what went wrong (seed 004), from flags or a file.

A lesson has FAILURE, ROOT CAUSE, FIX and PREVENTION (CONTEXT optional), none a placeholder;
it carries no secrets and no raw error logs, and a near duplicate is refused, naming it.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from core.models import CATEGORIES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "lesson",
        "record a lesson: what failed, why, the fix, how to prevent it",
        description="Store a lesson under memories/refinements/lessons/. Give its sections"
        " as flags, or --file F holding lines 'FAILURE: ...', 'ROOT CAUSE: ...', 'FIX: ...',"
        " 'PREVENTION: ...' and optionally 'CONTEXT: ...' (flags win). A placeholder such as"
        " 'it broke', a secret or a raw stack trace is refused; so is a near duplicate.",
    )
    p.add_argument("title", metavar="TITLE")
    p.add_argument("--file", metavar="F", help="a file of 'SECTION: text' lines ('-' = stdin)")
    p.add_argument("--failure")
    p.add_argument("--root-cause")
    p.add_argument("--fix")
    p.add_argument("--prevention")
    p.add_argument("--context")
    p.add_argument("--category", default="learning", choices=CATEGORIES)
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="TAG")
    add_semantic_flags(p)
    p.add_argument("--project", default="", metavar="P", help="the project it happened in")
    return p


def add_semantic_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--semantic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="search by meaning for duplicates too: --semantic always (loads the embedding"
        " model: seconds), --no-semantic never; by default only when it is cheap (the model"
        " already loaded, or a long-lived host whose store has embeddings)",
    )


def searches_line(searches: dict[str, str]) -> str:
    """Which duplicate searches ran: 'duplicates: lexical ran; semantic skipped: why'."""
    parts = [f"{k} {common.clean(v)}" for k, v in searches.items() if k != "found"]
    return "duplicates: " + "; ".join(parts)


def sections_from(args: argparse.Namespace, names: dict[str, str]) -> dict[str, str]:
    from brain_tui.cli.cmd_put import read_body
    from core.proposals import parse_sections

    out: dict[str, str] = {}
    if args.file:
        out = parse_sections(read_body(args.file).decode("utf-8", "replace"))
    for attr, name in names.items():
        v = getattr(args, attr, None)
        if v:
            out[name] = v
    return out


def run(args: argparse.Namespace) -> int:
    names = {
        "failure": "FAILURE",
        "root_cause": "ROOT CAUSE",
        "fix": "FIX",
        "prevention": "PREVENTION",
        "context": "CONTEXT",
    }
    sections = sections_from(args, names)
    with common.open_store(args) as store:
        res = store.proposals.lesson(
            args.title,
            sections,
            actor=common.actor_of(args),
            category=args.category,
            extra_tags=args.tags,
            semantic=args.semantic,
            project=args.project,
        )
    if args.json:
        common.print_json(res)
    else:
        common.out(searches_line(res.searches))
        common.out(f"lesson  seq {res.seq}  {common.clean(res.path)}")
    return 0
