"""Whole-process CLI latency, paired with the public reference implementation (issue 11 item 5).

Every figure is one fresh process, started the way a user starts it: the `brain` console script
next to this interpreter (else the same entry point via `python -c`), with PYTHONPATH set to
this repo ($BRAIN_BENCH_BRAIN names another command, e.g. the script of a fresh venv's install).
Measured: `brain --help`, `brain view PATH`, `brain put PATH` with the body on stdin
(a new path each time, and overwriting one path with a new body each time) and `brain search
WORD`, on a 200-memory store; `brain put` again while `brain mcp` holds the store open for
writing, so the put goes through its door (core/door.py), paired with cyberos's put; `brain hook
git` (a post-commit capture, on a commit made just before) writing itself and through the door
(no cyberos pair); the import floor of any put (the interpreter with fcntl, hashlib,
json, sqlite3 and msgspec, and of brain's only `core/__init__`, which makes msgspec's import
lean); and, for one `brain put`, the device syncs strace counts, on
that store and on one that 100 one-shot puts wrote (see _age_store); and `brain put` on a
store whose newest checkpoint is 900 rows back (all of them past it), which an open walks
again unless the digest an earlier open recorded still matches. Every repetition first
opens and closes the main store in-process, which checkpoints its index WAL, so the run's own
one-shot puts never push it past SQLite's auto-checkpoint: the aged store shows that case.

The reference is `cyberos` (its `modules/memory`), set up for this benchmark only under the
bench dir: extracted from a local mirror ($BRAIN_BENCH_CYBEROS_MIRROR, else the default below),
installed with pip into its own venv made by this interpreter's base Python (same version as
brain's), its store given the same 200 memories through its own CLI entry point. Its commands
run interleaved with brain's (the order alternates every round), so each ratio compares runs
made moments apart. Without the mirror or the install, brain's figures are printed alone, with
the reason.

`python -m tests.bench cli [--quick] [--reps N] [--rebuild]` (--rebuild reinstalls cyberos).
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from pathlib import Path

from core.store import Store
from tests.bench.common import REPO, Bench, Ctx, Metric, bench_dir, log, now, scratch
from tests.bench.corpus import Corpus

MEMORIES = 200
AGED_PUTS = 100  # one-shot puts before the "aged store" sync count
# Rows past the newest checkpoint in the "long tail" store (a checkpoint comes every 1,000): what
# an open verifies again unless an earlier open's digest of them still matches.
TAIL_ROWS = 900
MIRROR = Path(
    os.environ.get("BRAIN_BENCH_CYBEROS_MIRROR") or "/work/.mirror/cyberskill-official+cyberos/repo"
)
SYNCS = ("fsync", "fdatasync", "syncfs", "msync")
TIMEOUT = 120  # s, one command


# --- the two tools -------------------------------------------------------------------------


def _env() -> dict[str, str]:
    d = bench_dir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "BRAIN_ALLOW_TEMP_STORE": "1"}
    env["BRAIN_ACTOR"] = "agent:bench@localhost"
    env["XDG_STATE_HOME"] = str(d / "xdg-state")  # checkpoint witnesses stay in the bench dir
    env["XDG_CONFIG_HOME"] = str(d / "xdg-config")
    # PYTHONDONTWRITEBYTECODE (set in some dev shells) would make brain compile every module
    # from source on every run (~30 ms), while cyberos, installed by pip, runs from bytecode
    # compiled at install: both run from cached bytecode, as installed tools do.
    drop = ("BRAIN_PASSPHRASE", "BRAIN_DEBUG", "CYBEROS_STORE", "CYBEROS_BRAIN_HOME")
    for k in (*drop, "PYTHONDONTWRITEBYTECODE"):
        env.pop(k, None)
    return env


def _brain_cmd() -> list[str]:
    if os.environ.get("BRAIN_BENCH_BRAIN"):  # another install's console script, e.g. a fresh venv
        return shlex.split(os.environ["BRAIN_BENCH_BRAIN"])
    script = Path(sys.executable).parent / "brain"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [
        sys.executable,
        "-c",
        "import sys; from brain_tui.cli.main import entry; sys.exit(entry())",
    ]


def _run(cmd: list[str], body: bytes | None = None, cwd: Path | None = None) -> float:
    """Seconds from spawn to exit of one command; it must succeed."""
    t0 = now()
    out = subprocess.run(
        cmd,
        input=body,
        stdin=None if body is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(),
        cwd=cwd or bench_dir(),
        timeout=TIMEOUT,
    )
    took = now() - t0
    if out.returncode:
        err = out.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(cmd[-4:])} exited {out.returncode}:\n{err}")
    return took


def _syncs(cmd: list[str], body: bytes) -> float:
    """Device syncs (fsync, fdatasync, syncfs, msync) the command makes, its children included;
    NaN when strace is missing or not allowed here."""
    strace = shutil.which("strace")
    if not strace:
        return float("nan")
    with tempfile.NamedTemporaryFile("r", dir=bench_dir(), suffix=".strace") as f:
        trace = [strace, "-f", "-c", "-o", f.name, "-e", f"trace={','.join(SYNCS)}"]
        try:
            _run([*trace, *cmd], body)
        except RuntimeError as e:
            log(f"cli: strace failed, no sync count: {str(e).splitlines()[-1]}")
            return float("nan")
        calls = 0
        for line in f.read().splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[-1] in SYNCS:
                calls += int(parts[3])
    return float(calls)


# --- cyberos: extract, install, store ------------------------------------------------------


def _commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(MIRROR), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(f"no cyberos mirror at {MIRROR}: {out.stderr.strip()}")
    return out.stdout.strip()


def _base_python() -> str:
    """The interpreter this venv was made from: both tools then run the same Python."""
    v = sys.version_info
    cand = Path(sys.base_prefix) / "bin" / f"python{v.major}.{v.minor}"
    return str(cand) if cand.exists() else (shutil.which("python3") or sys.executable)


def _install_cyberos(rebuild: bool) -> Path:
    """cyberos's console script in its own venv under the bench dir, reused while the mirror's
    commit and this Python's version stay the same."""
    home = bench_dir() / "cyberos-ref"
    stamp = bench_dir() / "cyberos-ref.ok"
    key = f"{_commit()} python {sys.version.split()[0]}"
    script = home / "venv" / "bin" / "cyberos"
    if not rebuild and stamp.exists() and stamp.read_text() == key and script.exists():
        return script
    stamp.unlink(missing_ok=True)
    shutil.rmtree(home, ignore_errors=True)
    src = home / "src"
    src.mkdir(parents=True)
    log(f"cli: installing cyberos {key[:12]} from {MIRROR} into {home} ...")
    t0 = now()
    archive = subprocess.run(
        ["git", "-C", str(MIRROR), "archive", "HEAD", "modules/memory"],
        capture_output=True,
        check=True,
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(src, filter="data")
    steps = [
        [_base_python(), "-m", "venv", str(home / "venv")],
        [str(home / "venv" / "bin" / "pip"), "install", "-q", str(src / "modules" / "memory")],
    ]
    for step in steps:
        out = subprocess.run(step, capture_output=True, text=True, timeout=600)
        if out.returncode:
            tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"`{' '.join(step[:3])} ...` failed: {' | '.join(tail)}")
    if not script.exists():
        raise RuntimeError(f"the install made no {script}")
    log(f"  installed in {now() - t0:.1f} s")
    stamp.write_text(key)
    return script


