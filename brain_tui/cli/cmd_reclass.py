"""`brain reclass PATH CLASS`: change a memory's sync class (a put of the same body).

Widening it from `private` scans it for PII first: a memory with findings is held for review
(`brain pending`) and is not shared until resolved. Making a held memory private resolves it
(`brain pending resolve PATH --keep-private`).
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from core.models import SYNC_CLASSES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "reclass",
        "change a memory's sync class (scanned for PII when widened)",
        description="Write the memory at PATH again with sync class CLASS. A class other than"
        " private is scanned for PII and secrets; findings hold it for `brain pending`.",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("sync_class", metavar="CLASS", choices=SYNC_CLASSES)
    return p


def run(args: argparse.Namespace) -> int:
    actor = common.actor_of(args)
    with common.open_store(args) as store:
        mem = store.view(args.path)
        before = mem.sidecar.sync_class
        if mem.sidecar.state != "active":
            from core.errors import BrainError

            raise BrainError(f"{mem.path}: {mem.sidecar.state}; only a live memory is reclassed")
        if args.sync_class == "private" and mem.sidecar.pii_status == "held":
            res = store.pii.resolve(mem.path, "keep-private", actor=actor)
            seq, notes, changed = res.write_seq or res.seq, res.notes, True
        else:
            put = store.put(
                mem.path, mem.body, actor=actor, parse_frontmatter=False, sync_class=args.sync_class
            )
            seq, notes, changed = put.seq, put.notes, put.changed
    if args.json:
        common.print_json(
            {"path": mem.path, "from": before, "to": args.sync_class, "seq": seq, "notes": notes}
        )
        return 0
    status = "reclassed" if changed else "unchanged"
    common.out(f"{status}  seq {seq}  {common.clean(mem.path)}  {before} -> {args.sync_class}")
    for note in notes:
        common.out(f"note: {common.clean(note)}")
    return 0
