"""`brain view PATH`: the body exactly as stored, or its metadata. The read is journaled."""

from __future__ import annotations

import sys

from brain_tui.cli import common

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "view",
        "print a memory's body (or its metadata)",
        description="Print the body of PATH byte for byte. --meta prints the metadata"
        " (sidecar) instead; --json prints path, sidecar and body as one JSON document"
        " (without the body when --meta is given too). The read counts as an access by --actor.",
    )
    p.add_argument("path", metavar="PATH")
    p.add_argument("--meta", action="store_true", help="print the metadata, not the body")
    return p


def run(args: argparse.Namespace) -> int:
    if not (args.json or args.meta):  # the body alone: the fast path, without msgspec
        sys.stdout.buffer.write(common.view_body(args, args.path, common.actor_of(args)))
        sys.stdout.buffer.flush()
        return 0
    mem = common.view_memory(args, args.path, common.actor_of(args))
    if args.json:
        doc = {"path": mem.path, "sidecar": mem.sidecar}
        if not args.meta:
            doc["body"] = mem.body.decode("utf-8", "replace")
        common.print_json(doc)
    else:
        _print_meta(mem.path, mem.sidecar)
    return 0


def _print_meta(path: str, sidecar) -> None:
    import msgspec

    common.out(f"path: {common.clean(path)}")
    for key, value in msgspec.to_builtins(sidecar).items():
        if key.endswith("_ns") and isinstance(value, int) and value:
            value = f"{common.iso(value)} ({value})"
        elif key == "tags":
            value = ", ".join(value)
        elif isinstance(value, dict | list):
            value = msgspec.json.encode(value).decode()
        common.out(f"{key}: {common.clean(str(value))}")
