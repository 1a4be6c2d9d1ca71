"""How `brain` finds the command name before building only that command's parser."""

from __future__ import annotations

import argparse

from hypothesis import given, settings
from hypothesis import strategies as st

from brain_tui.cli import common, parsing
from brain_tui.cli.main import COMMANDS, plain_view


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


_VIEW_ATTRS = ("command", "path", "meta", "json", "store", "actor", "allow_temp_store")


def _argparse_view(argv: list[str]) -> dict | None:
    """The oracle for plain_view: what the real parser makes of argv (None if it refuses)."""
    parser = parsing.build_parser(parsing._find_command(argv))
    parser.error = lambda message: (_ for _ in ()).throw(_Refused(message))  # type: ignore[method-assign]
    try:
        ns = common.globals_from(parser.parse_args(argv))
    except (_Refused, SystemExit):
        return None
    return {k: getattr(ns, k, None) for k in _VIEW_ATTRS}


# The command line words above, and what a view line adds: a second path, an empty value,
# --meta, an empty word.
_VIEW_TOKENS = st.sampled_from([*_WORDS, "view", "memories/facts/b.md", "--store=", "--meta", ""])
# Any line, and lines built around `view PATH` from the global options (a plain view is rare
# among random lines; --json and a dangling --store make some of these not plain either).
_AROUND = st.lists(
    st.sampled_from(
        ["--store", "/s", "--store=/s", "--actor", "agent:x", "--allow-temp-store", "--json"]
    ),
    max_size=4,
)
_VIEW_LINES = st.one_of(
    st.lists(_VIEW_TOKENS, max_size=7),
    st.tuples(_AROUND, _AROUND).map(lambda ab: [*ab[0], "view", "memories/facts/a.md", *ab[1]]),
)


@settings(max_examples=400)  # ~1 line in 20 is a plain view
@given(_VIEW_LINES)
def test_plain_view_reads_what_argparse_reads(argv: list[str]) -> None:
    plain = plain_view(argv)
    if plain is not None:
        common.globals_from(plain)
        assert {k: getattr(plain, k) for k in _VIEW_ATTRS} == _argparse_view(argv)


def test_plain_view_takes_the_common_lines_and_leaves_the_rest() -> None:
    ns = plain_view(["--store", "/s", "view", "memories/facts/a.md", "--actor=agent:x"])
    assert ns is not None
    assert (ns.command, ns.path, ns.store, ns.actor) == (
        "view",
        "memories/facts/a.md",
        "/s",
        "agent:x",
    )
    for argv in (
        ["view", "memories/facts/a.md", "--json"],
        ["view", "--meta", "memories/facts/a.md"],
        ["view", "-h"],
        ["view"],
        ["put", "memories/facts/a.md"],
        ["--sto", "/s", "view", "memories/facts/a.md"],
        ["view", "--", "memories/facts/a.md"],
    ):
        assert plain_view(argv) is None, argv
