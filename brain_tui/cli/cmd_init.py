"""`brain init`: create a store at the resolved root."""

from __future__ import annotations

import argparse

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    return common.command_parser(
        subparsers,
        "init",
        "create a store",
        description="Create an empty store at --store (else $CYBEROS_BRAIN_HOME, else"
        " ~/.cyberos-memory). The folder must be absent or empty.",
    )


def run(args: argparse.Namespace) -> int:
    from core.store import Store

    with Store.init(args.store, allow_temp=args.allow_temp_store) as store:
        root, manifest = str(store.root), store.manifest
    if args.json:
        common.print_json(
            {"root": root, "store_id": manifest.store_id, "protocol": manifest.protocol}
        )
    else:
        common.out(f"initialised store at {common.clean(root)}")
        common.out(f"store id: {manifest.store_id}")
    return 0
