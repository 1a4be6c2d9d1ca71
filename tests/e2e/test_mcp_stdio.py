"""`brain mcp` over stdio, driven by the MCP SDK's own client: every tool and the resources,
exactly what each write leaves in the store, attribution and session rows, clear tool errors,
and a CLI writer beside the server losing nothing."""

from __future__ import annotations

import subprocess
import sys
import threading

import anyio
import mcp.types as t
import pytest

from core import Store
from core.mcp.schema import TOOLS
from core.mcp.sessions import host_name
from core.vocab import PROPOSALS
from tests.e2e.mcp_client import (
    REPO,
    brain,
    env,
    error_text,
    init_store,
    stdio_session,
    structured,
)

ACTOR = f"agent:claude-code@{host_name()}"
A = "memories/decisions/use-sqlite.md"
B = "memories/decisions/storage/sqlite.md"


@pytest.fixture
def store(tmp_path):
    return init_store(tmp_path / "store")


def rows(root):
    with Store.open(root, allow_temp=True, read_only=True) as s:
        return [r for r, _ in s.rows()]


def test_lists_every_tool_with_schemas_annotations_and_resources(store):
    async def go():
        async with stdio_session(store) as s:
            tools = (await s.list_tools()).tools
            templates = (await s.list_resource_templates()).resource_templates
            return tools, templates

    tools, templates = anyio.run(go)
    assert [x.name for x in tools] == [spec.name for spec in TOOLS]
    assert {x.name for x in tools} >= {
        "brain_put",
        "brain_view",
        "brain_move",
        "brain_delete",
        "brain_search",
        "brain_context",
        "brain_history",
        "brain_audit_tail",
        "brain_prove",
        "brain_verify_proof",
        "brain_state",
        "brain_doctor",
    }
    for tool in tools:
        assert "." not in tool.name
        assert tool.description and tool.output_schema
        assert tool.input_schema["type"] == "object"
        assert tool.input_schema["additionalProperties"] is False
        for name, prop in tool.input_schema["properties"].items():
            assert prop.get("description"), (tool.name, name)
        ann = tool.annotations
        assert ann is not None
        assert None not in (ann.read_only_hint, ann.destructive_hint, ann.idempotent_hint)
    by = {x.name: x.annotations for x in tools}
    assert by["brain_search"].read_only_hint and by["brain_view"].read_only_hint
    assert not by["brain_put"].read_only_hint and not by["brain_put"].destructive_hint
    assert by["brain_delete"].destructive_hint
    assert [x.uri_template for x in templates] == ["brain://memories/{+rest}"]


def test_every_tool_leaves_exactly_the_expected_rows(store):
    body = "# Use SQLite\n\nOne file, no server, FTS5 built in."

    async def go():
        out = {}
        async with stdio_session(store) as s:
            call = s.call_tool
            out["put"] = structured(
                await call("brain_put", {"path": A, "body": body, "tags": ["db"]})
            )
            out["again"] = structured(
                await call("brain_put", {"path": A, "body": body, "tags": ["db"]})
            )
            out["view"] = structured(await call("brain_view", {"path": A}))
            view_text = (await call("brain_view", {"path": A})).content[0]
            assert isinstance(view_text, t.TextContent)
            out["view_text"] = view_text.text
            out["search"] = structured(await call("brain_search", {"query": "sqlite"}))
            out["context"] = structured(await call("brain_context", {}))
            res = await s.list_resources()
            out["resources"] = [r.uri for r in res.resources]
            out["read"] = await s.read_resource(f"brain://{A}")
            out["move"] = structured(await call("brain_move", {"src": A, "dst": B}))
            out["history"] = structured(await call("brain_history", {"path": B}))
            out["delete"] = structured(await call("brain_delete", {"path": B}))
            out["tail"] = structured(await call("brain_audit_tail", {"limit": 10}))
            out["prove"] = structured(await call("brain_prove", {"seq": out["put"]["seq"]}))
            out["verify"] = structured(
                await call("brain_verify_proof", {"bundle": out["prove"]["bundle"]})
            )
            out["state"] = structured(await call("brain_state", {}))
            out["doctor"] = structured(await call("brain_doctor", {"quick": True}))
            out["old"] = structured(
                await call("brain_view", {"path": B, "version": out["move"]["seq"]})
            )
        return out

    out = anyio.run(go)
    put = out["put"]
    assert put["changed"] and put["actor"] == ACTOR and put["path"] == A
    assert out["again"]["changed"] is False and out["again"]["seq"] == put["seq"]
    view = out["view"]
    assert view["body"] == body and view["untrusted_content"] is True and view["tags"] == ["db"]
    assert view["actor"] == ACTOR and view["sync_class"] == "private"
    assert "untrusted" in out["view_text"].split("\n")[0]
    assert [h["path"] for h in out["search"]["hits"]] == [A]
    assert out["search"]["untrusted_content"] is True
    assert [i["path"] for i in out["context"]["items"]] == [A]
    assert out["resources"] == [f"brain://{A}"]
    (content,) = out["read"].contents
    assert isinstance(content, t.TextResourceContents)
    assert body in content.text and "untrusted" in content.text
    assert out["move"]["path"] == B
    assert [r["op"] for r in out["history"]["rows"]] == ["put", "move"]
    assert out["delete"]["commit"] == ""
    tail_seqs = [r["seq"] for r in out["tail"]["rows"]]
    assert tail_seqs[-1] == out["tail"]["head_seq"] and out["delete"]["seq"] in tail_seqs
    assert out["verify"]["valid"] is True and out["verify"]["key_pinned"] is False
    assert out["state"]["state"] == "READY" and "root" not in out["state"]
    assert out["doctor"]["state"] == "READY" and out["doctor"]["results"]
    assert out["old"]["body"] == body

    log = rows(store)
    ops = [(r.op, r.path) for r in log if r.op != "checkpoint"]
    assert ops == [
        ("session.start", ""),
        ("put", A),
        ("move", B),
        ("delete", B),
        ("session.end", ""),
    ]
    mine = [r for r in log if r.op != "checkpoint"]
    assert {r.actor for r in mine} == {ACTOR}
    start, end = mine[0], mine[-1]
    assert start.extra["session"] == put["session"] == end.extra["session"]
    assert start.extra["client"] == "Claude Code" and start.extra["transport"] == "stdio"
    assert end.extra["writes"] == 3 and end.extra["seqs"] == [r.seq for r in mine[1:-1]]
    assert end.extra["start"] == start.seq
    with Store.open(store, allow_temp=True, read_only=True) as s:
        assert s.view(B).sidecar.state == "tombstoned"


