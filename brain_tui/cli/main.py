"""`brain`: the command-line entry point.

Start-up time matters (agents call `brain put` from hooks), so only the module of the command
being run is imported: the others are listed in `--help` from the table below without loading
them (the parsers are built in parsing.py). A command lives in `brain_tui/cli/cmd_<name>.py`
(dashes become underscores) and exposes `add_parser(subparsers)` and `run(args) -> int`; adding
one is a module plus one line here, then `python -m brain_tui.cli.parsing` to refresh the
precomputed `brain --help` (help_text.py; a test says when it is stale).
"""

from __future__ import annotations

import importlib
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of `--help`)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import ModuleType

# (name, one-line help) in the order `brain --help` lists them.
COMMANDS: list[tuple[str, str]] = [
    ("init", "create a store"),
    ("put", "write a memory from a file or stdin"),
    ("view", "print a memory's body (or its metadata)"),
    ("move", "move a memory to another path"),
    ("delete", "tombstone a memory, or purge it for good"),
    ("reclass", "change a memory's sync class (scanned for PII when widened)"),
    ("pending", "memories held for PII review, and resolving them"),
    ("state", "show the store's state"),
    ("tail", "print audit rows (and follow new ones)"),
    ("history", "audit rows of one memory, across moves"),
    ("search", "search memories"),
    ("similar", "memories similar in meaning to one memory"),
    ("embed", "compute missing embeddings for semantic search"),
    ("reindex", "rebuild the derived index from the files and the log"),
    ("doctor", "check the store's invariants (and repair)"),
    ("checkpoint", "sign a checkpoint of the log now"),
    ("prove", "print an inclusion proof for one audit row"),
    ("verify-proof", "verify a proof bundle offline"),
    ("consistency", "prove two checkpoints consistent"),
    ("rotate-key", "rotate the signing key (old and new sign during the overlap)"),
    ("tiers", "show memory tiers, or rebalance them"),
    ("pin", "pin a memory to the hot tier"),
    ("unpin", "unpin a memory"),
    ("project", "show or set the active project"),
    ("context", "memories to start an agent session with"),
    ("export", "write a deterministic, verifiable zip of the store"),
    ("import", "verify another store's export and import its shareable memories"),
    ("backup", "snapshot the store into a new folder and verify it"),
    ("consolidate", "seal the current log segment (zstd) and checkpoint"),
    ("demo", "build the demo store and open the workstation on it"),
    ("mcp", "serve the store to agents over MCP (stdio, or HTTP on loopback)"),
    ("hook", "agent and git hooks: capture sessions and commits, install the hooks"),
    ("watch", "capture a folder's text files as memories"),
    ("unwatch", "stop capturing a folder"),
    ("capture", "capture a text or a file once"),
    ("capture-daemon", "capture watched folders until stopped"),
    ("status", "watched folders, captures, pending PII, sync"),
    ("sync", "sync with the team hub now; status, join, leave"),
    ("sync-mode", "how often to sync: realtime, frequent, normal, infrequent, manual"),
    ("lesson", "record a lesson: what failed, why, the fix, how to prevent it"),
    ("propose", "file a proposal for a person to approve (gate, duplicates, budget)"),
    ("proposals", "list and decide proposals (approve/reject need a person at a terminal)"),
    ("maintain", "propose maintenance: merge duplicates, retire contradicted, demote stale"),
    ("suggest", "patterns from recurring lessons that worked (top 5 above 0.7)"),
    ("hub", "run a team hub: orgs, users, devices, and the server"),
]

PROG = "brain"


def module_name(command: str) -> str:
    return f"brain_tui.cli.cmd_{command.replace('-', '_')}"


def load(command: str) -> ModuleType:
    return importlib.import_module(module_name(command))


DIST = "brain-tui"


def version() -> str:
    """The installed distribution's version, read from its metadata only when asked (so
    `brain --help` and every command pay nothing for it)."""
    from importlib import metadata

    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def _std_streams() -> None:
    """Give a closed stdin, stdout or stderr (`<&-`, `>&-`) the null device. Unoccupied, fd 0,
    1 or 2 would be the next file the engine opens (a journal written through `print`), and
    Python's sys.stdin/stdout/stderr are None: every write or read would raise."""
    import brain_tui.cli

    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        got = os.open(os.devnull, os.O_RDONLY if mode == "r" else os.O_WRONLY)
        if got != fd:  # a lower one was closed too and took this; it is handled in turn
            os.dup2(got, fd)
            os.close(got)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))
        if fd == 0:
            brain_tui.cli.stdin_closed = True


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        _std_streams()
    if argv in _HELP and (text := static_help()) is not None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            return 141
        return 0
    from brain_tui.cli import common

    try:
        args = plain_line(argv)
        if args is None:
            from brain_tui.cli.parsing import build_parser, find_command

            parser = build_parser(find_command(argv))
            args = parser.parse_args(argv)
            if args.command is None:
                return _no_command(parser, common.globals_from(args))
        return int(load(args.command).run(common.globals_from(args)) or 0)
    except SystemExit as e:  # argparse: --help (0) and usage errors (2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except common.UsageError as e:
        return _fail(e, 2)
    except Exception as e:  # noqa: BLE001 - the one place that turns errors into one line
        from core.errors import BrainError

        if isinstance(e, BrainError):
            return _fail(e, 1)
        sqlite3 = sys.modules.get("sqlite3")
        if sqlite3 is not None and isinstance(e, sqlite3.DatabaseError) and "malformed" in str(e):
            # The engine's SQLite is the derived index: the log rebuilds it.
            return _fail(
                BrainError(
                    f"the index is damaged ({_first_line(e)}); `brain reindex` rebuilds it from"
                    " the log"
                ),
                1,
            )
        _debug_traceback()
        hint = "" if _debug() else " (set BRAIN_DEBUG=1 for the traceback)"
        common.err(f"{PROG}: error: {type(e).__name__}: {_first_line(e)}{hint}")
        return 1


