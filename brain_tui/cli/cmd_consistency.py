"""`brain consistency OLD NEW`: prove one signed checkpoint extends another."""

from __future__ import annotations

import argparse

from brain_tui.cli import common, outfile


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "consistency",
        "prove two checkpoints consistent",
        description="Build and verify a brain-consistency/v1 bundle showing that the log at"
        " checkpoint NEW extends the log at checkpoint OLD (append-only, nothing rewritten)."
        " OLD and NEW are checkpoint sizes or paths to .note files.",
    )
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--out", metavar="FILE", help="also write the bundle to FILE")
    return p


def _size(text: str) -> int:
    from pathlib import Path

    from core.errors import BrainError
    from core.verify import signed_note

    if text.isdigit():
        return int(text)
    try:
        return signed_note.parse_note(Path(text).read_text("utf-8"))[0].size
    except OSError as e:
        raise BrainError(
            f"{text}: not a checkpoint size or a readable note ({e.strerror})"
        ) from None


def run(args: argparse.Namespace) -> int:
    import msgspec

    from core.verify import proofbundle

    if args.out:
        outfile.check_out(args.out, "the bundle")
    with common.open_store(args, signing=True) as store:
        bundle = store.consistency(_size(args.old), _size(args.new))
    verdict = proofbundle.verify(bundle)
    if args.out:
        outfile.write_out(
            args.out, msgspec.json.encode(bundle, order="sorted") + b"\n", "the bundle"
        )
    if args.json:
        common.print_json({**bundle, "valid": verdict.valid, "reason": verdict.reason})
    else:
        common.out(f"{'consistent' if verdict.valid else 'INCONSISTENT'}: {verdict.reason}")
    return 0 if verdict.valid else 1
