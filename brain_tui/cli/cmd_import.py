"""`brain import SRC`: verify a foreign export or store folder, then import its memories."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "import",
        "verify another store's export and import its shareable memories",
        description="Verify SRC (an export zip or a store folder) completely: every frame, the"
        " chain from genesis, every signed checkpoint and Merkle root, every memory against the"
        " log. Refuses with the reason if anything fails. Then writes the selected memories as"
        " local puts carrying imported_from and foreign_chain, in one atomic request. A path"
        " held locally by anything but an earlier import from the same store goes to"
        " conflicts/<origin>/ instead. Re-importing the same versions writes nothing.",
    )
    p.add_argument("src", metavar="SRC", help="an export zip or a store folder")
    p.add_argument(
        "--filter",
        metavar="CLASSES",
        help="sync classes to import: all, or a comma-separated list of private, personal,"
        " shareable, team-public, org-only (default: shareable,team-public)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args) as store:
        res = store.import_(args.src, filter=args.filter, actor=common.actor_of(args))
    if args.json:
        common.print_json(res)
        return 0
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(res.skipped.items())) or "none"
    common.out(
        f"verified {common.clean(res.source)}: store {res.origin}, {res.source_head} rows,"
        f" checkpoint {res.checkpoint} signed by {', '.join(res.signers) or '-'}"
    )
    pin = {
        "first use": "key pinned now (first import from this store id; later imports must match)",
        "pinned": "key matches the pinned one",
        "rotated": "key rotation vouched for by the pinned key: the new key is pinned too",
    }.get(res.key_pin)
    if pin:
        common.out(f"  {pin}")
    rows = f"  seq {res.first_seq}..{res.last_seq}" if res.first_seq else "  (no rows written)"
    common.out(
        f"imported {len(res.written)}, conflicts {len(res.conflicts)}, skipped: {skipped}{rows}"
    )
    for path in res.written:
        common.out(f"  put       {common.clean(path)}")
    for path in res.conflicts:
        common.out(f"  conflict  {common.clean(path)}")
    return 0
