"""The writer's door (core/door.py): a one-shot `brain put` beside a live writer (here `brain
mcp`, a real server process) is written by that writer; anything that goes wrong before a reply
leaves the put to the CLI itself. Real processes, real Unix sockets, a real store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core import door, door_server

REPO = Path(__file__).resolve().parents[2]
ACTOR = "agent:door-test"
PII_BODY = (
    b"---\nsync_class: shareable\n---\n# Contractor\n\nmail jane.roe@example.org for the keys\n"
)


@pytest.fixture
def runtime() -> Iterator[str]:
    """A short XDG_RUNTIME_DIR of our own (Unix socket paths are limited to ~107 bytes)."""
    d = tempfile.mkdtemp(prefix="bd", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def store(tmp_path: Path) -> str:
    from core.store import Store

    root = tmp_path / "store"
    Store.init(root, allow_temp=True).close()
    return str(root)


def _env(runtime: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_DOOR")}
    env.update(
        BRAIN_ALLOW_TEMP_STORE="1",
        BRAIN_ACTOR=ACTOR,
        PYTHONPATH=str(REPO),
        XDG_RUNTIME_DIR=runtime,
        BRAIN_DEBUG="1",
    )
    env.update(extra)
    return env


def brain(env: dict[str, str], *args: str, body: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", *args],
        input=body,
        capture_output=True,
        env=env,
        timeout=120,
    )


def _door_of(store: str, runtime: str) -> str:
    old = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = runtime
    try:
        where = door.socket_path(os.path.realpath(store), create=True)
    finally:
        if old is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = old
    assert where is not None
    return where


def _answers(where: str) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(where)
    except OSError:
        return False
    finally:
        s.close()
    return True


def _mcp(store: str, runtime: str) -> subprocess.Popen:
    """`brain mcp` on the store, its stdin held open: a long-lived writer that opens a door."""
    return subprocess.Popen(
        [sys.executable, "-m", "brain_tui.cli.main", "mcp", "--store", store],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_env(runtime),
    )


def _served_by(store: str, runtime: str, p: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        out = brain(_env(runtime), "--store", store, "status", "--json").stdout
        if json.loads(out)["door"].startswith(f"pid {p.pid} "):
            return
        assert p.poll() is None, p.stderr.read() if p.stderr else ""
        assert time.monotonic() < deadline, f"pid {p.pid} never served the door"
        time.sleep(0.1)


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        assert p.stdin is not None
        p.stdin.close()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture
def host(store: str, runtime: str) -> Iterator[subprocess.Popen]:
    p = _mcp(store, runtime)
    where = _door_of(store, runtime)
    deadline = time.monotonic() + 60
    while not _answers(where):
        assert p.poll() is None, p.stderr.read() if p.stderr else ""
        assert time.monotonic() < deadline, "brain mcp opened no door"
        time.sleep(0.05)
    yield p
    _stop(p)


def test_when_the_serving_host_is_killed_another_host_takes_the_door_over(
    store, runtime, host
) -> None:
    second = _mcp(store, runtime)
    try:
        time.sleep(1.0)  # it opened the store and stands by
        _served_by(store, runtime, host, timeout=5)  # the first still serves
        host.send_signal(signal.SIGKILL)
        host.wait()
        _served_by(store, runtime, second, timeout=30)
        env = _env(runtime)
        p = brain(env, "--store", store, "put", "memories/facts/second.md", body=b"# 2\n\nx\n")
        assert p.returncode == 0, p.stderr.decode()
        assert f"written by pid {second.pid} (brain mcp) through its door" in p.stderr.decode()
    finally:
        _stop(second)


def _rows(store: str) -> list:
    """The audit rows, read from the log (no index: the live writer may hold its write lock)."""
    from core.store import Store

    with Store.open(store, allow_temp=True, read_only=True) as s:
        return [row for row, _payload in s.rows()]


def test_a_put_beside_a_live_writer_is_written_by_it(store, runtime, host) -> None:
    env = _env(runtime)
    p = brain(env, "--store", store, "put", "memories/facts/door.md", body=b"# Door\n\nopen\n")
    assert p.returncode == 0, p.stderr.decode()
    assert f"written by pid {host.pid} (brain mcp) through its door" in p.stderr.decode()
    out = p.stdout.decode()
    assert out.startswith("put  seq 1  memories/facts/door.md  commit ")
    # The same body again is a no-op, as it is for a put that writes itself.
    again = brain(env, "--store", store, "put", "memories/facts/door.md", body=b"# Door\n\nopen\n")
    assert again.stdout.decode().startswith("unchanged  seq 1  memories/facts/door.md")
    view = brain(env, "--store", store, "view", "memories/facts/door.md")
    assert view.stdout.decode().endswith("open\n")
    (row,) = [r for r in _rows(store) if r.op == "put"]
    assert row.actor == ACTOR  # the CLI's actor, not the server's
    status = brain(env, "--store", store, "status").stdout.decode()
    assert (
        f"door:           open: pid {host.pid} (brain mcp) writes this store's CLI puts" in status
    )
    doctor = brain(env, "--store", store, "doctor")
    assert doctor.returncode == 0 and "READY" in doctor.stdout.decode()


def test_errors_and_notes_through_the_door_read_as_a_local_put(store, runtime, host) -> None:
    via, local = _env(runtime), _env(runtime, BRAIN_DOOR="0")
    for env in (via, local):
        bad = brain(env, "--store", store, "put", "memories/facts/../x.md", body=b"x\n")
        assert bad.returncode == 1
        assert bad.stderr.decode().splitlines()[-1] == (
            "brain: error: memories/facts/../x.md: '..' segments are not allowed"
        )
    held = [
        brain(env, "--store", store, "put", f"memories/people/c{i}.md", body=PII_BODY)
        for i, env in enumerate((via, local))
    ]
    assert "through its door" in held[0].stderr.decode()
    assert "through its door" not in held[1].stderr.decode()
    notes = [[ln for ln in p.stdout.decode().splitlines() if ln.startswith("note:")] for p in held]
    assert notes[0] and notes[0] == [n.replace("c1.md", "c0.md") for n in notes[1]]
    assert "held for PII review" in notes[0][0]


def test_many_puts_at_once_through_one_door(store, runtime, host) -> None:
    env = _env(runtime)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "brain_tui.cli.main",
                "--store",
                store,
                "put",
                f"memories/facts/many-{i}.md",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for i in range(12)
    ]
    outs = [
        p.communicate(f"# Many {i}\n\nbody {i}\n".encode(), timeout=120)
        for i, p in enumerate(procs)
    ]
    assert all(p.returncode == 0 for p in procs), [e.decode() for _, e in outs]
    assert sum("through its door" in e.decode() for _, e in outs) == 12
    seqs = sorted(int(o.decode().split()[2]) for o, _ in outs)
    assert seqs == list(range(1, 13))
    assert len([r for r in _rows(store) if r.op == "put"]) == 12


def test_a_killed_writer_leaves_a_stale_door_that_the_cli_walks_past(store, runtime, host) -> None:
    where = _door_of(store, runtime)
    host.send_signal(signal.SIGKILL)
    host.wait()
    assert os.path.exists(where) and not _answers(where)  # the socket file outlived it
    # (The kernel dropped the dead server's flock: the next host may take the path over.)
    env = _env(runtime)
    status = json.loads(brain(env, "--store", store, "status", "--json").stdout)
    assert status["door"] == ""  # a stale socket is no door
    p = brain(env, "--store", store, "put", "memories/facts/after.md", body=b"# After\n\nx\n")
    assert p.returncode == 0, p.stderr.decode()
    assert "through its door" not in p.stderr.decode()
    assert p.stdout.decode().startswith("put  seq 1  memories/facts/after.md")
    # The next long-lived writer replaces the stale socket with its own door.
    from core.store import Store

    with Store.open(store, allow_temp=True) as s:
        os.environ["XDG_RUNTIME_DIR"], old = runtime, os.environ.get("XDG_RUNTIME_DIR", "")
        try:
            assert s.open_door() == where
        finally:
            os.environ["XDG_RUNTIME_DIR"] = old
        assert _answers(where)
    assert not os.path.exists(where)  # closing the store closed and removed its door


def test_a_door_that_hangs_up_without_a_reply_leaves_the_put_to_the_cli(store, runtime) -> None:
    """A server that dies between reading the request and replying: the CLI writes the put."""
    where = _door_of(store, runtime)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(where)
    srv.listen(1)
    got: list[bytes] = []

    def hang_up() -> None:
        conn, _ = srv.accept()
        got.append(conn.recv(1 << 16))
        conn.close()

    t = threading.Thread(target=hang_up)
    t.start()
    try:
        p = brain(_env(runtime), "--store", store, "put", "memories/facts/hung.md", body=b"x\n")
    finally:
        t.join(timeout=60)
        srv.close()
    assert got and got[0]  # the request did reach the "server"
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode().startswith("put  seq 1  memories/facts/hung.md")


def test_one_server_per_store_a_standby_takes_over_and_none_in_a_shared_folder(
    store, runtime, monkeypatch
) -> None:
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    where = _door_of(store, runtime)
    b = Store.open(store, allow_temp=True, program="second")
    try:
        with Store.open(store, allow_temp=True, program="first") as a:
            assert a.open_door() == where
            assert b.open_door() is None  # the first serves; the second stands by
            w = door.who(store)
            assert w is not None and w.program == "first"
        # The first closed: within a standby period or two, the second serves.
        deadline = time.monotonic() + 10 * door_server.STANDBY_S
        while (w := door.who(store)) is None or w.program != "second":
            assert time.monotonic() < deadline, "the standing-by door never took over"
            time.sleep(0.05)
        reply = door.put(store, "memories/facts/taken-over.md", b"# Over\n\nx\n", ACTOR)
        assert reply is not None and reply.ok and reply.program == "second"
    finally:
        b.close()
    assert not os.path.exists(where)
    with Store.open(store, allow_temp=True, read_only=True) as ro:
        assert ro.open_door() is None
    monkeypatch.setenv(door.DISABLE_ENV, "0")
    with Store.open(store, allow_temp=True) as off:
        assert off.open_door() is None
    monkeypatch.delenv(door.DISABLE_ENV)
    shared = Path(runtime) / "brain-door"
    shared.chmod(0o755)  # others could enter it: no door is opened or used there
    assert door.socket_path(os.path.realpath(store)) is None
    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is None


def test_the_server_refuses_another_store_and_an_oversized_request(store, runtime, monkeypatch):
    """Speaking to the door directly: a request naming another root is not served (the client
    then writes the put itself), and a frame over the limit is cut off unread."""
    import msgspec

    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as s:
        where = s.open_door()
        assert where is not None
        req = door.PutRequest(door.VERSION, "/elsewhere", "memories/facts/a.md", b"x", ACTOR)
        reply = _ask(where, msgspec.msgpack.encode(req))
        assert reply is not None
        answer = msgspec.msgpack.decode(reply, type=door.Reply)
        assert not answer.ok and answer.retry
        assert _ask(where, b"", length=door.MAX_REQUEST + 1) is None
        assert s.tip.seq == 0  # nothing was written


def _ask(where: str, payload: bytes, *, length: int | None = None) -> bytes | None:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(30)
    try:
        c.connect(where)
        n = len(payload) if length is None else length
        c.sendall(n.to_bytes(4, "big") + payload)
        head = c.recv(4)
        if len(head) < 4:
            return None
        size = int.from_bytes(head, "big")
        buf = b""
        while len(buf) < size:
            chunk = c.recv(size - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    finally:
        c.close()


def test_a_put_through_the_door_is_searchable_when_the_reply_comes(store, runtime, monkeypatch):
    """The one-shot CLI's own put indexes before it exits; a put through the door must not
    leave the next `brain search` behind (the index applier would hold the row ~30 ms)."""
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is not None
        body = b"# Quokka\n\nthe quokka census\n"
        reply = door.put(store, "memories/facts/quokka.md", body, ACTOR)
        assert reply is not None and reply.ok and reply.pid == os.getpid()
        assert s.follower.applied_seq() >= door.result_of(reply).seq
    p = brain(_env(runtime), "--store", store, "search", "quokka")
    assert "memories/facts/quokka.md" in p.stdout.decode()


def test_flags_and_json_through_the_door_read_as_a_local_put_and_put_if_writes_itself(
    store, runtime, host
) -> None:
    via, local = _env(runtime), _env(runtime, BRAIN_DOOR="0")
    flags = ["--title", "Rollout", "--tag", "type:lesson", "--category", "architecture", "--json"]
    docs = []
    for name, env in (("a", via), ("b", local)):
        p = brain(env, "--store", store, "put", f"memories/facts/{name}.md", *flags, body=b"go\n")
        assert p.returncode == 0, p.stderr.decode()
        assert ("through its door" in p.stderr.decode()) == (env is via)
        docs.append(json.loads(p.stdout))
    a, b = docs
    assert a.keys() == b.keys() and a["row"].keys() == b["row"].keys()
    assert a["row"]["actor"] == b["row"]["actor"] == ACTOR and a["row"]["op"] == "put"
    viewed = brain(via, "--store", store, "view", "memories/facts/a.md", "--meta", "--json")
    meta = json.loads(viewed.stdout)["sidecar"]
    assert meta["title"] == "Rollout" and meta["tags"] == ["type:lesson"]
    guarded = brain(
        via, "--store", store, "put", "memories/facts/a.md", "--if-commit", a["commit"],
        body=b"go again\n",
    )  # fmt: skip
    assert guarded.returncode == 0, guarded.stderr.decode()
    assert "through its door" not in guarded.stderr.decode()


def test_a_client_with_no_door_makes_nothing(store, runtime, monkeypatch) -> None:
    """Trying the door is free of side effects: no folder is made, nothing is written."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    assert door.put(store, "memories/facts/none.md", b"x\n", ACTOR) is None
    assert door.who(store) is None
    assert os.listdir(runtime) == []
    p = brain(_env(runtime), "--store", store, "put", "memories/facts/none.md", body=b"x\n")
    assert p.returncode == 0 and "through its door" not in p.stderr.decode()
    assert os.listdir(runtime) == []


