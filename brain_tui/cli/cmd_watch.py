"""`brain watch PATH`: capture the text files of a folder into the store (opt-in, per folder)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from core.models import CLASSIFICATIONS, SYNC_CLASSES


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "watch",
        "capture a folder's text files as memories",
        description="Watch PATH: the capture loop (`brain capture-daemon`, or the workstation)"
        " captures its text files, now and whenever they change, under"
        " memories/facts/captured/<folder>/. Nothing is watched by default. Watching a folder"
        " again changes its defaults. .git/, build and dependency folders, binaries and files"
        " over 1 MiB are never captured.",
    )
    p.add_argument("path", metavar="PATH", help="the folder")
    p.add_argument(
        "--default-sync-class",
        choices=SYNC_CLASSES,
        help="sync class of its captures (default: private)",
    )
    p.add_argument(
        "--default-classification",
        choices=CLASSIFICATIONS,
        help="classification of its captures (default: the store's, internal)",
    )
    p.add_argument(
        "--ignore",
        nargs="+",
        metavar="GLOB",
        action="extend",
        help="also ignore files or folders matching GLOB (relative path or one name)",
    )
    p.add_argument("--rate", type=int, metavar="N", help="captures a second, sustained (100)")
    p.add_argument("--burst", type=int, metavar="N", help="captures at once before --rate (100)")
    return p


def run(args: argparse.Namespace) -> int:
    from core.capture import config

    with common.open_store(args, read_only=True) as store:
        common.refuse_read_only_media(store)
        w, added = config.watch(
            store.layout,
            args.path,
            sync_class=args.default_sync_class,
            classification=args.default_classification,
            ignore=args.ignore,
            rate_per_s=args.rate,
            burst=args.burst,
            rng=store.rng,
        )
    if args.json:
        common.print_json({"added": added, "folder": w})
        return 0
    verb = "watching" if added else "updated"
    common.out(
        f"{verb}  {common.clean(w.path)}  as {w.id}  sync class {w.sync_class}"
        f"  classification {w.classification or 'internal'}"
        + (f"  ignore {' '.join(common.clean(g) for g in w.ignore)}" if w.ignore else "")
    )
    return 0