def test_a_session_that_only_reads_writes_no_rows(store):
    async def go():
        async with stdio_session(store) as s:
            structured(await s.call_tool("brain_search", {"query": "anything"}))
            structured(await s.call_tool("brain_state", {}))

    anyio.run(go)
    assert rows(store) == []


def test_bad_input_is_one_clear_tool_error_never_a_trace(store):
    cases = [
        ("brain_put", {"path": A}, "'body' is a required property"),
        ("brain_put", {"path": A, "body": "x", "colour": "red"}, "known arguments"),
        ("brain_put", {"path": "../etc/passwd", "body": "x"}, "brain_put:"),
        ("brain_put", {"path": A, "body": 5}, "argument 'body'"),
        ("brain_put", {"path": A, "body": "x", "sync_class": "public"}, "sync_class"),
        ("brain_delete", {"path": A, "mode": "purge"}, "purge is refused over MCP"),
        # Proposals: filed with brain_propose (its gate and budget), decided by a person.
        ("brain_put", {"path": f"{PROPOSALS}p.md", "body": "x"}, "filed with brain_propose"),
        ("brain_move", {"src": A, "dst": f"{PROPOSALS}p.md"}, "filed with brain_propose"),
        ("brain_move", {"src": f"{PROPOSALS}p.md", "dst": A}, "filed with brain_propose"),
        ("brain_delete", {"path": f"{PROPOSALS}p.md"}, "filed with brain_propose"),
        ("brain_delete", {"path": A, "purge": True, "reason": "legal-erasure"}, "human act"),
        ("brain_view", {"path": "memories/facts/nope.md"}, "no such memory"),
        ("brain_search", {"query": "x", "mode": "psychic"}, "argument 'mode'"),
        ("brain_prove", {"seq": 99}, "brain_prove:"),
        ("brain_verify_proof", {"bundle": {"format": "nope"}}, None),
        ("brain_nope", {}, "unknown tool"),
    ]

    async def go():
        out = []
        async with stdio_session(store) as s:
            for name, args, _ in cases:
                out.append(await s.call_tool(name, args))
            read_err = None
            try:
                await s.read_resource("brain://memories/facts/nope.md")
            except Exception as e:  # noqa: BLE001 - the SDK raises MCPError
                read_err = str(e)
        return out, read_err

    results, read_err = anyio.run(go)
    for (name, _args, want), res in zip(cases, results, strict=True):
        if want is None:  # verify_proof: a bad bundle is a verdict, not an error
            assert res.structured_content["valid"] is False
            continue
        text = error_text(res)
        assert want in text, (name, text)
        assert "\n" not in text and "Traceback" not in text and len(text) <= 400
    assert read_err and "no such memory" in read_err
    # Nothing was written by any of them, and the purge attempt touched nothing.
    assert rows(store) == []