def test_the_hooks_captures_go_through_the_door(store, runtime, host, tmp_path) -> None:
    """`brain hook claude-code` (a Stop event) and `brain hook git` (post-commit) beside a live
    writer: its process writes them, with their metadata (extra, no frontmatter parsing), under
    the hook's own actor; a second Stop with nothing new is a no-op there too."""
    from core.mcp.sessions import host_name
    from core.store import Store
    from tests.e2e.test_hooks import DATA, SID, _git, event

    cwd = tmp_path / "shop-api"
    cwd.mkdir()
    transcript = tmp_path / "t.jsonl"
    transcript.write_text((DATA / "transcript.jsonl").read_text().replace("{CWD}", str(cwd)))
    env = _env(runtime, XDG_STATE_HOME=str(tmp_path / "state"))
    env.pop("BRAIN_ACTOR")  # the hooks name their own actors
    stop = event("stop", cwd, transcript)
    p = brain(env, "hook", "claude-code", "--store", store, body=stop)
    assert p.returncode == 0, p.stderr.decode()
    assert f"written by pid {host.pid} (brain mcp) through its door" in p.stderr.decode()
    again = brain(env, "hook", "claude-code", "--store", store, body=stop)
    assert f"written by pid {host.pid}" in again.stderr.decode()

    repo = tmp_path / "billing"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "a.py").write_text("print(1)\n")
    _git(repo, "add", "a.py")
    _git(repo, "commit", "-q", "-m", "Add a.py")
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    p = subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", "hook", "git", "--store", store],
        capture_output=True,
        env=env,
        cwd=repo,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr.decode()
    assert f"written by pid {host.pid} (brain mcp) through its door" in p.stderr.decode()

    puts = [r for r in _rows(store) if r.op == "put"]
    assert [r.actor for r in puts] == [
        f"agent:claude-code@{host_name()}",
        f"agent:git@{host_name()}",
    ]
    session = f"memories/projects/shop-api/sessions/claude-code-{SID}.md"
    commit = f"memories/projects/billing/commits/{sha[:12]}.md"
    assert [r.path for r in puts] == [session, commit]  # the second Stop wrote nothing
    with Store.open(store, allow_temp=True, read_only=True) as s:
        mem, cmem = s.view(session), s.view(commit)
    assert mem.sidecar.extra == {"source": "claude-code", "session": SID}
    assert mem.sidecar.tags == ["source:claude-code"]
    assert mem.sidecar.category == "project-context"
    assert cmem.sidecar.extra == {"source": "git", "commit": sha}
    assert cmem.body.decode().startswith("# Add a.py\n")