def _cyberos_body(path: str, body: str, tags: list[str], n: int) -> bytes:
    """cyberos wants a JSON frontmatter block on every memory."""
    kind = path.split("/")[1].removesuffix("s")
    fm = {
        "actor": "agent:bench@localhost",
        "id": f"BENCH-{n}",
        "kind": kind,
        "tags": tags,
        "ts_ns": 1_715_126_400_000_000_000 + n,
    }
    return f"---\n{json.dumps(fm, sort_keys=True, separators=(',', ':'))}\n---\n{body}".encode()


def _fill_cyberos(python: Path, root: Path, mems: list) -> None:
    """The 200 memories, written by one process through cyberos's own CLI entry point."""
    with scratch("cli-cyberos-bodies") as staged:
        staged.mkdir(parents=True)
    listing = []
    for i, m in enumerate(mems):
        f = staged / f"{i}.md"
        f.write_bytes(_cyberos_body(m.path, m.body, m.tags, i))
        listing.append(f"{m.path}\t{f}")
    (staged / "list.tsv").write_text("\n".join(listing) + "\n")
    prog = (
        "import sys\n"
        "from cyberos.__main__ import main\n"
        "store, listing = sys.argv[1:3]\n"
        "for line in open(listing):\n"
        "    path, body = line.rstrip('\\n').split('\\t')\n"
        "    if main(['--store', store, 'put', path, body]):\n"
        "        sys.exit(f'put {path} failed')\n"
    )
    _run([str(python), "-c", prog, str(root), str(staged / "list.tsv")])