def test_configured_actor_and_a_client_named_session(store):
    async def go():
        async with stdio_session(store, "--actor", "agent:ci-bot@build") as s:
            meta = {"brain/session": "sess-42"}
            a = structured(await s.call_tool("brain_put", {"path": A, "body": "a"}, meta=meta))
            b = structured(await s.call_tool("brain_put", {"path": B, "body": "b"}))
            return a, b

    a, b = anyio.run(go)
    assert a["actor"] == b["actor"] == "agent:ci-bot@build"
    assert a["session"] == "sess-42" and b["session"] != "sess-42"
    log = [r for r in rows(store) if r.op.startswith("session.")]
    sessions = {(r.op, r.extra["session"]) for r in log}
    assert sessions == {
        ("session.start", "sess-42"),
        ("session.end", "sess-42"),
        ("session.start", b["session"]),
        ("session.end", b["session"]),
    }


def test_a_cli_writer_beside_the_server_loses_nothing(store):
    n = 12
    cli_paths = [f"memories/facts/cli/{i}.md" for i in range(n)]
    mcp_paths = [f"memories/facts/mcp/{i}.md" for i in range(n)]
    errors: list[str] = []

    def cli_writer():
        for p in cli_paths:
            r = brain(
                "put",
                "--store",
                str(store),
                "--actor",
                "human:ana@laptop",
                p,
                "-",
                input=p.encode(),
            )
            if r.returncode != 0:
                errors.append(r.stderr.decode())

    async def go():
        async with stdio_session(store) as s:
            th = threading.Thread(target=cli_writer)
            th.start()
            for p in mcp_paths:
                structured(await s.call_tool("brain_put", {"path": p, "body": p}))
                await anyio.sleep(0.01)
            await anyio.to_thread.run_sync(th.join)
            # The server sees the CLI's rows while it runs.
            tail = structured(await s.call_tool("brain_audit_tail", {"limit": 1000}))
            found = structured(await s.call_tool("brain_search", {"query": "cli", "limit": 100}))
            return tail, found

    tail, found = anyio.run(go)
    assert errors == []
    assert {r["path"] for r in tail["rows"]} >= set(cli_paths)
    assert {h["path"] for h in found["hits"]} >= set(cli_paths)  # the index follows the CLI
    with Store.open(store, allow_temp=True, read_only=True) as s:
        for p in cli_paths + mcp_paths:
            assert s.view(p).body == p.encode()
        actors = {r.path: r.actor for r, _ in s.rows() if r.op == "put"}
    assert all(actors[p] == "human:ana@laptop" for p in cli_paths)
    assert all(actors[p] == ACTOR for p in mcp_paths)
    doctor = brain("doctor", "--store", str(store), "--quick")
    assert doctor.returncode == 0, doctor.stdout.decode() + doctor.stderr.decode()


def _raw_server(store) -> subprocess.Popen:
    """`brain mcp` on pipes, for a test that writes the JSON-RPC lines itself."""
    return subprocess.Popen(
        [sys.executable, "-m", "brain_tui.cli.main", "mcp", "--store", str(store)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
        cwd=REPO,
    )


def test_sigterm_closes_the_session(store):
    proc = _raw_server(store)
    import json

    def send(msg):
        proc.stdin.write((json.dumps(msg) + "\n").encode())
        proc.stdin.flush()

    send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "cursor", "version": "1"},
            },
        }
    )
    assert b'"result"' in proc.stdout.readline()
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "brain_put", "arguments": {"path": A, "body": "x"}},
        }
    )
    line = proc.stdout.readline()
    assert b'"isError":false' in line.replace(b" ", b""), line
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    ops = [(r.op, r.actor) for r in rows(store) if r.op != "checkpoint"]
    host = host_name()
    assert ops == [
        ("session.start", f"agent:cursor@{host}"),
        ("put", f"agent:cursor@{host}"),
        ("session.end", f"agent:cursor@{host}"),
    ]


def test_a_line_that_is_no_message_gets_a_json_rpc_error(store):
    """The SDK drops what it cannot read; the server answers it as JSON-RPC 2.0 says (id
    null, -32700 for bad JSON, -32600 for JSON that is no message) and carries on."""
    import json

    proc = _raw_server(store)

    def ask(raw: bytes) -> dict:
        proc.stdin.write(raw + b"\n")
        proc.stdin.flush()
        return json.loads(proc.stdout.readline())

    try:
        hello = {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}
        assert "result" in ask(json.dumps(init).encode())
        proc.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        for raw, code in (
            (b"{not json", -32700),
            (b'"\\ud800', -32700),
            (b"[" * 5000 + b"]" * 5000, -32700),
            (b'{"foo": 1}', -32600),
        ):
            reply = ask(raw)
            assert reply["id"] is None and reply["error"]["code"] == code, (raw[:20], reply)
        listed = ask(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}).encode())
        assert listed["id"] == 2 and listed["result"]["tools"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