def test_an_older_door_is_walked_past(store, runtime, monkeypatch) -> None:
    """A server of another door version answers `retry`: the client writes the put itself."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    monkeypatch.setattr(door_server, "VERSION", door.VERSION - 1)
    from core.store import Store

    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is not None
        assert door.who(store) is None  # the server said retry: as if there were no door
        assert door.put(store, "memories/facts/v.md", b"x\n", ACTOR) is None
        assert s.door_served() == 0


# -- a client that gave up, a busy or stopped host, a replaced store, hostile requests --------


def test_a_stopped_host_is_walked_past_and_never_writes_the_put_later(
    store, runtime, host, monkeypatch
) -> None:
    """A host stopped (Ctrl-Z, a debugger) cannot answer ACCEPTED: the client gives up within
    ACCEPT_TIMEOUT_S and writes the put itself; when the host resumes it reads the request
    but, with no GO from a client that left, writes nothing (a late copy would land on top
    of later writes)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    monkeypatch.setattr(door, "ACCEPT_TIMEOUT_S", 0.5)
    host.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        assert door.put(store, "memories/facts/late.md", b"# Late\n\nv1\n", ACTOR) is None
        assert time.monotonic() - t0 < 5  # not the minute the reply deadline allows
    finally:
        host.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # time for the resumed host to read it and decide
        w = door.who(store)
        assert w is not None and w.pid == host.pid  # alive and serving
        time.sleep(0.2)
    assert [r.path for r in _rows(store) if r.op == "put"] == []


