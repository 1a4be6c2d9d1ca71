"""Issue 14 from the command line: `brain reclass`, `brain pending`, `brain pending resolve`.

Releasing held PII needs an interactive terminal and a typed confirmation: refused with pipes,
accepted through a pseudo-terminal where the path (or 'release') is typed."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BODY = "# Contractor\n\nmail jane.roe@example.org, key AKIAIOSFODNN7EXAMPLQ\n"
P = "memories/people/contractor.md"


def _env(tmp: Path) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),
        XDG_STATE_HOME=str(tmp / "xdg"),
        BRAIN_ALLOW_TEMP_STORE="1",
        CYBEROS_BRAIN_HOME=str(tmp / "store"),
        BRAIN_ACTOR="human:ana@laptop",
    )


def _argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "brain_tui.cli.main", *args]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = _env(tmp_path)
    subprocess.run(_argv("init"), env=e, check=True, capture_output=True, timeout=120)
    return e


def brain(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        _argv(*args), env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_reclass_holds_and_pending_lists_without_the_text(env) -> None:
    put = brain(env, "put", P, stdin=BODY)  # private: not scanned
    assert put.returncode == 0 and "held" not in put.stdout
    assert "nothing is held" in brain(env, "pending").stdout
    wide = brain(env, "reclass", P, "shareable")
    assert wide.returncode == 0, wide.stderr
    assert "private -> shareable" in wide.stdout and "held for PII review" in wide.stdout
    listed = brain(env, "pending")
    assert listed.returncode == 0 and P in listed.stdout
    assert "email" in listed.stdout and "aws_access_key_id" in listed.stdout
    assert "jane.roe" not in listed.stdout and "AKIA" not in listed.stdout
    shown = brain(env, "pending", "--show").stdout
    assert "jane.roe@example.org" in shown and "AKIAIOSFODNN7EXAMPLQ" in shown
    [item] = json.loads(brain(env, "pending", "--json").stdout)
    assert item["path"] == P and item["counts"] == {"email": 1, "secret": 1}
    tail = brain(env, "tail", "--json").stdout
    assert "pii.held" in tail and "jane.roe" not in tail


def test_put_says_held_and_keep_private_resolves(env) -> None:
    put = brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    assert "held for PII review" in put.stdout
    usage = brain(env, "pending", "resolve", P)
    assert usage.returncode == 2 and "--keep-private" in usage.stderr
    done = brain(env, "pending", "resolve", P, "--keep-private")
    assert done.returncode == 0 and "kept private" in done.stdout, done.stderr
    assert json.loads(brain(env, "pending", "--json").stdout) == []
    view = json.loads(brain(env, "view", P, "--json").stdout)
    assert "private" in json.dumps(view)


def test_redact_numbers_and_purge(env) -> None:
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    some = brain(env, "pending", "resolve", P, "--redact", "1")
    assert some.returncode == 0 and "still held" in some.stdout, some.stderr
    assert "[REDACTED:email]" in brain(env, "view", P).stdout
    gone = brain(env, "pending", "resolve", P, "--purge", "--reason", "pii-leak")
    assert gone.returncode == 0 and "purged" in gone.stdout, gone.stderr
    assert brain(env, "view", P).returncode != 0
    ops = [json.loads(line)["op"] for line in brain(env, "tail", "--json").stdout.splitlines()]
    assert ops.count("pii.resolved") == 2


def test_frontmatter_tags_and_keys_are_held_listed_and_redacted(env) -> None:
    body = "---\ntags: [call-555-867-5309, ops]\nowner: jane.roe@example.org\n---\nplain\n"
    put = brain(env, "put", P, "--sync-class", "shareable", stdin=body)
    assert "held for PII review (1 email, 1 phone)" in put.stdout, put.stdout
    listed = brain(env, "pending").stdout
    assert "tags/0" in listed and "extra/owner" in listed and "jane.roe" not in listed
    assert "jane.roe" not in brain(env, "pending", "--json").stdout
    shown = brain(env, "pending", "--show").stdout
    assert "555-867-5309" in shown and "jane.roe@example.org" in shown
    done = brain(env, "pending", "resolve", P, "--redact")
    assert done.returncode == 0 and "still held" not in done.stdout, done.stderr
    view = json.loads(brain(env, "view", P, "--json").stdout)
    assert view["sidecar"]["tags"] == ["ops"]
    assert view["sidecar"]["extra"] == {"owner": "[REDACTED:email]"}


def test_release_is_refused_without_a_terminal(env) -> None:
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    no_reason = brain(env, "pending", "resolve", P, "--release")
    assert no_reason.returncode == 1 and "--reason" in no_reason.stderr
    piped = brain(env, "pending", "resolve", P, "--release", "--reason", "consented", stdin=P)
    assert piped.returncode == 1 and "interactive terminal" in piped.stderr
    assert P in brain(env, "pending").stdout  # still held


def _in_pty(env: dict[str, str], args: list[str], answer: str) -> tuple[int, str]:
    master, slave = os.openpty()
    proc = subprocess.Popen(_argv(*args), env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    answered = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not answered and b"to confirm:" in out:
                os.write(master, answer.encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        rc = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return rc, out.decode("utf-8", "replace")


@pytest.mark.parametrize("typed", [P, "release"])
def test_release_through_a_terminal_with_the_typed_confirmation(env, typed: str) -> None:
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    args = ["pending", "resolve", P, "--release", "--reason", "consented"]
    seq = json.loads(brain(env, "pending", "--json").stdout)[0]["seq"]
    rc, out = _in_pty(env, args, typed)
    assert rc == 0 and "released" in out, out
    assert f"version seq {seq}:" in out, out  # the prompt names the version it releases
    assert json.loads(brain(env, "pending", "--json").stdout) == []
    rows = [json.loads(line) for line in brain(env, "tail", "--json").stdout.splitlines()]
    resolved = [r for r in rows if r["op"] == "pii.resolved"]
    assert resolved[0]["extra"]["action"] == "release"
    assert resolved[0]["extra"]["reason"] == "consented"


def test_release_with_a_wrong_answer_changes_nothing(env) -> None:
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    rc, out = _in_pty(env, ["pending", "resolve", P, "--release", "--reason", "other"], "yes")
    assert rc == 1 and "cancelled" in out, out
    assert P in brain(env, "pending").stdout


def test_reclass_refuses_a_tombstone_and_reclassing_a_held_memory_private_resolves_it(env) -> None:
    brain(env, "put", "memories/facts/t.md", stdin="# gone\n")
    brain(env, "delete", "memories/facts/t.md")
    dead = brain(env, "reclass", "memories/facts/t.md", "shareable")
    assert dead.returncode == 1 and "tombstoned" in dead.stderr
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    same = brain(env, "reclass", P, "shareable")
    assert same.returncode == 0 and same.stdout.startswith("unchanged")
    back = brain(env, "reclass", P, "private", "--json")
    assert back.returncode == 0 and json.loads(back.stdout)["to"] == "private"
    ops = [json.loads(line)["op"] for line in brain(env, "tail", "--json").stdout.splitlines()]
    assert ops[-2:] == ["pii.resolved", "put"]
    assert json.loads(brain(env, "pending", "--json").stdout) == []


def test_resolve_with_the_seq_reviewed_refuses_a_newer_version(env) -> None:
    """`--seq N` (the seq `brain pending` lists) binds the resolution to that version."""
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY)
    seen = json.loads(brain(env, "pending", "--json").stdout)[0]["seq"]
    brain(env, "put", P, "--sync-class", "shareable", stdin=BODY + "Also: bob.poe@example.net\n")
    r = brain(env, "pending", "resolve", P, "--redact", "--seq", str(seen))
    assert r.returncode == 1 and "changed since it was read" in r.stderr, r.stderr
    now = json.loads(brain(env, "pending", "--json").stdout)[0]["seq"]
    r = brain(env, "pending", "resolve", P, "--keep-private", "--seq", str(now))
    assert r.returncode == 0 and "kept private" in r.stdout, r.stderr
