"""`brain delete PATH`: tombstone (default, history kept) or purge (content destroyed)."""

from __future__ import annotations

import argparse
import sys

from brain_tui.cli import common
from core.models import PURGE_REASONS


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "delete",
        "tombstone a memory, or purge it for good",
        description="Tombstone PATH (the default: the body is replaced by a stub, earlier"
        " versions stay). --mode purge destroys the body, its versions and every indexed copy;"
        " it needs --reason and, from a terminal, a typed confirmation unless --yes.",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--mode", choices=("tombstone", "purge"), default="tombstone")
    p.add_argument("--reason", help=f"purge reason, one of: {', '.join(PURGE_REASONS)}")
    p.add_argument("--ticket", metavar="ID", help="a ticket or request id kept on the row")
    p.add_argument("-y", "--yes", action="store_true", help="purge without asking")
    return p


def run(args: argparse.Namespace) -> int:
    from core import validate

    path = args.path
    # The engine's own checks, before asking: a refused purge would waste the user's answer.
    validate.delete(path, args.mode, args.reason, args.ticket)
    if args.mode == "purge" and not args.yes:
        _confirm_purge(path)
    with common.open_store(args) as store:
        res = store.delete(
            path,
            actor=common.actor_of(args),
            mode=args.mode,
            reason=args.reason,
            ticket=args.ticket,
        )
    if args.json:
        common.print_json(res)  # res.notes names exports outside the store
    else:
        done = "purged" if args.mode == "purge" else "tombstoned"
        common.out(f"{done}  seq {res.seq}  {common.clean(res.path)}")
        for note in res.notes:
            common.out(f"note: {common.clean(note)}")
    return 0


def _confirm_purge(path: str) -> None:
    from core.errors import BrainError

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return  # scripts and agents: the reason is the safeguard
    sys.stderr.write(
        f"Purging {path} destroys its body, every earlier version and every indexed copy;"
        " only the audit rows remain. This cannot be undone.\n"
        "Type 'purge' to confirm: "
    )
    sys.stderr.flush()
    try:
        answer = sys.stdin.readline().strip()
    except EOFError:
        answer = ""
    if answer != "purge":
        raise BrainError("purge cancelled; nothing was changed")
