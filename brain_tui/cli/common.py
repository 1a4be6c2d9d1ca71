"""What every `brain` command shares: global options, opening the store, printing.

Kept light on purpose: importing this module pulls in a few stdlib modules only; argparse and
the engine (`core.store`, SQLite, msgspec) are imported by the functions that need them, when
they run (a plain `brain view` or `brain put` builds no parser: brain_tui.cli.main.plain_line).
"""

from __future__ import annotations

import os
import re
import sys

import brain_tui.cli
from core.errors import BrainError

# typing.TYPE_CHECKING without importing typing: a one-shot `brain view` needs nothing else of
# it (~2 ms). Annotations are strings (the __future__ import), so names used only in them
# (Any, Iterable, the engine's types) are imported for the type checker alone.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable
    from typing import Any

    from core import door
    from core.models import Memory, Row
    from core.store import Store
    from core.write.planner import Result

ACTOR_ENV = "BRAIN_ACTOR"
ALLOW_TEMP_ENV = "BRAIN_ALLOW_TEMP_STORE"
DEBUG_ENV = "BRAIN_DEBUG"


class UsageError(BrainError):
    """The command line itself is wrong (exit code 2, like argparse's own errors)."""


# -- global options -------------------------------------------------------------------------


# The global options that take a value: parsing.find_command skips their values when it looks
# for the command name (a test keeps this equal to the options add_global_options adds).
GLOBAL_VALUE_OPTIONS = ("--store", "--actor")


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """--store, --allow-temp-store, --actor, --json.

    They are added to the top parser and to every subcommand so they work before or after the
    command name. Defaults are SUPPRESS so a subcommand never overwrites a value given before
    it; `globals_from` fills the real defaults in afterwards.
    """
    import argparse

    g = parser.add_argument_group("global options")
    g.add_argument(
        "--store",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="store root (default: $CYBEROS_BRAIN_HOME, else ~/.cyberos-memory)",
    )
    g.add_argument(
        "--allow-temp-store",
        action="store_true",
        default=argparse.SUPPRESS,
        help=f"allow a store under a temporary folder (or set {ALLOW_TEMP_ENV}=1)",
    )
    g.add_argument(
        "--actor",
        default=argparse.SUPPRESS,
        help=f"who is acting (default: ${ACTOR_ENV}, else human:<user>@<host>)",
    )
    g.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON instead of text",
    )


