"""`brain mcp --http 127.0.0.1:PORT`: streamable HTTP on loopback behind a bearer token,
driven by the SDK's own client; sessions per client, closed by the client's DELETE."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from contextlib import asynccontextmanager

import anyio
import httpx2
import mcp.types as t
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from core import Store
from core.mcp.schema import TOOLS
from core.mcp.sessions import host_name
from tests.e2e.mcp_client import REPO, brain, env, free_port, init_store, structured, wait_for_port

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture
def server(tmp_path):
    root = init_store(tmp_path / "store")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "brain_tui.cli.main", "mcp", "--store", str(root)]
        + ["--http", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(BRAIN_MCP_TOKEN=TOKEN),
        cwd=REPO,
    )
    try:
        wait_for_port(port)
        yield root, port, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


@asynccontextmanager
async def http_session(port: int, name: str, token: str = TOKEN):
    client = httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=300)
    )
    async with client:
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=client) as (
            r,
            w,
        ):
            info = t.Implementation(name=name, version="2.0")
            async with ClientSession(r, w, client_info=info) as s:
                await s.initialize()
                yield s


def test_requests_without_the_token_are_refused(server):
    _root, port, _proc = server
    url = f"http://127.0.0.1:{port}/mcp"
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "x", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in (None, "Bearer wrong-token-wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"):
        h = dict(headers)
        if auth:
            h["Authorization"] = auth
        r = httpx2.post(url, json=init, headers=h, timeout=30)
        assert r.status_code == 401, (auth, r.status_code)
        assert "Bearer" in r.headers["www-authenticate"]
    ok = httpx2.post(
        url, json=init, headers={**headers, "Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert ok.status_code == 200


def test_two_clients_write_in_their_own_sessions_beside_a_cli_writer(server):
    root, port, proc = server
    a, b = "memories/decisions/http-a.md", "memories/facts/http-b.md"
    cli_paths = [f"memories/facts/cli/{i}.md" for i in range(8)]
    errors: list[str] = []

    def cli_writer():
        for p in cli_paths:
            r = brain(
                "put", "--store", str(root), "--actor", "human:ana@laptop", p, "-", input=p.encode()
            )
            if r.returncode != 0:
                errors.append(r.stderr.decode())

    async def go():
        th = threading.Thread(target=cli_writer)
        th.start()
        async with http_session(port, "Claude Code") as s1:
            tools = (await s1.list_tools()).tools
            assert len(tools) == len(TOOLS)
            one = structured(await s1.call_tool("brain_put", {"path": a, "body": "from claude"}))
            async with http_session(port, "Cursor") as s2:
                two = structured(
                    await s2.call_tool("brain_put", {"path": b, "body": "from cursor"})
                )
                seen = structured(await s2.call_tool("brain_view", {"path": a}))
                assert seen["body"] == "from claude"
            hits = structured(await s1.call_tool("brain_search", {"query": "cursor"}))
            assert [h["path"] for h in hits["hits"]] == [b]
            res = await s1.list_resources()
            assert {r.uri for r in res.resources} >= {f"brain://{a}", f"brain://{b}"}
        await anyio.to_thread.run_sync(th.join)
        return one, two

    one, two = anyio.run(go)
    assert errors == []
    host = host_name()
    assert one["actor"] == f"agent:claude-code@{host}" and two["actor"] == f"agent:cursor@{host}"
    assert one["session"] != two["session"]
    # Both clients closed their sessions (DELETE): the session.end rows are written at once.
    deadline = time.monotonic() + 20
    while True:
        with Store.open(root, allow_temp=True, read_only=True) as s:
            log = [r for r, _ in s.rows()]
        ends = {r.extra["session"] for r in log if r.op == "session.end"}
        if ends == {one["session"], two["session"]} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert ends == {one["session"], two["session"]}
    starts = {r.extra["session"]: r for r in log if r.op == "session.start"}
    assert starts[one["session"]].extra["transport"] == "http"
    assert starts[two["session"]].actor == two["actor"]
    puts = {r.path: r.actor for r in log if r.op == "put"}
    assert puts[a] == one["actor"] and puts[b] == two["actor"]
    assert all(puts[p] == "human:ana@laptop" for p in cli_paths)
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def test_http_binds_loopback_only_and_makes_a_private_token(tmp_path):
    root = init_store(tmp_path / "store")
    p = brain("mcp", "--store", str(root), "--http", "0.0.0.0:8765")
    assert p.returncode == 1 and b"loopback only" in p.stderr
    port = free_port()
    e = env()
    e.pop("BRAIN_MCP_TOKEN", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "brain_tui.cli.main", "mcp", "--store", str(root)]
        + ["--http", f"localhost:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=e,
        cwd=REPO,
    )
    try:
        wait_for_port(port)
        token_file = root / "local" / "mcp-token"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        token = token_file.read_text().strip()
        assert len(token) >= 32

        async def go():
            async with http_session(port, "probe", token=token) as s:
                return structured(await s.call_tool("brain_state", {}))

        assert anyio.run(go)["state"] == "READY"
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    assert proc.stdout.read() == b""  # nothing on stdout; the address and token file on stderr
    assert b"mcp-token" in proc.stderr.read()


def test_a_session_id_named_by_another_client_is_not_its_session(server):
    """Session ids in `_meta` are chosen by clients (and shown by brain_audit_tail): a second
    client naming the first one's id writes in a session of its own, under its own actor."""
    root, port, proc = server
    a, b = "memories/facts/named-a.md", "memories/facts/named-b.md"
    meta = {"brain/session": "shared-name"}

    async def go():
        async with http_session(port, "Claude Code") as s1:
            one = structured(await s1.call_tool("brain_put", {"path": a, "body": "a"}, meta=meta))
            async with http_session(port, "Cursor") as s2:
                two = structured(
                    await s2.call_tool("brain_put", {"path": b, "body": "b"}, meta=meta)
                )
        return one, two

    one, two = anyio.run(go)
    host = host_name()
    assert one["session"] == two["session"] == "shared-name"
    assert one["actor"] == f"agent:claude-code@{host}" and two["actor"] == f"agent:cursor@{host}"
    with Store.open(root, allow_temp=True, read_only=True) as s:
        log = [r for r, _ in s.rows()]
    puts = {r.path: r.actor for r in log if r.op == "put"}
    assert puts == {a: one["actor"], b: two["actor"]}
    starts = [r.actor for r in log if r.op == "session.start"]
    assert sorted(starts) == sorted([one["actor"], two["actor"]])  # two sessions, one each
    proc.terminate()
    assert proc.wait(timeout=30) == 0
