"""`brain pending`: memories held for PII review, and `brain pending resolve PATH ACTION`.

A put whose sync class is not `private` is scanned for PII and secrets; a memory with findings
is held (never shared or imported elsewhere) until a person resolves it here. Findings are
shown by number, type, place and span (offsets into the body, title or path); the matched
text only with `--show` (for a person reviewing them; lists stay safe to log without it). Releasing a memory as it is needs an
interactive terminal and a typed confirmation (PROTOCOL, threat model): an agent with a shell
cannot release what a person has not read.
"""

from __future__ import annotations

import argparse

from brain_tui.cli import common
from core.models import PURGE_REASONS

RELEASE_REASONS = ("false-positive", "consented", "public", "test-data", "other")  # core.pii_review


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "pending",
        "memories held for PII review, and resolving them",
        description="List memories held for PII review (`brain pending`), or resolve one:"
        " `brain pending resolve PATH --keep-private | --redact [N ...] | --release --reason R"
        " | --purge --reason R`. --keep-private makes it private; --redact masks the findings"
        " numbered N (default all but the path's) in a new version, scanned again; --release"
        " shares it as it is (an interactive terminal and a typed confirmation are required);"
        " --purge destroys it (brain delete --mode purge).",
    )
    p.add_argument("verb", nargs="?", choices=("resolve",), metavar="resolve")
    p.add_argument("path", nargs="?", metavar="PATH")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--keep-private", action="store_true", help="reclass it to private")
    how.add_argument(
        "--redact",
        nargs="*",
        type=int,
        metavar="N",
        help="mask these findings (numbers from the list; default all in the body and title)",
    )
    how.add_argument("--release", action="store_true", help="share it as it is (asks first)")
    how.add_argument("--purge", action="store_true", help="destroy it for good")
    p.add_argument(
        "--reason",
        help=f"release: one of {', '.join(RELEASE_REASONS)}; purge: one of"
        f" {', '.join(PURGE_REASONS)}",
    )
    p.add_argument("--ticket", metavar="ID", help="purge: a ticket or request id kept on the row")
    p.add_argument(
        "--seq",
        type=int,
        metavar="N",
        help="resolve: the version you reviewed (the seq `brain pending` lists); refused if the"
        " memory was written since",
    )
    p.add_argument(
        "--show",
        action="store_true",
        help="list: print what each finding matched (off by default, so the list can be logged)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    if args.verb is None:
        if args.path is not None or _action(args) is not None:
            raise common.UsageError("to resolve a memory: brain pending resolve PATH --ACTION")
        return _list(args)
    if args.path is None:
        raise common.UsageError("brain pending resolve PATH: name the memory to resolve")
    action = _action(args)
    if action is None:
        raise common.UsageError(
            "choose one: --keep-private, --redact [N ...], --release --reason R, --purge --reason R"
        )
    return _resolve(args, action)


def _action(args: argparse.Namespace) -> str | None:
    if args.keep_private:
        return "keep-private"
    if args.redact is not None:
        return "redact"
    if args.release:
        return "release"
    if args.purge:
        return "purge"
    return None


def _list(args: argparse.Namespace) -> int:
    from core.pii_review import location

    bodies: dict[str, str] = {}
    with common.open_store(args, read_only=True) as store:
        items = store.pii.pending()
        if args.show:
            for it in items:
                bodies[it.path] = store.view(it.path).body.decode("utf-8", "replace")
    if args.json:
        # The tags and extra a finding points into are their text: shown with --show only.
        hidden = () if args.show else ("tags", "extra")
        common.print_json([{k: v for k, v in vars(it).items() if k not in hidden} for it in items])
        return 0
    if not items:
        common.out("nothing is held for PII review")
        return 0
    common.out(f"{len(items)} held for PII review")
    for it in items:
        kinds = ", ".join(f"{n} {t}" for t, n in it.counts.items())
        common.out(f"{common.clean(it.path)}  {it.sync_class}  seq {it.seq}  {kinds}")
        for n, f in enumerate(it.findings, 1):
            common.out(
                f"  {n:>3}. {f['type']:<11} {common.clean(location(f)):<5} {f['start']}-{f['end']}"
                f"  {f['detail']} ({f['confidence'] / 10:.0f}%)"
            )
            if it.path in bodies:
                whole = bodies[it.path] if f["where"] == "body" else it.text_at(f)
                text = whole[f["start"] : f["end"]]
                common.out(f"       {common.clean(common.one_line(text))}")
    common.out("resolve: brain pending resolve PATH --keep-private | --redact [N ...] |")
    common.out("         --release --reason R | --purge --reason R")
    return 0


def _resolve(args: argparse.Namespace, action: str) -> int:
    from core import paths
    from core.errors import BrainError

    path = paths.validate(args.path)
    seen = args.seq
    if action == "release":
        if args.reason not in RELEASE_REASONS:
            raise BrainError(
                f"a release needs --reason, one of: {', '.join(RELEASE_REASONS)}"
                f" (got {args.reason!r})"
            )
        with common.open_store(args, read_only=True) as store:
            item = store.pii.get(path)
        if seen is None:
            seen = item.seq  # the release binds to the version the prompt names
        _confirm_release(path, item.seq, ", ".join(f"{n} {t}" for t, n in item.counts.items()))
    with common.open_store(args) as store:
        res = store.pii.resolve(
            path,
            action,
            actor=common.actor_of(args),
            reason=args.reason,
            spans=args.redact or None,
            ticket=args.ticket,
            seen=seen,
        )
    if args.json:
        common.print_json(res)
        return 0
    done = {
        "keep-private": "kept private",
        "redact": "redacted",
        "release": "released",
        "purge": "purged",
    }[action]
    where = f"  put seq {res.write_seq}" if res.write_seq and action != "purge" else ""
    common.out(f"{done}  seq {res.seq}{where}  {common.clean(res.path)}")
    for note in res.notes:
        common.out(f"note: {common.clean(note)}")
    return 0


def _confirm_release(path: str, seq: int, kinds: str) -> None:
    """PROTOCOL, threat model: releasing held PII needs a person at an interactive terminal."""
    common.confirm_typed(
        f"Releasing {path} (version seq {seq}: {kinds}) shares it as it is, with the PII and"
        " secrets `brain pending` lists, wherever its sync class allows.\n"
        f"Type the path or 'release' to confirm: ",
        (path, "release"),
        "releasing held PII needs an interactive terminal and a typed confirmation;"
        " run `brain pending resolve PATH --release --reason R` yourself in a terminal"
        " (or choose --keep-private, --redact or --purge)",
        "release cancelled; nothing was changed",
    )
