"""`brain demo`: build the demo store (once) and open the workstation on it.

The demo lives at `$XDG_DATA_HOME/brain-tui/demo` (default `~/.local/share/brain-tui/demo`),
never in the resolved store: `--store` does not apply here. `--rebuild` starts it over.
Without a terminal (or with `--no-tui`) it prints where the demo is and what it holds.

It says what it is doing as it goes: the build counts rows, then stores the memories'
embeddings (shipped with the demo; computed only where the asset lacks one). When the
workstation follows, the build runs in a child process (`python -m brain_tui.cli.cmd_demo`)
while this one loads the embedding model and imports the workstation: on two cores the two
run side by side instead of taking turns on one interpreter lock (torch's import alone held
it for seconds), so the workstation's first frame comes when the build ends, with semantic
search ready. On a built demo the workstation warms the model just after its first frame.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "demo",
        "build the demo store and open the workstation on it",
        description=(
            "Build a realistic demo store (about 3,000 memories and 20,000 audit rows written"
            " by several actors over eight simulated weeks) at $XDG_DATA_HOME/brain-tui/demo,"
            " then open the workstation on it. Your own store is never touched."
        ),
    )
    p.add_argument(
        "--rebuild", action="store_true", help="delete the demo store and build it again"
    )
    p.add_argument("--no-tui", action="store_true", help="build if needed, print its state, exit")
    p.add_argument(
        "--size",
        choices=("full", "small"),
        default="full",
        help="full (~20,000 rows, the default) or small (~1,000 rows, for a quick look)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    from brain_tui import demo

    root = demo.demo_root()
    allow_temp = bool(args.allow_temp_store)
    tui = not args.no_tui and sys.stdout.isatty()
    if args.rebuild and root.exists():
        common.err(f"removing the old demo store at {common.clean(str(root))} …")
        remove_demo(root)
    if not (root / "manifest.json").exists():
        if tui:
            build_beside(root, args.size, allow_temp)
        else:
            build(root, args.size, allow_temp)
    if not tui:
        return print_state(root, allow_temp, args.json)
    from brain_tui.cli import cmd_tui

    common.err(f"opening the workstation on {common.clean(str(root))} …")
    args.store = str(root)
    args.allow_temp_store = allow_temp
    return int(cmd_tui.run(args) or 0)


def warm_model() -> None:
    """Load the embedding model in a daemon thread while the demo builds (importing torch
    takes seconds): the workstation's own warm-up then finds it loaded (models are shared per
    process). Not when the demo is already built: started beside Textual's own start-up it
    delayed the first frame (by ~0.4 s in our runs) and made semantic search no sooner.
    Without the semantic extra this does nothing; the workstation says so."""
    import importlib.util

    if importlib.util.find_spec("sentence_transformers") is None:
        return

    def load() -> None:
        from core.search import embeddings

        try:
            embeddings.encoder(embeddings.model_name())
        except Exception:  # noqa: BLE001 - the workstation's warm-up reports the same failure
            return

    common.err("loading the embedding model for semantic search (in the background) …")
    threading.Thread(target=load, name="demo-model", daemon=True).start()


def build_beside(root: Path, size: str, allow_temp: bool) -> None:
    """Build in a child process while this one loads the model and imports the workstation.

    The child shares the terminal (its progress line is the build's); a failure comes back
    on its stdout as one line and is raised here, as the in-process build would raise it."""
    cmd = [sys.executable, "-m", "brain_tui.cli.cmd_demo", str(root), size]
    child = subprocess.Popen(
        [*cmd, "--allow-temp-store"] if allow_temp else cmd, stdout=subprocess.PIPE, text=True
    )
    try:
        warm_model()
        _import_workstation()
        failure = child.communicate()[0].strip()
    except BaseException:
        child.kill()
        child.wait()
        raise
    if child.returncode != 0:
        from core.errors import BrainError

        raise BrainError(failure or f"the demo build stopped (exit {child.returncode})")


def _import_workstation() -> None:
    """What opening the workstation imports (Textual, the app, its screens), done while the
    child builds: the first frame then comes that much sooner after the build."""
    import brain_tui.app  # noqa: F401


def build_in_child(
    root: Path,
    *,
    allow_temp: bool,
    progress: Callable[[int, int], None] | None = None,
    size: str = "full",
) -> None:
    """The first-run screen's demo builder (a workers.DemoBuilder): build_demo, vectors
    included, in a child process as `brain demo` builds it, so the workstation's interpreter
    lock stays with the workstation while it draws the progress. The child reports on its
    stdout (`progress DONE TOTAL` lines, then a failure as one line); its stderr, which must
    not reach the terminal the workstation draws on, goes to a file read only on failure."""
    import tempfile

    from core.errors import BrainError

    cmd = [sys.executable, "-m", "brain_tui.cli.cmd_demo", str(root), size, REPORT]
    if allow_temp:
        cmd.append("--allow-temp-store")
    failure = ""
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            assert child.stdout is not None
            for line in child.stdout:
                kind, _, rest = line.strip().partition(" ")
                if kind == "progress" and progress is not None:
                    done, _, total = rest.partition(" ")
                    progress(int(done), int(total))
                elif kind != "progress":
                    failure = line.strip()
            child.wait()
        except BaseException:
            child.kill()
            child.wait()
            raise
        if child.returncode != 0 and not failure:
            errors.seek(0)
            lines = errors.read().strip().splitlines()
            failure = lines[-1] if lines else ""
    if child.returncode != 0:
        raise BrainError(failure or f"the demo build stopped (exit {child.returncode})")


REPORT = "--report"  # the child reports progress on stdout (build_in_child) instead of stderr


def _child(argv: list[str]) -> int:
    """`python -m brain_tui.cli.cmd_demo ROOT SIZE [--report] [--allow-temp-store]`: the child
    of build_beside (progress on the terminal) or of build_in_child (progress on stdout)."""
    from core.errors import BrainError

    root, size = Path(argv[0]), argv[1]
    allow_temp = "--allow-temp-store" in argv[2:]
    try:
        if REPORT in argv[2:]:
            _report(root, size, allow_temp)
        else:
            build(root, size, allow_temp=allow_temp)
    except BrainError as e:
        print(" ".join(str(e).split()) or type(e).__name__, flush=True)
        return 1
    except KeyboardInterrupt:
        return 130  # the parent got the same ^C and says so; no second traceback
    return 0


def _report(root: Path, size: str, allow_temp: bool) -> None:
    from brain_tui.demo import build_demo

    def progress(done: int, total: int) -> None:
        print(f"progress {done} {total}", flush=True)

    build_demo(root, size=size, progress=progress, vectors=True, allow_temp=allow_temp)


def remove_demo(root: Path) -> None:
    """Only ever a store (or an empty folder) at the demo path: never anything else. It is
    renamed aside first, so an interrupted removal leaves the whole demo or none of it (the
    leftover aside is removed next time)."""
    aside = root.with_name(f".{root.name}.removing")
    shutil.rmtree(aside, ignore_errors=True)
    if not root.exists():
        return
    if not (root / "manifest.json").exists() and any(root.iterdir()):
        raise common.UsageError(
            f"{root} holds files but no store; it is not the demo, so it is left alone"
        )
    os.replace(root, aside)
    shutil.rmtree(aside)


def build(root: Path, size: str, allow_temp: bool) -> None:
    from brain_tui.demo import build_demo

    tty = sys.stderr.isatty()
    started = time.monotonic()
    last = [0.0]

    def line(what: str, done: int, total: int, unit: str) -> None:
        now = time.monotonic()
        if tty and (now - last[0] >= 0.1 or done >= total):
            last[0] = now
            pct = min(100, done * 100 // max(1, total))
            sys.stderr.write(f"\r\x1b[K{what}: {done:,}/{total:,} {unit} ({pct}%)")
            sys.stderr.flush()

    def progress(done: int, total: int) -> None:
        line("building the demo store", done, total, "rows")

    def embed_progress(done: int, total: int) -> None:
        line("storing the memories' embeddings", done, total, "memories")

    common.err(f"building the demo store at {root} …")
    build_demo(
        root,
        size=size,
        progress=progress,
        vectors=True,
        embed_progress=embed_progress,
        allow_temp=allow_temp,
    )
    if tty:
        sys.stderr.write("\r\x1b[K")
    common.err(f"built the demo store in {time.monotonic() - started:.1f} s")


def print_state(root: Path, allow_temp: bool, as_json: bool) -> int:
    from core.store import Store

    with Store.open(root, allow_temp=allow_temp, read_only=True) as store:
        st = store.state()
    if as_json:
        common.print_json(st)
        return 0
    for label, value in (
        ("demo store", common.clean(str(root))),
        ("head seq", f"{st.head_seq:,}"),
        ("memories", f"{st.memories:,} ({st.active:,} active, {st.tombstoned:,} tombstoned)"),
        ("state", st.state),
    ):
        common.out(f"{label + ':':<12}{value}")
    common.out(
        f"open it:    brain --store {common.clean(str(root))}   (or `brain demo` in a terminal)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(_child(sys.argv[1:]))
