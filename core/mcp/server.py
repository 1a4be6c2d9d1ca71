"""`brain mcp`: the Model Context Protocol server (official SDK, low-level `Server`).

One process holds one Store open as a long-lived writer: its commit loop takes the lock
only while it has work and lets it go after ~200 ms idle (PROTOCOL), so the TUI and the CLI
keep writing beside it. Tool calls run on worker threads (the Store blocks on its writer and on
SQLite); the event loop only moves messages. Nothing here prints to stdout: on stdio that is
the wire.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import anyio
import anyio.to_thread
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from core.errors import BrainError
from core.mcp.resources import MemoryResources
from core.mcp.schema import TOOLS, UNTRUSTED_NOTE
from core.mcp.sessions import PROGRAM, Session, SessionBook, clean_session_id, new_session_id
from core.mcp.tools import ToolFailure, Tools, one_line

if TYPE_CHECKING:
    from core.store import Store

log = logging.getLogger("brain.mcp")
SESSION_META_KEYS = ("brain/session", "sessionId", "session_id")
INSTRUCTIONS = (
    "The user's BRAIN memory ledger: an append-only, verifiable store of memories"
    " (decisions, facts, people, projects, preferences). Call brain_context at the start of a"
    " session, brain_search before deciding something the user may have decided before, and"
    " brain_put to remember a decision or lesson (memories/<kind>/<slug>.md). Every write is"
    " recorded under your agent name. " + UNTRUSTED_NOTE
)


def _tool_list() -> list[types.Tool]:
    return [
        types.Tool(
            name=t.name,
            title=t.title,
            description=t.description,
            input_schema=t.input,
            output_schema=t.output,
            annotations=types.ToolAnnotations(
                title=t.title,
                read_only_hint=t.read_only,
                destructive_hint=t.destructive,
                idempotent_hint=t.idempotent,
                open_world_hint=False,
            ),
        )
        for t in TOOLS
    ]


def fence(text: str) -> str:
    """Wrap untrusted content in markers a body cannot forge (a fresh random tag each time)."""
    tag = f"untrusted-content-{secrets.token_hex(4)}"
    return f"{UNTRUSTED_NOTE}\n<{tag}>\n{text}\n</{tag}>"


def render(result: dict[str, Any]) -> str:
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    return fence(text) if result.get("untrusted_content") else text


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


class BrainServer:
    """The MCP server over one open Store; `transport` names how clients reach it."""

    def __init__(self, store: Store, *, actor: str | None = None, transport: str = "stdio"):
        self.store = store
        self.transport = transport
        self.sessions = SessionBook(store, fixed_actor=actor)
        self.tools = Tools(store, self.sessions)
        self.resources = MemoryResources(store)
        self._connection_session = new_session_id()  # stdio: one connection per process
        self._tool_list = _tool_list()
        self._closing = threading.Lock()
        self._closed = False
        self.server: Server[Any] = Server(
            "brain",
            version=_version(),
            title="BRAIN memory ledger",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource,
        )

    # -- attribution ----------------------------------------------------------------------

    def session_for(self, ctx: ServerRequestContext[Any, Any], meta: Any) -> Session:
        """The caller's session: the id the client names in `_meta`, else the transport's
        session (streamable HTTP's Mcp-Session-Id), else this connection's own. A named id
        belongs to the transport session (or connection) that named it."""
        sid = None
        if isinstance(meta, dict):
            for key in SESSION_META_KEYS:
                sid = clean_session_id(meta.get(key))
                if sid:
                    break
        transport_sid = None
        if ctx.request is not None:
            headers = getattr(ctx.request, "headers", None)
            if headers is not None:
                transport_sid = clean_session_id(headers.get("mcp-session-id"))
        params = ctx.session.client_params
        client = params.client_info.name if params is not None else None
        version = params.client_info.version if params is not None else None
        owner = transport_sid or self._connection_session
        if self.transport != "stdio" and transport_sid is None:  # one per client name
            owner = f"{self._connection_session}-{clean_session_id(client) or 'anon'}"
        return self.sessions.get(
            sid or transport_sid or owner,
            client=client,
            client_version=version,
            transport=self.transport,
            owner=owner,
        )

    # -- tools ------------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=self._tool_list)

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        session = self.session_for(ctx, params.meta)
        try:
            result = await anyio.to_thread.run_sync(
                self.tools.call, params.name, params.arguments, session
            )
        except ToolFailure as e:
            return _error(str(e))
        except Exception as e:
            log.exception("tool %s failed", params.name)
            return _error(f"{params.name}: internal error: {type(e).__name__}: {one_line(str(e))}")
        return types.CallToolResult(
            content=[types.TextContent(text=render(result))], structured_content=result
        )

    # -- resources: brain://memories/... ----------------------------------------------------

    async def _list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        cursor = params.cursor if params is not None else None
        try:
            rows, nxt = await anyio.to_thread.run_sync(self.resources.page, cursor or "")
        except BrainError as e:
            raise MCPError(types.INVALID_PARAMS, one_line(str(e))) from None
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=uri_of(r.path),
                    name=r.path,
                    title=r.title or None,
                    mime_type="text/markdown",
                    description=f"{r.kind} memory, tier {r.tier} (untrusted content)",
                )
                for r in rows
            ],
            next_cursor=nxt,
        )

    async def _list_templates(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template="brain://memories/{+rest}",
                    name="memory",
                    title="A memory by path",
                    description="brain://memories/<kind>/(<folder>/)*<slug>.md",
                    mime_type="text/markdown",
                )
            ]
        )

    async def _read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        path = path_of(uri)
        if path is None:
            raise MCPError(RESOURCE_NOT_FOUND, f"not a memory URI: {one_line(uri)[:200]}")
        session = self.session_for(ctx, params.meta)
        try:
            mem = await anyio.to_thread.run_sync(self.resources.read, path, session.actor)
        except BrainError as e:
            raise MCPError(RESOURCE_NOT_FOUND, one_line(str(e))) from None
        side = mem.sidecar
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(
                    uri=uri,
                    mime_type="text/markdown",
                    text=fence(mem.body.decode("utf-8", errors="replace")),
                    _meta={
                        "brain/untrusted": True,
                        "brain/seq": side.seq,
                        "brain/commit": side.commit,
                        "brain/title": side.title,
                        "brain/state": side.state,
                    },
                )
            ]
        )

    # -- running ----------------------------------------------------------------------------

    async def run_stdio(self) -> None:
        from mcp.server.stdio import stdio_server

        from core.mcp import pipes

        wire = pipes.claim()  # pipes (every MCP client): no thread hop per line
        streams: tuple[Any, Any] = wire.streams() if wire is not None else (None, None)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._exit_on_signal)
                async with stdio_server(*streams) as (read, write):
                    inbox, to_server = anyio.create_memory_object_stream[Any](0)
                    tg.start_soon(_answer_unreadable, read, inbox, write)
                    opts = self.server.create_initialization_options()
                    await self.server.run(to_server, write, opts)
                tg.cancel_scope.cancel()
        finally:
            if wire is not None:
                wire.release()

    async def _exit_on_signal(self) -> None:
        """A client stopping us (SIGTERM) while stdin stays open: the read of stdin sits in a
        thread no cancellation reaches, so close the sessions and the Store here and exit."""
        await wait_for_signal()
        await anyio.to_thread.run_sync(self.close, "closed")
        os._exit(0)

    def close(self, reason: str = "closed") -> None:
        """End every open session (session.end rows), then close the Store. Idempotent."""
        with self._closing:
            if self._closed:
                return
            self._closed = True
            try:
                self.sessions.end_all(reason)
            finally:
                self.store.close()


RESOURCE_NOT_FOUND = -32002  # the MCP spec's code for an unknown resource
URI_PREFIX = "brain://"


def uri_of(path: str) -> str:
    return URI_PREFIX + quote(path, safe="/")


def path_of(uri: str) -> str | None:
    if not uri.startswith(URI_PREFIX + "memories/"):
        return None
    return unquote(uri[len(URI_PREFIX) :])


async def wait_for_signal() -> None:
    """Return at SIGTERM, SIGINT or SIGHUP (a client closing us, a terminal going away)."""
    import signal

    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        async for _ in signals:
            return


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("brain-tui")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def open_store_for_server(root: Any, *, allow_temp: bool) -> Store:
    from core.store import Store

    store = Store.open(root, allow_temp=allow_temp, program=PROGRAM, service=True)
    store.open_door()  # one-shot `brain put`s beside this server are written by its writer
    return store


async def _answer_unreadable(read: Any, inbox: Any, write: Any) -> None:
    """Pass the client's messages on; answer a line that is not one (bad JSON, a lone
    surrogate, nesting too deep, JSON that is no JSON-RPC message) with the JSON-RPC error the
    spec names, id null: the SDK drops it, and a client would wait for a reply forever."""
    from mcp.shared.message import SessionMessage
    from pydantic import ValidationError

    async with inbox, read:
        async for item in read:
            if not isinstance(item, Exception):
                await inbox.send(item)
                continue
            kinds = (
                {e["type"] for e in item.errors()} if isinstance(item, ValidationError) else set()
            )
            code, what = (
                (types.INVALID_REQUEST, "Invalid Request: not a JSON-RPC message")
                if kinds and "json_invalid" not in kinds
                else (types.PARSE_ERROR, "Parse error: the line is not valid JSON")
            )
            error = types.ErrorData(code=code, message=what)
            await write.send(
                SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=None, error=error))
            )
