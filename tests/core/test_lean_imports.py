"""msgspec loads without typing_extensions once `core` is imported (~14 ms of every command
that decodes a frame), and typing_extensions still imports for whoever needs it afterwards."""

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
        "print(sys.modules['msgspec._utils'].__loader__.__class__.__name__)\n"
    )
    assert out.splitlines() == ["False", "M(a=1, b=['x'])", "True", "_Loader"]


def test_a_process_that_loaded_typing_extensions_first_is_left_alone() -> None:
    out = _run(
        "import sys, typing_extensions, core, msgspec\n"
        "u = sys.modules['msgspec._utils']\n"
        "print(u._get_type_hints.__module__)\n"
        "print(any(type(f).__name__ == '_Finder' for f in sys.meta_path))\n"
    )
    assert out.splitlines() == ["typing_extensions", "False"]  # no finder was installed


@pytest.mark.parametrize("cmd", [["put", "memories/facts/a.md"], ["tail"], ["search", "body"]])
def test_cli_commands_load_no_typing_extensions(tmp_path, cmd) -> None:
    """What the CLI's one-shot commands pay for at start-up."""
    code = (
        "import sys\n"
        f"sys.argv = ['brain', '--store', {str(tmp_path / 's')!r}, '--allow-temp-store', 'init']\n"
        "from brain_tui.cli.main import main\n"
        "assert main(sys.argv[1:]) == 0\n"
        f"assert main(['--store', {str(tmp_path / 's')!r}, '--allow-temp-store', *{cmd!r}]) == 0\n"
        "print('typing_extensions' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input="a body\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"BRAIN_DOOR": "0", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
