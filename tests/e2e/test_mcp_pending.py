"""brain_pending over stdio: an agent sees which of its shareable writes are held for PII
review, by type and place, never the matched text, and cannot resolve a hold."""

from __future__ import annotations

import json

import anyio

from core.mcp.schema import BY_NAME
from tests.e2e.mcp_client import init_store, stdio_session, structured

EMAIL = "ana.lopez@example.org"


def test_pending_lists_held_memories_without_their_text(tmp_path):
    store = init_store(tmp_path / "store")

    async def go() -> dict:
        async with stdio_session(store) as s:
            await s.call_tool(
                "brain_put",
                {
                    "path": "memories/facts/contacts/vendor.md",
                    "body": f"# Vendor\n\nWrite to {EMAIL} for invoices.\n",
                    "sync_class": "shareable",
                },
            )
            await s.call_tool(
                "brain_put",
                {"path": "memories/facts/notes/plain.md", "body": "# Plain\n\nNothing here.\n"},
            )
            return structured(await s.call_tool("brain_pending", {}))

    out = anyio.run(go)
    assert out["total"] == 1
    [held] = out["pending"]
    assert held["path"] == "memories/facts/contacts/vendor.md"
    assert held["counts"] == {"email": 1}
    assert {f["type"] for f in held["findings"]} == {"email"}
    assert EMAIL not in json.dumps(out)  # spans and types, never the matched text
    spec = BY_NAME["brain_pending"]
    assert spec.read_only and not spec.destructive
    assert not any("resolve" in name or "release" in name for name in BY_NAME)
