"""`brain maintain`: file maintenance proposals (core.maintain): merge near duplicates,
retire memories a newer one contradicts (tombstone), demote stale memories.

Each is `status:pending` and names the body commitment of every memory it reads: approving it
applies its writes only if each of them is unchanged since, all of them or none.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "maintain",
        "propose maintenance: merge duplicates, retire contradicted, demote stale",
        description="Look at up to --limit memories and file maintenance proposals, each"
        " pending a person's approval (brain proposals approve): merge near duplicates (same"
        " words), retire a memory contradicted by a newer one (same kind, folder and title"
        " words, different body; or named by another's `supersedes:` or `contradicts:`), demote"
        " memories unchanged for --stale-days. Approval applies it atomically, and only if"
        " every memory it read is unchanged since it was made.",
    )
    p.add_argument("--limit", type=int, default=500, help="memories looked at (default 500)")
    p.add_argument("--stale-days", type=float, default=180.0, help="stale after (default 180)")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        made = store.proposals.maintain(
            actor=common.actor_of(args), limit=args.limit, stale_days=args.stale_days
        )
    made = [m for m in made if m.filed]
    if args.json:
        common.print_json(made)
        return 0
    for m in made:
        common.out(f"proposed  seq {m.seq}  {common.clean(m.path)}")
    common.out(f"{len(made)} maintenance proposals filed, pending a person's approval")
    return 0
