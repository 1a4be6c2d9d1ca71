"""`brain rotate-key [--finish]`: rotate the checkpoint signing key with an overlap."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "rotate-key",
        "rotate the signing key (old and new sign during the overlap)",
        description="Start a key rotation: a new key is generated and checkpoints are signed"
        " by both the old and the new key, logged as a key.rotated row. Run again with"
        " --finish to retire the old key (its .vkey stays so old checkpoints still verify)."
        " One rotation at a time: a second start before --finish is refused.",
    )
    p.add_argument("--finish", action="store_true", help="retire the old key(s)")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args, signing=True) as store:
        info = store.rotate_key(finish=args.finish)
    if args.json:
        common.print_json(info)
    elif args.finish:
        common.out(f"active key: {info['active']}")
        for k in info["retired"]:
            common.out(f"retired:    {k}")
    else:
        common.out(f"new key:  {info['new']}")
        for k in info["old"]:
            common.out(f"old key:  {k} (still signing until `brain rotate-key --finish`)")
    return 0
