"""`brain consolidate`: seal current.binlog into a zstd segment and checkpoint."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "consolidate",
        "seal the current log segment (zstd) and checkpoint",
        description="Seal audit/current.binlog into audit/<first-seq>.binlog.zst (zstd level 3),"
        " start an empty current.binlog and sign a checkpoint. Reads, proofs and history work"
        " across segments as before. Crash-safe: an interrupted run is finished by the next"
        " writer.",
    )
    p.add_argument(
        "--min-rows",
        type=int,
        default=1,
        metavar="N",
        help="seal only when current.binlog holds at least N rows besides checkpoints (default 1)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args, signing=True) as store:
        res = store.consolidate(min_rows=args.min_rows)
    if args.json:
        common.print_json(res)
    elif res.sealed is None and res.rows == 0:
        common.out(
            "nothing sealed: nothing new to seal (current.binlog holds no rows besides"
            f" checkpoints), checkpoint {res.checkpoint or 'none'}"
        )
    elif res.sealed is None:
        common.out(f"nothing sealed: current.binlog holds {res.rows} new rows (< {args.min_rows})")
    else:
        common.out(
            f"sealed rows {res.first_seq}..{res.last_seq} into audit/{res.sealed}"
            f" ({res.bytes_in:,} -> {res.bytes_out:,} bytes), checkpoint {res.checkpoint}"
        )
        for note in res.notes:
            common.out(f"  note: {common.clean(note)}")
    return 0
