"""`brain prove --seq N`: a self-contained inclusion proof bundle (brain-proof/v1)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common, outfile


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "prove",
        "print an inclusion proof for one audit row",
        description="Print a brain-proof/v1 JSON bundle proving that row SEQ is in the signed"
        " log (docs/proof-bundles.md). A checkpoint is made first when none covers the row."
        " Anyone can check it with `brain verify-proof FILE`, without the store.",
    )
    p.add_argument("--seq", type=int, required=True, metavar="N")
    p.add_argument("--out", metavar="FILE", help="write the bundle to FILE instead of stdout")
    return p


def run(args: argparse.Namespace) -> int:
    import msgspec

    if args.out:
        outfile.check_out(args.out, "the proof bundle")
    with common.open_store(args, signing=True) as store:
        bundle = store.prove(args.seq)
    data = msgspec.json.encode(bundle, order="sorted") + b"\n"
    if args.out:
        outfile.write_out(args.out, data, "the proof bundle")
        common.err(
            f"wrote the proof of seq {args.seq} (tree size {bundle['tree_size']}) to {args.out}"
        )
    else:
        common.print_json(bundle)
    return 0
