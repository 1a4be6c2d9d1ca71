"""`brain` (no command) and `brain tui`: open the workstation on the resolved store.

When no store exists there, the app starts on a first-run screen that offers to create one
in place or to open the demo store. Textual is imported only here, when the TUI is wanted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import brain_tui.cli
from brain_tui.cli import common


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    return common.command_parser(subparsers, "tui", "open the workstation (the default command)")


def demo_parts() -> tuple[Path, Callable[..., None]]:
    """Where the demo store lives and how to build it: in a child process, as `brain demo`
    builds it (cmd_demo.build_in_child; brain_tui.demo is loaded there, not here)."""
    from brain_tui import demo
    from brain_tui.cli import cmd_demo

    return demo.demo_root(), partial(cmd_demo.build_in_child, size="full")


def launch(root: Path, *, allow_temp: bool, actor: str | None = None, **app_kw: Any) -> int:
    """Run the app on root until it quits; returns the exit code. `brain demo` uses this too."""
    from brain_tui.app import BrainApp
    from brain_tui.config import load_config

    brain_tui.cli.settle_gc()
    demo_root, build = demo_parts()
    app = BrainApp(
        root,
        allow_temp=allow_temp,
        config=load_config(),
        demo_root=demo_root,
        demo_builder=build,
        actor=actor or common.default_actor(),
        **app_kw,
    )
    try:
        code = app.run()
    finally:
        app.follow.stop_watcher()
        app.background.stop()
        if app.owns_store and app.store is not None:
            app.store.close()
    return app.return_code or int(code or 0)


def run(args: argparse.Namespace) -> int:
    from core.store import resolve_root

    root = resolve_root(args.store)
    return launch(root, allow_temp=bool(args.allow_temp_store), actor=common.actor_of(args))