_HELP = (["--help"], ["-h"])

# The global options plain_line knows, by the attribute argparse stores them in.
_PLAIN_VALUED = {"--store": "store", "--actor": "actor"}
# The commands plain_line reads: the attributes argparse sets when no option is given, and
# the positional words after the command (the first is required, the rest optional).
_PLAIN_COMMANDS: dict[str, tuple[dict[str, object], tuple[str, ...]]] = {
    "view": ({"meta": False}, ("path",)),
    "put": (
        dict.fromkeys(
            ("kind", "title", "category", "tags", "sync_class", "classification", "if_commit")
        ),
        ("path", "file"),
    ),
}


def plain_line(argv: Sequence[str]) -> argparse.Namespace | None:
    """`brain view PATH` and `brain put PATH [FILE]` (the commands agents and hooks run most)
    with no option but --store, --actor and --allow-temp-store, given whole: the namespace
    argparse would make, without argparse (argparse and gettext are a tenth of a one-shot put,
    with re a third of a view). None for anything else, even a line argparse would read the
    same way (an abbreviation, `--`, a value that starts with a dash): argparse decides those,
    and words every error. A test compares the two on generated command lines."""
    found: dict[str, object] = {"command": None}
    words: list[str] = []
    ended = False  # an option came after a positional word: argparse takes no more of them
    tokens = iter(argv)
    for tok in tokens:
        if tok.startswith("--"):
            ended = bool(words)
            name, eq, value = tok.partition("=")
            dest = _PLAIN_VALUED.get(name)
            if dest is not None:
                value = value if eq else next(tokens, "")
                if not value or value.startswith("-"):
                    return None
                found[dest] = value
            elif tok == "--allow-temp-store":
                found["allow_temp_store"] = True
            else:
                return None
        elif found["command"] is None:
            if tok not in _PLAIN_COMMANDS:
                return None
            found["command"] = tok
        elif ended or not tok or (tok.startswith("-") and tok != "-"):
            return None
        else:
            words.append(tok)
    if found["command"] is None:
        return None
    defaults, names = _PLAIN_COMMANDS[found["command"]]  # type: ignore[index]
    if not 1 <= len(words) <= len(names) or words[0] == "-":
        return None
    from types import SimpleNamespace

    given = dict(zip(names, words + [None] * (len(names) - len(words)), strict=True))
    return SimpleNamespace(**defaults, **given, **found)  # type: ignore[return-value]


def static_help() -> str | None:
    """`brain --help` from the text argparse made of the same parser (help_text.py, kept equal
    by a test): no argparse, no command table to build, ~12 ms less. None when argparse would
    print something else: another terminal width, another Python's argparse."""
    from brain_tui.cli import help_text

    if sys.version_info[:2] != help_text.PYTHON or terminal_columns() != help_text.COLUMNS:
        return None
    return help_text.TEXT


def terminal_columns() -> int:
    """The width argparse formats help for (shutil.get_terminal_size's columns, without
    importing shutil): $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


def _no_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """`brain` alone opens the workstation when it is installed, else prints help."""
    import importlib.util

    if importlib.util.find_spec(module_name("tui")) is not None:
        return int(load("tui").run(args) or 0)
    parser.print_help()
    return 0


def _fail(e: BaseException, code: int) -> int:
    from brain_tui.cli import common

    _debug_traceback()
    common.err(f"{PROG}: error: {_first_line(e)}")
    return code


def _first_line(e: BaseException) -> str:
    from brain_tui.cli import common

    text = " ".join(str(e).split()) or type(e).__name__
    return common.clean(text)


def _debug() -> bool:
    from brain_tui.cli import common

    return common.debug()


def _debug_traceback() -> None:
    if _debug():
        import traceback

        traceback.print_exc()


def _silence_stdout() -> None:
    # The reader went away (`brain tail | head`): stop Python's exit-time flush from failing.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


# Commands after which the process exits at once: a Store they opened leaves its SQLite
# connections to os._exit (see Store.close), so a one-shot put pays only the ledger's syncs.
_LONG_LIVED = {None, "tui", "demo"}


def entry() -> None:
    """The console script: main(), then a fast exit for one-shot commands."""
    import brain_tui.cli

    brain_tui.cli.lean_gc()
    argv = sys.argv[1:]
    code = main(argv)
    if argv not in _HELP and plain_line(argv) is None:
        from brain_tui.cli.parsing import find_command

        if find_command(argv) in _LONG_LIVED:
            sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 141
    os._exit(code)


if __name__ == "__main__":
    entry()
