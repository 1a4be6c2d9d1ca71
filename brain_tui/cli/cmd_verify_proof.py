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
        " verifier key. --key pins the verifier key you trust; without it the bundle is only checked"
        " against the key it carries, and the answer says the key is not pinned. Exit 0 when"
        " valid, 1 when not.",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument(
        "--key",
        action="append",
        metavar="VKEY",
        help="trusted verifier key, or a file holding one such as keys/*.vkey (repeatable)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    import msgspec

    from core import validate
    from core.errors import BrainError
    from core.verify import proofbundle

    keys = [_key(k) for k in args.key] if args.key else None
    raw = sys.stdin.buffer.read() if args.file == "-" else _read(args.file)
    try:
        validate.bundle_depth(raw)  # a bundle is two levels deep; decoders recurse per level
        bundle = msgspec.json.decode(raw)
    except (msgspec.DecodeError, BrainError) as e:
        verdict = proofbundle.Verdict(False, f"not a proof bundle: {e}")
    else:
        verdict = proofbundle.verify(bundle, keys)
    # Without --key the bundle vouches for itself: anyone can make a store, sign a bundle with
    # their own key and ship that key inside it. Say so instead of a bare "valid".
    pinned = bool(args.key)
    if args.json:
        common.print_json(
            {
                "valid": verdict.valid,
                "reason": verdict.reason,
                "signer": verdict.signer,
                "key_pinned": pinned,
            }
        )
    elif verdict.valid and not pinned:
        signer = verdict.signer or "the key inside the bundle"
        common.out(
            f"valid against the bundle's own key only (key not pinned): {verdict.reason}"
            f" (signed by {signer})"
        )
        common.err(
            "note: the signing key was not pinned, so this shows only that the bundle is"
            " self-consistent; pass --key VKEY (the store's keys/*.vkey you trust) to check it"
            " was signed by that store"
        )
    else:
        word = "valid" if verdict.valid else "invalid"
        signer = f" (signed by {verdict.signer})" if verdict.signer else ""
        common.out(f"{word}: {verdict.reason}{signer}")
    return 0 if verdict.valid else 1


def _key(value: str) -> str:
    """A verifier key as text, or a path to a file holding one (the store's keys/*.vkey)."""
    import os

    from core.errors import BrainError

    if not os.path.isfile(value):
        return value.strip()  # a key itself; one that is not trusted, the verdict says so
    try:
        with open(value, "rb") as f:
            data = f.read(4096)
    except OSError as e:
        raise BrainError(f"{value}: cannot read the verifier key ({e.strerror})") from None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BrainError(f"{value}: not a verifier key file (not UTF-8 text)") from None
    if not text or "\n" in text or "+" not in text:
        raise BrainError(f"{value}: not a verifier key file (want one line name+keyid+key)")
    return text


def _read(path: str) -> bytes:
    from core.errors import BrainError

    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise BrainError(f"{path}: cannot read the bundle ({e.strerror})") from None
