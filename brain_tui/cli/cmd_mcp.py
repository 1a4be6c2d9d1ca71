"""`brain mcp`: serve the store to coding agents over the Model Context Protocol.

stdio by default (a client such as Claude Code or Cursor starts it as a subprocess); with
`--http 127.0.0.1:PORT`, streamable HTTP on loopback behind a bearer token. The server is a
long-lived writer that holds the lock only while writing, so the TUI and the CLI keep working.
"""

from __future__ import annotations

import argparse

import brain_tui.cli
from brain_tui.cli import common


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = common.command_parser(
        subparsers,
        "mcp",
        "serve the store to agents over MCP (stdio, or HTTP on loopback)",
        description="Serve the store over the Model Context Protocol: tools brain_put, brain_view,"
        " brain_search, brain_context, ... and memories as brain://memories/... resources."
        " Writes are attributed to agent:<client>@<host> (or --actor) and bracketed by"
        " session.start / session.end rows. Purge is refused (a human act).",
    )
    p.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve streamable HTTP at http://HOST:PORT/mcp (loopback only) instead of stdio;"
        " clients send Authorization: Bearer <token>, the token from $BRAIN_MCP_TOKEN or"
        " <store>/local/mcp-token (created on first use)",
    )
    return p


def run(args: argparse.Namespace) -> int:
    import anyio

    from core.mcp.server import BrainServer, open_store_for_server

    if args.actor is not None:
        from core import validate

        validate.actor(args.actor)
    address = None
    if args.http:
        from core.mcp.http import parse_address

        address = parse_address(args.http)  # refuse a bad address before opening anything
    store = open_store_for_server(args.store, allow_temp=args.allow_temp_store)
    brain_tui.cli.settle_gc()  # a long-lived server from here on
    brain = BrainServer(store, actor=args.actor, transport="http" if address else "stdio")
    try:
        if address is None:
            anyio.run(brain.run_stdio)
        else:
            from core.mcp.http import load_token, serve_http

            token, where = load_token(store.layout.local)
            host, port = address

            def ready(bound: int) -> None:
                common.err(f"brain mcp: serving http://{host}:{bound}/mcp")
                common.err(
                    f"brain mcp: bearer token in {where}"
                    if where
                    else "brain mcp: bearer token from $BRAIN_MCP_TOKEN"
                )

            anyio.run(serve_http, brain, host, port, token, ready)
    except KeyboardInterrupt:
        pass
    finally:
        brain.close("closed")
    return 0