def help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's own formatter at the width argparse would pick (the terminal's), found
    without shutil: argparse makes a formatter in every add_argument, and its default one
    imports shutil, which loads bz2 and lzma (~2 ms of every command)."""
    import argparse

    from brain_tui.cli.main import terminal_columns

    return argparse.HelpFormatter(prog, width=terminal_columns() - 2)


def global_parent() -> argparse.ArgumentParser:
    import argparse

    p = argparse.ArgumentParser(add_help=False, formatter_class=help_formatter)
    add_global_options(p)
    return p


def command_parser(subparsers: Any, name: str, help: str, **kw: Any) -> argparse.ArgumentParser:
    """A subcommand parser that also accepts the global options after the command name.

    conflict_handler="resolve" lets a command reuse a global option's name for its own
    meaning (`tail --actor A` filters by actor; writers' --actor still works before `tail`).
    """
    return subparsers.add_parser(
        name,
        help=help,
        description=kw.pop("description", help),
        parents=[global_parent()],
        conflict_handler="resolve",
        formatter_class=help_formatter,
        **kw,
    )


def globals_from(args: argparse.Namespace) -> argparse.Namespace:
    """Fill in the global options' defaults (they were SUPPRESSed while parsing)."""
    for name, default in (("store", None), ("allow_temp_store", False), ("json", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if os.environ.get(ALLOW_TEMP_ENV) == "1":
        args.allow_temp_store = True
    if not hasattr(args, "actor"):
        args.actor = None
    return args


def debug() -> bool:
    """BRAIN_DEBUG is set: tracebacks, and which process wrote a put."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def actor_of(args: argparse.Namespace) -> str:
    given = getattr(args, "actor", None)
    if given is not None and not given.strip():
        raise UsageError("--actor is empty: name who acts (human:NAME@HOST, agent:NAME)")
    return given or os.environ.get(ACTOR_ENV) or default_actor()


def refuse_word(
    command: str, verb: str, word: str | None, metavar: str, takes: tuple[str, ...]
) -> None:
    """`brain COMMAND [VERB] [WORD]`: argparse fills the optional WORD after any verb, so a
    verb that takes none (`brain project show NAME`) would ignore it. Refuse it, naming it."""
    if word is not None and verb not in takes:
        which = ", ".join(f"`{t}`" for t in takes)
        raise UsageError(
            f"unrecognized arguments: {one_line(word)} (`brain {command} {verb}` takes no"
            f" {metavar}; only {which} {'takes' if len(takes) == 1 else 'take'} one)"
        )


def confirm_typed(prompt: str, accepted: tuple[str, ...], refusal: str, cancelled: str) -> None:
    """PROTOCOL, threat model: an action reserved for people needs an interactive terminal and
    a typed confirmation (one of `accepted`); otherwise BrainError(refusal or cancelled)."""
    from core.errors import BrainError

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BrainError(refusal)
    sys.stdout.write(prompt)
    sys.stdout.flush()
    try:
        answer = sys.stdin.readline().strip()
    except EOFError:
        answer = ""
    if answer not in accepted:
        raise BrainError(cancelled)


def default_actor() -> str:
    try:
        user = _user()
    except Exception:  # noqa: BLE001 - no $USER and no passwd entry (some containers)
        user = f"uid{os.getuid()}"
    host = _hostname().split(".")[0] or "localhost"
    # The actor grammar (core.validate) allows no spaces or odd characters: a user name
    # holding one still makes a valid default.
    user, host = (re.sub(r"[^\w.+=#~-]", "-", x)[:48] or "x" for x in (user, host))
    return f"human:{user}@{host}"


def _user() -> str:
    """getpass.getuser() without importing getpass and termios (~1 ms of every put)."""
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if user := os.environ.get(var):
            return user
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _hostname() -> str:
    """socket.gethostname() without importing socket (~2 ms of a one-shot command)."""
    try:
        return os.uname().nodename
    except AttributeError:  # no os.uname (Windows)
        import socket

        return socket.gethostname()


# -- the store --------------------------------------------------------------------------------


def open_store(
    args: argparse.Namespace, *, signing: bool = False, read_only: bool = False
) -> Store:
    """Open the resolved store. signing=True asks for the key's passphrase when it is sealed,
    BRAIN_PASSPHRASE is unset and a person is at the terminal. read_only=True (view, search,
    tail, history) locks, writes and verifies no signature; it falls back to a writable open
    when the index is missing or a crashed writer's journal waits to be replayed."""
    from core.store import Store, resolve_root

    passphrase = None
    if signing:
        passphrase = _passphrase_if_needed(args)
    if read_only and _needs_writer(resolve_root(args.store)):
        read_only = False
    store = Store.open(
        args.store, allow_temp=args.allow_temp_store, passphrase=passphrase, read_only=read_only
    )
    if read_only and store.index_problem and not store.media_read_only:
        store.close()  # a damaged index: the writable open rebuilds it
        store = Store.open(args.store, allow_temp=args.allow_temp_store, passphrase=passphrase)
    store.exit_without_checkpoint = True  # the CLI exits right after (main.entry)
    brain_tui.cli.settle_gc()  # start-up ends here: the command's own work collects as usual
    return store


def refuse_read_only_media(store: Store) -> None:
    """Capturing writes memories and local/capture/ (watched folders, the loop's lock and
    state): on read-only media it would end in a raw OSError, so say why up front."""
    if store.media_read_only:
        raise BrainError(
            f"the store at {clean(str(store.root))} is on read-only media: nothing can be"
            " captured there, and its watched folders cannot change; remount it writable (or"
            " use a store on writable media), then retry"
        )


def door_put(
    args: argparse.Namespace,
    path: str,
    body: bytes,
    actor: str,
    fields: dict[str, Any],
    wait_s: float | None = None,
) -> door.Reply | None:
    """The reply of a process that has the store open for writing and wrote the put (or
    failed it: core/door.py), or None when none answered: then this process writes it.
    wait_s: how long the door may take (default: door.REPLY_TIMEOUT_S)."""
    from core import door
    from core.layout import root_path
    from core.paths import check_root_allowed

    root = root_path(args.store)
    check_root_allowed(root, args.allow_temp_store)
    wait = door.REPLY_TIMEOUT_S if wait_s is None else wait_s
    reply = door.put(root, path, body, actor, fields, wait_s=wait)
    if reply is not None and debug():
        err(f"brain: written by pid {reply.pid} ({reply.program}) through its door")
    return reply


def put(
    args: argparse.Namespace,
    path: str,
    body: str | bytes,
    *,
    actor: str,
    wait_s: float | None = None,
    **fields: Any,
) -> Result | door.PutResult:
    """Store.put through the store's door when a live writer has one open (the hooks' writes),
    else written by this process. wait_s: as door_put's."""
    from core import door

    data = body.encode("utf-8") if isinstance(body, str) else body
    reply = door_put(args, path, data, actor, fields, wait_s)
    if reply is not None:
        return door.result_of(reply)
    with open_store(args) as store:
        return store.put(path, data, actor=actor, **fields)


def view_memory(args: argparse.Namespace, path: str, actor: str | None) -> Memory:
    """`brain view --meta/--json`'s read: the memory with its decoded sidecar. A view reads
    only the memory's files (core.view), so when nothing must run before a read (see
    _direct_root) it reads them without opening the Store: no SQLite, no log scan."""
    import time
    from pathlib import Path

    from core import view
    from core.layout import Layout

    root = _direct_root(args)
    if root is not None:
        return view.view(Layout(Path(root)), path, actor=actor, clock=time.time_ns)
    with open_store(args, read_only=True) as store:
        return store.view(path, actor=actor)


def view_body(args: argparse.Namespace, path: str, actor: str | None) -> bytes:
    """`brain view`'s read: the body alone, read directly as in view_memory and, with no
    sidecar to print, without importing msgspec or pathlib (core.view_body)."""
    import time

    from core import view_body

    root = _direct_root(args)
    if root is not None:
        return view_body.body(root, path, actor=actor, clock=time.time_ns)
    with open_store(args, read_only=True) as store:
        return store.view(path, actor=actor).body


def _direct_root(args: argparse.Namespace) -> str | None:
    """The store's root (a plain string) when a view may read its files directly, else None:
    anything unusual (no store, a manifest that is not plainly well-formed, a journal to
    replay) takes the full read-only open, which reports it or repairs it first."""
    from core import shapes
    from core.layout import root_path
    from core.paths import check_root_allowed

    root = root_path(args.store)
    check_root_allowed(root, args.allow_temp_store)
    try:
        with open(f"{root}/manifest.json", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    if not shapes.plain_manifest(raw) or _needs_writer(root):
        return None
    return root


def _needs_writer(root: str | os.PathLike[str]) -> bool:
    """A read-only open would show less than a writable one: the index is missing, or a
    journal holds committed rows nobody has applied yet. (Plain path strings: no pathlib.)"""
    root = os.fspath(root)
    try:
        if not os.path.exists(f"{root}/index/brain.sqlite"):
            return True
        if os.stat(f"{root}/audit/journal.wal").st_size == 0:
            return False
    except FileNotFoundError:
        return False
    from core.write.lock import is_locked

    return not is_locked(f"{root}/.lock")  # a live writer's journal is its own business


def _passphrase_if_needed(args: argparse.Namespace) -> str | None:
    from core.layout import resolve_root
    from core.verify import keys

    if keys.passphrase_from_env() or not sys.stdin.isatty():
        return None
    if not keys.needs_passphrase(resolve_root(args.store) / "keys"):
        return None
    import getpass

    return getpass.getpass("passphrase for the store's signing key: ") or None


# -- output -------------------------------------------------------------------------------------


def print_json(obj: Any) -> None:
    """One JSON document (msgspec Structs, dataclasses and dicts alike) and a newline."""
    import msgspec

    print_json_bytes(msgspec.json.encode(obj))


def print_json_bytes(doc: bytes) -> None:
    """A JSON document encoded already (by another process, as print_json does) and a newline."""
    with _output():
        out = sys.stdout.buffer
        out.write(doc + b"\n")
        out.flush()


def print_json_lines(items: Iterable[Any]) -> None:
    import msgspec

    enc = msgspec.json.Encoder()
    with _output():
        out = sys.stdout.buffer
        for item in items:
            out.write(enc.encode(item) + b"\n")
        out.flush()


def out(line: str = "") -> None:
    with _output():
        sys.stdout.write(line + "\n")


class _output:
    """A failed write of the output (a full disk behind `>`, an I/O error) is said as such:
    the command's work is done by then (a put is committed), so a bare "No space left on
    device" would read as the put failing. A reader that went away stays BrokenPipeError."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, e: BaseException | None, _tb: object) -> None:
        if isinstance(e, OSError) and not isinstance(e, BrokenPipeError):
            raise BrainError(
                f"cannot write the output ({e.strerror or e}); the command itself ran to the"
                " end (`brain tail` shows what it wrote)"
            ) from None


def err(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """Text safe for a terminal: control characters (ESC, C1, ...) shown escaped."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


# In one field of a one-line record nothing may start a new line or reorder the text: tabs,
# newlines, Unicode line separators and bidi controls are escaped too (an actor holding a
# newline once printed fake rows in `brain tail`).
# A pattern string, compiled at its first use and then kept by re's cache: a class holding
# characters above U+00FF takes ~0.5-2 ms to compile, which commands that print no record
# (`brain view`, `brain put`) would pay at import.
_UNSAFE_FIELD = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def field(text: str) -> str:
    """One field of a one-line record, every control character shown escaped."""
    return re.sub(_UNSAFE_FIELD, lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(text: str) -> str:
    return clean(" ".join(text.split()))


def iso(ts_ns: int) -> str:
    """UTC ISO-8601 with seconds: 2026-01-31T09:15:02Z."""
    import datetime as _dt  # here: most commands print no time (~1.5 ms of their start-up)

    t = _dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=_dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_row(row: Row) -> str:
    """seq, time, op, actor, path, short chain: one audit row on one line."""
    return (
        f"{row.seq:>6}  {iso(row.ts_ns)}  {field(row.op):<16} {field(row.actor)}"
        f"  {field(row.path) or '-'}  {field(row.chain[:12])}"
    )


def print_rows(args: argparse.Namespace, rows: list[Row]) -> None:
    """Audit rows as text lines, or as JSON lines (one row per line) with --json."""
    if args.json:
        print_json_lines(rows)
        return
    for r in rows:
        out(format_row(r))
    sys.stdout.flush()
