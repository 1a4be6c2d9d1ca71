"""Capture from the tools agents and people already use: Claude Code hook events and git
commits (`brain hook ...`), and installing those hooks.

`policy` says what each event does (a TOML file, safe defaults); `claude_code` turns one
hook event into context to print or a memory to write; `transcript` reads what a session
touched from its JSONL transcript (bounded); `git` captures a commit; `install` merges the
hook configuration into `.claude/settings.json` and `.git/hooks/post-commit` without
clobbering what is there. A hook must never block or break the agent: the CLI wraps all of it
so any failure is logged and the process exits 0.
"""

from collections.abc import Callable
from typing import Any

# How a hook writes: put(path, body, *, actor, **fields) with Store.put's arguments, returning
# a result with path, seq and changed. The CLI's (brain_tui.cli.common.put) goes through a live
# writer's door (core/door.py) when one is open, else opens the store.
Putter = Callable[..., Any]
