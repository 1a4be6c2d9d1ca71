"""`brain tiers [rebalance]`: the hot/warm/cold summary, or a rebalance now."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "tiers",
        "show memory tiers, or rebalance them",
        description="Show tier counts, the hot tier's fill against its cap of 300, the last"
        " rebalance and the top of each tier with scores. `brain tiers rebalance` recomputes"
        " the tiers now and logs the moves as tier.changed rows.",
    )
    p.add_argument("action", nargs="?", choices=["show", "rebalance"], default="show")
    p.add_argument("--top", type=int, default=5, metavar="N", help="memories listed per tier")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        result = None
        if args.action == "rebalance":
            result = store.tiers.rebalance(actor=common.actor_of(args))
        summary = store.tiers.summary(top=args.top)
    if args.json:
        common.print_json({"rebalance": result, "summary": summary} if result else summary)
        return 0
    if result is not None:
        common.out(f"rebalanced: {result['moves']} move(s) in {result['rows']} tier.changed row(s)")
    c = summary.counts
    common.out(
        f"hot {c['hot']}/{summary.hot_cap}   warm {c['warm']}/{summary.warm_cap}   cold {c['cold']}"
    )
    last = summary.last_rebalance_ns
    common.out(f"last rebalance: {common.iso(last) if last else 'never'}")
    if summary.active_project:
        common.out(f"active project: {summary.active_project}")
    for tier, items in summary.top.items():
        if items:
            common.out(f"{tier}:")
            for it in items:
                pin = " (pinned)" if it["pinned"] else ""
                common.out(f"  {it['score']:>4}  {it['path']}{pin}")
    return 0
