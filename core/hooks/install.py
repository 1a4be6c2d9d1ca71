"""Install and remove the hooks, idempotently, without clobbering what is there.

Claude Code: our entries are merged into `<project>/.claude/settings.json` (other keys, other
hooks and their order are kept; a file that is not a JSON object is refused, never rewritten).
Ours are recognised by their command, so installing twice changes nothing and uninstalling
removes only ours. git: a marked block in the repository's `post-commit` hook (core.hooksPath
respected), appended to an existing script rather than replacing it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from core.errors import BrainError

CLAUDE_MARK = "hook claude-code"  # every command we install contains it
DEFAULT_EVENTS = ("SessionStart", "Stop", "PreCompact", "SessionEnd")
OPT_IN_EVENTS = ("UserPromptSubmit", "PostToolUse")
MATCHERS = {"PostToolUse": "Edit|Write|MultiEdit|NotebookEdit"}
TIMEOUT_S = 10
GIT_BEGIN = "# >>> brain hook git >>>"
GIT_END = "# <<< brain hook git <<<"


def command(base: list[str], *rest: str) -> str:
    return " ".join(shlex.quote(p) for p in [*base, *rest])


# -- Claude Code ----------------------------------------------------------------------------


def claude_settings_path(project: Path) -> Path:
    return project / ".claude" / "settings.json"


def _load_settings(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise BrainError(f"{path}: cannot read it ({e}); nothing was changed") from None
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise BrainError(
            f"{path}: not valid JSON ({e}); fix it first, nothing was changed"
        ) from None
    if not isinstance(data, dict):
        raise BrainError(f"{path}: not a JSON object; nothing was changed")
    hooks = data.get("hooks")
    if hooks is not None and not isinstance(hooks, dict):
        raise BrainError(f"{path}: 'hooks' is not an object; nothing was changed")
    return data


def _ours(hook: object) -> bool:
    return isinstance(hook, dict) and CLAUDE_MARK in str(hook.get("command", ""))


def _strip_ours(groups: list[Any]) -> list[Any]:
    out = []
    for g in groups:
        if isinstance(g, dict) and isinstance(g.get("hooks"), list):
            kept = [h for h in g["hooks"] if not _ours(h)]
            if not kept and len(kept) != len(g["hooks"]):
                continue  # a group that held only ours
            g = {**g, "hooks": kept}
        out.append(g)
    return out


def install_claude(project: Path, cmd: str, events: tuple[str, ...]) -> tuple[Path, bool]:
    """Merge our hook entries; returns (settings path, whether the file changed)."""
    path = claude_settings_path(project)
    data = _load_settings(path)
    before = json.dumps(data, sort_keys=True)
    hooks: dict[str, Any] = data.setdefault("hooks", {})
    for event in events:
        groups = hooks.get(event, [])
        if not isinstance(groups, list):
            raise BrainError(f"{path}: hooks.{event} is not a list; nothing was changed")
        group: dict[str, Any] = {}
        if event in MATCHERS:
            group["matcher"] = MATCHERS[event]
        group["hooks"] = [{"type": "command", "command": cmd, "timeout": TIMEOUT_S}]
        hooks[event] = [*_strip_ours(groups), group]
    if json.dumps(data, sort_keys=True) == before:
        return path, False
    _write_json(path, data)
    return path, True


def uninstall_claude(project: Path) -> tuple[Path, bool]:
    path = claude_settings_path(project)
    if not path.exists():
        return path, False
    data = _load_settings(path)
    before = json.dumps(data, sort_keys=True)
    hooks = data.get("hooks")
    if isinstance(hooks, dict):
        for event in list(hooks):
            if isinstance(hooks[event], list):
                kept = _strip_ours(hooks[event])
                if kept:
                    hooks[event] = kept
                else:
                    del hooks[event]
        if not hooks:
            del data["hooks"]
    if json.dumps(data, sort_keys=True) == before:
        return path, False
    _write_json(path, data)
    return path, True


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.brain-tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if path.exists():
        os.chmod(tmp, path.stat().st_mode & 0o7777)
    os.replace(tmp, path)


# -- git --------------------------------------------------------------------------------------


def git_hook_path(repo: Path) -> Path:
    try:
        p = subprocess.run(
            ["git", "rev-parse", "--git-path", "hooks"],
            cwd=repo,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BrainError(f"git is not available: {e}") from None
    if p.returncode != 0:
        raise BrainError(f"{repo}: not a git repository")
    hooks = Path(p.stdout.decode().strip())
    return (hooks if hooks.is_absolute() else repo / hooks) / "post-commit"


def _without_block(text: str) -> str:
    lines = text.split("\n")
    out, inside = [], False
    for line in lines:
        if line.strip() == GIT_BEGIN:
            inside = True
        elif line.strip() == GIT_END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def install_git(repo: Path, cmd: str) -> tuple[Path, bool]:
    path = git_hook_path(repo)
    block = f"{GIT_BEGIN}\n{cmd} >/dev/null 2>&1 || true\n{GIT_END}\n"
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old is None:
        new = "#!/bin/sh\n" + block
    else:
        rest = _without_block(old).rstrip("\n")
        shell = _interpreter(rest)
        if shell not in _SHELLS:
            raise BrainError(
                f"{path} is a {shell} script: brain cannot add its shell line to it. Add a"
                f" call of `{cmd}` to it yourself (its output ignored, its failure too), or"
                " call your script from a sh post-commit hook and install again"
            )
        # Right after the shebang: a hook that ends in `exit` would skip a block at the end.
        if rest.startswith("#!"):
            shebang, _, body = rest.partition("\n")
        else:
            shebang, body = "#!/bin/sh", rest
        new = f"{shebang}\n{block}" + (body + "\n" if body else "")
    if new == old:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
    os.chmod(path, path.stat().st_mode | 0o755)
    return path, True


_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh"})


def _interpreter(script: str) -> str:
    """The program a hook's shebang names (`sh` without one: git runs it with the shell)."""
    if not script.startswith("#!"):
        return "sh"
    words = script[2:].split("\n", 1)[0].split()
    if not words:
        return "sh"
    name = os.path.basename(words[0])
    if name == "env" and len(words) > 1:
        name = os.path.basename(words[1])
    return name


def uninstall_git(repo: Path) -> tuple[Path, bool]:
    path = git_hook_path(repo)
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return path, False
    if GIT_BEGIN not in old:
        return path, False
    rest = _without_block(old).rstrip("\n")
    if rest.strip() in ("", "#!/bin/sh", "#!/usr/bin/env sh", "#!/bin/bash"):
        path.unlink()
    else:
        path.write_text(rest + "\n", encoding="utf-8")
    return path, True
