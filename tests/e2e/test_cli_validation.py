"""The CLI reaches the engine's one validation layer: the same bad input gives one line
(issue 10 items 5, 7, 11)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_cli import _env, brain, ok, one_line_error

P = "memories/facts/a.md"


def _store(tmp_path: Path) -> str:
    s = str(tmp_path / "s")
    ok("--store", s, "init")
    ok("--store", s, "put", P, "-", input=b"the ledger\n")
    return s


def test_reason_without_purge_refuses_and_keeps_the_memory(tmp_path: Path) -> None:
    s = _store(tmp_path)
    p = brain("--store", s, "delete", P, "--reason", "legal-erasure")
    assert "--mode purge" in one_line_error(p)
    assert ok("--store", s, "view", P).stdout == b"the ledger\n"


def test_actor_newline_cannot_forge_tail_rows(tmp_path: Path) -> None:
    s = _store(tmp_path)
    forged = "agent:x\n     99  2026-01-01T00:00:00Z  put  human:root  memories/facts/z.md"
    p = brain("--store", s, "--actor", forged, "put", "memories/facts/b.md", "-", input=b"x\n")
    assert "not an actor" in one_line_error(p)
    lines = ok("--store", s, "tail").stdout.decode().splitlines()
    assert len(lines) == 1 and "z.md" not in lines[0]


def test_non_hex_if_commit_is_refused_without_a_row(tmp_path: Path) -> None:
    s = _store(tmp_path)
    p = brain("--store", s, "put", P, "-", "--if-commit", "SSN 123-45-6789", input=b"y\n")
    msg = one_line_error(p)
    assert "64 lowercase hex" in msg and "123" not in msg
    assert b"put_if.rejected" not in ok("--store", s, "tail").stdout


def test_huge_tail_ranges_are_one_line(tmp_path: Path) -> None:
    s = _store(tmp_path)
    for flag in ("--from", "--limit"):
        p = brain("--store", s, "tail", flag, "9" * 30)
        assert "out of range" in one_line_error(p)


def test_store_path_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    assert "is a file, not a folder" in one_line_error(brain("--store", str(f), "state"))


def test_purge_names_exports_outside_the_store(tmp_path: Path) -> None:
    s = _store(tmp_path)
    out = tmp_path / "outside.zip"
    ok("--store", s, "export", str(out))
    p = ok("--store", s, "delete", P, "--mode", "purge", "--reason", "user-request", "--yes")
    assert str(out) in p.stdout.decode() and "outside the store" in p.stdout.decode()
    ok("--store", s, "put", "memories/facts/b.md", "-", input=b"b\n")
    ok("--store", s, "export", str(out))
    p = ok(
        "--store",
        s,
        "--json",
        "delete",
        "memories/facts/b.md",
        "--mode",
        "purge",
        "--reason",
        "other",
        "--yes",
    )
    notes = json.loads(p.stdout)["notes"]
    assert any(str(out) in n for n in notes)


def test_text_output_escapes_odd_characters_in_old_rows() -> None:
    """A row written before the actor grammar still prints on one line."""
    from brain_tui.cli.common import format_row
    from core.models import Row

    row = Row(
        7, 0, "put", "memories/facts/a.md", "agent:x\n  8  fake\u2028row", "", "0", "ab" * 32, {}
    )
    line = format_row(row)
    assert "\n" not in line and "\u2028" not in line and "\\u000a" in line


def test_deep_config_falls_back_to_defaults(tmp_path: Path) -> None:
    from brain_tui.config import load_config

    cfg = tmp_path / "config.toml"
    cfg.write_text("theme = " + "[" * 5000 + "]" * 5000 + "\n")
    got = load_config(cfg)
    assert got.theme is None and any("nested" in p or "TOML" in p for p in got.problems)


def test_deep_proof_bundle_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "deep.json"
    f.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    p = brain("verify-proof", str(f))
    assert p.returncode == 1 and b"nested deeper" in p.stdout and b"Recursion" not in p.stderr


def test_the_default_actor_is_the_login_user_at_this_host(monkeypatch) -> None:
    import os
    import pwd

    from brain_tui.cli import common

    host = os.uname().nodename.split(".")[0]
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.delenv(var, raising=False)
    assert common.default_actor() == f"human:{pwd.getpwuid(os.getuid()).pw_name}@{host}"
    monkeypatch.setenv("USER", "ana maria")  # no spaces in an actor: made valid
    assert common.default_actor() == f"human:ana-maria@{host}"
    monkeypatch.setenv("LOGNAME", "bo")  # LOGNAME first, as getpass.getuser()
    assert common.default_actor() == f"human:bo@{host}"


# -- extra words, read-only media, repeated operations, an index that is a file -------------


def test_extra_words_are_a_usage_error_naming_them(tmp_path: Path) -> None:
    s = _store(tmp_path)
    for cmd in ("state", "doctor", "checkpoint", "consolidate", "rotate-key", "reindex"):
        p = brain("--store", s, cmd, "zzextra")
        assert p.returncode == 2 and b"unrecognized arguments: zzextra" in p.stderr, (cmd, p)
    ok("--store", s, "project", "use", "atlas")
    # A verb that takes no word ignored one: `project clear x` cleared the project.
    for line in (
        ["project", "clear", "zzextra"],
        ["project", "show", "zzextra"],
        ["proposals", "list", "zzextra"],
        ["sync", "status", "zzextra"],
        ["sync", "leave", "zzextra"],
    ):
        msg = one_line_error(brain("--store", s, *line), 2)
        assert "unrecognized arguments: zzextra" in msg and f"`brain {line[0]} {line[1]}`" in msg
    assert ok("--store", s, "project").stdout == b"active project: atlas\n"
    assert len(ok("--store", s, "tail").stdout.splitlines()) == 1


# `brain` with the store's file system reporting itself read-only (statvfs's ST_RDONLY, as a
# read-only mount does; tests/tui/test_read_only_media.py): its files stay writable, so only
# the CLI's own check keeps a capture from starting.
_READ_ONLY_MEDIA = """
import os, sys
from pathlib import Path
root, real = Path(sys.argv.pop(1)).resolve(), os.statvfs
def statvfs(path):
    st = real(path)
    if Path(os.fsdecode(path)).resolve().is_relative_to(root):
        fields = list(st)
        fields[8] |= os.ST_RDONLY
        return os.statvfs_result(fields)
    return st
