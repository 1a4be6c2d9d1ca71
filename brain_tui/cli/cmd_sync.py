"""`brain sync [status|join URL|leave|resolve PATH] [--push-only|--pull-only]`: this store and
its team hub (docs/sync.md). Without a verb: one pass now (push what is queued, then pull and
import)."""

from __future__ import annotations

import argparse

from brain_tui.cli import common

VERBS = ("run", "status", "join", "leave", "resolve")


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "sync",
        "sync with the team hub now; status, join, leave",
        description="`brain sync` runs one pass: new local rows are queued, what may leave"
        " (personal, shareable, team-public, org-only; never private, never held for PII,"
        " never imported) is pushed, then the hub's new items are pulled, verified and"
        " written. `status` shows the hub, the queues, the last passes and conflicts;"
        " `join URL --token-file F` records the hub (checked with whoami) in local/sync.json;"
        " `leave` forgets it; `resolve PATH --origin O --take mine|theirs` settles a conflict"
        " (the copy under conflicts/O/ goes; theirs writes it to PATH). The exit code is 1 when"
        " a half of the pass failed (it is retried by the orchestrator; `status` says when).",
    )
    p.add_argument("verb", nargs="?", default="run", choices=VERBS, metavar="VERB")
    p.add_argument("url", nargs="?", metavar="URL|PATH", help="join: the hub's URL; resolve: PATH")
    p.add_argument("--token-file", metavar="F", help="join: a file holding the device's token")
    p.add_argument(
        "--ca-file", metavar="CA", help="join: the CA (PEM) of a hub with a private certificate"
    )
    p.add_argument(
        "--mode",
        metavar="MODE",
        help="join: realtime, frequent, normal (default), infrequent or manual",
    )
    p.add_argument("--origin", metavar="O", help="resolve: the store id the copy came from")
    p.add_argument("--take", choices=("mine", "theirs"), help="resolve: which version stays")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--push-only", action="store_true", help="push, do not pull")
    only.add_argument("--pull-only", action="store_true", help="pull, do not push")
    return p


def run(args: argparse.Namespace) -> int:
    common.refuse_word("sync", args.verb, args.url, "URL|PATH", ("join", "resolve"))
    if args.verb == "resolve":
        return _resolve(args)
    if args.verb != "join" and (args.url or args.token_file or args.mode or args.ca_file):
        raise common.UsageError("URL, --token-file, --mode and --ca-file go with `brain sync join`")
    if args.origin or args.take:
        raise common.UsageError("--origin and --take go with `brain sync resolve PATH`")
    if args.verb != "run" and (args.push_only or args.pull_only):
        raise common.UsageError("--push-only and --pull-only go with `brain sync` alone")
    if args.verb == "status":
        return _status(args)
    if args.verb == "join":
        return _join(args)
    if args.verb == "leave":
        with common.open_store(args) as store:
            left = store.sync.leave()
        common.out("left the hub (local/sync.json removed)" if left else "not joined to a hub")
        return 0
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    with common.open_store(args, signing=True) as store:
        rep = store.sync.run(
            push=not args.pull_only, pull=not args.push_only, actor=common.actor_of(args)
        )
    if args.json:
        common.print_json(rep)
        return 0 if rep.ok else 1
    if not args.pull_only:
        common.out(
            f"pushed: {rep.pushed} accepted, {rep.duplicates} duplicate,"
            f" {len(rep.refused)} refused, {_n(rep.purges_sent, 'purge notice')}"
        )
        for path, why in rep.refused:
            common.out(f"  refused  {common.clean(path)}: {common.clean(why)}")
    if not args.push_only:
        common.out(
            f"pulled: {_n(rep.pulled, 'item')}, {rep.imported} imported,"
            f" {_n(len(rep.conflicts), 'conflict')}, {rep.skipped} skipped,"
            f" {rep.purged} purged here"
        )
        for copy in rep.conflicts:
            common.out(f"  conflict  {common.clean(copy)}")
        for why in rep.refused_rotations:
            common.out(f"  refused key rotation  {common.clean(why)}")
    for e in rep.errors:
        common.err(f"brain: {common.clean(e)}")
    return 0 if rep.ok else 1


def _n(count: int, one: str) -> str:
    return f"{count} {one}{'' if count == 1 else 's'}"


