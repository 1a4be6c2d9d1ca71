"""How `brain` finds the command name before building only that command's parser."""

from __future__ import annotations

import argparse

from hypothesis import given
from hypothesis import strategies as st

from brain_tui.cli import common, parsing
from brain_tui.cli.main import COMMANDS


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


_TOKENS = st.sampled_from(
    [
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
)


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