@contextmanager
def _busy_writer(s, seconds: float) -> Iterator[None]:
    """The store's writer runs a task of `seconds` (an export, a backup) meanwhile."""
    started = threading.Event()

    def long_task(_w) -> None:
        started.set()
        time.sleep(seconds)

    busy = threading.Thread(target=lambda: s.session.run(long_task))
    busy.start()
    assert started.wait(10)
    try:
        yield
    finally:
        busy.join()


def test_a_put_not_started_by_its_deadline_is_never_written(store, runtime, monkeypatch) -> None:
    """The host's writer is busy with a long task (an export, a backup) past the put's
    deadline: the client gives up and writes the put itself, and the host, reaching the put
    late, does not write it (its client reported it failed, or wrote it)."""
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is not None
        with _busy_writer(s, 2.0):
            reply = door.put(store, "memories/facts/queued.md", b"# Q\n\nq\n", ACTOR, wait_s=0.5)
            assert reply is None
        time.sleep(0.3)  # the door's thread reaches its put after the task
        assert s.door_served() == 0
        assert [r for r, _p in s.rows() if r.op == "put"] == []


def test_a_put_written_while_the_index_fails_is_reported_written(
    store, runtime, monkeypatch
) -> None:
    """The put commits, then the host's index cannot take it: the client hears the put was
    written (with a note), not that it failed, so it does not write it a second time."""
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is not None
        s.put("memories/facts/first.md", b"# F\n\nfirst\n", actor=ACTOR)  # starts the applier
        applier = s.follower._applier
        assert applier is not None
        monkeypatch.setattr(applier, "error", OSError(28, "No space left on device"))
        reply = door.put(store, "memories/facts/indexed.md", b"# I\n\nbody\n", ACTOR)
        assert reply is not None and reply.ok, reply
        res = door.result_of(reply)
        assert res.changed and any("search index" in n for n in res.notes), res.notes
        puts = [r.path for r, _p in s.rows() if r.op == "put"]
        assert puts == ["memories/facts/first.md", "memories/facts/indexed.md"]


