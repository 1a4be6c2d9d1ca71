"""The `brain` CLI end to end: real subprocesses over a real store under tmp_path."""

from __future__ import annotations

import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ACTOR = "agent:cli-test"
MEM = "memories/facts/penguins.md"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_DEBUG")}
    env.update(BRAIN_ALLOW_TEMP_STORE="1", BRAIN_ACTOR=ACTOR, PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def brain(
    *args: str,
    input: bytes | None = b"",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run `brain ARGS` (stdin empty unless given) and return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", *args],
        input=input,
        capture_output=True,
        env=env or _env(),
        cwd=cwd,
        timeout=60,
    )


def ok(*args: str, **kw) -> subprocess.CompletedProcess[bytes]:
    p = brain(*args, **kw)
    assert p.returncode == 0, p.stderr.decode()
    return p


def one_line_error(p: subprocess.CompletedProcess[bytes], code: int = 1) -> str:
    """Assert the process failed with exactly one `brain: error:` line and no traceback."""
    err = p.stderr.decode()
    assert p.returncode == code, (p.returncode, err)
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("brain: error: "), err
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> str:
    """An empty store, made in-process to save a subprocess (`brain init` has its own tests)."""
    from core.store import Store

    root = tmp_path / "store"
    Store.init(root, allow_temp=True).close()
    return str(root)


def put(store: str, path: str, body: bytes, *flags: str) -> dict:
    return json.loads(ok("--store", store, "put", path, "-", "--json", *flags, input=body).stdout)


# -- init ---------------------------------------------------------------------------------------


def test_init_prints_root_and_id_and_refuses_a_second_time(tmp_path: Path) -> None:
    root = tmp_path / "s"
    p = ok("init", "--store", str(root), "--json")
    doc = json.loads(p.stdout)
    assert doc["root"] == str(root) and len(doc["store_id"]) == 32
    assert (root / "manifest.json").exists()
    msg = one_line_error(brain("--store", str(root), "init"))
    assert "already exists" in msg


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc and /sys")
def test_init_where_no_folder_can_be_made_says_which_and_why() -> None:
    for root, why in (("/proc/brain-x", "no such file"), ("/sys/brain-x", "not permitted")):
        msg = one_line_error(brain("init", "--store", root, "--allow-temp-store"))
        assert f"cannot create the store folder {root}: " in msg and why in msg, msg
        assert "Error" not in msg and "Errno" not in msg, msg


def test_temp_store_needs_the_flag(tmp_path: Path) -> None:
    env = _env()
    del env["BRAIN_ALLOW_TEMP_STORE"]
    root = str(tmp_path / "s")
    msg = one_line_error(brain("--store", root, "init", env=env))
    assert "--allow-temp-store" in msg
    ok("init", "--store", root, "--allow-temp-store", env=env)  # the flag after the command


def test_store_from_env_var(tmp_path: Path) -> None:
    root = tmp_path / "viaenv"
    env = _env(CYBEROS_BRAIN_HOME=str(root))
    assert str(root) in ok("init", env=env).stdout.decode()
    assert json.loads(ok("state", "--json", env=env).stdout)["root"] == str(root)


def test_missing_store_names_brain_init(tmp_path: Path) -> None:
    msg = one_line_error(brain("--store", str(tmp_path / "none"), "state"))
    assert "brain init" in msg


# -- put / view -----------------------------------------------------------------------------------


def test_put_from_file_and_view_exact_bytes(store: str, tmp_path: Path) -> None:
    body = "Penguins: café\r\nno trailing newline ✓".encode()
    f = tmp_path / "body.md"
    f.write_bytes(body)
    out = ok("--store", store, "put", MEM, str(f)).stdout.decode()
    assert out.startswith("put  seq 1  " + MEM)
    assert ok("--store", store, "view", MEM).stdout == body
    from core.store import Store

    with Store.open(store, allow_temp=True) as s:  # the view was journaled as an access
        assert s.memories()[0].accesses == 1


def test_put_from_stdin_with_and_without_dash(store: str) -> None:
    ok("--store", store, "put", "memories/facts/a.md", input=b"from stdin\n")
    ok("--store", store, "put", "memories/facts/b.md", "-", input=b"from dash\n")
    assert ok("--store", store, "view", "memories/facts/a.md").stdout == b"from stdin\n"
    assert ok("--store", store, "view", "memories/facts/b.md").stdout == b"from dash\n"


def test_put_with_frontmatter_and_flags(store: str) -> None:
    body = b"---\ntitle: Penguin facts\ntags: [birds, antarctica]\n---\nThey cannot fly.\n"
    put(store, MEM, body, "--classification", "public")
    doc = json.loads(ok("--store", store, "view", MEM, "--json").stdout)
    side = doc["sidecar"]
    assert side["title"] == "Penguin facts"
    assert side["tags"] == ["birds", "antarctica"]
    assert side["classification"] == "public"
    assert side["actor"] == ACTOR
    assert doc["body"] == "They cannot fly.\n"
    meta = ok("--store", store, "view", MEM, "--meta").stdout.decode()
    assert "title: Penguin facts" in meta and "tags: birds, antarctica" in meta
    # Flags win over frontmatter.
    put(store, "memories/facts/t.md", body, "--title", "Flag title", "--tag", "x", "--tag", "y")
    side = json.loads(ok("--store", store, "view", "memories/facts/t.md", "--json").stdout)
    assert (side["sidecar"]["title"], side["sidecar"]["tags"]) == ("Flag title", ["x", "y"])


def test_kind_flag_must_match_the_path(store: str) -> None:
    msg = one_line_error(brain("--store", store, "put", MEM, "--kind", "people", input=b"x"))
    assert "--kind people" in msg and "facts" in msg


def test_idempotent_put_says_unchanged(store: str) -> None:
    first = put(store, MEM, b"same body\n")
    out = ok("--store", store, "put", MEM, input=b"same body\n").stdout.decode()
    assert out.startswith("unchanged  seq 1 ")
    assert first["commit"] in out
    assert json.loads(ok("--store", store, "state", "--json").stdout)["head_seq"] == 1


def test_put_if(store: str) -> None:
    first = put(store, MEM, b"v1\n", "--if-commit", "")  # "" = must not exist yet
    msg = one_line_error(brain("--store", store, "put", MEM, "--if-commit", "", input=b"v2\n"))
    assert "put_if" in msg and "re-read" in msg
    wrong = "0" * 64
    msg = one_line_error(brain("--store", store, "put", MEM, "--if-commit", wrong, input=b"v2"))
    assert wrong in msg
    second = put(store, MEM, b"v2\n", "--if-commit", first["commit"])
    assert second["changed"] and second["seq"] > first["seq"]
    assert ok("--store", store, "view", MEM).stdout == b"v2\n"


# -- move / delete / history ----------------------------------------------------------------------


def test_move_and_history_follow_the_memory(store: str) -> None:
    put(store, MEM, b"v1\n")
    put(store, MEM, b"v2\n")
    dst = "memories/facts/birds/penguins.md"
    out = ok("--store", store, "move", MEM, dst).stdout.decode()
    assert f"{MEM} -> {dst}" in out
    assert one_line_error(brain("--store", store, "view", MEM)).endswith("no such memory")
    assert ok("--store", store, "view", dst).stdout == b"v2\n"
    rows = json.loads(ok("--store", store, "history", dst, "--json").stdout)
    assert [(r["op"], r["path"]) for r in rows] == [("put", MEM), ("put", MEM), ("move", dst)]
    text = ok("--store", store, "history", dst).stdout.decode().splitlines()
    assert len(text) == 3 and " move " in text[2]


def test_tombstone(store: str) -> None:
    put(store, MEM, b"soon gone\n")
    out = ok("--store", store, "delete", MEM).stdout.decode()
    assert out.startswith("tombstoned  seq 2")
    side = json.loads(ok("--store", store, "view", MEM, "--meta", "--json").stdout)["sidecar"]
    assert side["state"] == "tombstoned"


def test_purge_needs_a_reason_then_destroys(store: str) -> None:
    put(store, MEM, b"secret penguin\n")
    msg = one_line_error(brain("--store", store, "delete", MEM, "--mode", "purge"))
    assert "--reason" in msg
    ok("--store", store, "view", MEM)  # still there
    out = ok(
        "--store", store, "delete", MEM, "--mode", "purge", "--reason", "user-request", "--yes"
    ).stdout.decode()
    assert out.startswith("purged  seq 2")
    assert "purged" in one_line_error(brain("--store", store, "view", MEM))
    assert json.loads(ok("--store", store, "search", "secret", "--json").stdout) == []


# -- state / tail / search / reindex --------------------------------------------------------------


def test_state_json(store: str) -> None:
    put(store, MEM, b"x\n")
    st = json.loads(ok("--store", store, "state", "--json").stdout)
    assert (st["root"], st["state"], st["head_seq"], st["active"]) == (store, "READY", 1, 1)
    text = ok("--store", store, "state").stdout.decode()
    assert "READY" in text and "head seq:" in text


def test_tail_text_json_and_filters(store: str) -> None:
    put(store, "memories/facts/a.md", b"a\n")
    put(store, "memories/people/b.md", b"b\n", "--actor", "agent:other")
    ok("--store", store, "delete", "memories/facts/a.md")
    lines = [json.loads(x) for x in ok("--store", store, "tail", "--json").stdout.splitlines()]
    assert [r["seq"] for r in lines] == [1, 2, 3]
    assert lines[1]["actor"] == "agent:other" and len(lines[0]["chain"]) == 64
    text = ok("--store", store, "tail").stdout.decode().splitlines()
    assert len(text) == 3
    assert text[0].split()[:3][0] == "1" and text[0].split()[2] == "put"
    assert lines[0]["chain"][:12] in text[0] and "T" in text[0].split()[1]

    def seqs(*flags: str) -> list[int]:
        out = ok("--store", store, "tail", "--json", *flags).stdout.splitlines()
        return [json.loads(x)["seq"] for x in out]

    assert seqs("--from", "2") == [2, 3]
    assert seqs("--limit", "1") == [3]  # without --from: the last N
    assert seqs("--op", "delete") == [3]
    assert seqs("--actor", "agent:other") == [2]
    assert seqs("--path-prefix", "memories/people/") == [2]


def test_search_finds_the_memory_with_a_snippet(store: str) -> None:
    body = b"---\ntitle: Emperor penguins\n---\nEmperor penguins huddle through the winter.\n"
    put(store, MEM, body, "--tag", "birds")
    put(store, "memories/people/ana.md", b"Ana likes tea.\n")
    out = ok("--store", store, "search", "huddle").stdout.decode().splitlines()
    assert out[0].startswith(f"{MEM}  Emperor penguins  (score ")
    assert "[huddle]" in out[1]
    hits = json.loads(ok("--store", store, "search", "penguins", "--json", "--tag", "birds").stdout)
    assert [h["path"] for h in hits] == [MEM] and "[" in hits[0]["snippet"]
    assert (
        json.loads(ok("--store", store, "search", "penguins", "--kind", "people", "--json").stdout)
        == []
    )
    nothing = ok("--store", store, "search", "zebra")
    assert nothing.stdout == b"" and b"no matches" in nothing.stderr


def test_reindex(store: str) -> None:
    put(store, MEM, b"penguins\n")
    put(store, "memories/facts/b.md", b"other\n")
    assert ok("--store", store, "reindex").stdout.decode().startswith("reindexed 2 memories")
    assert json.loads(ok("--store", store, "reindex", "--json").stdout)["memories"] == 2
    assert b"penguins" in ok("--store", store, "search", "penguins").stdout


# -- errors ---------------------------------------------------------------------------------------


def test_bad_path_is_one_line(store: str) -> None:
    msg = one_line_error(brain("--store", store, "put", "../x.md", input=b"x"))
    assert "../x.md" in msg
    one_line_error(brain("--store", store, "view", "/etc/passwd"))


def test_usage_errors_exit_2(store: str) -> None:
    assert brain("frobnicate").returncode == 2
    assert brain("--store", store, "put").returncode == 2
    p = brain("--store", store, "delete", MEM, "--mode", "shred")
    assert p.returncode == 2 and b"Traceback" not in p.stderr
    help_ = ok("--help").stdout.decode()
    assert all(c in help_ for c in ("init", "put", "tail", "reindex"))


def test_unexpected_error_is_one_line_with_a_hint(store: str) -> None:
    code = (
        "import sys; from brain_tui.cli import main, cmd_state\n"
        "def boom(args): raise RuntimeError('kaboom')\n"
        "cmd_state.run = boom\n"
        f"sys.exit(main.main(['--store', {store!r}, 'state']))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=_env(), timeout=60)
    msg = one_line_error(p)
    assert "kaboom" in msg and "BRAIN_DEBUG=1" in msg


# -- follow and lazy imports ----------------------------------------------------------------------


def _read_line(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> bytes:
    """One stdout line from a running process, or fail after timeout seconds."""
    assert proc.stdout is not None
    fd, buf, deadline = proc.stdout.fileno(), b"", time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        assert left > 0, f"no line within {timeout}s (got {buf!r})"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 4096)
            assert chunk, f"stdout closed (got {buf!r})"
            buf += chunk
    return buf


def test_follow_prints_rows_from_another_process_and_stops_on_sigint(store: str) -> None:
    put(store, MEM, b"first\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "brain_tui.cli.main", "--store", store, "tail", "-f", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    try:
        assert json.loads(_read_line(proc))["seq"] == 1
        put(store, "memories/facts/second.md", b"second\n")
        row = json.loads(_read_line(proc))
        assert (row["seq"], row["path"]) == (2, "memories/facts/second.md")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _loaded(
    calls: list[str], bad: tuple[str, ...], *, packages: bool = False, **env: str
) -> subprocess.CompletedProcess[bytes]:
    """Run `main` calls (lines of code) in a fresh interpreter, which then prints to stderr
    `LOADED [...]`: the modules of `bad` it imported (packages=True: by top-level package)."""
    names = "{m.split('.')[0] for m in sys.modules}" if packages else "set(sys.modules)"
    code = "".join(
        [
            "import sys; from brain_tui.cli.main import main\n",
            *(f"{line}\n" for line in calls),
            f"print('LOADED', sorted({names} & set({bad!r})), file=sys.stderr)\n",
        ]
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, env=_env(**env), timeout=60
    )


def test_put_view_search_do_not_import_the_ui(store: str, tmp_path: Path) -> None:
    body = tmp_path / "b.md"
    body.write_bytes(b"lazy penguins\n")
    calls = [
        f"s = {store!r}",
        f"assert main(['--store', s, 'put', {MEM!r}, {str(body)!r}]) == 0",
        f"assert main(['--store', s, 'view', {MEM!r}]) == 0",
        "assert main(['--store', s, 'search', 'penguins']) == 0",
    ]
    bad = ("textual", "rich", "sentence_transformers", "torch", "screens", "widgets")
    p = _loaded(calls, bad, packages=True)
    assert p.returncode == 0, p.stderr.decode()
    assert b"LOADED []" in p.stderr


def test_a_small_put_does_not_load_openssl(store: str, tmp_path: Path) -> None:
    """Issue 11: OpenSSL's SHA-256 (`_hashlib`, libcrypto) is the largest single import of a
    cold put (~3 ms); a put of a small body hashes with CPython's builtin (core.digest), a
    large one loads OpenSSL, and both write the same commitments."""
    small, large = tmp_path / "small.md", tmp_path / "large.md"
    small.write_bytes(b"small penguins\n")
    large.write_bytes(b"large penguins\n" * 40_000)  # 600 KB: above core.digest.LARGE
    for body, loaded in ((small, b"LOADED []"), (large, b"LOADED ['_hashlib', 'hashlib']")):
        calls = [f"assert main(['--store', {store!r}, 'put', {MEM!r}, {str(body)!r}]) == 0"]
        p = _loaded(calls, ("_hashlib", "hashlib"))
        assert p.returncode == 0, p.stderr.decode()
        assert loaded in p.stderr, p.stderr.decode()
    assert brain("--store", store, "doctor").returncode == 0


def test_read_commands_load_no_cryptography_and_write_no_index(store: str) -> None:
    """view, search, tail and history (issue 11): no signature is checked, so cryptography is
    never imported, nor the UI; and a read-only open leaves the index's files untouched."""
    put(store, MEM, b"read-only penguins\n")
    index = Path(store) / "index"

    def snapshot() -> dict[str, tuple[int, int]]:
        # The WAL's shared-memory file takes a reader's read marks: SQLite's own bookkeeping,
        # not a write to the index (the database and its WAL).
        files = [f for f in index.iterdir() if not f.name.endswith("-shm")]
        return {f.name: (f.stat().st_size, f.stat().st_mtime_ns) for f in files}

    before = snapshot()
    calls = [
        f"s = {store!r}",
        f"assert main(['--store', s, 'view', {MEM!r}]) == 0",
        f"assert main(['--store', s, 'view', '--meta', {MEM!r}]) == 0",
        "assert main(['--store', s, 'search', 'penguins']) == 0",
        "assert main(['--store', s, 'tail']) == 0",
        f"assert main(['--store', s, 'history', {MEM!r}]) == 0",
    ]
    p = _loaded(calls, ("cryptography", "textual", "rich", "screens", "widgets"), packages=True)
    assert p.returncode == 0, p.stderr.decode()
    assert b"LOADED []" in p.stderr, p.stderr.decode()
    assert snapshot() == before


def _put_loads_cryptography(store: str, path: str) -> bool:
    code = (
        "import sys; from brain_tui.cli.main import main\n"
        f"assert main(['--store', {store!r}, 'put', {path!r}, '-']) == 0\n"
        "print('CRYPTO', 'cryptography' in sys.modules, file=sys.stderr)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], input=b"body\n", capture_output=True, env=_env(), timeout=60
    )
    assert p.returncode == 0, p.stderr.decode()
    return b"CRYPTO True" in p.stderr


def test_one_shot_put_checks_no_signature_it_checked_before(store: str) -> None:
    """A writable open verifies the newest checkpoint once, then trusts the recorded check
    while nothing changed (core.verify.note_cache); with no checkpoint yet there is no
    signature to check. Either way a one-shot put does not load cryptography."""
    assert not _put_loads_cryptography(store, "memories/facts/one.md")
    ok("--store", store, "checkpoint")
    _put_loads_cryptography(store, "memories/facts/two.md")  # a new note: verified, recorded
    assert not _put_loads_cryptography(store, "memories/facts/three.md")


def _syncs_of_put(store: str, tmp_path: Path, body: bytes) -> dict[str, int]:
    """Device syncs of one `brain put` process, by call, counted by strace."""
    import shutil

    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed")
    out = tmp_path / "syncs.txt"
    calls = "fsync,fdatasync,syncfs,msync,sync,sync_file_range"
    cmd = [strace, "-f", "-c", "-o", str(out), "-e", f"trace={calls}"]
    p = subprocess.run(
        [*cmd, sys.executable, "-m", "brain_tui.cli.main", "--store", store, "put", MEM, "-"],
        input=body,
        capture_output=True,
        env=_env(),
        timeout=60,
    )
    if p.returncode and b"ptrace" in p.stderr:
        pytest.skip(f"strace cannot trace here: {p.stderr.decode().strip()[:200]}")
    assert p.returncode == 0, p.stderr.decode()
    return {
        parts[-1]: int(parts[3])
        for parts in (line.split() for line in out.read_text().splitlines())
        if len(parts) >= 5 and parts[-1] in calls.split(",")
    }


def test_one_shot_put_makes_at_most_two_device_syncs(store: str, tmp_path: Path) -> None:
    """The commit point (the journal's fdatasync) and the flush (syncfs): SQLite's checkpoint
    syncs are left out of a one-shot put (docs/durability.md), counted by strace."""
    put(store, MEM, b"first\n")  # the first write of a store builds the node file: not timed
    counted = _syncs_of_put(store, tmp_path, b"second\n")
    assert sum(counted.values()) <= 2, counted


def test_one_shot_put_folds_a_big_index_wal_within_its_two_syncs(
    store: str, tmp_path: Path
) -> None:
    """Once the index WAL passes a few MB a one-shot put folds it into the database, unsynced,
    while a guard connection keeps writers from restarting the WAL, then its flush's syncfs
    makes the pages durable and the WAL is cut: no SQLite checkpoint syncs (before, such a
    put made 4-5 syncs, about once in 35 one-shot puts)."""
    import sqlite3

    from core.index.follower import WAL_CHECKPOINT_BYTES
    from core.store import Store

    db = Path(store) / "index" / "brain.sqlite"
    wal = Path(f"{db}-wal")
    Store.open(store, allow_temp=True).close()
    # A connection of another process (the TUI's, say) keeps the WAL from being folded and
    # deleted when the in-process store closes.
    other = sqlite3.connect(db)
    other.execute("SELECT count(*) FROM meta").fetchone()  # it has the WAL open
    try:
        with Store.open(store, allow_temp=True) as s:
            n = 0
            while wal.stat().st_size <= WAL_CHECKPOINT_BYTES * 1.2:
                body = f"# m{n}\n\nfiller {n}\n".encode()
                s.put(f"memories/facts/wal/m{n}.md", body, actor=ACTOR)
                s.wait_index()  # a transaction each: the WAL grows by several pages a put
                n += 1
        db_before = db.stat().st_size
        counted = _syncs_of_put(store, tmp_path, b"after the big WAL\n")
        assert sum(counted.values()) <= 2, counted
        assert db.stat().st_size > db_before  # the WAL's pages were folded into the database
        assert wal.stat().st_size == 0  # and the WAL cut: the next process starts afresh
    finally:
        other.close()
    with Store.open(store, allow_temp=True, read_only=True) as s:
        assert [h.path for h in s.search("after the big WAL")][:1] == [MEM]
        assert s.view(f"memories/facts/wal/m{n - 1}.md").body.startswith(b"# m")


def test_view_reads_without_opening_the_store(store: str) -> None:
    """A one-shot `brain view` reads the memory's files: no SQLite, no log scan (the Store
    is not even imported) when no journal waits to be replayed."""
    put(store, MEM, b"direct\n")
    p = _loaded(
        [f"assert main(['--store', {store!r}, 'view', {MEM!r}]) == 0"], ("core.store", "sqlite3")
    )
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"direct\n"
    assert b"LOADED []" in p.stderr, p.stderr.decode()


def test_view_of_a_body_imports_neither_msgspec_nor_typing(store: str) -> None:
    """Issue 11: a one-shot `brain view PATH` checks the sidecar with the stdlib (core.shapes)
    and writes its access entry without msgspec, whose import (~15 ms, typing_extensions and
    inspect) would cost more than the view; nor does it load typing, dataclasses or pathlib
    (with urllib.parse and ipaddress): it reads through plain path strings. A plain command
    line builds no parser (argparse, gettext)."""
    put(store, MEM, b"plain\n")
    bad = (
        *("msgspec", "typing", "typing_extensions", "dataclasses", "inspect", "tempfile"),
        *("pathlib", "sqlite3", "cryptography", "core.store", "core.models", "argparse"),
        "gettext",
    )
    p = _loaded([f"assert main(['--store', {store!r}, 'view', {MEM!r}]) == 0"], bad)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"plain\n"
    assert b"LOADED []" in p.stderr, p.stderr.decode()
    access = Path(store) / "audit" / "access.binlog"
    assert access.stat().st_size > 0  # the read was journaled, as by the full view


@pytest.mark.parametrize(
    ("sidecar", "error"),
    [
        (b'{"kind": "facts", "state": "active", "surprise": 1}', "unreadable sidecar"),
        (b'{"kind": "facts", "seq": "7"}', "unreadable sidecar"),
        (b'{"kind": "facts", "title": "\\ud800"}', "unreadable sidecar"),
        (b"not json", "unreadable sidecar"),
        (b'{"kind": "facts", "state": "purged", "seq": 42}', "purged (seq 42)"),
    ],
)
def test_view_of_a_body_refuses_what_the_full_view_refuses(
    store: str, sidecar: bytes, error: str
) -> None:
    """The body view checks the sidecar without msgspec only where it is plainly well-formed;
    anything else is decoded as a Struct, which refuses it with the same message as before."""
    put(store, MEM, b"body\n")
    (Path(store) / MEM.replace(".md", ".meta.json")).write_bytes(sidecar)
    for flags in ((), ("--meta",)):
        assert error in one_line_error(brain("--store", store, "view", *flags, MEM))


def test_view_after_a_crashed_put_shows_the_committed_body(store: str) -> None:
    """A put that died after its commit point left its row in the journal only: `brain view`
    does not read the files directly then, it opens the store writable (replay) first."""
    put(store, MEM, b"before\n")
    p = brain(
        "--store",
        store,
        "put",
        MEM,
        "-",
        input=b"after\n",
        env=_env(BRAIN_TEST_CRASH_AFTER_COMMIT="1"),
    )
    assert p.returncode == 9, p.stderr.decode()
    assert (Path(store) / "audit" / "journal.wal").stat().st_size > 0
    assert ok("--store", store, "view", MEM).stdout == b"after\n"


def test_version_prints_the_installed_version() -> None:
    from importlib import metadata

    p = ok("--version")
    assert p.stdout.decode() == f"brain {metadata.version('brain-tui')}\n"
    assert p.stderr == b""
    assert ok("--store", "/nonexistent", "--version").stdout == p.stdout


def test_precomputed_help_is_what_argparse_prints() -> None:
    """`brain --help` prints help_text.py (no argparse) where argparse would print the same:
    the text must match the parsers (refresh: `python -m brain_tui.cli.parsing`)."""
    from brain_tui.cli import help_text, parsing

    if sys.version_info[:2] != help_text.PYTHON:
        pytest.skip(f"help_text.py was made by Python {help_text.PYTHON}'s argparse")
    assert parsing.render_help(help_text.COLUMNS) == help_text.TEXT, (
        "help_text.py is stale: run `python -m brain_tui.cli.parsing`"
    )
    assert ok("--help", env=_env(COLUMNS="80")).stdout.decode() == help_text.TEXT
    assert ok("-h", env=_env(COLUMNS="80")).stdout.decode() == help_text.TEXT
    wide = ok("--help", env=_env(COLUMNS="120")).stdout.decode()  # argparse's own, wider
    assert wide == parsing.render_help(120) != help_text.TEXT
    bad = ("argparse", "core", "msgspec", "textual", "rich")
    p = _loaded(["assert main(['--help']) == 0"], bad, packages=True, COLUMNS="80")
    assert p.returncode == 0 and b"LOADED []" in p.stderr, p.stderr.decode()


def test_help_does_not_look_up_the_version() -> None:
    # --version reads package metadata (importlib.metadata costs ~20 ms); --help must not.
    code = (
        "import sys; from brain_tui.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "print('LOADED', 'importlib.metadata' in sys.modules, file=sys.stderr)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=_env(), timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert b"LOADED False" in p.stderr
    assert b"--version" in p.stdout


def _shell(line: str, store: str) -> subprocess.CompletedProcess[bytes]:
    """`brain` under sh, for redirections subprocess cannot make (a closed descriptor)."""
    cmd = f"{shlex.quote(sys.executable)} -m brain_tui.cli.main --store {shlex.quote(store)} {line}"
    return subprocess.run(["sh", "-c", cmd], capture_output=True, env=_env(), timeout=60)


def test_closed_or_full_standard_streams_are_clear_errors_or_harmless(store: str) -> None:
    """A closed stdout (`>&-`) is the null device, not a traceback after the put committed; a
    closed stdin is refused as a body instead of read as an empty one; a full disk behind `>`
    is said as the output failing, not the put."""
    p = _shell(f"put {MEM} - >&- <<'EOF'\nclosed stdout\nEOF", store)
    assert p.returncode == 0 and b"Traceback" not in p.stderr, p.stderr.decode()
    p = _shell("--help >&-", store)
    assert p.returncode == 0 and p.stderr == b"", p.stderr.decode()
    p = _shell("put memories/facts/none.md <&-", store)
    assert "stdin is closed" in one_line_error(p, 2)
    if os.path.exists("/dev/full"):
        p = _shell("put memories/facts/full.md - >/dev/full <<'EOF'\nfull\nEOF", store)
        assert "cannot write the output (No space left on device)" in one_line_error(p)
    shown = ok("--store", store, "view", MEM).stdout
    assert shown == b"closed stdout\n"
    assert ok("--store", store, "view", "memories/facts/full.md").stdout == b"full\n"
    assert brain("--store", store, "view", "memories/facts/none.md").returncode == 1


def test_an_empty_store_or_actor_is_refused_not_the_default(tmp_path: Path) -> None:
    """`--store "$UNSET"` in a script must not write to the default store (or the one in
    CYBEROS_BRAIN_HOME), nor `--actor ""` fall back to the person at the terminal."""
    other = tmp_path / "other"
    env = _env(CYBEROS_BRAIN_HOME=str(other))
    assert "--store is empty" in one_line_error(brain("init", "--store", "", env=env))
    ok("init", "--store", str(other))
    p = brain("--store", "", "put", MEM, "-", input=b"x\n", env=env)
    assert "--store is empty" in one_line_error(p)
    p = brain("--store", str(other), "--actor", "", "put", MEM, "-", input=b"x\n")
    assert "--actor is empty" in one_line_error(p, 2)
    assert brain("--store", str(other), "view", MEM).returncode == 1  # nothing was written


def test_a_body_is_read_no_further_than_the_put_limit(store: str) -> None:
    """An endless body (`/dev/zero`) is refused at the put limit, not read into memory."""
    p = brain("--store", store, "put", MEM, "/dev/zero")
    assert "larger than the put limit of 64 MiB" in one_line_error(p, 2)


def test_pin_says_what_it_did_and_honours_json(store: str) -> None:
    put(store, MEM, b"pin me\n")
    assert ok("--store", store, "pin", MEM).stdout.decode().startswith("pinned ")
    assert ok("--store", store, "pin", MEM).stdout.decode().startswith("already pinned")
    got = json.loads(ok("--store", store, "--json", "unpin", MEM).stdout)
    assert got == {"path": MEM, "pinned": False, "changed": True}


def test_a_damaged_index_is_named_with_its_remedy(store: str) -> None:
    """SQLite's "database disk image is malformed" from the derived index says what it is
    and that `brain reindex` rebuilds it (a reviewer's bare DatabaseError)."""
    import sqlite3

    for i in range(40):
        put(store, f"memories/facts/n{i}.md", f"body {i} ".encode() * 400)
    db = Path(store) / "index" / "brain.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(db, "r+b") as f:  # pages in the middle: the full-text tables' content
        f.seek(102_400)
        f.write(b"\xa5" * 4096)
    p = brain("--store", store, "search", "body")
    assert "the index is damaged" in one_line_error(p) and "brain reindex" in p.stderr.decode()
    ok("--store", store, "reindex")
    assert b"memories/facts/" in ok("--store", store, "search", "body").stdout


def test_init_inside_another_store_is_refused(store: str) -> None:
    """Its private key would lie among the outer store's memories, and every export of that
    store would be refused until someone removed it by hand."""
    inner = Path(store) / "memories" / "facts" / "sub"
    p = brain("init", "--store", str(inner))
    assert f"is inside the store at {store}" in one_line_error(p)
    assert not inner.exists()


def test_tail_refuses_an_op_that_does_not_exist(store: str) -> None:
    """The op list is closed: `--op pu` (a typo) is an error, not an empty answer."""
    put(store, MEM, b"x\n")
    assert "'pu' is unknown; use one of: put" in one_line_error(
        brain("--store", store, "tail", "--op", "pu")
    )
    assert MEM.encode() in ok("--store", store, "tail", "--op", "put").stdout
