"""`brain hook ...`: Claude Code and git hooks, and installing them.

    brain hook claude-code              read one hook event (JSON) on stdin and act on it
    brain hook git                      capture the commit just made (a post-commit hook)
    brain hook install claude-code|git [--project DIR] [--opt-in EVENT]
    brain hook uninstall claude-code|git [--project DIR]

The two hooks never block or break the agent or the commit: whatever goes wrong (no store, a
busy lock, malformed input) is logged to $XDG_STATE_HOME/brain-tui/hooks.log and they exit 0.
Their writes go through the store's door (core/door.py) when a live writer has one open: an
agent that runs `brain mcp` serves its own hooks' captures.
What each event does is set in $XDG_CONFIG_HOME/brain-tui/hooks.toml (core/hooks/policy.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial

from brain_tui.cli import common

TARGETS = ("claude-code", "git")
# A hook must not keep its tool waiting (Claude Code's hook timeout is 10 s): a door whose
# host is too busy to start the put within this is walked past (core/door.py), and the hook
# writes itself, within the lock's own timeout, or logs and lets the tool go on.
HOOK_DOOR_WAIT_S = 1.5


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "hook",
        "agent and git hooks: capture sessions and commits, install the hooks",
        description="Claude Code and git hooks. `brain hook claude-code` reads one hook event"
        " (JSON) on stdin: SessionStart prints `brain context` for the project; Stop, SessionEnd"
        " and PreCompact write the session memory; UserPromptSubmit and PostToolUse act when"
        " installed with --opt-in. `brain hook git` captures the commit just made. Both always"
        " exit 0 and log problems to $XDG_STATE_HOME/brain-tui/hooks.log; the policy is in"
        " $XDG_CONFIG_HOME/brain-tui/hooks.toml. `brain hook install|uninstall claude-code|git"
        " [--project DIR]` writes or removes the hook configuration.",
    )
    sub = p.add_subparsers(dest="hook_command", metavar="HOOK", required=True)
    common.command_parser(
        sub,
        "claude-code",
        "act on one Claude Code hook event read from stdin (always exits 0)",
    )
    g = common.command_parser(sub, "git", "capture the commit just made (always exits 0)")
    g.add_argument("--rev", default="HEAD", help=argparse.SUPPRESS)
    for verb in ("install", "uninstall"):
        v = common.command_parser(sub, verb, f"{verb} the hooks for claude-code or git")
        v.add_argument("target", choices=TARGETS)
        v.add_argument(
            "--project",
            metavar="DIR",
            default=".",
            help="the project (Claude Code) or repository (git) folder; default: here",
        )
        if verb == "install":
            v.add_argument(
                "--opt-in",
                dest="opt_in",
                action="append",
                default=[],
                choices=("UserPromptSubmit", "PostToolUse"),
                help="also hook this Claude Code event (prompt context; edit tracking)",
            )
    return p


def run(args: argparse.Namespace) -> int:
    if args.hook_command == "claude-code":
        return _guarded(_claude_code, args)
    if args.hook_command == "git":
        return _guarded(_git, args)
    return _install(args)


def _guarded(fn, args: argparse.Namespace) -> int:
    """Run a hook; any failure is logged and the hook still exits 0."""
    from core.hooks import policy

    try:
        fn(args)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - never break the agent or commit
        policy.log(f"brain hook {args.hook_command}: {type(e).__name__}: {e}")
    return 0


def _actor(args: argparse.Namespace, program: str) -> str:
    if args.actor:
        return args.actor
    from core.mcp.sessions import agent_actor

    return agent_actor(program)


def _opener(args: argparse.Namespace):
    def open_store(read_only: bool):
        return common.open_store(args, read_only=read_only)

    return open_store


def _putter(args: argparse.Namespace):
    """The hooks' writes: through a live writer's door when one is open (an agent running
    `brain mcp`, the TUI), else by this process (common.put)."""
    return partial(common.put, args, wait_s=HOOK_DOOR_WAIT_S)


def _claude_code(args: argparse.Namespace) -> None:
    from core.hooks import claude_code, policy

    if sys.stdin is None or sys.stdin.isatty():
        policy.log("brain hook claude-code: no event on stdin (Claude Code pipes one in)")
        return
    raw = sys.stdin.buffer.read(claude_code.MAX_EVENT_BYTES + 1)
    pol = policy.load()
    for problem in pol.problems:
        policy.log(f"hooks.toml: {problem}")
    try:
        event = claude_code.parse(raw)
    except claude_code.BadEvent as e:
        policy.log(f"brain hook claude-code: ignored input: {e}")
        return
    out = claude_code.handle(
        event, _opener(args), _putter(args), pol.claude, _actor(args, "claude-code")
    )
    if out.stdout:
        common.out(out.stdout)
    if out.note and os.environ.get(common.DEBUG_ENV):
        policy.log(f"brain hook claude-code: {out.note}")


def _git(args: argparse.Namespace) -> None:
    from core.hooks import git, policy

    pol = policy.load()
    if not pol.git.capture:
        return
    commit = git.read_commit(os.getcwd(), args.rev)
    git.capture(_putter(args), commit, actor=_actor(args, "git"), sync_class=pol.git.sync_class)


def _base_command(args: argparse.Namespace) -> list[str]:
    """How the installed hook runs brain: the `brain` on PATH, else this interpreter."""
    import shutil

    exe = shutil.which("brain")
    base = [exe] if exe else [sys.executable, "-m", "brain_tui.cli.main"]
    if args.store:
        from core.store import resolve_root

        base += ["--store", str(resolve_root(args.store))]
    if args.allow_temp_store:
        base.append("--allow-temp-store")
    return base


def _install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from core.hooks import install

    project = Path(args.project).resolve()
    if not project.is_dir():
        raise common.UsageError(f"--project {args.project}: not a folder")
    if args.hook_command == "install":
        if args.target == "claude-code":
            cmd = install.command(_base_command(args), "hook", "claude-code")
            events = tuple(dict.fromkeys([*install.DEFAULT_EVENTS, *args.opt_in]))
            path, changed = install.install_claude(project, cmd, events)
        else:
            cmd = install.command(_base_command(args), "hook", "git")
            path, changed = install.install_git(project, cmd)
        common.out(f"{'installed' if changed else 'already installed'}: {path}")
    else:
        if args.target == "claude-code":
            path, changed = install.uninstall_claude(project)
        else:
            path, changed = install.uninstall_git(project)
        common.out(f"{'removed' if changed else 'nothing to remove'}: {path}")
    return 0
