"""The agents' door (issue 13): `brain mcp` over stdio and `brain hook claude-code`.

- mcp: a `brain_put` round trip over stdio, interleaved one for one with an in-process
  `Store.put` on a store of its own on the same disk (ratio ≤ 2×); `brain_search` (lexical) on
  the cached 10k-memory corpus (p95 ≤ 15 ms), interleaved with the same query in process. The
  client is plain JSON-RPC on the pipes (what the server costs); the put through the Python
  SDK's own client (its parsing and output-schema checks included) is shown beside it.
- hook: `brain hook claude-code` as a whole process, the way Claude Code runs it: a Stop event
  (capture of the session memory, an unchanged one after the first) on a small store
  (median ≤ 150 ms), and SessionStart on the 10k corpus (median ≤ 200 ms); `python -c pass`
  beside them is the floor any Python hook pays.
- mcpidle: CPU the idle server uses (after a write, so its writer and index threads exist),
  from /proc over a quiet window (≤ 1% of a core).

`python -m tests.bench mcp hook mcpidle [--quick]`
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio

from core.store import Store
from tests.bench.bench_reads import _close_corpora, corpus_store
from tests.bench.common import ACTOR, REPO, Bench, Ctx, Metric, bench_dir, now, pct, scratch
from tests.bench.corpus import Corpus


def _env() -> dict[str, str]:
    d = bench_dir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "BRAIN_ALLOW_TEMP_STORE": "1"}
    env["XDG_STATE_HOME"] = str(d / "xdg-state")
    env["XDG_CONFIG_HOME"] = str(d / "xdg-config")
    for k in ("BRAIN_PASSPHRASE", "BRAIN_DEBUG", "CYBEROS_BRAIN_HOME", "BRAIN_ACTOR"):
        env.pop(k, None)
    return env


def _brain() -> list[str]:
    script = Path(sys.executable).parent / "brain"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-c", "import sys; from brain_tui.cli.main import entry; entry()"]


async def _with_client(root: Path, fn):
    from mcp import ClientSession, StdioServerParameters, stdio_client
    from mcp.types import Implementation

    cmd = _brain()
    params = StdioServerParameters(
        command=cmd[0], args=[*cmd[1:], "mcp", "--store", str(root)], env=_env()
    )
    with open(os.devnull, "w") as devnull:
        async with stdio_client(params, errlog=devnull) as (r, w):
            info = Implementation(name="bench", version="1")
            async with ClientSession(r, w, client_info=info) as s:
                await s.initialize()
                await s.list_tools()  # the client caches output schemas before the first call
                return await fn(s)


class RawClient:
    """JSON-RPC over the server's pipes with no SDK on this side: what the server itself costs
    (Claude Code and Cursor are not Python; the SDK client's own parsing and output-schema
    validation are measured apart)."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [*_brain(), "mcp", "--store", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )
        self.next_id = 0
        info = {"name": "bench", "version": "1"}
        self.request(
            "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": info}
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, msg: dict) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())
        self.proc.stdin.flush()

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        assert self.proc.stdout is not None
        while True:
            msg = json.loads(self.proc.stdout.readline())
            if msg.get("id") == self.next_id:
                return msg

    def call(self, name: str, args: dict) -> dict:
        res = self.request("tools/call", {"name": name, "arguments": args})["result"]
        assert not res.get("isError"), res
        return res

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


# -- mcp: put round trip and search over stdio ---------------------------------------------


def mcp_setup(ctx: Ctx) -> None:
    corpus_store(ctx, 10_000)  # built (and cached) before any timing
    ctx.shared[("mcp-queries",)] = Corpus(seed=7).queries(300)


