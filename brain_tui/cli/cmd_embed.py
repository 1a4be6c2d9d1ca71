"""`brain embed`: compute the embeddings semantic search still lacks, with progress."""

from __future__ import annotations

import argparse
import sys
import time

from brain_tui.cli import common
from brain_tui.cli.cmd_search import positive


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "embed",
        "compute missing embeddings for semantic search",
        description="Embed every active memory that has no vector from the current model"
        " (needs the optional extra brain-tui[semantic]). Progress goes to stderr; Ctrl-C"
        " stops after the current batch and keeps what was stored.",
    )
    p.add_argument(
        "--batch",
        type=positive,
        default=64,
        metavar="N",
        help="memories per step: read, embedded (the model takes 16 at a time), stored",
    )
    return p


def run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    progress = _Progress(sys.stderr.isatty())
    with common.open_store(args) as store:
        if progress.tty:  # a person is watching: say why the first seconds are quiet
            common.err("loading the embedding model ...")
        store.warm_semantic()
        try:
            n = store.embed_pending(batch=args.batch, progress=progress)
        finally:
            progress.done()
        left = store.semantic_pending()
    secs = time.monotonic() - started
    if args.json:
        common.print_json({"embedded": n, "pending": left, "seconds": round(secs, 3)})
    else:
        rate = f", {n / secs:.0f}/s" if n and secs > 0 else ""
        common.out(f"embedded {n} memories in {secs:.1f} s{rate}; {left} pending")
    return 0


class _Progress:
    """`done/total` on one rewritten line on a terminal, else a line every ~10%."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.last = -1
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            sys.stderr.write(f"\rembedding {done}/{total}")
            sys.stderr.flush()
            self.drawn = True
            return
        tenth = 10 * done // max(total, 1)
        if tenth > self.last:
            self.last = tenth
            common.err(f"embedding {done}/{total}")

    def done(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
