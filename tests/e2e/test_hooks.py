"""`brain hook claude-code|git` and `brain hook install|uninstall`, as real processes: the
recorded event of every Claude Code hook type, malformed input (always exit 0, nothing
written), the policy file, a post-commit capture, and idempotent, non-clobbering installs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import Store
from core.mcp.sessions import host_name
from tests.e2e.mcp_client import REPO, brain, init_store

DATA = Path(__file__).resolve().parents[1] / "data" / "hooks" / "claude-code"
SID = "9f1c2e4a-7b3d-4c55-a0e1-2d9b8f6c1e01"
ACTOR = f"agent:claude-code@{host_name()}"


@pytest.fixture
def world(tmp_path):
    root = init_store(tmp_path / "store")
    cwd = tmp_path / "shop-api"
    cwd.mkdir()
    transcript = tmp_path / "t.jsonl"
    transcript.write_text((DATA / "transcript.jsonl").read_text().replace("{CWD}", str(cwd)))
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return root, cwd, transcript, env


def event(name: str, cwd: Path, transcript: Path) -> bytes:
    raw = (DATA / f"{name}.json").read_text()
    return raw.replace("{CWD}", str(cwd)).replace("{TRANSCRIPT}", str(transcript)).encode()


def hook(root: Path, payload: bytes, env: dict, *args: str) -> subprocess.CompletedProcess[bytes]:
    p = brain("hook", "claude-code", "--store", str(root), *args, input=payload, env=env)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stderr == b"", p.stderr.decode()  # problems go to the log, never to the agent
    return p


def log_of(env: dict) -> str:
    path = Path(env["XDG_STATE_HOME"]) / "brain-tui" / "hooks.log"
    return path.read_text() if path.exists() else ""


def all_rows(root: Path):
    with Store.open(root, allow_temp=True, read_only=True) as s:
        return [r for r, _ in s.rows()]


def seed(root: Path) -> None:
    body = b"---\ntitle: Index database is SQLite\n---\nWe decided the index database is SQLite."
    p = brain(
        "put",
        "--store",
        str(root),
        "--actor",
        "human:ana@laptop",
        "memories/decisions/index-database.md",
        "-",
        input=body,
    )
    assert p.returncode == 0, p.stderr.decode()


def test_every_claude_code_event_type(world):
    root, cwd, transcript, env = world
    session_mem = f"memories/projects/shop-api/sessions/claude-code-{SID}.md"

    # SessionStart on an empty store: nothing to say, nothing written.
    assert hook(root, event("session_start", cwd, transcript), env).stdout == b""
    seed(root)
    out = json.loads(hook(root, event("session_start", cwd, transcript), env).stdout)
    spec = out["hookSpecificOutput"]
    assert spec["hookEventName"] == "SessionStart"
    assert "memories/decisions/index-database.md" in spec["additionalContext"]
    assert "untrusted" in spec["additionalContext"]

    out = json.loads(hook(root, event("user_prompt_submit", cwd, transcript), env).stdout)
    assert out["hookSpecificOutput"]["hookEventName"] == "UserPromptSubmit"
    assert "index-database.md" in out["hookSpecificOutput"]["additionalContext"]

    for quiet in ("pre_tool_use", "post_tool_use_bash", "notification", "subagent_stop"):
        assert hook(root, event(quiet, cwd, transcript), env).stdout == b"", quiet
    assert [r.op for r in all_rows(root)] == ["put"]  # only the seed

    hook(root, event("post_tool_use_edit", cwd, transcript), env)
    hook(root, event("stop", cwd, transcript), env)
    with Store.open(root, allow_temp=True, read_only=True) as s:
        mem = s.view(session_mem)
    text = mem.body.decode()
    assert "- src/app.py" in text and "- tests/test_health.py" in text
    assert "- /etc/elsewhere.conf" in text and "Added a /health endpoint" in text
    assert text.count("src/app.py") == 1 and f"- cwd: {cwd}" in text
    side = mem.sidecar
    assert side.sync_class == "private" and side.actor == ACTOR
    assert side.tags == ["source:claude-code"] and side.extra["session"] == SID
    n = len(all_rows(root))
    # Nothing new in the session: Stop again, PreCompact, SessionEnd write no row.
    for name in ("stop", "pre_compact", "session_end"):
        hook(root, event(name, cwd, transcript), env)
    assert len(all_rows(root)) == n
    puts = [r for r in all_rows(root) if r.path == session_mem]
    assert {r.actor for r in puts} == {ACTOR}
    assert log_of(env) == ""


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json at all",
        b"[1, 2, 3]",
        b'{"session_id": "x", "cwd": "/tmp"}',
        b'{"hook_event_name": 5}',
        b"\xff\xfe\x00garbage",
        b'{"hook_event_name": "Stop", "cwd": 5, "transcript_path": ["x"], "session_id": null}',
        b'{"hook_event_name": "SessionEnd", "session_id": "s1", "transcript_path": "/nope/t.jsonl"}',
        b'{"hook_event_name": "SomeFutureEvent", "session_id": "s1"}',
        b'{"hook_event_name": "Stop", "session_id": "' + b"x" * (5 << 20) + b'"}',
    ],
    ids=[
        "empty",
        "text",
        "array",
        "no-name",
        "bad-name",
        "binary",
        "wrong-types",
        "no-transcript",
        "unknown-event",
        "oversize",
    ],
)
def test_malformed_input_exits_0_and_writes_nothing_it_should_not(world, payload):
    root, _cwd, _t, env = world
    p = hook(root, payload, env)
    assert p.stdout == b""
    rows = all_rows(root)
    if b'"SessionEnd", "session_id": "s1"' in payload:
        # A missing transcript is no error: the session is captured with what the event says.
        assert [r.op for r in rows] == ["put"]
    else:
        assert rows == []


def test_no_store_a_bad_policy_and_capture_off(world, tmp_path):
    root, cwd, transcript, env = world
    p = hook(tmp_path / "missing-store", event("stop", cwd, transcript), env)
    assert p.stdout == b"" and "StoreNotFound" in log_of(env)
    cfg = Path(env["XDG_CONFIG_HOME"]) / "brain-tui"
    cfg.mkdir(parents=True)
    (cfg / "hooks.toml").write_text("[claude-code\nbroken")
    hook(root, event("stop", cwd, transcript), env)  # defaults: Stop captures
    assert len(all_rows(root)) == 1 and "hooks.toml" in log_of(env)
    (cfg / "hooks.toml").write_text('[claude-code]\ncapture = ["SessionEnd"]\ncontext = false\n')
    other = event("stop", cwd, transcript).replace(SID.encode(), b"another-session")
    hook(root, other, env)
    assert len(all_rows(root)) == 1  # Stop is off now
    seed(root)
    assert hook(root, event("session_start", cwd, transcript), env).stdout == b""


def _git(repo: Path, *args: str, env: dict | None = None) -> None:
    e = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ana Lima",
        "GIT_AUTHOR_EMAIL": "ana@example.org",
        "GIT_COMMITTER_NAME": "Ana Lima",
        "GIT_COMMITTER_EMAIL": "ana@example.org",
        **(env or {}),
    }
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=e)


def test_git_post_commit_capture_and_install(world, tmp_path):
    root, _cwd, _t, env = world
    repo = tmp_path / "Billing Service"
    repo.mkdir()
    _git(repo, "init", "-q")
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "post-commit").write_text("#!/usr/bin/env python3\nprint('mine')\n")
    p = brain(
        "hook", "install", "git", "--project", str(repo), "--store", str(root),
        "--allow-temp-store", env=env,
    )  # fmt: skip
    # A hook in another language cannot take a shell line: refused, left as it was.
    assert p.returncode != 0 and b"python3 script" in p.stderr, p.stderr
    assert (hooks / "post-commit").read_text() == "#!/usr/bin/env python3\nprint('mine')\n"
    # A sh hook that ends in `exit 0`: the block goes right after the shebang, so it runs.
    (hooks / "post-commit").write_text("#!/bin/sh\necho existing-hook >> ran.txt\nexit 0\n")
    os.chmod(hooks / "post-commit", 0o755)
    p = brain(
        "hook",
        "install",
        "git",
        "--project",
        str(repo),
        "--store",
        str(root),
        "--allow-temp-store",
        env=env,
    )
    assert p.returncode == 0 and b"installed" in p.stdout, p.stderr
    first = (hooks / "post-commit").read_text()
    p = brain(
        "hook",
        "install",
        "git",
        "--project",
        str(repo),
        "--store",
        str(root),
        "--allow-temp-store",
        env=env,
    )
    assert b"already installed" in p.stdout and (hooks / "post-commit").read_text() == first
    assert first.startswith("#!/bin/sh\n# >>> brain") and first.endswith(
        "echo existing-hook >> ran.txt\nexit 0\n"
    )

    (repo / "a.py").write_text("print(1)\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-q", "-m", "Add a.py\n\nThe first module.", env=env)
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert (repo / "ran.txt").read_text() == "existing-hook\n"  # the old hook still runs
    path = f"memories/projects/billing-service/commits/{sha[:12]}.md"
    with Store.open(root, allow_temp=True, read_only=True) as s:
        mem = s.view(path)
    body = mem.body.decode()
    assert body.startswith("# Add a.py\n") and "The first module." in body
    assert "- A a.py" in body and "Ana Lima <ana@example.org>" in body and sha in body
    assert mem.sidecar.actor == f"agent:git@{host_name()}" and mem.sidecar.sync_class == "private"
    assert mem.sidecar.tags == ["source:git"]

    p = brain("hook", "uninstall", "git", "--project", str(repo), env=env)
    assert p.returncode == 0
    assert (
        hooks / "post-commit"
    ).read_text() == "#!/bin/sh\necho existing-hook >> ran.txt\nexit 0\n"
    # Outside a repository the hook still exits 0 and logs why.
    p = brain("hook", "git", "--store", str(root), env=env, cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == b"" and "NotARepo" in log_of(env)


def test_claude_code_install_merges_and_uninstall_restores(tmp_path):
    proj = tmp_path / "proj"
    (proj / ".claude").mkdir(parents=True)
    settings = proj / ".claude" / "settings.json"
    original = {
        "model": "opus",
        "permissions": {"allow": ["Bash(ls:*)"]},
        "hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
            "PreToolUse": [
                {"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh"}]}
            ],
        },
    }
    settings.write_text(json.dumps(original, indent=2) + "\n")
    p = brain("hook", "install", "claude-code", "--project", str(proj), "--opt-in", "PostToolUse")
    assert p.returncode == 0 and b"installed" in p.stdout, p.stderr
    data = json.loads(settings.read_text())
    assert data["model"] == "opus" and data["permissions"] == original["permissions"]
    assert data["hooks"]["PreToolUse"] == original["hooks"]["PreToolUse"]
    assert data["hooks"]["Stop"][0] == original["hooks"]["Stop"][0]
    for ev in ("SessionStart", "Stop", "PreCompact", "SessionEnd", "PostToolUse"):
        cmds = [h["command"] for g in data["hooks"][ev] for h in g["hooks"]]
        assert sum("hook claude-code" in c for c in cmds) == 1, ev
    assert "UserPromptSubmit" not in data["hooks"]  # opt-in only
    assert data["hooks"]["PostToolUse"][0]["matcher"] == "Edit|Write|MultiEdit|NotebookEdit"
    installed = settings.read_bytes()
    p = brain("hook", "install", "claude-code", "--project", str(proj), "--opt-in", "PostToolUse")
    assert b"already installed" in p.stdout and settings.read_bytes() == installed
    p = brain("hook", "uninstall", "claude-code", "--project", str(proj))
    assert p.returncode == 0 and json.loads(settings.read_text()) == original
    p = brain("hook", "uninstall", "claude-code", "--project", str(proj))
    assert b"nothing to remove" in p.stdout
    settings.write_text("{ not json")
    p = brain("hook", "install", "claude-code", "--project", str(proj))
    assert p.returncode == 1 and b"not valid JSON" in p.stderr
    assert settings.read_text() == "{ not json"  # never clobbered
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    p = brain("hook", "install", "claude-code", "--project", str(fresh))
    assert p.returncode == 0 and (fresh / ".claude" / "settings.json").exists()


def test_the_hook_path_loads_neither_the_ui_nor_the_mcp_sdk(world):
    root, cwd, transcript, env = world
    code = (
        "import sys, io\n"
        "from brain_tui.cli.main import main\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({event('stop', cwd, transcript)!r}))\n"
        f"assert main(['hook', 'claude-code', '--store', {str(root)!r}]) == 0\n"
        "bad = ('textual', 'rich', 'mcp', 'pydantic', 'starlette', 'anyio', 'jsonschema')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in bad))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, **env, "BRAIN_ALLOW_TEMP_STORE": "1", "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert p.returncode == 0, p.stderr.decode()
    assert "LOADED []" in p.stdout.decode()
    assert len(all_rows(root)) == 1  # it did capture


def test_a_terminal_on_stdin_is_not_waited_on(world):
    import pty

    root, _cwd, _t, env = world
    master, slave = pty.openpty()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "brain_tui.cli.main", "hook", "claude-code"]
            + ["--store", str(root)],
            stdin=slave,
            capture_output=True,
            env={**os.environ, **env, "PYTHONPATH": str(REPO), "BRAIN_ALLOW_TEMP_STORE": "1"},
            timeout=30,
        )
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 0 and p.stdout == b""
    assert "no event on stdin" in log_of(env)
