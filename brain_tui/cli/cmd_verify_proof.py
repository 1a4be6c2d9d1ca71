"""`brain verify-proof FILE`: check a proof bundle with nothing but the bundle."""

from __future__ import annotations

import argparse
import sys

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "verify-proof",
        "verify a proof bundle offline",
        description="Verify a brain-proof/v1 or brain-consistency/v1 bundle (FILE, or - for"
        " stdin) using only the bundle: the leaf, the audit path, the signed checkpoint and its"
        " verifier key. --key pins the verifier key you trust. Exit 0 when valid, 1 when not.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--key", action="append", metavar="VKEY", help="trusted verifier key (repeatable)"
    )
    return p


def run(args: argparse.Namespace) -> int:
    import msgspec

    from core import proofbundle

    raw = sys.stdin.buffer.read() if args.file == "-" else _read(args.file)
    try:
        bundle = msgspec.json.decode(raw)
    except msgspec.DecodeError as e:
        verdict = proofbundle.Verdict(False, f"not JSON: {e}")
    else:
        verdict = proofbundle.verify(bundle, args.key)
    if args.json:
        common.print_json(
            {"valid": verdict.valid, "reason": verdict.reason, "signer": verdict.signer}
        )
    else:
        word = "valid" if verdict.valid else "invalid"
        signer = f" (signed by {verdict.signer})" if verdict.signer else ""
        common.out(f"{word}: {verdict.reason}{signer}")
    return 0 if verdict.valid else 1


def _read(path: str) -> bytes:
    from core.errors import BrainError

    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise BrainError(f"{path}: cannot read the bundle ({e.strerror})") from None
