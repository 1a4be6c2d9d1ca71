"""The `brain` argument parsers: the top parser with every command listed, and only the module
of the command being run loaded (see brain_tui.cli.main)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from brain_tui.cli import common
from brain_tui.cli.main import COMMANDS, PROG, load, version

_found: dict[tuple[str, ...], str | None] = {}


def find_command(argv: Sequence[str]) -> str | None:
    """The command named in argv, or None (main and entry both ask: parsed once)."""
    key = tuple(argv)
    if key not in _found:
        _found[key] = _find_command(argv)
    return _found[key]


def _find_command(argv: Sequence[str]) -> str | None:
    """The first token that is neither an option nor a global option's value, if it names a
    command. A scan, not a parser: an argparse pre-parser for this cost ~1.5 ms of every
    command. It finds what argparse finds on every command line the real parser accepts (a
    test compares the two); on one it refuses, the real parser says why."""
    names = {n for n, _ in COMMANDS}
    tokens = iter(argv)
    for tok in tokens:
        if tok == "--":
            return None
        if tok.startswith("-"):
            if tok in common.GLOBAL_VALUE_OPTIONS:
                next(tokens, None)  # its value (`--store=PATH` is one token)
            continue
        return tok if tok in names else None
    return None


class _VersionAction(argparse.Action):
    """Like argparse's "version" action, but the version is looked up only when the flag is
    given, not while the parser is built."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        sys.stdout.write(f"{PROG} {version()}\n")
        parser.exit(0)


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="BRAIN: a local-first, append-only, verifiable memory ledger.",
        epilog="Run `brain COMMAND --help` for a command's options.",
        formatter_class=common.help_formatter,
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="print the installed version and exit"
    )
    common.add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_ in COMMANDS:
        if name == selected:
            load(name).add_parser(sub)
        elif selected is None:  # listed in --help and in "invalid choice" errors
            sub.add_parser(name, help=help_, add_help=False, formatter_class=common.help_formatter)
    return parser


def render_help(columns: int) -> str:
    """`brain --help` as argparse prints it on a terminal `columns` wide."""
    width = columns - 2  # what argparse.HelpFormatter does with the terminal's width
    parser = build_parser(None)
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=width)
    return parser.format_help()


def write_help_text() -> str:
    """Refresh help_text.py from the parsers (after a change to the command table or the
    global options); returns the file's path."""
    from pathlib import Path

    from brain_tui.cli import help_text

    columns = 80
    text = render_help(columns)
    assert '"""' not in text and "\\" not in text, "the help text needs escaping"
    path = Path(help_text.__file__)
    head = path.read_text().split("PYTHON = ")[0]
    v = sys.version_info
    path.write_text(
        f'{head}PYTHON = ({v.major}, {v.minor})\nCOLUMNS = {columns}\nTEXT = """\\\n{text}"""\n'
    )
    return str(path)


if __name__ == "__main__":
    print(write_help_text())