os.statvfs = statvfs
from brain_tui.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _on_read_only_media(store: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", _READ_ONLY_MEDIA, store, "--store", store, *args],
        input=b"",
        capture_output=True,
        env=_env(BRAIN_DOOR="0"),
        timeout=60,
    )


def test_capture_on_read_only_media_says_so(tmp_path: Path) -> None:
    s = _store(tmp_path)
    watched, other = tmp_path / "notes", tmp_path / "more"
    for d in (watched, other):
        d.mkdir()
        (d / "a.txt").write_text("a note\n")
    ok("--store", s, "watch", str(watched))
    config = Path(s, "local", "capture", "watched.json")
    before = config.read_bytes()
    for line in (
        ["watch", str(other)],
        ["unwatch", str(watched)],
        ["capture", "a text"],
        ["capture", str(watched / "a.txt")],
        ["capture-daemon"],
    ):
        msg = one_line_error(_on_read_only_media(s, *line))
        assert "is on read-only media: nothing can be captured there" in msg, (line, msg)
        assert "OSError" not in msg
    assert config.read_bytes() == before
    assert len(ok("--store", s, "tail").stdout.splitlines()) == 1
    assert b"READY" in _on_read_only_media(s, "state").stdout


def test_rotate_key_twice_refuses_the_second_start(tmp_path: Path) -> None:
    s = _store(tmp_path)
    new = json.loads(ok("--store", s, "--json", "rotate-key").stdout)["new"]
    msg = one_line_error(brain("--store", s, "rotate-key"))
    assert "already in progress" in msg and new in msg and "rotate-key --finish" in msg
    assert ok("--store", s, "doctor").returncode == 0  # READY
    fin = json.loads(ok("--store", s, "--json", "rotate-key", "--finish").stdout)
    assert fin["active"] == new and len(fin["retired"]) == 1
    assert "no rotation in progress" in one_line_error(
        brain("--store", s, "rotate-key", "--finish")
    )
    ok("--store", s, "rotate-key")  # the next rotation starts
    ok("--store", s, "doctor")


def test_consolidate_twice_seals_nothing_the_second_time(tmp_path: Path) -> None:
    s = _store(tmp_path)
    assert b"sealed rows 1..1" in ok("--store", s, "consolidate").stdout
    head = json.loads(ok("--store", s, "--json", "state").stdout)["head_seq"]
    for _ in range(2):
        out = ok("--store", s, "consolidate").stdout.decode()
        assert out.startswith("nothing sealed: nothing new to seal"), out
    assert len(list(Path(s, "audit").glob("*.binlog.zst"))) == 1
    assert json.loads(ok("--store", s, "--json", "state").stdout)["head_seq"] == head
    ok("--store", s, "doctor")  # READY
    ok("--store", s, "put", "memories/facts/b.md", "-", input=b"b\n")
    assert b"sealed rows 2..3" in ok("--store", s, "consolidate").stdout


def test_an_index_that_is_a_file_says_what_to_move(tmp_path: Path) -> None:
    s = _store(tmp_path)
    index = Path(s, "index")
    shutil.rmtree(index)
    index.write_bytes(b"")
    for line in (
        ["put", "memories/facts/b.md", "-"],
        ["reindex"],
        ["doctor", "--repair"],
    ):
        msg = one_line_error(brain("--store", s, *line, input=b"b\n"))
        assert f"{index} is a file, not the index folder" in msg and "Move" in msg, msg
        assert "disk space" not in msg
    p = brain("--store", s, "doctor")
    assert p.returncode == 3 and b"is a file, not the index folder" in p.stdout
    assert b"run `brain doctor --repair`" not in p.stdout and b"disk space" not in p.stdout
    assert b"`--repair` rebuilds it" not in p.stdout  # the derived.* rows say to move it too
    state = brain("--store", s, "state")
    assert b"is a file, not the index folder" in state.stdout + state.stderr
    assert b"open the store for writing once" not in state.stdout + state.stderr
    index.rename(tmp_path / "index-moved")
    ok("--store", s, "doctor")  # READY: the index is rebuilt on open
    assert ok("--store", s, "view", P).stdout == b"the ledger\n"
