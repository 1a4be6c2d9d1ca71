"""`brain export OUT.zip`: a deterministic, verifiable zip of the store."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "export",
        "write a deterministic, verifiable zip of the store",
        description="Write the store's log, checkpoints, verifier keys, memories and versions to"
        " OUT.zip: sorted entries, fixed timestamps and modes, byte-identical on repeat. Never"
        " included: private keys, local/, index/, exports/, the lock, HEAD. Signs a checkpoint"
        " first when rows lie beyond the newest one. An OUT under the store's exports/ is listed"
        " in the manifest (a purge deletes it); one elsewhere is listed in local/exports.json"
        " (a purge names it).",
    )
    p.add_argument("out", metavar="OUT.zip", help="the zip file to write (replaced if present)")
    return p


def run(args: argparse.Namespace) -> int:
    with common.open_store(args, signing=True) as store:
        res = store.export(args.out)
    if args.json:
        common.print_json(res)
    else:
        common.out(
            f"exported {res.files} files ({res.bytes:,} bytes) to {common.clean(res.path)}"
            f"  head seq {res.head_seq}  checkpoint {res.checkpoint}  sha256 {res.sha256[:16]}"
        )
        for note in res.notes:
            common.out(f"note: {common.clean(note)}")
    return 0