# --- setup, one repetition, teardown -------------------------------------------------------


def _word(mems: list) -> str:
    """The most common plain word among the tags: a search with several hits."""
    words = Counter(t for m in mems for t in m.tags if re.fullmatch(r"[a-z]{4,}", t))
    return words.most_common(1)[0][0]


def _editable_finder() -> str | None:
    """An editable install made as an import hook (setuptools' "finder", written when the
    project's layout once needed one) runs at every interpreter start: ~10 ms of pathlib, re
    and urllib before brain's first line. The current pyproject gets a plain .pth line."""
    import site
    import sysconfig

    dirs = {sysconfig.get_paths()["purelib"], *getattr(site, "getsitepackages", list)()}
    for d in dirs:
        for pth in Path(d).glob("__editable__*brain_tui*.pth"):
            if "import " in pth.read_text(errors="replace"):
                return str(pth)
    return None


def setup(ctx: Ctx) -> None:
    mems = Corpus(seed=23).memories(MEMORIES)
    sh = ctx.shared
    if not os.environ.get("BRAIN_BENCH_BRAIN") and (finder := _editable_finder()):
        sh.setdefault("notes", []).append(
            f"brain's venv starts an editable-install import hook ({finder}): ~10 ms of every"
            " brain figure, `python -c pass` included; `pip install -e .` again writes a plain"
            " path line instead"
        )
    sh["cli-word"] = _word(mems)
    sh["cli-view"] = mems[MEMORIES // 2].path
    sh["cli-brain"] = _brain_cmd()
    with scratch("cli-brain") as root:
        t0 = now()
        with Store.init(root, allow_temp=True) as store:
            store.batch(
                [Store.put_intent(m.path, m.body, tags=m.tags, category=m.category) for m in mems],
                "agent:bench@localhost",
            )
            store.wait_index()
        sh["cli-brain-store"] = root
        log(f"cli: brain store of {MEMORIES} memories in {now() - t0:.1f} s: {root}")
    with scratch("cli-brain-tail") as root:
        with Store.init(root, allow_temp=True) as store:
            bodies = [
                (f"memories/facts/tail/m{i}.md", f"# tail {i}\n\nrow {i}\n")
                for i in range(TAIL_ROWS)
            ]
            store.batch([Store.put_intent(p, b) for p, b in bodies], "agent:bench@localhost")
            assert store.last_checkpoint is None  # every row is past the newest checkpoint
        sh["cli-brain-tail"] = root
    try:
        script = _install_cyberos(ctx.rebuild)
        with scratch("cli-cyberos") as root:
            t0 = now()
            _run([str(script), "--store", str(root), "init"])
            _fill_cyberos(script.parent / "python", root, mems)
            sh["cli-cyberos"] = [str(script), "--store", str(root)]
            log(f"cli: cyberos store of {MEMORIES} memories in {now() - t0:.1f} s: {root}")
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        why = f"cyberos reference skipped: {e}"
        sh.setdefault("notes", []).append(why)
        log(f"cli: {why}")
    if not shutil.which("strace"):
        sh.setdefault("notes", []).append("strace not found: device syncs not counted")
    if shutil.which("strace"):
        _age_store(ctx)
    # Warm-up: compiled bytecode on disk, both tools' files in the page cache.
    for _ in range(2):
        _round(ctx, first_brain=True, tag="warm")


def _age_store(ctx: Ctx) -> None:
    """A store written only by one-shot CLI puts: they exit without SQLite's close-time
    checkpoint, so the index's WAL only grows; past 1,000 pages (~70 puts) SQLite's
    auto-checkpoint runs in every later put."""
    with scratch("cli-brain-aged") as root:
        Store.init(root, allow_temp=True).close()
        t0 = now()
        for i in range(AGED_PUTS):
            text = f"# aged {i}\n\nOne of {AGED_PUTS} one-shot puts, number {i}.\n"
            _run(
                [
                    *ctx.shared["cli-brain"],
                    "--store",
                    str(root),
                    "put",
                    f"memories/facts/aged/m{i}.md",
                ],
                text.encode(),
            )
        wal = root / "index" / "brain.sqlite-wal"
        size = wal.stat().st_size if wal.exists() else 0
        log(f"cli: {AGED_PUTS} one-shot puts in {now() - t0:.1f} s; index WAL {size / 1e6:.1f} MB")
        ctx.shared["cli-brain-aged"] = root


def _round(ctx: Ctx, first_brain: bool, tag: str) -> dict[str, float]:
    """One run of every command, brain's and cyberos's in turn (which goes first alternates)."""
    sh = ctx.shared
    brain = [*sh["cli-brain"], "--store", str(sh["cli-brain-store"])]
    cy = sh.get("cli-cyberos")
    sh["cli-n"] = n = sh.get("cli-n", 0) + 1
    text = f"# bench {tag} {n}\n\nA body written by the cli benchmark, run {n} ({tag}).\n"
    new = f"memories/facts/cli/{tag}-{n}.md"
    over = _OVER
    cy_body = _cyberos_body(new, text, ["bench"], 10_000 + n)
    pairs: list[tuple[str, list[str], bytes | None, list[str] | None, bytes | None]] = [
        (
            "view",
            [*brain, "view", sh["cli-view"]],
            None,
            cy and [*cy, "view", sh["cli-view"]],
            None,
        ),
        (
            "put_new",
            [*brain, "put", new],
            text.encode(),
            cy and [*cy, "put", new, "/dev/stdin"],
            cy_body,
        ),
        (
            "put_over",
            [*brain, "put", over],
            text.encode(),
            cy and [*cy, "put", over, "/dev/stdin"],
            cy_body,
        ),
        (
            "search",
            [*brain, "search", sh["cli-word"]],
            None,
            cy and [*cy, "search", sh["cli-word"]],
            None,
        ),
        ("help", [*sh["cli-brain"], "--help"], None, cy and [cy[0], "--help"], None),
    ]
    res = {"python": _run([sys.executable, "-c", "pass"])}
    # What any put pays before its own code: the interpreter and the modules a write needs
    # (msgspec: DESIGN makes the on-disk types msgspec Structs). Paired with cyberos's put,
    # it shows how much of the 0.5x budget is left to the engine.
    res["floor_put"] = _run([sys.executable, "-c", _PUT_FLOOR])
    for key, bcmd, bbody, ccmd, cbody in pairs:
        order = [("brain", bcmd, bbody), ("cy", ccmd, cbody)]
        for who, cmd, body in order if first_brain else order[::-1]:
            if cmd:
                res[f"{who}_{key}"] = _run(cmd, body)
    tail = [*sh["cli-brain"], "--store", str(sh["cli-brain-tail"]), "put", new]
    res["brain_put_tail"] = _run(tail, text.encode())
    res["hook_git"] = _hook_git(ctx)
    return res


# `core` first, as every brain command imports it: msgspec then loads without typing_extensions
# (core/lean_imports.py), as it does in a put.
_PUT_FLOOR = "import core, fcntl, sqlite3, msgspec"


def _hook_git(ctx: Ctx) -> float:
    """`brain hook git` as a post-commit hook runs it, on a commit made just before (untimed);
    NaN without git."""
    sh = ctx.shared
    repo = sh.get("cli-repo")
    if repo is None:
        if not shutil.which("git"):
            return float("nan")
        with scratch("cli-repo") as repo:
            repo.mkdir(parents=True)
            _git(repo, "init", "-q")
        sh["cli-repo"] = repo
    sh["cli-commits"] = n = sh.get("cli-commits", 0) + 1
    (repo / f"module_{n}.py").write_text(f"VALUE = {n}\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", f"Add module {n}\n\nWritten by the cli benchmark.")
    return _run([*sh["cli-brain"], "--store", str(sh["cli-brain-store"]), "hook", "git"], cwd=repo)


def _git(repo: Path, *args: str) -> None:
    who = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.org"}
    who |= {"GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env={**_env(), **who})


def _door_round(ctx: Ctx, first_brain: bool, tag: str) -> dict[str, float]:
    """`brain put` while a long-lived writer (`brain mcp`) has the store open: the put goes
    through its door (core/door.py). Paired with cyberos's put in the same round."""
    sh = ctx.shared
    brain = [*sh["cli-brain"], "--store", str(sh["cli-brain-store"])]
    cy = sh.get("cli-cyberos")
    sh["cli-n"] = n = sh.get("cli-n", 0) + 1
    text = f"# door {tag} {n}\n\nA body written through the door, run {n} ({tag}).\n"
    res: dict[str, float] = {}
    for key, path in (("new", f"memories/facts/cli/door-{tag}-{n}.md"), ("over", _OVER)):
        order = [("door", [*brain, "put", path], text.encode())]
        if cy:
            body = _cyberos_body(path, text, ["bench"], 30_000 + n)
            order.append(("door_cy", [*cy, "put", path, "/dev/stdin"], body))
        for who, cmd, b in order if first_brain else order[::-1]:
            res[f"{who}_put_{key}"] = _run(cmd, b)
    res["door_hook_git"] = _hook_git(ctx)
    return res


def _open_door_host(root: Path) -> subprocess.Popen:
    """`brain mcp` on root (stdin held open) once its door answers."""
    from core import door

    host = subprocess.Popen(
        [*_brain_cmd(), "mcp", "--store", str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        cwd=bench_dir(),
    )
    where = door.socket_path(os.path.realpath(root))
    t0 = now()
    while where is not None and now() - t0 < TIMEOUT and host.poll() is None:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(where)
            return host
        except OSError:
            time.sleep(0.05)
        finally:
            probe.close()
    _close_host(host)
    raise RuntimeError("brain mcp opened no door (doors off, or no private folder for them)")


def _close_host(host: subprocess.Popen) -> None:
    if host.stdin is not None:
        host.stdin.close()
    try:
        host.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        host.kill()
        host.wait()


_OVER = "memories/facts/cli/overwritten.md"


def run(ctx: Ctx) -> dict[str, float]:
    Store.open(ctx.shared["cli-brain-store"], allow_temp=True).close()  # WAL checkpointed
    rounds = [_round(ctx, first_brain=i % 2 == 0, tag=f"r{ctx.rep}") for i in range(ctx.n(5, 3))]
    res = {k: statistics.median(r[k] for r in rounds) * 1000 for k in rounds[0]}  # ms
    sh = ctx.shared
    body = f"# synced\n\nstrace run {ctx.rep}\n".encode()
    path = f"memories/facts/cli/strace-{ctx.rep}.md"
    res["brain_syncs"] = _syncs(
        [*sh["cli-brain"], "--store", str(sh["cli-brain-store"]), "put", path], body
    )
    if sh.get("cli-brain-aged"):
        res["brain_syncs_aged"] = _syncs(
            [*sh["cli-brain"], "--store", str(sh["cli-brain-aged"]), "put", path], body
        )
    if sh.get("cli-cyberos"):
        cy_body = _cyberos_body(path, body.decode(), ["bench"], 20_000 + ctx.rep)
        res["cy_syncs"] = _syncs([*sh["cli-cyberos"], "put", path, "/dev/stdin"], cy_body)
    # After the sync counts: the host's close empties the index WAL, and the first one-shot put
    # on a new WAL pays SQLite's syncs of its header and folder (docs/durability.md).
    try:
        host = _open_door_host(ctx.shared["cli-brain-store"])
    except (RuntimeError, OSError) as e:
        log(f"cli: no door rows: {e}")
    else:
        try:
            tag = f"d{ctx.rep}"
            door = [_door_round(ctx, first_brain=i % 2 == 0, tag=tag) for i in range(ctx.n(5, 3))]
        finally:
            _close_host(host)
        res.update({k: statistics.median(r[k] for r in door) * 1000 for k in door[0]})
    return {k: v for k, v in res.items() if v == v}  # NaN: not measured, left out of the table


def _ms_at_most(limit: float, ratio: float | None = None):
    def check(med: float, r: float | None) -> bool:
        return med <= limit and (ratio is None or r is None or r <= ratio)

    return check


BENCHES = [
    Bench(
        "cli",
        run,
        [
            Metric("python", "cli: `python -c pass` (interpreter start, floor)", "ms"),
            Metric(
                "floor_put",
                "cli: `python -c 'import …msgspec'` (a put's import floor)",
                "ms",
                pair_label="cyberos put",
                pair="cy_put_new",
            ),
            Metric(
                "brain_help",
                "cli: brain --help",
                "ms",
                goal="≤ 40 ms",
                check=_ms_at_most(40),
                pair_label="cyberos",
                pair="cy_help",
            ),
            Metric(
                "brain_view",
                f"cli: brain view ({MEMORIES}-memory store)",
                "ms",
                goal="≤ 60 ms, ≤ 0.50×",
                check=_ms_at_most(60, 0.5),
                pair_label="cyberos",
                pair="cy_view",
            ),
            Metric(
                "brain_put_new",
                "cli: brain put, new path (stdin body)",
                "ms",
                goal="≤ 120 ms, ≤ 0.50×",
                check=_ms_at_most(120, 0.5),
                pair_label="cyberos",
                pair="cy_put_new",
            ),
            Metric(
                "brain_put_over",
                "cli: brain put, overwrite (stdin body)",
                "ms",
                goal="≤ 120 ms, ≤ 0.50×",
                check=_ms_at_most(120, 0.5),
                pair_label="cyberos",
                pair="cy_put_over",
            ),
            Metric(
                "brain_put_tail",
                f"  same, {TAIL_ROWS} rows past the store's newest checkpoint",
                "ms",
                pair_label="cyberos",
                pair="cy_put_new",
            ),
            Metric(
                "door_put_new",
                "cli: brain put, new path, beside `brain mcp` (its door)",
                "ms",
                goal="≤ 0.50×",
                check=_ms_at_most(120, 0.5),
                pair_label="cyberos",
                pair="door_cy_put_new",
            ),
            Metric(
                "door_put_over",
                "cli: brain put, overwrite, beside `brain mcp` (its door)",
                "ms",
                goal="≤ 0.50×",
                check=_ms_at_most(120, 0.5),
                pair_label="cyberos",
                pair="door_cy_put_over",
            ),
            Metric("hook_git", "cli: brain hook git (a post-commit capture)", "ms"),
            Metric(
                "door_hook_git",
                "cli: brain hook git beside `brain mcp` (its door)",
                "ms",
                pair_label="writing itself",
                pair="hook_git",
            ),
            Metric(
                "brain_search",
                f"cli: brain search WORD ({MEMORIES}-memory store)",
                "ms",
                pair_label="cyberos",
                pair="cy_search",
            ),
            Metric(
                "brain_syncs",
                "cli: device syncs of one brain put (strace)",
                "syncs",
                goal="≤ 2",
                check=lambda med, _r: med <= 2,
                pair_label="cyberos",
                pair="cy_syncs",
            ),
            Metric(
                "brain_syncs_aged",
                f"  same, store written by {AGED_PUTS} one-shot puts before",
                "syncs",
                goal="≤ 2",
                check=lambda med, _r: med <= 2,
                pair_label="cyberos",
                pair="cy_syncs",
            ),
        ],
        setup=setup,
    )
]
