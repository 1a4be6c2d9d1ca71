"""`brain hub`: run a team hub (docs/sync.md): `init`, `add-org`, `add-user`, `revoke`, `list`,
`serve`. The hub's code (core.sync.hub) and Starlette are imported only when a verb runs, so
`brain --help` stays fast."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import brain_tui.cli
from brain_tui.cli import common

HUB_ENV = "BRAIN_HUB_HOME"
MAX_TTL_DAYS = 3650  # ten years: a token that outlives that is a token nobody will revoke
ROLES = ("admin", "member", "guest")  # core.sync.classes.ROLES, without importing it here


def _hub_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--hub",
        metavar="DIR",
        help=f"the hub folder (key, settings, embedded data; default ${HUB_ENV}, else ~/.brain-hub)",
    )
    p.add_argument(
        "--db",
        metavar="URL",
        help="postgresql://… to keep the hub's data in PostgreSQL (default: as at init)",
    )


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "hub",
        "run a team hub: orgs, users, devices, and the server",
        description="A team hub relays verified memories between an org's devices (docs/sync.md)."
        " `brain hub init` creates the hub folder and its key; `add-org`, `add-user` (prints the"
        " device's token), `revoke` and `list` manage who may sync; `serve` runs the server"
        " (loopback unless --bind says otherwise).",
    )
    sub = p.add_subparsers(dest="hub_command", metavar="VERB", required=True)
    v = common.command_parser(sub, "init", "create a hub folder and its signing key")
    _hub_options(v)
    v = common.command_parser(sub, "add-org", "add an organisation")
    _hub_options(v)
    v.add_argument("org")
    v.add_argument(
        "--org-only-roles",
        default="admin,member",
        metavar="ROLES",
        help="comma-separated roles that may read org-only memories (default admin,member)",
    )
    v = common.command_parser(sub, "add-user", "add a user and a device; print its token")
    _hub_options(v)
    v.add_argument("org")
    v.add_argument("user")
    v.add_argument("--role", choices=ROLES, default="member", help="default member")
    v.add_argument("--device", required=True, help="the device's name (one store per device)")
    v.add_argument("--token-file", metavar="F", help="write the token to F (mode 0600) instead")
    v.add_argument(
        "--ttl-days",
        type=int,
        metavar="N",
        help=f"the token expires after N days (1 to {MAX_TTL_DAYS})",
    )
    v = common.command_parser(sub, "revoke", "revoke a user (all devices) or one device")
    _hub_options(v)
    v.add_argument("org")
    who = v.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--device")
    v = common.command_parser(sub, "list", "orgs, users, devices and their stores")
    _hub_options(v)
    v = common.command_parser(sub, "serve", "run the hub server")
    _hub_options(v)
    v.add_argument("--bind", default="127.0.0.1:8765", help="HOST:PORT (default 127.0.0.1:8765)")
    v.add_argument("--cert", metavar="PEM", help="TLS certificate (with --key)")
    v.add_argument("--key", metavar="PEM", help="TLS private key (with --cert)")
    v.add_argument("--rate", type=int, default=100, help="requests a minute per user (default 100)")
    v.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    v.add_argument(
        "--max-request-mb", type=int, default=32, help="largest request body in MiB (default 32)"
    )
    return p


def _folder(args: argparse.Namespace) -> Path:
    raw = args.hub or os.environ.get(HUB_ENV) or str(Path.home() / ".brain-hub")
    return Path(raw).expanduser()


def run(args: argparse.Namespace) -> int:
    from core.sync.hub import admin

    folder = _folder(args)
    verb = args.hub_command
    if verb == "init":
        key = admin.init(folder, args.db)
        if args.json:
            common.print_json({"hub": str(folder), "id": key.id, "db": args.db})
        else:
            common.out(f"initialised hub {key.id} at {common.clean(str(folder))}")
            common.out("next: brain hub add-org ORG, then brain hub add-user ORG USER --device D")
        return 0
    if verb == "serve":
        return _serve(args, folder)
    if verb == "add-user" and args.ttl_days is not None and not 1 <= args.ttl_days <= MAX_TTL_DAYS:
        raise common.UsageError(
            f"--ttl-days {args.ttl_days}: a token lives 1 to {MAX_TTL_DAYS} days"
        )
    storage = admin.open_storage(folder, args.db)
    try:
        return _manage(args, folder, storage)
    finally:
        storage.close()


def _manage(args: argparse.Namespace, folder: Path, storage) -> int:
    from core.sync.hub import admin
    from core.sync.hub.auth import HubKey

    verb = args.hub_command
    if verb == "add-org":
        roles = tuple(r.strip() for r in args.org_only_roles.split(",") if r.strip())
        org = admin.add_org(storage, args.org, roles)
        common.out(
            f"org {org.name}: org-only readable by {', '.join(org.org_only_roles) or 'nobody'}"
        )
        return 0
    if verb == "add-user":
        ttl = None if args.ttl_days is None else args.ttl_days * 86400
        token = admin.add_user(
            storage,
            HubKey.load(folder),
            args.org,
            args.user,
            role=args.role,
            device=args.device,
            ttl_s=ttl,
        )
        if args.token_file:
            admin.write_token(Path(args.token_file), token)
            common.out(
                f"{args.user}@{args.device} ({args.role}) in {args.org}: token written to"
                f" {common.clean(args.token_file)}"
            )
        else:
            common.out(token)
        return 0
    if verb == "revoke":
        n = admin.revoke(storage, args.org, user=args.user, device=args.device)
        what = f"user {args.user}" if args.user else f"device {args.device}"
        common.out(f"revoked {what} of {args.org} ({n} newly revoked)")
        return 0
    rows = admin.listing(storage)
    if args.json:
        common.print_json(rows)
        return 0
    if not rows:
        common.out("no orgs yet: brain hub add-org ORG")
    for org in rows:
        common.out(f"{org.org}  org-only: {','.join(org.org_only_roles)}  items: {org.head}")
        for u in org.users:
            mark = " (revoked)" if u["revoked"] else ""
            common.out(f"  {u['user']}  {u['role']}{mark}")
            for d in u["devices"]:
                dmark = " (revoked)" if d["revoked"] else ""
                common.out(f"    {d['device']}{dmark}  store {d['store'] or '-'}")
    return 0


def _serve(args: argparse.Namespace, folder: Path) -> int:
    from core.sync.hub.serve import Settings, serve

    if args.rate < 1 or args.workers < 1 or args.max_request_mb < 1:
        raise common.UsageError("--rate, --workers and --max-request-mb must be at least 1")
    settings = Settings(
        hub=str(folder),
        db=args.db,
        rate=args.rate,
        max_request_bytes=args.max_request_mb << 20,
    )
    scheme = "https" if args.cert else "http"
    brain_tui.cli.settle_gc()  # a long-lived server from here on

    def ready() -> None:
        where = f"{scheme}://{common.clean(args.bind)}"
        common.err(f"brain hub: serving {common.clean(str(folder))} on {where}")

    serve(
        settings,
        bind=args.bind,
        cert=args.cert,
        key=args.key,
        workers=args.workers,
        on_ready=ready,
    )
    return 0