def _read_token(path: str) -> str:
    """The device token from --token-file; BrainError naming the file and what is wrong."""
    from core.errors import BrainError

    where = f"--token-file {common.clean(path)}"
    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024 + 1)
    except IsADirectoryError:
        raise BrainError(f"{where}: is a folder, not a token file") from None
    except OSError as e:
        raise BrainError(f"{where}: cannot read it ({(e.strerror or str(e)).lower()})") from None
    if len(data) > 64 * 1024:
        raise BrainError(f"{where}: too large for a token file (over 64 KiB)")
    try:
        token = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise BrainError(f"{where}: not a token (not UTF-8 text)") from None
    if not token:
        raise BrainError(f"{where}: the file is empty; it should hold the device's token")
    return token


def _join(args: argparse.Namespace) -> int:
    if not args.url or not args.token_file:
        raise common.UsageError("usage: brain sync join URL --token-file F")
    token = _read_token(args.token_file)
    with common.open_store(args) as store:
        cfg = store.sync.join(args.url, token, mode=args.mode, ca_file=args.ca_file)
    if args.json:
        common.print_json({k: v for k, v in _fields(cfg).items() if k != "token"})
        return 0
    common.out(
        f"joined {common.clean(cfg.hub)}: org {common.clean(cfg.org)}, user"
        f" {common.clean(cfg.user)} ({common.clean(cfg.role)}), device"
        f" {common.clean(cfg.device)}, mode {cfg.mode}"
    )
    return 0


def _resolve(args: argparse.Namespace) -> int:
    if not args.url or not args.origin or not args.take:
        raise common.UsageError("usage: brain sync resolve PATH --origin O --take mine|theirs")
    with common.open_store(args) as store:
        seq = store.sync.resolve_conflict(
            args.url, args.origin, args.take, actor=common.actor_of(args)
        )
    if args.json:
        common.print_json({"path": args.url, "take": args.take, "seq": seq})
        return 0
    kept = f"took theirs (seq {seq})" if seq else "kept mine"
    common.out(f"resolved {common.clean(args.url)}: {kept}; the conflict copy is deleted")
    return 0


def _fields(obj) -> dict:
    import msgspec

    return msgspec.structs.asdict(obj)


def _status(args: argparse.Namespace) -> int:
    with common.open_store(args, read_only=True) as store:
        st = store.sync.status()
    if args.json:
        common.print_json(st)
        return 0
    if not st.joined:
        common.out("not joined to a hub: brain sync join URL --token-file F")
        return 0
    common.out(f"hub     {common.clean(st.hub)}  org {common.clean(st.org)}")
    common.out(
        f"as      {common.clean(st.user)} ({common.clean(st.role)}),"
        f" device {common.clean(st.device)}, store {st.store}"
    )
    every = f"every {st.interval_s} s" if st.interval_s else "only when asked"
    alive = "running" if st.orchestrator_alive else "not running"
    common.out(f"mode    {st.mode} ({every}); orchestrator {alive}")
    common.out("outbox  " + ", ".join(f"{n} {s}" for s, n in st.outbox.items()))
    common.out("inbox   " + ", ".join(f"{n} {s}" for s, n in st.inbox.items()))
    common.out(f"push    {_when(st.last_push_ns)}  {common.clean(st.last_push_outcome) or '-'}")
    common.out(f"pull    {_when(st.last_pull_ns)}  {common.clean(st.last_pull_outcome) or '-'}")
    if st.last_error:
        retry = f"; next try {_when(st.next_retry_ns)}" if st.next_retry_ns else ""
        common.out(f"error   {common.clean(st.last_error)}{retry}")
    if st.refused:
        common.out(f"{len(st.refused)} refused by the hub (not sent again):")
        for r in st.refused:
            common.out(f"  {common.clean(r.path)}  seq {r.seq}: {common.clean(r.reason)}")
    if st.conflicts:
        n = len(st.conflicts)
        common.out(f"{n} conflict{'s' if n != 1 else ''} (the incoming version is kept aside):")
        for c in st.conflicts:
            common.out(f"  {common.clean(c.path)}  ←  {common.clean(c.copy)}")
    return 0


def _when(ns: int) -> str:
    return common.iso(ns) if ns else "never"
