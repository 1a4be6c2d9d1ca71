"""`brain suggest [--project P]`: the patterns that worked, and recording how one did.

A pattern is a lesson signature (category and root-cause words) that recurs; its
effectiveness score (0 to 1, from 0.5) moves by an exponential moving average (rate 0.1) with
each recorded outcome. Suggestions: the top 5 above 0.7 with the lessons behind them.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "suggest",
        "patterns from recurring lessons that worked (top 5 above 0.7)",
        description="List the top 5 recurring patterns scoring above 0.7, with their"
        " evidence (--project P: those seen in that project). --worked PATH or --failed PATH"
        " records an outcome of applying a pattern (a pattern.outcome row); --prune tombstones"
        " ineffective ones (below 0.3 after more than 10 uses, older than 7 days).",
    )
    p.add_argument("--project", metavar="P")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--worked", metavar="PATH", help="record that the pattern worked")
    how.add_argument("--failed", metavar="PATH", help="record that the pattern did not help")
    how.add_argument("--prune", action="store_true", help="tombstone ineffective patterns")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        if args.worked or args.failed:
            res = store.proposals.record_outcome(
                args.worked or args.failed, bool(args.worked), actor=common.actor_of(args)
            )
            if args.json:
                common.print_json(res)
            else:
                common.out(
                    f"outcome  seq {res['seq']}  {common.clean(res['path'])}"
                    f"  score {res['previous']:.3f} -> {res['score']:.3f}  uses {res['uses']}"
                )
            return 0
        if args.prune:
            gone = store.proposals.prune(actor=common.actor_of(args))
            if args.json:
                common.print_json(gone)
            else:
                common.out(f"{len(gone)} ineffective patterns pruned")
                for g in gone:
                    common.out(f"  {common.clean(g)}")
            return 0
        items = store.proposals.suggest(project=args.project)
    if args.json:
        common.print_json(items)
        return 0
    if not items:
        common.out("no pattern scores above 0.7 yet")
    for it in items:
        common.out(
            f"{it['score']:.2f}  {common.clean(it['path'])}  {common.clean(it['title'])}"
            f"  ({len(it['evidence'])} lessons, {it['uses']} uses)"
        )
        for line in it["body"].splitlines():
            common.out(f"    {common.clean(line)}")
        for ev in it["evidence"]:
            common.out(f"    evidence: {common.clean(ev)}")
    return 0