def mcp_run(ctx: Ctx) -> dict[str, float]:
    n = ctx.n(200, 60)
    body = Corpus(seed=3).memory(1).body
    with scratch("mcp-put") as d:
        raw_root, sdk_root, local_root = d / "raw", d / "sdk", d / "local"
        for r in (raw_root, sdk_root):
            Store.init(r, allow_temp=True).close()
        local = Store.init(local_root, allow_temp=True)
        raw = RawClient(raw_root)
        remote, inproc = [], []
        try:
            for i in range(5):  # warm both: the first write starts the writer threads
                raw.call("brain_put", {"path": f"memories/facts/w{i}.md", "body": body})
                local.put(f"memories/facts/w{i}.md", body, actor=ACTOR)
            for i in range(n):  # interleaved one for one
                a = now()
                raw.call("brain_put", {"path": f"memories/facts/m{i}.md", "body": f"{body} {i}"})
                remote.append(now() - a)
                a = now()
                local.put(f"memories/facts/m{i}.md", f"{body} {i}", actor=ACTOR)
                inproc.append(now() - a)
        finally:
            raw.close()

        async def sdk_puts(s) -> list[float]:
            lat = []
            for i in range(n // 2):
                a = now()
                res = await s.call_tool(
                    "brain_put", {"path": f"memories/facts/s{i}.md", "body": f"{body} {i}"}
                )
                lat.append(now() - a)
                assert not res.is_error, res.content
            return lat

        try:
            sdk = anyio.run(_with_client, sdk_root, sdk_puts)
        finally:
            local.close()

    qs = list(ctx.shared[("mcp-queries",)])[: ctx.n(300, 100)]
    corpus = corpus_store(ctx, 10_000)
    raw = RawClient(corpus.root)
    search, direct = [], []
    try:
        for q in qs[:20]:  # warm the server's page cache
            raw.call("brain_search", {"query": q})
        for q in qs:  # interleaved with the same query in process
            a = now()
            raw.call("brain_search", {"query": q, "limit": 10})
            search.append(now() - a)
            a = now()
            corpus.search(q, limit=10)
            direct.append(now() - a)
    finally:
        raw.close()
    for xs in (remote, inproc, sdk, search, direct):
        xs.sort()
    return {
        "put_p50": pct(remote, 50) * 1e3,
        "put_p95": pct(remote, 95) * 1e3,
        "inproc_p50": pct(inproc, 50) * 1e3,
        "sdk_put_p50": pct(sdk, 50) * 1e3,
        "search_p50": pct(search, 50) * 1e3,
        "search_p95": pct(search, 95) * 1e3,
        "search_inproc_p95": pct(direct, 95) * 1e3,
    }


# -- hook: whole-process latency -------------------------------------------------------------


def _event(name: str, cwd: str, sid: str, transcript: str) -> bytes:
    return json.dumps(
        {
            "session_id": sid,
            "transcript_path": transcript,
            "cwd": cwd,
            "hook_event_name": name,
            **({"source": "startup"} if name == "SessionStart" else {"stop_hook_active": False}),
        }
    ).encode()


def _time(cmd: list[str], payload: bytes) -> float:
    a = now()
    p = subprocess.run(cmd, input=payload, capture_output=True, env=_env(), timeout=120)
    took = now() - a
    if p.returncode != 0 or p.stderr:
        raise RuntimeError(f"{' '.join(cmd[-3:])}: {p.returncode} {p.stderr.decode()[-500:]}")
    return took


def hook_setup(ctx: Ctx) -> None:
    corpus_store(ctx, 10_000)


def hook_run(ctx: Ctx) -> dict[str, float]:
    n = ctx.n(15, 6)
    big = corpus_store(ctx, 10_000).root
    with scratch("hook") as d:
        small = d / "store"
        Store.init(small, allow_temp=True).close()
        transcript = d / "t.jsonl"
        lines = []
        for i in range(400):  # a few hundred turns, ~30 edits
            block = {
                "type": "tool_use",
                "name": "Edit" if i % 13 == 0 else "Read",
                "input": {"file_path": f"{d}/src/mod{i % 40}.py"},
            }
            lines.append(json.dumps({"type": "assistant", "message": {"content": [block]}}))
        transcript.write_text("\n".join(lines) + "\n")
        hook = [*_brain(), "hook", "claude-code", "--store"]
        floor, stop, start, put = [], [], [], []
        for i in range(n):
            floor.append(_time([sys.executable, "-c", "pass"], b""))
            path = f"memories/facts/p{i}.md"
            put.append(_time([*_brain(), "put", "--store", str(small), path, "-"], b"body"))
            stop.append(
                _time([*hook, str(small)], _event("Stop", str(d), f"s{i % 3}", str(transcript)))
            )
            start.append(_time([*hook, str(big)], _event("SessionStart", str(d), "x", "")))
        for xs in (floor, stop, start, put):
            xs.sort()
    return {
        "python": pct(floor, 50) * 1e3,
        "put": pct(put, 50) * 1e3,
        "stop": pct(stop, 50) * 1e3,
        "start10k": pct(start, 50) * 1e3,
    }


# -- mcpidle: CPU of an idle server --------------------------------------------------------


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_run(ctx: Ctx) -> dict[str, float]:
    window = ctx.n(20, 8)
    with scratch("idle") as d:
        Store.init(d, allow_temp=True).close()
        proc = subprocess.Popen(
            [*_brain(), "mcp", "--store", str(d)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_env(),
        )
        assert proc.stdin is not None and proc.stdout is not None

        def send(msg: dict) -> None:
            proc.stdin.write((json.dumps(msg) + "\n").encode())  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]

        try:
            info = {"name": "bench", "version": "1"}
            params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": info}
            send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
            proc.stdout.readline()
            send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            args = {"path": "memories/facts/idle.md", "body": "idle"}
            call = {"name": "brain_put", "arguments": args}
            send({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call})
            proc.stdout.readline()
            time.sleep(12)  # past the writer's idle release and the 10 s checkpoint
            c0, t0 = _cpu_s(proc.pid), time.monotonic()
            time.sleep(window)
            c1, t1 = _cpu_s(proc.pid), time.monotonic()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return {"cpu": 100 * (c1 - c0) / (t1 - t0)}


BENCHES = [
    Bench(
        "mcp",
        mcp_run,
        [
            Metric("inproc_p50", "mcp: in-process Store.put p50 (pair)", "ms"),
            Metric(
                "put_p50",
                "mcp: brain_put round trip over stdio p50",
                "ms",
                None,
                "≤ 2× in-process",
                lambda _m, r: r is not None and r <= 2.0,
                pair="inproc_p50",
                pair_label="in-process",
            ),
            Metric("put_p95", "mcp: brain_put round trip p95", "ms"),
            Metric(
                "sdk_put_p50",
                "mcp: brain_put via the Python SDK client p50",
                "ms",
                pair="inproc_p50",
                pair_label="in-process",
            ),
            Metric("search_p50", "mcp: brain_search lexical p50, 10k, stdio", "ms"),
            Metric("search_inproc_p95", "mcp: Store.search in-process p95 (pair)", "ms"),
            Metric(
                "search_p95",
                "mcp: brain_search lexical p95, 10k, stdio",
                "ms",
                None,
                "≤ 15 ms",
                lambda m, _r: m <= 15,
                pair="search_inproc_p95",
                pair_label="in-process",
            ),
        ],
        setup=mcp_setup,
        teardown=_close_corpora,
    ),
    Bench(
        "hook",
        hook_run,
        [
            Metric("python", "hook: `python -c pass` (floor)", "ms"),
            Metric("put", "hook: `brain put` whole process (the CLI's hot path)", "ms"),
            Metric(
                "stop",
                "hook: claude-code Stop (capture), whole process",
                "ms",
                None,
                "≤ 150 ms",
                lambda m, _r: m <= 150,
                pair="put",
                pair_label="brain put",
            ),
            Metric(
                "start10k",
                "hook: claude-code SessionStart, 10k store",
                "ms",
                None,
                "≤ 200 ms",
                lambda m, _r: m <= 200,
                pair="python",
                pair_label="python",
            ),
        ],
        setup=hook_setup,
        teardown=_close_corpora,
    ),
    Bench(
        "mcpidle",
        idle_run,
        [
            Metric(
                "cpu",
                "mcp: idle server CPU",
                "% core",
                None,
                "≤ 1%",
                lambda m, _r: m <= 1.0,
            )
        ],
    ),
]
