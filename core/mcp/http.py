"""`brain mcp --http 127.0.0.1:PORT`: streamable HTTP on loopback, behind a bearer token.

Loopback only: the server refuses any other address (the ledger is local-first; a remote
client goes through an SSH tunnel). Every request must carry `Authorization: Bearer <token>`,
compared in constant time; the SDK's DNS-rebinding protection (Host and Origin checks) stays
on. A client's DELETE of its MCP session, an idle session (30 min) and the server's shutdown
each close the session with a `session.end` row.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

from core.errors import BrainError
from core.mcp.sessions import clean_session_id

if TYPE_CHECKING:
    from core.mcp.server import BrainServer

TOKEN_ENV = "BRAIN_MCP_TOKEN"
TOKEN_FILE = "mcp-token"  # under the store's local/ (per machine, never exported)
IDLE_SESSION_S = 30 * 60
SWEEP_S = 60.0
PATH = "/mcp"

Scope = dict[str, Any]


def parse_address(text: str) -> tuple[str, int]:
    """'127.0.0.1:PORT' (or '[::1]:PORT', 'localhost:PORT'); anything off loopback is refused."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise BrainError(f"--http wants HOST:PORT on loopback, e.g. 127.0.0.1:8765 (got {text!r})")
    host = host.strip("[]")
    if host != "localhost":
        try:
            loop = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loop = False
        if not loop:
            raise BrainError(
                f"--http {text}: the server binds loopback only (127.0.0.1, ::1 or localhost);"
                " reach it from elsewhere through an SSH tunnel"
            )
    return host, int(port)


def load_token(local_dir: Path) -> tuple[str, Path | None]:
    """The bearer token: $BRAIN_MCP_TOKEN, else local/mcp-token (made on first use, 0600)."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        if len(env) < 16:
            raise BrainError(f"{TOKEN_ENV} is too short: use at least 16 characters")
        return env, None
    path = local_dir / TOKEN_FILE
    try:
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token, path
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    local_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token, path


class BearerGuard:
    """ASGI middleware: 401 unless the request carries the token; DELETE ends a session."""

    def __init__(self, app: Any, token: str, brain: BrainServer) -> None:
        self.app = app
        self.token = token.encode()
        self.brain = brain

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", b"")
        scheme, _, given = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
            await _unauthorized(send)
            return
        await self.app(scope, receive, send)
        if scope.get("method") == "DELETE":
            sid = clean_session_id(headers.get("mcp-session-id", b"").decode("latin-1"))
            if sid is not None:
                await anyio.to_thread.run_sync(self._end, sid)

    def _end(self, sid: str) -> None:
        for s in self.brain.sessions.open_sessions():
            if sid in (s.id, s.owner):  # the transport session and those named within it
                self.brain.sessions.end(s, "closed")


async def _unauthorized(send: Any) -> None:
    body = json.dumps(
        {"error": "unauthorized: send Authorization: Bearer <token> (see `brain mcp --help`)"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="brain"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _quiet_server_class() -> Any:
    import uvicorn

    class QuietSignals(uvicorn.Server):
        """uvicorn re-raises SIGTERM after its shutdown, which would kill the process before
        the sessions are closed: signals are ours (wait_for_signal sets should_exit)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    return QuietSignals


async def serve_http(
    brain: BrainServer, host: str, port: int, token: str, ready: Any = None
) -> None:
    """Serve until a signal (SIGTERM, SIGINT) or cancellation; ready(port) once listening."""
    import uvicorn

    _QuietSignals = _quiet_server_class()
    app = BearerGuard(
        brain.server.streamable_http_app(streamable_http_path=PATH, host=host), token, brain
    )
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = _QuietSignals(config)

    async def sweep() -> None:
        while True:
            await anyio.sleep(SWEEP_S)
            await anyio.to_thread.run_sync(brain.sessions.end_idle, IDLE_SESSION_S)

    async def announce() -> None:
        while not server.started:
            await anyio.sleep(0.02)
        if ready is not None:
            bound = port
            for s in server.servers:
                for sock in s.sockets:
                    bound = sock.getsockname()[1]
            ready(bound)

    from core.mcp.server import wait_for_signal

    async with anyio.create_task_group() as tg:
        tg.start_soon(sweep)
        tg.start_soon(announce)

        async def stop_on_signal() -> None:
            await wait_for_signal()
            server.should_exit = True

        tg.start_soon(stop_on_signal)
        await server.serve()
        tg.cancel_scope.cancel()
