"""`brain put PATH [FILE|-]`: write a memory; frontmatter in the body sets its metadata."""

from __future__ import annotations

import sys

from brain_tui.cli import common
from core.vocab import CLASSIFICATIONS, KINDS, SYNC_CLASSES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import argparse

    from core import door
    from core.write.planner import Result


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "put",
        "write a memory from a file or stdin",
        description="Write the memory at PATH (memories/<kind>/<slug>.md). The body comes from"
        " FILE, or from stdin when FILE is '-' or omitted. Frontmatter at the top of the body"
        " sets title, tags, category, sync class and classification; flags win over it."
        " Writing the same body and metadata again is a no-op that prints 'unchanged'.",
    )
    p.add_argument("path", metavar="PATH", help="memories/<kind>/<slug>.md")
    p.add_argument("file", metavar="FILE", nargs="?", help="body file, or '-' for stdin")
    p.add_argument("--kind", choices=KINDS, help="must match the kind in PATH (a check)")
    p.add_argument("--title")
    p.add_argument("--category")
    p.add_argument("--tag", dest="tags", action="append", metavar="TAG", help="a tag (repeatable)")
    p.add_argument("--sync-class", choices=SYNC_CLASSES)
    p.add_argument("--classification", choices=CLASSIFICATIONS)
    p.add_argument(
        "--if-commit",
        metavar="HEX",
        help="write only if the current commitment is HEX ('' = only if the memory is absent)",
    )
    return p


def read_body(file: str | None) -> bytes:
    if file is None or file == "-":
        import brain_tui.cli

        if brain_tui.cli.stdin_closed:
            raise common.UsageError("stdin is closed: give the body as FILE (or pipe it in)")
        if file is None and sys.stdin.isatty():
            raise common.UsageError("give the body as FILE, '-' or on stdin (nothing is piped in)")
        return _bounded(sys.stdin.buffer, "stdin")
    try:
        with open(file, "rb") as f:
            return _bounded(f, file)
    except OSError as e:
        raise common.UsageError(f"{file}: cannot read the body ({e.strerror})") from None


def _bounded(f, name: str) -> bytes:
    """The body, read no further than one byte past the put limit (`/dev/zero` would eat the
    machine's memory before the validation layer saw its size)."""
    from core.limits import MAX_BODY_BYTES

    body = f.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise common.UsageError(
            f"{name}: the body is larger than the put limit of {MAX_BODY_BYTES >> 20} MiB"
        )
    return body


def _kind_of(path: str) -> str:
    from core import paths

    return paths.kind_of(paths.validate(path))


def run(args: argparse.Namespace) -> int:
    from core import door
    from core.errors import BrainError

    path = args.path  # the engine validates it, with every other argument
    if args.kind is not None and args.kind != _kind_of(path):
        raise BrainError(
            f"{path}: --kind {args.kind} does not match the path's kind"
            f" {_kind_of(path)!r} (memories/<kind>/...)"
        )
    body = read_body(args.file)
    fields = {f: getattr(args, f) for f in door.FIELDS}  # the metadata flags (None: not given)
    actor = common.actor_of(args)
    res: Result | door.PutResult | None = None
    doc = b""  # the Result as JSON, encoded by the door's server
    # Not a put_if through the door: one whose server dies before replying could not be retried.
    if (
        args.if_commit is None
        and (reply := common.door_put(args, path, body, actor, fields)) is not None
    ):
        res, doc = door.result_of(reply), reply.result
    if res is None:
        with common.open_store(args) as store:
            res = store.put(path, body, actor=actor, expect=args.if_commit, **fields)
    if args.json:
        if doc:
            common.print_json_bytes(doc)
        else:
            common.print_json(res)
    else:
        status = "put" if res.changed else "unchanged"
        common.out(f"{status}  seq {res.seq}  {common.clean(res.path)}  commit {res.commit}")
        for note in res.notes:  # e.g. held for PII review
            common.out(f"note: {common.clean(note)}")
    return 0