def test_a_store_replaced_at_the_same_path_is_not_served_by_the_old_host(
    store, runtime, monkeypatch
) -> None:
    """The folder the host has open was moved away and a new store made at its path: the
    door's path is the same, the store is not; the client writes the put itself."""
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as old:
        assert old.open_door() is not None
        os.rename(store, store + "-old")
        Store.init(store, allow_temp=True).close()
        assert door.who(store) is None
        assert door.put(store, "memories/facts/new.md", b"# N\n\nnew\n", ACTOR) is None
        assert old.door_served() == 0
        assert old.tip.seq == 0


def test_hostile_requests_end_neither_the_host_nor_its_door(store, runtime, monkeypatch) -> None:
    """A request nested 100,000 levels deep is refused as unreadable (no thread dies with a
    RecursionError on the host's terminal), and a request past the bytes the door may hold at
    once is closed unread; a plain put afterwards goes through."""
    import msgspec

    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    died: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda a: died.append(a.exc_value))
    with Store.open(store, allow_temp=True) as s:
        where = s.open_door()
        assert where is not None
        marker = "NESTED-HERE"
        req = door.PutRequest(
            door.VERSION, s.layout.root.as_posix(), "memories/facts/deep.md", b"x", ACTOR
        )
        req.extra = {"k": marker}
        req.store = door.identity(os.path.realpath(store))
        raw = msgspec.msgpack.encode(req).replace(
            msgspec.msgpack.encode(marker), b"\x91" * 100_000 + b"\xc0"
        )
        reply = _ask(where, raw)
        assert reply is not None
        answer = msgspec.msgpack.decode(reply, type=door.Reply)
        assert not answer.ok and answer.retry
        monkeypatch.setattr(door_server, "MAX_BUFFERED", 1000)
        assert door.put(store, "memories/facts/big.md", b"# B\n\n" + b"b" * 2000, ACTOR) is None
        reply2 = door.put(store, "memories/facts/small.md", b"# S\n\nsmall\n", ACTOR)
        assert reply2 is not None and reply2.ok
        assert s.door_served() == 1
    assert died == []


