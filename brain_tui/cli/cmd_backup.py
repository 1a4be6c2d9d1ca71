"""`brain backup DIR`: a consistent, verified snapshot of the store."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "backup",
        "snapshot the store into a new folder and verify it",
        description="Copy the store into DIR (new or empty) while holding the writer lock:"
        " sealed segments and checkpoint notes are hard-linked (they never change), everything"
        " else is copied (private keys and local/ included; index/ and exports/ left out). The"
        " copy is then verified (chain, signatures, roots, memories) and opened read-only.",
    )
    p.add_argument("dest", metavar="DIR", help="a new or empty folder outside the store")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args, signing=True) as store:
        res = store.backup(args.dest, allow_temp=args.allow_temp_store or None)
    if args.json:
        common.print_json(res)
        return 0
    common.out(
        f"backed up to {common.clean(res.dest)}: {res.linked} hard-linked, {res.copied} copied"
        f" ({res.bytes_copied:,} bytes), head seq {res.head_seq}, checkpoint {res.checkpoint},"
        f" {'verified' if res.verified else 'NOT verified'}"
    )
    for note in res.notes:
        common.out(f"  note: {common.clean(note)}")
    return 0
