"""Drive `brain mcp` with the MCP SDK's own client (stdio and streamable HTTP)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import mcp.types as t
from mcp import ClientSession, StdioServerParameters, stdio_client

REPO = Path(__file__).resolve().parents[2]
CLIENT = "Claude Code"


def env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_ACTOR")}
    e.update(
        BRAIN_ALLOW_TEMP_STORE="1",
        PYTHONPATH=str(REPO),
        PYTHONDONTWRITEBYTECODE="1",
    )
    e.update(extra)
    return e


def brain(*args: str, input: bytes = b"", **kw) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", *args],
        input=input,
        capture_output=True,
        env=env(**kw.pop("env", {})),
        timeout=120,
        cwd=kw.pop("cwd", None),
    )


def init_store(root: Path) -> Path:
    p = brain("init", "--store", str(root))
    assert p.returncode == 0, p.stderr.decode()
    return root


@asynccontextmanager
async def stdio_session(
    store: Path, *args: str, name: str = CLIENT, version: str = "1.0"
) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "brain_tui.cli.main", "mcp", "--store", str(store), *args],
        env=env(),
        cwd=str(REPO),
    )
    async with stdio_client(params) as (r, w):
        async with ClientSession(
            r, w, client_info=t.Implementation(name=name, version=version)
        ) as s:
            await s.initialize()
            yield s


def structured(res: t.CallToolResult) -> dict:
    assert not res.is_error, res.content
    assert isinstance(res.structured_content, dict)
    return res.structured_content


def error_text(res: t.CallToolResult) -> str:
    assert res.is_error, res.structured_content
    (block,) = res.content
    assert isinstance(block, t.TextContent)
    return block.text


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