def test_a_short_wait_walks_past_a_busy_host_quickly(store, runtime, monkeypatch) -> None:
    """A hook's put (wait_s 1.5) beside a host whose writer is busy for long: the client
    gives up within about twice its wait, not the minute a CLI put allows, and the host,
    reaching the put late, does not write it."""
    from brain_tui.cli.cmd_hook import HOOK_DOOR_WAIT_S
    from core.store import Store

    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    with Store.open(store, allow_temp=True) as s:
        assert s.open_door() is not None
        with _busy_writer(s, 5.0):
            t0 = time.monotonic()
            got = door.put(
                store, "memories/facts/hook.md", b"# H\n\nx\n", ACTOR, wait_s=HOOK_DOOR_WAIT_S
            )
            waited = time.monotonic() - t0
            assert got is None and waited < 2 * HOOK_DOOR_WAIT_S + 0.5, waited
        time.sleep(0.3)
        assert [r for r, _p in s.rows() if r.op == "put"] == []


def test_the_door_keeps_its_name_across_releases(tmp_path, monkeypatch) -> None:
    """Named by zlib's crc32 and adler32 of the root as before (computed without zlib, ~0.3 ms
    of a put's imports), so a CLI finds the door of a workstation started by the release
    before."""
    import zlib

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    for root in ("/home/a/.cyberos-memory", "/srv/stores/équipe", "/" + "x" * 4000):
        raw = os.fsencode(root)
        want = f"{tmp_path}/brain-door/{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.sock"
        assert door.socket_path(root, create=True) == want
