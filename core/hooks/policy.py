"""What the hooks do, from `$XDG_CONFIG_HOME/brain-tui/hooks.toml` (every key optional):

    [claude-code]
    capture = ["Stop", "SessionEnd", "PreCompact"]   # events that write the session memory
    context = true              # SessionStart prints `brain context` for the project
    context_limit = 30          # memories listed at SessionStart
    prompt_context = 5          # UserPromptSubmit (opt-in at install): hits added, 0 = off
    track_tools = true          # PostToolUse (opt-in at install): record edited files
    sync_class = "private"      # captured memories (private until the PII review lands)
    project = ""                # project name; default: the slug of the cwd's folder name

    [git]
    capture = true
    sync_class = "private"

A broken file never breaks a hook: the defaults apply and the problem is logged.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.models import SYNC_CLASSES

CAPTURE_EVENTS = ("Stop", "SessionEnd", "PreCompact")
LOG_NAME = "hooks.log"
MAX_LOG_BYTES = 1 << 20


@dataclass
class ClaudePolicy:
    capture: frozenset[str] = frozenset(CAPTURE_EVENTS)
    context: bool = True
    context_limit: int = 30
    prompt_context: int = 5
    track_tools: bool = True
    sync_class: str = "private"
    project: str = ""


@dataclass
class GitPolicy:
    capture: bool = True
    sync_class: str = "private"


@dataclass
class Policy:
    claude: ClaudePolicy = field(default_factory=ClaudePolicy)
    git: GitPolicy = field(default_factory=GitPolicy)
    problems: list[str] = field(default_factory=list)


def config_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "brain-tui" / "hooks.toml"


def load(path: Path | None = None) -> Policy:
    path = path or config_path()
    pol = Policy()
    try:
        raw = path.read_bytes()
    except OSError:
        return pol  # no file: the defaults
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        pol.problems.append(f"{path}: {e}; using the defaults")
        return pol
    _apply(pol.claude, data.get("claude-code"), "claude-code", pol.problems)
    _apply(pol.git, data.get("git"), "git", pol.problems)
    return pol


def _apply(target: Any, table: object, name: str, problems: list[str]) -> None:
    if table is None:
        return
    if not isinstance(table, dict):
        problems.append(f"[{name}] must be a table")
        return
    for key, value in table.items():
        attr = key.replace("-", "_")
        if not hasattr(target, attr):
            problems.append(f"[{name}] {key}: unknown setting")
            continue
        current = getattr(target, attr)
        if attr == "capture" and isinstance(current, frozenset):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                setattr(target, attr, frozenset(value))
            else:
                problems.append(f"[{name}] capture: a list of event names")
        elif attr == "sync_class" and value not in SYNC_CLASSES:
            problems.append(f"[{name}] sync_class: one of {', '.join(SYNC_CLASSES)}")
        elif isinstance(current, bool) and not isinstance(value, bool):
            problems.append(f"[{name}] {key}: true or false")
        elif isinstance(current, int) and not isinstance(current, bool):
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 300:
                setattr(target, attr, value)
            else:
                problems.append(f"[{name}] {key}: a number from 0 to 300")
        elif isinstance(current, str) and not isinstance(value, str):
            problems.append(f"[{name}] {key}: a string")
        else:
            setattr(target, attr, value)


def log_path(env: dict[str, str] | None = None) -> Path:
    """Hook problems go here, outside the store (never exported): the agent must not see them."""
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "brain-tui" / LOG_NAME


def log(message: str) -> None:
    """Append one line to the hooks log; never raises (a hook must not fail on its log)."""
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.stat().st_size > MAX_LOG_BYTES:
                path.replace(path.with_suffix(".log.1"))
        except FileNotFoundError:
            pass
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        line = " ".join(message.split())[:2000]
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{stamp} {line}\n")
    except OSError:
        pass
