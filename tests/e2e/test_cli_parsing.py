"""How `brain` finds the command name before building only that command's parser."""

from __future__ import annotations

import argparse

from hypothesis import given, settings
from hypothesis import strategies as st

from brain_tui.cli import common, parsing
from brain_tui.cli.main import COMMANDS, plain_line


class _Refused(Exception):
    pass


class _PreParser(argparse.ArgumentParser):
    def error(self, message: str):
        raise _Refused(message)


def _argparse_finds(argv: list[str]) -> tuple[bool, str | None]:
    """The oracle: what an argparse parser of the global options leaves for the command name
    (the way find_command worked before it became a scan). (False, None) if it refuses."""
    p = _PreParser(prog="brain", add_help=False, allow_abbrev=False)
    common.add_global_options(p)
    try:
        _ns, rest = p.parse_known_args(argv)
    except _Refused:
        return False, None
    names = {n for n, _ in COMMANDS}
    for tok in rest:
        if tok == "--":
            return True, None
        if not tok.startswith("-"):
            return True, tok if tok in names else None
    return True, None


def test_the_value_options_are_the_global_options_that_take_a_value() -> None:
    p = argparse.ArgumentParser(add_help=False)
    common.add_global_options(p)
    valued = {o for a in p._actions if a.nargs != 0 for o in a.option_strings}
    assert valued == set(common.GLOBAL_VALUE_OPTIONS)


_WORDS = [
    "--store",
    "--store=/s",
    "--actor",
    "--actor=agent:x",
    "--json",
    "--allow-temp-store",
    "--sto",
    "-h",
    "--help",
    "--",
    "-",
    "-5",
    "/s",
    "agent:x",
    "put",
    "view",
    "search",
    "tail",
    "nope",
    "memories/facts/a.md",
]
_TOKENS = st.sampled_from(_WORDS)


@given(st.lists(_TOKENS, max_size=7))
def test_the_scan_finds_what_argparse_finds(argv: list[str]) -> None:
    accepted, found = _argparse_finds(argv)
    if accepted:
        assert parsing._find_command(argv) == found


def test_common_command_lines() -> None:
    find = parsing._find_command
    assert find(["--store", "/s", "view", "memories/facts/a.md"]) == "view"
    assert find(["--store=/s", "--json", "put", "x"]) == "put"
    assert find(["--actor", "put", "search", "q"]) == "search"  # `put` is --actor's value
    assert find(["--", "put"]) is None
    assert find(["nope", "put"]) is None
    assert find([]) is None


def _argparse_line(argv: list[str]) -> dict | None:
    """The oracle for plain_line: every attribute the real parser sets for argv, with the
    global defaults filled in (None if it refuses)."""
    parser = parsing.build_parser(parsing._find_command(argv))
    parser.error = lambda message: (_ for _ in ()).throw(_Refused(message))  # type: ignore[method-assign]
    try:
        ns = common.globals_from(parser.parse_args(argv))
    except (_Refused, SystemExit):
        return None
    return vars(ns)


# The command line words above, and what a plain line adds: a second path, a body file, an
# empty value, an option of each command, an empty word.
_LINE_TOKENS = st.sampled_from(
    [*_WORDS, "memories/facts/b.md", "body.txt", "--store=", "--meta", "--title=T", ""]
)
# Any line, and lines built around `view PATH` and `put PATH [FILE]` from the global options
# (a plain line is rare among random ones; --json and a dangling --store make some of these
# not plain either).
_AROUND = st.lists(
    st.sampled_from(
        ["--store", "/s", "--store=/s", "--actor", "agent:x", "--allow-temp-store", "--json"]
    ),
    max_size=4,
)
_COMMAND = st.sampled_from(
    [
        ["view", "memories/facts/a.md"],
        ["put", "memories/facts/a.md"],
        ["put", "memories/facts/a.md", "-"],
        ["put", "memories/facts/a.md", "body.txt"],
        ["put", "-", "body.txt"],
    ]
)
_LINES = st.one_of(
    st.lists(_LINE_TOKENS, max_size=7),
    st.tuples(_AROUND, _COMMAND, _AROUND).map(lambda t: [*t[0], *t[1], *t[2]]),
)


@settings(max_examples=500)  # ~1 line in 10 is plain
@given(_LINES)
def test_plain_line_reads_what_argparse_reads(argv: list[str]) -> None:
    plain = plain_line(argv)
    if plain is not None:
        assert vars(common.globals_from(plain)) == _argparse_line(argv)


def test_plain_line_takes_the_common_lines_and_leaves_the_rest() -> None:
    ns = plain_line(["--store", "/s", "view", "memories/facts/a.md", "--actor=agent:x"])
    assert ns is not None
    assert (ns.command, ns.path, ns.store, ns.actor) == (
        "view",
        "memories/facts/a.md",
        "/s",
        "agent:x",
    )
    ns = plain_line(["put", "memories/facts/a.md", "--allow-temp-store"])
    assert ns is not None
    assert (ns.command, ns.path, ns.file, ns.tags, ns.if_commit) == (
        "put",
        "memories/facts/a.md",
        None,
        None,
        None,
    )
    ns = plain_line(["put", "memories/facts/a.md", "-"])
    assert ns is not None and ns.file == "-"
    for argv in (
        ["view", "memories/facts/a.md", "--json"],
        ["view", "--meta", "memories/facts/a.md"],
        ["view", "-h"],
        ["view"],
        ["view", "memories/facts/a.md", "memories/facts/b.md"],
        ["put", "memories/facts/a.md", "--tag", "x"],
        ["put", "memories/facts/a.md", "--if-commit="],
        ["put", "memories/facts/a.md", "a.txt", "b.txt"],
        ["put", "-", "a.txt"],
        ["put", "memories/facts/a.md", "--store=/s", "a.txt"],  # argparse refuses this one
        ["put"],
        ["search", "memories/facts/a.md"],
        ["--sto", "/s", "view", "memories/facts/a.md"],
        ["view", "--", "memories/facts/a.md"],
    ):
        assert plain_line(argv) is None, argv
