"""msgspec and pathlib load without the modules they pull in for features brain never uses once
`core` is imported (core/lean_imports.py), and those modules still import, whole, for whoever
needs them afterwards."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_msgspec_after_core_does_not_load_typing_extensions() -> None:
    out = _run(
        "import sys, core, msgspec\n"
        "print('typing_extensions' in sys.modules)\n"
        "class M(msgspec.Struct):\n"
        "    a: int\n"
        "    b: list[str] = []\n"
        'print(msgspec.json.decode(b\'{"a": 1, "b": ["x"]}\', type=M))\n'
        "import typing_extensions\n"  # still importable for textual, torch
        "print(typing_extensions.__name__ in sys.modules)\n"
        "print(sys.modules['msgspec'].__loader__.__class__.__name__)\n"
    )
    assert out.splitlines() == ["False", "M(a=1, b=['x'])", "True", "_Loader"]


def test_a_process_that_loaded_typing_extensions_first_is_left_alone() -> None:
    out = _run(
        "import sys, typing_extensions, core, msgspec\n"
        "u = sys.modules['msgspec._utils']\n"
        "print(u._get_type_hints.__module__)\n"
        "print(any(type(f).__name__ == '_Finder' for f in sys.meta_path))\n"
    )
    assert out.splitlines() == ["typing_extensions", "True"]  # pathlib is still to come


HIDDEN = (
    "typing_extensions",
    "msgspec.inspect",
    "msgspec._json_schema",
    "textwrap",
    "platform",
    "urllib.parse",
    "ipaddress",
    "fnmatch",
    "ntpath",
)
# Not loaded by a one-shot command either: core.fsio calls syncfs through _ctypes, the queues
# are _queue's, the door names its socket without zlib, and open checks checkpoints without
# core.verifiable (signing).
CLI_HIDDEN = (*HIDDEN, "ctypes", "queue", "zlib", "core.verifiable")


def test_msgspec_and_pathlib_after_core_load_none_of_the_hidden_modules() -> None:
    out = _run(
        "import sys, core, msgspec, pathlib, uuid\n"
        f"print([m for m in {HIDDEN!r} if m in sys.modules])\n"
        "print(any(type(f).__name__ == '_Finder' for f in sys.meta_path))\n"  # done: gone
    )
    assert out.splitlines() == ["[]", "False"]


def test_what_was_hidden_works_when_used() -> None:
    """Each stand-in imports the real module at its first use; a later `import` is the real one."""
    out = _run(
        "import sys, core, msgspec, pathlib\n"
        "class M(msgspec.Struct):\n"
        "    a: int\n"
        "print(msgspec.json.schema(M)['$defs']['M']['required'])\n"  # via _json_schema
        "print(type(msgspec.inspect.type_info(M)).__name__)\n"  # msgspec.inspect's stand-in
        "import msgspec.inspect\n"
        "print(type(msgspec.inspect).__name__, msgspec.inspect.__name__)\n"
        "print(pathlib.Path('/a b').as_uri())\n"  # urllib.parse's quote_from_bytes
        "print(pathlib.PurePath('a/b.md').match('*.md'), pathlib.PureWindowsPath('C:/x').drive)\n"
        "import urllib.parse, platform, uuid\n"
        "print(urllib.parse.urlsplit('http://h:1/p').port, type(urllib.parse).__name__)\n"
        "print(platform.system() == platform.uname().system, type(platform).__name__)\n"
        "print(uuid.uuid4().version)\n"
    )
    assert out.splitlines() == [
        "['a']",
        "StructType",
        "module msgspec.inspect",
        "file:///a%20b",
        "True C:",
        "1 module",
        "True module",
        "4",
    ]


def test_a_module_loaded_before_core_is_not_hidden() -> None:
    out = _run(
        "import sys, platform, urllib.parse\n"
        "real = platform, urllib.parse\n"
        "import core, msgspec, pathlib, uuid\n"
        "print(sys.modules['platform'] is real[0], sys.modules['urllib.parse'] is real[1])\n"
        "print(uuid.platform is real[0])\n"
    )
    assert out.splitlines() == ["True True", "True"]


# A put reads nothing through the index's read side.
PUT_HIDDEN = ("core.index.queries", "core.store_state")


@pytest.mark.parametrize(
    ("cmd", "hidden"),
    [
        (["put", "memories/facts/a.md"], (*CLI_HIDDEN, *PUT_HIDDEN)),
        (["tail"], CLI_HIDDEN),
        (["search", "body"], CLI_HIDDEN),
    ],
)
def test_cli_commands_load_none_of_the_hidden_modules(tmp_path, cmd, hidden) -> None:
    """What the CLI's one-shot commands pay for at start-up (init, which makes keys, is not one
    of them: it runs in a process of its own)."""
    env = {"BRAIN_DOOR": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    store = ["--store", str(tmp_path / "s"), "--allow-temp-store"]
    code = (
        "import sys\n"
        "from brain_tui.cli.main import main\n"
        "assert main(sys.argv[1:]) == 0, sys.argv\n"
        f"print([m for m in {hidden!r} if m in sys.modules])\n"
    )
    for argv in (["init"], ["put", "memories/facts/b.md"], cmd):
        done = subprocess.run(
            [sys.executable, "-c", code, *store, *argv],
            input="a body\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
        assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_threads_that_first_use_a_stand_in_at_once_all_get_the_one_real_module() -> None:
    out = _run(
        "import sys, threading, core, msgspec, pathlib\n"
        "class M(msgspec.Struct):\n"
        "    a: int\n"
        "got, start = [], threading.Barrier(8)\n"
        "def use():\n"
        "    start.wait()\n"
        "    got.append((msgspec.inspect.type_info(M).__class__.__name__,\n"
        "                pathlib.Path('/x y').as_uri()))\n"
        "ts = [threading.Thread(target=use) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "print(len(got), set(got))\n"
        "import msgspec.inspect, urllib.parse\n"
        "print(type(sys.modules['msgspec.inspect']).__name__, type(urllib.parse).__name__)\n"
    )
    assert out.splitlines() == [
        "8 {('StructType', 'file:///x%20y')}",
        "module module",
    ]
