"""`brain capture TEXT|PATH`: capture once, through the same path as the watched folders."""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from core.models import CLASSIFICATIONS, SYNC_CLASSES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "capture",
        "capture a text or a file once",
        description="Capture TEXT, or the text file at PATH, as a memory under"
        " memories/facts/captured/ (a file in a watched folder gets that folder's memory and"
        " defaults). Sync class private unless given. Capturing the same content again is a"
        " no-op that prints 'unchanged'.",
    )
    p.add_argument("what", metavar="TEXT|PATH", help="a text, or a file's path")
    p.add_argument("--text", action="store_true", help="take the argument as text even if a file")
    p.add_argument("--sync-class", choices=SYNC_CLASSES)
    p.add_argument("--classification", choices=CLASSIFICATIONS)
    return p


def run(args: argparse.Namespace) -> int:
    from core.capture.once import capture_once

    with common.open_store(args) as store:
        common.refuse_read_only_media(store)
        res = capture_once(
            store,
            args.what,
            actor=common.actor_of(args),
            sync_class=args.sync_class,
            classification=args.classification,
            as_text=args.text,
        )
    if args.json:
        common.print_json(
            {"path": res.item.path, "seq": res.seq, "commit": res.commit, "changed": res.changed}
        )
    else:
        status = "captured" if res.changed else "unchanged"
        common.out(f"{status}  seq {res.seq}  {common.clean(res.item.path)}")
    return 0
