"""`brain checkpoint`: sign the current tree head now."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    return common.command_parser(
        subparsers,
        "checkpoint",
        "sign a checkpoint of the log now",
        description="Sign the current Merkle tree head with the store's key(s), write it to"
        " audit/checkpoints/ and log a checkpoint row. Prints the signed note.",
    )


def run(args: argparse.Namespace) -> int:
    from core.verify import signed_note

    with common.open_store(args, signing=True) as store:
        text = store.checkpoint()
    cp, sigs = signed_note.parse_note(text)
    if args.json:
        common.print_json(
            {
                "size": cp.size,
                "root": cp.root.hex(),
                "note": text,
                "signers": [n for n, _k, _s in sigs],
            }
        )
    else:
        common.out(text.rstrip("\n"))
    return 0
