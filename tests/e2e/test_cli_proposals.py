"""Issue 15 from the command line: `brain lesson`, `brain propose`, `brain proposals`,
`brain maintain`. Approving and rejecting need an interactive terminal and a typed
confirmation: refused with pipes, accepted through a pseudo-terminal."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli_pending import _argv, _env, _in_pty

P = "memories/refinements/proposals/keyset-paging.md"
PROPOSAL = (
    "PROPOSAL: use keyset paging in the memory list\n"
    "PROBLEM: the list loads every row at once\n"
    "SOLUTION: fetch pages of one hundred rows\n"
    "BENEFIT: the pane opens fast at 10k memories\n"
    "CONTEXT: seen during the demo on a big store\n"
)
GATE = [
    "--observed",
    "the pane froze two seconds on open",
    "--evidence",
    "bench_tui p95 went to 2100 ms",
    "--answer-scope",
    "only the memory list widget paging",
    "--reversible",
    "revert the single commit cleanly",
    "--safety",
    "no, display only changes here",
    "--scope",
    "widgets/memory_list.py",
]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = _env(tmp_path)
    subprocess.run(_argv("init"), env=e, check=True, capture_output=True, timeout=120)
    return e


def brain(env, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        _argv(*args), env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def propose(env, *extra: str) -> subprocess.CompletedProcess:
    return brain(env, "propose", "Keyset paging", "--file", "-", *GATE, *extra, stdin=PROPOSAL)


def decided(env) -> list[dict]:
    rows = [json.loads(line) for line in brain(env, "tail", "--json").stdout.splitlines()]
    return [r for r in rows if r["op"] == "proposal.decided"]


def test_propose_from_a_file_lists_pending(env) -> None:
    r = propose(env)
    assert r.returncode == 0, r.stderr
    assert "[pass] security" in r.stdout and P in r.stdout and "status:pending" in r.stdout
    items = json.loads(brain(env, "proposals", "--json").stdout)
    assert [(i["path"], i["status"]) for i in items] == [(P, "pending")]
    shown = brain(env, "proposals", "show", P).stdout
    assert "PROBLEM: the list loads every row at once" in shown and "[pass] q:safety" in shown
    dup = propose(env, "--session", "other")
    assert dup.returncode == 1 and f"near duplicate is already stored: {P}" in dup.stderr


def test_failed_gate_exits_1_and_stores_a_lesson(env) -> None:
    r = propose(env, "--scope", "core/log/segment.py")
    assert r.returncode == 1
    assert "[FAIL] security" in r.stdout and "stored as a lesson" in r.stdout
    assert json.loads(brain(env, "proposals", "--json").stdout) == []


def test_lesson_from_flags_refuses_placeholders_and_secrets(env) -> None:
    base = [
        "--root-cause",
        "the exporter read a purged versions folder",
        "--fix",
        "skip purged memories in the exporter",
        "--prevention",
        "a test exports after purge",
    ]
    ok = brain(env, "lesson", "Export", "--failure", "the nightly export failed", *base)
    assert ok.returncode == 0 and "memories/refinements/lessons/export.md" in ok.stdout
    bad = brain(env, "lesson", "Other", "--failure", "it broke", *base)
    assert bad.returncode == 1 and "FAILURE is a placeholder" in bad.stderr
    key = brain(env, "lesson", "Key", "--failure", "AKIAIOSFODNN7EXAMPLE leaked in ci", *base)
    assert key.returncode == 1 and "no secrets" in key.stderr


def test_approve_is_refused_without_a_terminal(env) -> None:
    propose(env)
    r = brain(env, "proposals", "approve", P, stdin=P + "\n")
    assert r.returncode == 1 and "interactive terminal" in r.stderr
    r = brain(env, "proposals", "reject", P, "--reason", "no", stdin="reject\n")
    assert r.returncode == 1 and "interactive terminal" in r.stderr
    assert decided(env) == []
    assert json.loads(brain(env, "proposals", "--json").stdout)[0]["status"] == "pending"


@pytest.mark.parametrize("typed", [P, "approve"])
def test_approve_through_a_terminal_with_the_typed_confirmation(env, typed: str) -> None:
    propose(env)
    seq = json.loads(brain(env, "proposals", "show", P, "--json").stdout)["seq"]
    rc, out = _in_pty(env, ["proposals", "approve", P], typed)
    assert rc == 0 and "status:accepted" in out, out
    assert f"version seq {seq}" in out, out  # the prompt names the version the decision binds
    rows = decided(env)
    assert rows[0]["extra"]["version"] == seq
    assert [(r["actor"], r["extra"]["human"], r["extra"]["status"]) for r in rows] == [
        ("human:ana@laptop", "human:ana@laptop", "accepted")
    ]


def test_wrong_answer_changes_nothing_and_reject_needs_a_reason(env) -> None:
    propose(env)
    rc, out = _in_pty(env, ["proposals", "approve", P], "yes")
    assert rc == 1 and "cancelled" in out, out
    r = brain(env, "proposals", "reject", P)
    assert r.returncode == 1 and "needs --reason" in r.stderr
    rc, out = _in_pty(env, ["proposals", "reject", P, "--reason", "too broad"], "reject")
    assert rc == 0 and "status:rejected" in out, out
    assert decided(env)[0]["extra"]["reason"] == "too broad"


def test_an_agent_actor_cannot_approve_even_at_a_terminal(env) -> None:
    propose(env)
    agent = dict(env, BRAIN_ACTOR="agent:claude@h")
    rc, out = _in_pty(agent, ["proposals", "approve", P], P)
    assert rc == 1 and "is for people" in out, out


def test_maintain_then_approve_applies_it(env) -> None:
    body = "Deploys go through the staging cluster first and then production after a soak.\n"
    brain(env, "put", "memories/facts/deploy-a.md", stdin=body)
    brain(env, "put", "memories/facts/deploy-b.md", stdin=body.replace("first", "first,"))
    r = brain(env, "maintain")
    assert r.returncode == 0 and "1 maintenance proposals filed" in r.stdout, r.stdout
    path = json.loads(brain(env, "proposals", "--json").stdout)[0]["path"]
    rc, out = _in_pty(env, ["proposals", "approve", path], "approve")
    assert rc == 0 and "applied  memories/facts/deploy-b.md" in out, out
    meta = json.loads(brain(env, "view", "memories/facts/deploy-b.md", "--meta", "--json").stdout)
    assert "status:deprecated" in json.dumps(meta)


def test_maintain_retires_a_contradicted_memory_on_approval(env) -> None:
    old, new = "memories/decisions/web/deploy.md", "memories/decisions/web/deploy-fly.md"
    brain(env, "put", old, stdin="---\ntitle: Deploy target\n---\nHeroku, by git push.\n")
    brain(env, "put", new, stdin="---\ntitle: Deploy target\n---\nFly.io machines, from CI.\n")
    r = brain(env, "maintain")
    assert r.returncode == 0 and "1 maintenance proposals filed" in r.stdout, r.stdout
    path = json.loads(brain(env, "proposals", "--json").stdout)[0]["path"]
    shown = brain(env, "proposals", "show", path).stdout
    assert f"applies on approval: retire {old}" in shown and new in shown, shown
    rc, out = _in_pty(env, ["proposals", "approve", path], "approve")
    assert rc == 0 and f"applied  {old}" in out, out
    meta = json.loads(brain(env, "view", old, "--meta", "--json").stdout)
    assert "tombstoned" in json.dumps(meta), meta
    assert decided(env)[0]["extra"]["applied"] == [old]


def test_suggest_after_recurring_lessons_and_outcomes(env) -> None:
    cause = ["--root-cause", "the exporter read a purged versions folder", "--project", "web"]
    for failure, fix, prev in (
        ("the nightly zip job crashed", "guard the loop now", "a unit test per folder"),
        ("a customer backup stopped halfway", "retry reading gone files", "a fuzzer for purges"),
    ):
        r = brain(
            env, "lesson", failure, "--failure", failure, "--fix", fix, "--prevention", prev, *cause
        )
        assert r.returncode == 0, r.stderr
    assert "no pattern scores above 0.7" in brain(env, "suggest").stdout
    path = json.loads(brain(env, "search", "purged", "--json").stdout)
    pats = [h["path"] for h in path if h["path"].startswith("memories/refinements/patterns/")]
    assert len(pats) == 1
    for _ in range(6):
        r = brain(env, "suggest", "--worked", pats[0])
        assert r.returncode == 0 and "score" in r.stdout, r.stderr
    out = brain(env, "suggest", "--project", "web").stdout
    assert pats[0] in out and "evidence: memories/refinements/lessons/" in out
