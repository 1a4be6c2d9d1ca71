"""The CLI reaches the engine's one validation layer: the same bad input gives one line
(issue 10 items 5, 7, 11)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import brain, ok, one_line_error

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
