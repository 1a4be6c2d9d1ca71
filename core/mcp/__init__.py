"""The agents' door: a Model Context Protocol server over the Store (`brain mcp`).

`core.mcp.schema` lists the tools (schemas and annotations), `core.mcp.tools` does their work
against the Store, `core.mcp.sessions` attributes writes (`agent:<client>@<host>`) and brackets
them with `session.start` / `session.end` rows, `core.mcp.resources` serves memories as
`brain://memories/...`, `core.mcp.server` wires them to the SDK's low-level server over stdio
(`core.mcp.pipes` reads and writes the pipes on the event loop), and `core.mcp.http` serves
streamable HTTP on loopback behind a bearer token.

Nothing here is imported by `import core`: the SDK (pydantic, starlette) loads only when a
server starts.
"""
